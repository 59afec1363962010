// The Redis store: master/replica aware, Lua check-and-advance, WAIT-acknowledged writes.
import { RedisLinks, type RedisStoreOptions } from './links.ts';
import { RedisStore } from './redis-store.ts';

export type { LinkEvents, RedisStoreOptions, ReplicationView } from './links.ts';
export { urlOptions } from './links.ts';
export { RedisStore } from './redis-store.ts';

/**
 * Opens the Redis store and learns the node's role. Options not given keep their defaults:
 * replicaAck accept, waitTimeoutMs 1000, ackReplicas 1, prefix `tessera:`.
 */
export async function openRedisStore(opts: RedisStoreOptions): Promise<RedisStore> {
  if (opts.ackReplicas !== undefined && !(Number.isInteger(opts.ackReplicas) && opts.ackReplicas >= 1)) {
    throw new Error('ackReplicas must be a positive integer');
  }
  const links = new RedisLinks(opts);
  try {
    await links.start();
  } catch (err) {
    await links.close();
    const what = err instanceof Error ? err.message : String(err);
    throw new Error(`cannot reach Redis: ${what}`);
  }
  return new RedisStore(links, opts.prefix ?? 'tessera:');
}
