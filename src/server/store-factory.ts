import { AuditKeys, auditKeyPath, ChainSealer } from '../audit/index.ts';
import { openEmbeddedStore, type ReplicationControl, type Store } from '../store/index.ts';
import { openRedisStore } from '../store/redis/index.ts';
import type { Config } from './config.ts';

/** The store, and its replication control when it replicates (the cluster code's view of Redis). */
export interface OpenedStore {
  store: Store;
  replication: ReplicationControl | null;
}

/**
 * The Redis store when TESSERA_REDIS_URL or TESSERA_SENTINELS is set, else the embedded one; its
 * admin trail and event log chained and signed with the audit key.
 */
export async function openStore(config: Config): Promise<OpenedStore> {
  const opened = await openBareStore(config);
  const keys = AuditKeys.loadOrCreate(auditKeyPath(config.dataDir, config.auditKeyFile));
  opened.store.useAuditSealer?.(new ChainSealer(keys));
  return opened;
}

async function openBareStore(config: Config): Promise<OpenedStore> {
  if (!config.redisUrl && !config.sentinels) {
    return {
      store: openEmbeddedStore(config.dataDir, { auditRetention: config.auditRetention }),
      replication: null,
    };
  }
  const store = await openRedisStore({
    ...config.redis,
    auditRetention: config.auditRetention,
    ...(config.redisUrl ? { url: config.redisUrl } : {}),
    ...(config.sentinels ? { sentinels: config.sentinels, sentinelName: config.sentinelName } : {}),
  });
  return { store, replication: store };
}
