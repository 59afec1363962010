import { createHash, randomBytes } from 'node:crypto';
import type { AdminContext } from '../admin/index.ts';
import { type DeviceConfig, requireCanonicalUsername, TesseraError, type Token } from '../model/index.ts';
import { base32Encode, recommendedSecretBytes } from '../otp/index.ts';
import { deviceConfig } from './settings.ts';
import { devicePublicKey } from './signature.ts';

export const PAIRING_TTL_MS = 10 * 60_000;

export interface PairingStart {
  token: Token;
  /** Shown once: the QR carries it; the store keeps only its hash. */
  pairingToken: string;
  expiresAt: number;
  /** `tessera-pair://?url=<base>&token=<pairing token>` */
  pairUri: string;
  /** `<base>/authenticator/#pair=<pairing token>`, the same for a phone's camera app. */
  pairLink: string;
}

export function pairingHash(pairingToken: string): string {
  return createHash('sha256').update(pairingToken, 'utf8').digest('hex');
}

export function newPushSerial(): string {
  return `PUSH${randomBytes(5).toString('hex').toUpperCase()}`;
}

/** The public base URL (`https://host/`) the phone reaches this node's faces at. */
export function pairingUris(baseUrl: string, pairingToken: string): { pairUri: string; pairLink: string } {
  const base = baseUrl.endsWith('/') ? baseUrl.slice(0, -1) : baseUrl;
  return {
    pairUri: `tessera-pair://?url=${encodeURIComponent(base)}&token=${pairingToken}`,
    pairLink: `${base}/authenticator/#pair=${pairingToken}`,
  };
}

/**
 * Starts an online registration: a new `pending` push token, or (with `serial`) an existing
 * offline TOTP or push token that moves online in place when the phone pairs. Any earlier pairing
 * token of that serial stops working.
 */
export async function startPairing(
  ctx: AdminContext,
  name: string,
  opts: { baseUrl: string; serial?: string; description?: string; now?: number },
): Promise<PairingStart> {
  const username = requireCanonicalUsername(name);
  const now = opts.now ?? Date.now();
  const user = await ctx.store.getUser(username);
  if (!user) throw new TesseraError('NOT_FOUND', `user "${username}" does not exist`);
  let token: Token;
  if (opts.serial !== undefined) {
    const found = await ctx.store.getToken(opts.serial);
    if (!found || found.username !== username)
      throw new TesseraError('NOT_FOUND', `user "${username}" has no token "${opts.serial}"`);
    if (found.type !== 'totp' && found.type !== 'push')
      throw new TesseraError('BAD_REQUEST', 'only a TOTP or push token can move to an online device');
    token = found;
  } else {
    const serial = newPushSerial();
    // a placeholder seed until the phone pairs: a pending token authenticates nothing
    token = {
      serial,
      username,
      type: 'push',
      isDefault: (await ctx.store.listTokens(username)).length === 0,
      status: 'pending',
      algorithm: 'SHA1',
      digits: 6,
      period: 30,
      secretSealed: ctx.keyring.seal(randomBytes(recommendedSecretBytes('SHA1')), serial),
      device: { registration: 'online' },
      enrolledVia: 'admin',
      createdAt: now,
      updatedAt: now,
      ...(opts.description !== undefined ? { description: opts.description } : {}),
    };
    if (!(await ctx.store.putToken(token)))
      throw new TesseraError('NOT_FOUND', `user "${username}" does not exist`);
    ctx.audit('token.enrol', { username, serial, status: 'pending', type: 'push' });
  }
  const pairingToken = randomBytes(32).toString('base64url');
  const expiresAt = now + PAIRING_TTL_MS;
  await ctx.store.push.dropPairings(token.serial);
  await ctx.store.push.putPairing({
    hash: pairingHash(pairingToken),
    serial: token.serial,
    username,
    createdAt: now,
    expiresAt,
  });
  ctx.audit('device.pairing-started', { username, serial: token.serial });
  return { token, pairingToken, expiresAt, ...pairingUris(opts.baseUrl, pairingToken) };
}

export interface PairRequest {
  pairingToken: string;
  publicKey: unknown;
  name: string;
  platform?: string;
}

export interface Paired {
  deviceId: string;
  config: DeviceConfig;
  /** Shown once, so the phone can make codes with no network; the old seed (if any) stops. */
  totp: { secret: string; digits: number; period: number; algorithm: string };
  token: Token;
}

/**
 * The phone presents the pairing token and its public key: the token takes the key, a fresh TOTP
 * seed (rotated: whatever scanned the old QR stops), `registration: online` and becomes active.
 */
export async function pairDevice(ctx: AdminContext, req: PairRequest, now = Date.now()): Promise<Paired> {
  const publicKey = devicePublicKey(req.publicKey);
  const pairing = await ctx.store.push.takePairing(pairingHash(req.pairingToken), now);
  const refused = () => new TesseraError('PAIRING_INVALID', 'the pairing code is unknown, used or expired');
  if (!pairing) throw refused();
  const token = await ctx.store.getToken(pairing.serial);
  // Only a token waiting for its phone, or an active one being rescanned: a token an admin disabled
  // or locked after the QR was shown stays as the admin left it.
  if (
    !token ||
    token.username !== pairing.username ||
    !(token.status === 'pending' || token.status === 'active')
  )
    throw refused();
  const secret = randomBytes(recommendedSecretBytes('SHA1'));
  const next: Token = {
    ...token,
    type: 'push',
    status: 'active',
    algorithm: 'SHA1',
    digits: 6,
    period: 30,
    secretSealed: ctx.keyring.seal(secret, token.serial),
    device: {
      ...token.device,
      registration: 'online',
      name: req.name,
      ...(req.platform !== undefined ? { platform: req.platform } : {}),
      publicKey,
      pairedAt: now,
    },
    updatedAt: now,
  };
  if (!(await ctx.store.putToken(next))) throw refused();
  // The old phone's wake-up address goes with its key: the new phone sends its own.
  const state = await ctx.store.push.getDeviceState(token.serial);
  if (state?.webPush) {
    const { webPush: _old, ...rest } = state;
    await ctx.store.push.putDeviceState(rest);
  }
  ctx.audit('device.paired', {
    username: token.username,
    serial: token.serial,
    from: token.type,
    ...(req.platform ? { platform: req.platform } : {}),
  });
  const config = deviceConfig(next, await ctx.settings());
  return {
    deviceId: token.serial,
    config,
    totp: {
      secret: base32Encode(secret),
      digits: next.digits,
      period: next.period,
      algorithm: next.algorithm,
    },
    token: next,
  };
}
