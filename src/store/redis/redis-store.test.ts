import { startRedis } from '../../../test/harness/redis.ts';
import { storeContract } from '../store-contract-suite.ts';
import { openRedisStore } from './index.ts';

storeContract('redis (standalone)', async () => {
  const redis = await startRedis();
  const store = await openRedisStore({ url: redis.url });
  return {
    store,
    async cleanup() {
      await store.close();
      await redis.stop();
    },
  };
});

storeContract('redis (master with a replica, WAIT on every write)', async () => {
  const master = await startRedis();
  const replica = await startRedis({ replicaOf: master.port });
  const store = await openRedisStore({ url: master.url, replicaAck: 'reject', waitTimeoutMs: 5_000 });
  return {
    store,
    async cleanup() {
      await store.close();
      await replica.stop();
      await master.stop();
    },
  };
});
