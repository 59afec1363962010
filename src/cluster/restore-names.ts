import { canonicalizeUsername, canonicalUsername, type Token, type User } from '../model/index.ts';

export interface CanonicalRecords {
  users: User[];
  tokens: Token[];
  /** Users left out: no canonical form, or another user of the snapshot holds it. */
  skipped: { username: string; reason: string }[];
  /** Tokens left out with their user. */
  tokensSkipped: number;
}

/**
 * Gives a snapshot's users (and their tokens) canonical names before they are written, with the
 * rule of the start-up migration: a user already named canonically keeps its name, otherwise the
 * oldest one; a second user folding to the same name is left out, never merged, and so are its
 * tokens (attaching them to the kept user would hand it another person's factor). Without the
 * snapshot's users (`users` undefined), a token's owner name is only made canonical.
 */
export function canonicalRecords(
  users: readonly User[] | undefined,
  tokens: readonly Token[],
): CanonicalRecords {
  const named = (users ?? []).map((u) => ({ user: u, c: canonicalizeUsername(u.username) }));
  named.sort(
    (a, b) =>
      rank(a) - rank(b) || a.user.createdAt - b.user.createdAt || cmp(a.user.username, b.user.username),
  );
  const claimed = new Map<string, string>(); // canonical → original
  const out: CanonicalRecords = { users: [], tokens: [], skipped: [], tokensSkipped: 0 };
  for (const { user, c } of named) {
    if (!c.ok) {
      out.skipped.push({ username: user.username, reason: c.problem });
      continue;
    }
    const holder = claimed.get(c.name);
    if (holder !== undefined) {
      out.skipped.push({
        username: user.username,
        reason: `"${holder}" has the same canonical name "${c.name}"`,
      });
      continue;
    }
    claimed.set(c.name, user.username);
    out.users.push(c.name === user.username ? user : { ...user, username: c.name });
  }
  const renamed = new Map<string, string>();
  for (const [canonical, original] of claimed) renamed.set(original, canonical);
  for (const token of tokens) {
    const owner = users ? renamed.get(token.username) : (canonicalUsername(token.username) ?? undefined);
    if (owner === undefined) out.tokensSkipped++;
    else out.tokens.push(owner === token.username ? token : { ...token, username: owner });
  }
  return out;
}

function rank(x: { user: User; c: ReturnType<typeof canonicalizeUsername> }): number {
  return x.c.ok && x.c.name === x.user.username ? 0 : 1;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
