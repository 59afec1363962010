import assert from 'node:assert/strict';
import { test } from 'vitest';
import { startRedis } from '../../../test/harness/redis.ts';
import { storeContract } from '../store-contract-suite.ts';
import { openRedisStore } from './index.ts';

storeContract('redis (standalone)', async (opts = {}) => {
  const redis = await startRedis();
  const store = await openRedisStore({ url: redis.url, ...opts });
  return {
    store,
    async cleanup() {
      await store.close();
      await redis.stop();
    },
  };
});

storeContract('redis (master with a replica, WAIT on every write)', async (opts = {}) => {
  const master = await startRedis();
  const replica = await startRedis({ replicaOf: master.port });
  const store = await openRedisStore({
    url: master.url,
    replicaAck: 'reject',
    waitTimeoutMs: 5_000,
    ...opts,
  });
  return {
    store,
    async cleanup() {
      await store.close();
      await replica.stop();
      await master.stop();
    },
  };
});

test('the audit list of earlier versions moves into the streams when the store opens', async () => {
  const redis = await startRedis();
  const c = redis.client();
  try {
    const now = Date.now();
    // earlier versions: one list, newest first
    await c.lpush(
      'mig:audit',
      JSON.stringify({ time: now - 2, type: 'user.create', actor: 'admin:a' }),
      JSON.stringify({ time: now - 1, type: 'validate', actor: 'client:c' }),
      'not json',
    );
    const store = await openRedisStore({ url: redis.url, prefix: 'mig:' });
    try {
      assert.deepEqual(
        (await store.listAudit(10, 'admin')).map((e) => e.type),
        ['user.create'],
      );
      assert.deepEqual(
        (await store.listAudit(10, 'auth')).map((e) => e.type),
        ['validate'],
      );
      assert.equal(await c.exists('mig:audit'), 0);
    } finally {
      await store.close();
    }
  } finally {
    c.disconnect();
    await redis.stop();
  }
});
