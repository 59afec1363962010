import {
  type AdminKey,
  type Client,
  TOMBSTONE_RETENTION_MS,
  type Token,
  type Tombstone,
  tombstoneKey,
  type User,
} from '../model/index.ts';
import type { Store } from '../store/index.ts';
import type { Component } from './snapshot-format.ts';

/** The records a restore would write, by kind. */
export interface Restorable {
  users: readonly User[];
  tokens: readonly Token[];
  clients: readonly Client[];
  adminKeys: readonly AdminKey[];
}

/**
 * What a restore would bring back that the live store deleted after the snapshot was taken: the
 * live tombstones younger than the snapshot that name a record the restore would write. A revoked
 * token, user, client or admin key must not silently work again because an older backup had it.
 */
export async function findResurrections(
  store: Store,
  records: Restorable,
  components: ReadonlySet<Component>,
  snapshotTime: number,
): Promise<Tombstone[]> {
  const after = await store.listTombstones(snapshotTime + 1);
  if (after.length === 0) return [];
  const wanted = new Set<string>();
  if (components.has('users')) for (const u of records.users) wanted.add(tombstoneKey('user', u.username));
  if (components.has('tokens')) for (const t of records.tokens) wanted.add(tombstoneKey('token', t.serial));
  if (components.has('clients')) {
    for (const c of records.clients) wanted.add(tombstoneKey('client', c.id));
    for (const k of records.adminKeys) wanted.add(tombstoneKey('adminKey', k.id));
  }
  return after.filter((t) => wanted.has(tombstoneKey(t.kind, t.id)));
}

/** True when the snapshot is older than the tombstones reach back: deletions before may be missed. */
export function olderThanTombstones(
  snapshotTime: number,
  now: number,
  retentionMs = TOMBSTONE_RETENTION_MS,
): boolean {
  return snapshotTime < now - retentionMs;
}

export function describeTombstones(list: readonly Tombstone[], max = 100): string {
  const lines = list
    .slice(0, max)
    .map((t) => `  ${t.kind.padEnd(8)} ${t.id}  (deleted ${new Date(t.deletedAt).toISOString()})`);
  if (list.length > max) lines.push(`  … and ${list.length - max} more`);
  return lines.join('\n');
}
