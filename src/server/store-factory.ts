import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { openEmbeddedStore, type Store } from '../store/index.ts';
import type { Config } from './config.ts';

/** The Redis store when TESSERA_REDIS_URL or TESSERA_SENTINELS is set, else the embedded one. */
export async function openStore(config: Config): Promise<Store> {
  if (!config.redisUrl && !config.sentinels) return openEmbeddedStore(config.dataDir);
  const modulePath = fileURLToPath(new URL('../store/redis/index.ts', import.meta.url));
  if (!existsSync(modulePath)) throw new Error('this build has no Redis store');
  const redis = (await import(modulePath)) as {
    openRedisStore(opts: {
      url?: string;
      sentinels?: { host: string; port: number }[];
      sentinelName?: string;
    }): Promise<Store>;
  };
  return redis.openRedisStore({
    ...(config.redisUrl ? { url: config.redisUrl } : {}),
    ...(config.sentinels ? { sentinels: config.sentinels, sentinelName: config.sentinelName } : {}),
  });
}
