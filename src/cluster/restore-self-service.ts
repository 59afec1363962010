import type { Invitation, UserCodes } from '../model/index.ts';

/**
 * Invitation links and one-time codes (recovery and temporary), as a snapshot carries them: only
 * hashes, as stored. They travel with the `users` component; a snapshot without them (written
 * before they were kept) restores as before.
 */
export interface SelfServiceCut {
  invitations?: Invitation[];
  codes?: UserCodes[];
}

/**
 * A restore never reopens a code or a link: what the live store spent, voided or revoked after the
 * snapshot stays so. Records of another incarnation of the user (deleted and created again) are not
 * merged: the snapshot's user replaces it, and the snapshot's record with it.
 */
export function mergeCodes(saved: UserCodes, live: UserCodes | null): UserCodes {
  if (!live || live.userCreatedAt !== saved.userCreatedAt || live.salt !== saved.salt) return saved;
  const out: UserCodes = { username: saved.username, userCreatedAt: saved.userCreatedAt, salt: saved.salt };
  const recovery = mergeRecovery(saved.recovery, live.recovery);
  if (recovery) out.recovery = recovery;
  // A live record without a temporary code has spent (or never had) the snapshot's: it is not
  // brought back; a newer one on either side wins.
  const s = saved.temporary;
  const l = live.temporary;
  if (l && (!s || l.createdAt >= s.createdAt)) out.temporary = l;
  else if (s && l) out.temporary = s;
  return out;
}

function mergeRecovery(
  saved: UserCodes['recovery'],
  live: UserCodes['recovery'],
): UserCodes['recovery'] | undefined {
  if (!saved) return live;
  if (!live || live.createdAt < saved.createdAt) return saved;
  if (live.createdAt > saved.createdAt) return live;
  // the same set: a code is left only where neither side spent it
  const left = new Set(live.hashes);
  return { ...saved, hashes: saved.hashes.filter((h) => left.has(h)) };
}

/** A link used or revoked on either side stays so; an open one is taken as the snapshot has it. */
export function mergeInvitation(saved: Invitation, live: Invitation | null): Invitation {
  if (!live || live.status === 'open') return saved;
  return saved.status === 'open' ? live : saved;
}
