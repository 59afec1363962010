// The Redis store: master/replica aware, Lua check-and-advance, WAIT-acknowledged writes.
import { RedisLinks, type RedisStoreOptions } from './links.ts';
import { RedisStore } from './redis-store.ts';

export type { LinkEvents, RedisStoreOptions, ReplicationView } from './links.ts';
export { urlOptions } from './links.ts';
export { RedisStore } from './redis-store.ts';
export { planTls, type RedisTlsFiles, type RedisTlsPlan } from './tls.ts';

function replicaAckFromEnv(): 'accept' | 'reject' | undefined {
  const v = process.env.TESSERA_REPLICA_ACK;
  if (v === undefined || v === '') return undefined;
  if (v === 'accept' || v === 'reject') return v;
  throw new Error('TESSERA_REPLICA_ACK must be "accept" or "reject"');
}

function waitFromEnv(): number | undefined {
  const v = process.env.TESSERA_REPLICA_WAIT_MS;
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error('TESSERA_REPLICA_WAIT_MS must be a positive integer');
  return n;
}

/**
 * Opens the Redis store and learns the node's role. Options not given fall back to
 * TESSERA_REPLICA_ACK (accept|reject), TESSERA_REPLICA_WAIT_MS (default 1000) and
 * TESSERA_REPLICA_ACK_COUNT (replicas that must acknowledge, default 1).
 */
export async function openRedisStore(opts: RedisStoreOptions): Promise<RedisStore> {
  const replicaAck = opts.replicaAck ?? replicaAckFromEnv();
  const waitTimeoutMs = opts.waitTimeoutMs ?? waitFromEnv();
  const count = process.env.TESSERA_REPLICA_ACK_COUNT;
  const ackReplicas = opts.ackReplicas ?? (count ? Number(count) : undefined);
  if (ackReplicas !== undefined && !(Number.isInteger(ackReplicas) && ackReplicas >= 1)) {
    throw new Error('TESSERA_REPLICA_ACK_COUNT must be a positive integer');
  }
  const links = new RedisLinks({
    ...opts,
    ...(replicaAck ? { replicaAck } : {}),
    ...(waitTimeoutMs ? { waitTimeoutMs } : {}),
    ...(ackReplicas ? { ackReplicas } : {}),
  });
  try {
    await links.start();
  } catch (err) {
    await links.close();
    // links.start() names the server and the reason (a refused certificate), never a password
    throw err instanceof Error ? err : new Error(`cannot reach Redis: ${String(err)}`);
  }
  const store = new RedisStore(links, opts.prefix ?? process.env.TESSERA_REDIS_PREFIX ?? 'tessera:', {
    ...(opts.auditRetention ? { retention: opts.auditRetention } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  });
  try {
    await store.migrateAudit();
  } catch (err) {
    await store.close();
    throw err;
  }
  return store;
}
