import type { OtpAlgorithm, OtpDigits } from '../otp/index.ts';
import type { DeviceInfo } from './push.ts';

/** Second-factor methods that a group or user can switch on or off. */
export type Method = 'totp' | 'hotp' | 'email' | 'sms' | 'yubikey' | 'push';
export const METHODS: readonly Method[] = ['totp', 'hotp', 'email', 'sms', 'yubikey', 'push'];
export type MethodSwitch = 'enabled' | 'disabled' | 'inherit';

export interface User {
  username: string;
  displayName?: string;
  email?: string;
  phone?: string;
  group: string;
  enabled: boolean;
  mfaRequired: boolean;
  /** scrypt hash of the PIN (`scrypt$N$r$p$salt$hash`), never the PIN. */
  pinHash?: string;
  methods: Partial<Record<Method, MethodSwitch>>;
  /** Set for users a directory sync brought in: which source, and the entry's stable id there. */
  directory?: DirectoryLink;
  createdAt: number;
  updatedAt: number;
}

/**
 * A user's tie to its directory entry. `id` is entryUUID (OpenLDAP) or objectGUID (AD), which
 * survive a rename; `dn` is where the entry was last seen (the bind target for `firstFactor: "ldap"`).
 */
export interface DirectoryLink {
  source: string;
  id: string;
  dn: string;
  /** The sync disabled this user (gone or disabled in the directory): it may enable it again. */
  disabledBySync?: boolean;
}

export interface Group {
  name: string;
  description?: string;
  methods: Partial<Record<Method, MethodSwitch>>;
  /** The Default group exists always and cannot be deleted. */
  permanent: boolean;
}

export const DEFAULT_GROUP = 'default';

/** One token type per method: a token is what proves its method. */
export type TokenType = Method;
export type TokenStatus = 'active' | 'disabled' | 'locked' | 'pending';

export interface Token {
  serial: string;
  username: string;
  type: TokenType;
  description?: string;
  isDefault: boolean;
  status: TokenStatus;
  algorithm: OtpAlgorithm;
  digits: OtpDigits;
  /** TOTP step length in seconds; ignored for HOTP. */
  period: 30 | 60;
  /** The seed, AES-256-GCM sealed with the token serial as associated data. */
  secretSealed: string;
  /** Set by a restore that could not prove the token's counter: accept only after a resync. */
  resyncRequired?: boolean;
  /** `yubikey`: the key's public id (ModHex), in the clear: it names the key inside each OTP. */
  publicId?: string;
  /**
   * Mail and SMS tokens: the address or phone number codes go to. Absent: the user's `email` or
   * `phone` at the time of sending (so a directory sync that changes it moves the token along).
   */
  destination?: string;
  /** How it came to be: an admin's enrolment (absent: written before this was kept), an invitation link, the portal. */
  enrolledVia?: 'admin' | 'invitation' | 'portal';
  /** Push tokens: the phone paired online (src/push); absent until it pairs. */
  device?: DeviceInfo;
  createdAt: number;
  updatedAt: number;
}

/**
 * What a relying system is: `radius`, `keycloak` and `api` callers validate logins; a `node` is
 * another Tessera node that pulls snapshots, and nothing else.
 */
export type ClientKind = 'radius' | 'keycloak' | 'api' | 'node';
export const CLIENT_KINDS: readonly ClientKind[] = ['radius', 'keycloak', 'api', 'node'];

