/**
 * Push approval and online devices (src/push, plugin/device): the records the store keeps for
 * them. A push token is a TOTP token whose device also holds a signing key; the seed stays so the
 * phone can make codes with no network.
 */

/** What the server tells a paired device to offer. */
export interface DeviceConfig {
  methods: ('push' | 'totp')[];
  numberMatching: boolean;
  /** An approval must carry `userVerified: true` (a local unlock on the phone). */
  userVerification: boolean;
}

/** A device paired online: its public signing key (JWK, EC P-256, public part only). */
export interface DeviceInfo {
  registration: 'offline' | 'online';
  name?: string;
  platform?: string;
  publicKey?: { kty: 'EC'; crv: 'P-256'; x: string; y: string };
  pairedAt?: number;
  config?: DeviceConfig;
}

/** A single-use pairing token as kept: only its SHA-256, the token it pairs, until when. */
export interface PairingRecord {
  hash: string;
  serial: string;
  username: string;
  createdAt: number;
  expiresAt: number;
}

/** What a device reports at run time (not configuration: any node writes it). */
export interface DeviceState {
  serial: string;
  lastSyncAt: number;
  webPush?: { endpoint: string; keys: { p256dh: string; auth: string } };
}

export type PushState = 'pending' | 'approved' | 'denied' | 'expired';

/** A push challenge: one login waiting for the phone. */
export interface PushChallenge {
  id: string;
  serial: string;
  username: string;
  clientId: string;
  /** Shown on the phone: the relying system's name, the login's address, when. */
  context: { client: string; system: string; sourceIp?: string; time: number };
  createdAt: number;
  expiresAt: number;
  /** As stored; a pending push past expiresAt reads as `expired` (see pushStateAt). */
  state: Exclude<PushState, 'expired'>;
  /** Number matching: the phone offers these, the login shows `number`. */
  numbers?: number[];
  number?: number;
  /** Code to phone: the phone shows this, the user types it at the login. */
  code?: string;
  userVerification: boolean;
  answeredAt?: number;
  /** The approval was spent on one accept. */
  consumed?: boolean;
}

export function pushStateAt(push: PushChallenge, now: number): PushState {
  return push.state === 'pending' && push.expiresAt <= now ? 'expired' : push.state;
}
