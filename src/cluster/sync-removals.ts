import { TesseraError, tombstoneKey } from '../model/index.ts';
import type { Store, StoreDump } from '../store/index.ts';
import type { Component } from './snapshot-format.ts';

export interface SyncRemovals {
  users: string[];
  tokens: string[];
  clients: string[];
  adminKeys: string[];
  groups: string[];
}

/** Above this many users, a standby refuses to drop half or more of them without tombstones. */
const WIPE_GUARD_MIN = 10;

/**
 * A standby mirrors its master: whatever the master's snapshot lacks (for the components it holds)
 * goes, so a deleted user, token, client or admin key stops working here too, whether or not its
 * tombstone is still kept. The standby's own first admin key goes as well: the master's keys are
 * the cluster's keys.
 *
 * One guard: when half or more of this standby's users (and more than a handful) are missing from
 * the snapshot without a tombstone saying the master deleted them, the master was most likely
 * wiped or is another cluster; mirroring that would wipe the disaster-recovery copy. Such a
 * snapshot is refused whole (nothing is applied) and the pull logs why. Real deletions carry
 * tombstones and never trip it.
 */
export function planSyncRemovals(
  live: StoreDump,
  master: {
    users?: readonly { username: string }[];
    tokens?: readonly { serial: string }[];
    clients?: readonly { id: string }[];
    adminKeys?: readonly { id: string }[];
    groups?: readonly { name: string }[];
    tombstones?: readonly { kind: string; id: string }[];
  },
  want: ReadonlySet<Component>,
): SyncRemovals {
  const missing = <T>(items: readonly T[], keep: readonly T[] | undefined, id: (x: T) => string) => {
    const ids = new Set((keep ?? []).map(id));
    return items.map(id).filter((x) => !ids.has(x));
  };
  const plan: SyncRemovals = { users: [], tokens: [], clients: [], adminKeys: [], groups: [] };
  if (want.has('users')) {
    plan.users = missing(live.users, master.users, (u) => u.username);
    plan.groups = missing(
      live.groups.filter((g) => !g.permanent),
      master.groups,
      (g) => g.name,
    );
  }
  if (want.has('tokens')) {
    const leaving = new Set(plan.users);
    plan.tokens = missing(
      live.tokens.filter((t) => !leaving.has(t.username)),
      master.tokens,
      (t) => t.serial,
    );
  }
  if (want.has('clients')) {
    plan.clients = missing(live.clients, master.clients, (c) => c.id);
    plan.adminKeys = missing(live.adminKeys, master.adminKeys, (k) => k.id);
  }
  const deleted = new Set((master.tombstones ?? []).map((t) => `${t.kind}:${t.id}`));
  const unexplained = plan.users.filter((u) => !deleted.has(tombstoneKey('user', u))).length;
  if (unexplained > WIPE_GUARD_MIN && unexplained * 2 >= live.users.length) {
    throw new TesseraError(
      'CONFLICT',
      `the master's snapshot lacks ${unexplained} of this standby's ${live.users.length} users without a record of deleting them (a wiped or different master?); not applied: check TESSERA_SNAPSHOT_PULL_URL or seed this standby again`,
    );
  }
  return plan;
}

export async function applySyncRemovals(store: Store, plan: SyncRemovals): Promise<void> {
  for (const u of plan.users) await store.deleteUser(u);
  for (const s of plan.tokens) await store.deleteToken(s);
  for (const c of plan.clients) await store.deleteClient(c);
  for (const k of plan.adminKeys) await store.deleteAdminKey(k);
  for (const g of plan.groups) await store.deleteGroup(g);
}
