import { canonicalizeUsername, canonicalUsername, type Token, type User } from '../model/index.ts';

/**
 * Gives a snapshot's users (and their tokens) canonical names before they are written, with the
 * rule of the start-up migration: a user already named canonically keeps its name, otherwise the
 * oldest one; a second user folding to the same name is left out, never merged, and so are its
 * tokens (attaching them to the kept user would hand it another person's factor).
 *
 * It works on a snapshot read in chunks: `see` every user once (the verify pass), `settle`, then
 * `user`/`token` name each record as the restore writes it. Memory: one set of the names, plus
 * the (rare) users whose name is not canonical.
 */
export class NameResolver {
  private readonly canonical = new Set<string>();
  private readonly folded: { username: string; createdAt: number; name: string | null; problem?: string }[] =
    [];
  private readonly renamed = new Map<string, string>();
  private readonly left = new Map<string, string>();
  /** Whether the snapshot holds its users at all (a tokens-only snapshot names owners alone). */
  hasUsers = false;
  /** Users left out: no canonical form, or another user of the snapshot holds it. */
  readonly skipped: { username: string; reason: string }[] = [];

  see(users: readonly User[] | undefined): void {
    if (!users) return;
    this.hasUsers = true;
    for (const u of users) {
      const c = canonicalizeUsername(u.username);
      if (c.ok && c.name === u.username) this.canonical.add(u.username);
      else
        this.folded.push({
          username: u.username,
          createdAt: u.createdAt,
          name: c.ok ? c.name : null,
          ...(c.ok ? {} : { problem: c.problem }),
        });
    }
  }

  settle(): void {
    this.folded.sort((a, b) => a.createdAt - b.createdAt || cmp(a.username, b.username));
    const claimed = new Map<string, string>();
    for (const f of this.folded) {
      let reason: string | undefined;
      if (f.name === null) reason = f.problem ?? 'no canonical name';
      else if (this.canonical.has(f.name)) reason = `"${f.name}" has the same canonical name "${f.name}"`;
      else if (claimed.has(f.name))
        reason = `"${claimed.get(f.name)}" has the same canonical name "${f.name}"`;
      if (reason !== undefined) {
        this.left.set(f.username, reason);
        this.skipped.push({ username: f.username, reason });
      } else {
        claimed.set(f.name!, f.username);
        this.renamed.set(f.username, f.name!);
      }
    }
  }

  /** The user as it is written, or null when it is left out. */
  user(u: User): User | null {
    if (this.left.has(u.username)) return null;
    const to = this.renamed.get(u.username);
    return to === undefined ? u : { ...u, username: to };
  }

  /** The token with its owner's canonical name, or null when its owner is left out or unknown. */
  token(t: Token): Token | null {
    const owner = this.hasUsers
      ? this.canonical.has(t.username)
        ? t.username
        : this.renamed.get(t.username)
      : (canonicalUsername(t.username) ?? undefined);
    if (owner === undefined) return null;
    return owner === t.username ? t : { ...t, username: owner };
  }

  /** The name a user of the snapshot is written under (for checks before the first write). */
  nameOf(username: string): string {
    return this.renamed.get(username) ?? username;
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
