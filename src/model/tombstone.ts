/**
 * The record that something was deleted. Stores write one on every delete (and clear it when the
 * record is created again), so that a standby and a restore can tell "deleted after" from "never
 * had": a revoked token must not come back from an older copy.
 */
export type TombstoneKind = 'user' | 'token' | 'client' | 'adminKey';
export const TOMBSTONE_KINDS: readonly TombstoneKind[] = ['user', 'token', 'client', 'adminKey'];

export interface Tombstone {
  kind: TombstoneKind;
  /** Username, token serial, client id or admin key id. */
  id: string;
  deletedAt: number;
}

/** How long tombstones are kept: longer than any backup one would still restore. */
export const TOMBSTONE_RETENTION_MS = 400 * 24 * 60 * 60 * 1000;

/** One string per tombstone (`kind:id`); kinds hold no colon, so the first one splits it. */
export function tombstoneKey(kind: TombstoneKind, id: string): string {
  return `${kind}:${id}`;
}

export function parseTombstoneKey(key: string, deletedAt: number): Tombstone | null {
  const at = key.indexOf(':');
  const kind = key.slice(0, at) as TombstoneKind;
  if (at < 0 || !TOMBSTONE_KINDS.includes(kind)) return null;
  return { kind, id: key.slice(at + 1), deletedAt };
}
