// The Redis store: master/replica aware, Lua check-and-advance, WAIT-acknowledged writes.
import { RedisLinks, type RedisStoreOptions } from './links.ts';
import { RedisStore } from './redis-store.ts';

export type { LinkEvents, RedisStoreOptions, ReplicationView } from './links.ts';
export { urlOptions } from './links.ts';
export { newRedis } from './new-redis.ts';
export { RedisStore } from './redis-store.ts';
export { planTls, type RedisTlsFiles, type RedisTlsPlan } from './tls.ts';

/**
 * Opens the Redis store and learns the node's role. Options not given keep their defaults:
 * replicaAck reject, waitTimeoutMs 1000, ackReplicas 1, prefix `tessera:`.
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
    // links.start() names the server and the reason (a refused certificate), never a password
    throw err instanceof Error ? err : new Error(`cannot reach Redis: ${String(err)}`);
  }
  const store = new RedisStore(links, opts.prefix ?? 'tessera:', {
    ...(opts.auditRetention ? { retention: opts.auditRetention } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  });
  try {
    await store.checkFormat();
    await store.migrateAudit();
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}