export interface Client {
  id: string;
  name: string;
  kind: ClientKind;
  /** Hash of the client's API key secret (see src/auth/api-keys.ts). */
  keyHash: string;
  allowedCidrs: string[];
  challengeText: string;
  enabled: boolean;
  /** Overrides the global unknown-user policy for this client. */
  unknownUserPolicy?: UnknownUserPolicy;
  /** What a reject tells the end user: a generic text, or the reason. */
  rejectDetail: 'generic' | 'reason';
  /** How the first round of a two-step login is checked: the Tessera PIN, or a password checked upstream. */
  /** `ldap`: the user's directory password, checked by a bind against the user's source. */
  firstFactor: 'pin' | 'upstream' | 'ldap';
  createdAt: number;
  /**
   * Share (0..1) of this client's accepts and challenges kept in the authentication log; refusals
   * are always kept. Absent: the node's default (TESSERA_AUDIT_SUCCESS_RATE, 1).
   */
  auditSuccessRate?: number;
  /**
   * Push logins (src/push): `poll` (default) answers "approve on your phone" and accepts the next
   * request once approved; `hold` keeps the first request open until the tap (up to
   * `pushHoldSeconds`); `code` has the phone show a code the user types at the prompt.
   */
  pushMode?: 'poll' | 'hold' | 'code';
  pushHoldSeconds?: number;
  /** `disabled`: only a one-shot PIN+code (or code) works; a request that would open a challenge is refused. Absent: enabled. */
  challenge?: 'enabled' | 'disabled';
  /** Only tokens of these methods may sign in through this client. Absent: every method. */
  allowedMethods?: Method[];
  /**
   * With several eligible tokens, a challenge offers a menu (`menu`, the default), or starts the
   * user's default token straight away when there is one (`default`).
   */
  methodChoice?: 'menu' | 'default';
}

/** What an admin key may do (src/auth/roles.ts holds each role's permissions). */
export type AdminRole = 'superadmin' | 'helpdesk' | 'auditor';
export const ADMIN_ROLES: readonly AdminRole[] = ['superadmin', 'helpdesk', 'auditor'];

export interface AdminKey {
  id: string;
  name: string;
  role: AdminRole;
  keyHash: string;
  createdAt: number;
  /** After this instant (ms) the key is refused like a wrong one. Absent: it does not expire. */
  expiresAt?: number;
}

/**
 * An admin key as the store holds it. Keys written before roles existed have none; they were
 * all-powerful then and stay superadmin, so an upgrade locks nobody out. A role this version does
 * not know (a newer version's, or a damaged record) makes the key unusable: null, like no key.
 */
export function adminKeyFromStored(stored: Omit<AdminKey, 'role'> & { role?: unknown }): AdminKey | null {
  if (stored.role === undefined) return { ...stored, role: 'superadmin' };
  const role = ADMIN_ROLES.find((r) => r === stored.role);
  return role ? { ...stored, role } : null;
}

export type UnknownUserPolicy = 'reject' | 'passthrough';

/**
 * How the first round of a two-step login was proved: the user's PIN, a password the client
 * checked before calling us (`upstream`), or nothing (a user without a PIN).
 */
export type FirstFactorProof = 'pin' | 'upstream' | 'ldap' | 'none';

export interface Challenge {
  transactionId: string;
  username: string;
  clientId: string;
  /**
   * Answering needs the proof the user and client require at answer time. Challenges stored
   * before this field existed read as no proof.
   */
  firstFactor: FirstFactorProof;
  createdAt: number;
  expiresAt: number;
  /**
   * The token this challenge was started for (src/auth/methods): only it can answer, through its
   * method. `state` is the method's own (a code's hash, a push id), opaque to everyone else.
   * Absent: any of the user's eligible tokens may answer with a code.
   */
  method?: ChallengeBinding;
  /**
   * A menu of methods (numbered from 1 in this order): answered by a number, which starts that
   * token's method in a new challenge, or by a code of any eligible token.
   */
  menu?: ChallengeChoice[];
}

export interface ChallengeChoice {
  serial: string;
  type: Method;
}

export interface ChallengeBinding {
  serial: string;
  type: Method;
  state: Record<string, string | number | boolean>;
}

export interface AuditEvent {
  time: number;
  type: string;
  actor: string;
  username?: string;
  serial?: string;
  result?: string;
  reason?: string;
  sourceIp?: string;
  nasIdentifier?: string;
  nasIpAddress?: string;
  detail?: Record<string, string | number | boolean>;
}
