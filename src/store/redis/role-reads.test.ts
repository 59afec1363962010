import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { type RedisProcess, startRedis, waitForReplicaLink } from '../../../test/harness/redis.ts';
import { sleep } from '../within.ts';
import { openRedisStore, type RedisStore } from './index.ts';

// Two ROLE reads that overlap across a promotion: the older one (a replica's read waits on its
// master, here paused) must not put back the role from before, and the promotion is raised once.
describe('role reads across a promotion', () => {
  let master: RedisProcess;
  let replica: RedisProcess;
  let store: RedisStore;
  const changes: { from: string; to: string }[] = [];

  beforeAll(async () => {
    master = await startRedis();
    replica = await startRedis({ replicaOf: master.port });
    await waitForReplicaLink(replica);
    // no poll during the test: only the reads it asks for
    store = await openRedisStore({ url: replica.url, rolePollMs: 3_600_000 });
    store.links.on('role-change', (e) => changes.push(e));
  });
  afterAll(async () => {
    await store?.close();
    await replica?.stop();
    await master?.stop();
  });

  test('a read asked during an older one ends on the new role, and the promotion is raised once', async () => {
    assert.equal(store.replication()?.redisRole, 'slave');
    const m = master.client();
    const r = replica.client();
    try {
      // the replica's read asks its master for the offset: paused, that takes the read's 250 ms limit
      await m.call('CLIENT', 'PAUSE', '600', 'ALL');
      const older = store.links.refresh();
      await sleep(50);
      await r.call('REPLICAOF', 'NO', 'ONE');
      const newer = store.links.refresh();
      await Promise.all([older, newer]);
      assert.equal(store.replication()?.redisRole, 'master', 'the role after the promotion');
      assert.deepEqual(
        changes.map((c) => `${c.from}->${c.to}`),
        ['slave->master'],
      );
      // and a later read finds nothing new to raise
      await store.links.refresh();
      assert.equal(changes.length, 1);
    } finally {
      await m.call('CLIENT', 'UNPAUSE').catch(() => {});
      m.disconnect();
      r.disconnect();
    }
  });
});
