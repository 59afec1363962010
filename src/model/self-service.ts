/**
 * Self-service records (src/portal): invitation links and a user's one-time codes. Both name the
 * user's `createdAt`, so a user deleted and created again under the same name never inherits them.
 */
export interface Invitation {
  /** SHA-256 (hex) of the link's secret; the secret itself is only in the mail. */
  id: string;
  username: string;
  userCreatedAt: number;
  createdAt: number;
  expiresAt: number;
  /** Who sent it (`admin:<key id>`, `cli`, ...). */
  createdBy: string;
  status: 'open' | 'used' | 'revoked';
  usedAt?: number;
  revokedAt?: number;
  /** The pending token the link shows, once opened. */
  serial?: string;
  sentTo?: string;
}

export type CodeRedemption = 'recovery' | 'temporary' | 'none' | 'locked';

export interface UserCodes {
  username: string;
  userCreatedAt: number;
  /** Salt (hex) of every hash below. */
  salt: string;
  /** Recovery codes: SHA-256 (hex) of salt ‖ code of each one not used yet. */
  recovery?: { createdAt: number; total: number; hashes: string[] };
  /** A helpdesk's temporary code: one-time, or valid any number of times until it expires. */
  temporary?: { hash: string; createdAt: number; expiresAt: number; oneTime: boolean; createdBy: string };
}

/**
 * The atomic step of a redemption, shared by both stores: removes a recovery code (or a one-time
 * temporary code) matching `hash`. Null when nothing matches (nothing changes).
 */
export function redeemFrom(
  codes: UserCodes,
  hash: string,
  now: number,
): { kind: 'recovery' | 'temporary'; next: UserCodes } | null {
  const i = codes.recovery?.hashes.indexOf(hash) ?? -1;
  if (codes.recovery && i >= 0) {
    const hashes = codes.recovery.hashes.filter((_, j) => j !== i);
    return { kind: 'recovery', next: { ...codes, recovery: { ...codes.recovery, hashes } } };
  }
  const t = codes.temporary;
  if (t && t.hash === hash && t.expiresAt > now) {
    if (!t.oneTime) return { kind: 'temporary', next: codes };
    const { temporary: _, ...rest } = codes;
    return { kind: 'temporary', next: rest };
  }
  return null;
}
