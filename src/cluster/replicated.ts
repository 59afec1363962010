import type { Store } from '../store/index.ts';
import type { RedisStore } from '../store/redis/index.ts';

/** The Redis store's cluster extras (role events, replication view, node registry). */
export type ReplicatedStore = Pick<
  RedisStore,
  'links' | 'replication' | 'heartbeat' | 'nodeRecords' | 'removeNodeRecord' | 'journal'
> &
  Store;

export function asReplicated(store: Store): ReplicatedStore | null {
  return store.kind === 'redis' && 'links' in store && 'replication' in store
    ? (store as unknown as ReplicatedStore)
    : null;
}
