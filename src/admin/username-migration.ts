import { canonicalizeUsername, type User } from '../model/index.ts';
import type { AdminContext } from './context.ts';

export interface MigrationLog {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface UsernameMigrationReport {
  renamed: { from: string; to: string }[];
  /** Names whose canonical form another user holds: left as they are, unreachable, listed. */
  collisions: { left: string; kept: string }[];
  /** Names with no canonical form at all (a lone surrogate, a reserved character, …). */
  invalid: string[];
}

/**
 * Gives every stored user its canonical name (src/model/username.ts), with its tokens and failure
 * state. Runs at start on a writable node; a store that is canonical already costs one scan.
 *
 * When two stored names fold to one canonical name nothing is merged: the user that already has
 * the canonical name keeps it (canonical lookups reached it before, so who logs in under that name
 * does not change), otherwise the oldest user gets it. The other stays under its old name, listed
 * but unreachable for logins (its canonical lookup reaches the kept user, whose factors it does not
 * have), and an error names both so an admin can decide; `DELETE /v1/admin/users/<old name>`
 * removes it.
 */
export async function migrateUsernames(
  ctx: AdminContext,
  log: MigrationLog,
): Promise<UsernameMigrationReport> {
  const report: UsernameMigrationReport = { renamed: [], collisions: [], invalid: [] };
  const pending: User[] = [];
  let after: string | undefined;
  do {
    const page = await ctx.store.listUsers({ limit: 1000, ...(after !== undefined ? { after } : {}) });
    for (const u of page.items) {
      const c = canonicalizeUsername(u.username);
      if (!c.ok || c.name !== u.username) pending.push(u);
    }
    after = page.next;
  } while (after !== undefined);

  pending.sort((a, b) => a.createdAt - b.createdAt || (a.username < b.username ? -1 : 1));
  for (const user of pending) {
    const from = user.username;
    const c = canonicalizeUsername(from);
    if (!c.ok) {
      report.invalid.push(from);
      log.error(
        { username: safe(from), problem: c.problem },
        'a stored user name has no canonical form; the user is left as it is and cannot log in',
      );
      continue;
    }
    if (await ctx.store.renameUser(from, c.name)) {
      report.renamed.push({ from, to: c.name });
      ctx.audit('user.rename', { username: c.name, from });
      continue;
    }
    if (!(await ctx.store.getUser(from))) continue; // deleted meanwhile
    report.collisions.push({ left: from, kept: c.name });
    log.error(
      { username: from, kept: c.name },
      `two users share the canonical name "${c.name}": "${c.name}" keeps it, "${from}" is left unreachable (not merged); delete one of them`,
    );
  }
  if (report.renamed.length)
    log.info({ renamed: report.renamed.length }, 'gave stored users their canonical names');
  return report;
}

/** A name for a log line: lone surrogates shown as U+FFFD. */
function safe(name: string): string {
  return name.replace(/[\ud800-\udfff]/gu, '\ufffd');
}
