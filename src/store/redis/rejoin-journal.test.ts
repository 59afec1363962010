import assert from 'node:assert/strict';
import { afterAll, beforeAll, test } from 'vitest';
import { waitFor } from '../../../test/harness/ports.ts';
import { type RedisProcess, startRedis, waitForReplicaLink } from '../../../test/harness/redis.ts';
import { sampleToken, sampleUser } from '../fixtures.ts';
import { openRedisStore, type RedisStore } from './index.ts';

// A node's Redis is split off and promoted, the node accepts a code there, then the Redis is
// pointed back at the master with a plain REPLICAOF (as Sentinel does to an old master). The
// resync throws the split-off writes away; the node's journal puts them back by max-merge.
let m: RedisProcess;
let r: RedisProcess;
let onMaster: RedisStore;
let onReplica: RedisStore;

beforeAll(async () => {
  m = await startRedis();
  r = await startRedis({ replicaOf: m.port });
  onMaster = await openRedisStore({ url: m.url, rolePollMs: 100 });
  // The split-off side accepting without a replica is the case under test: an explicit `accept`
  // (the default refuses it, see replica-ack.test.ts).
  onReplica = await openRedisStore({ url: r.url, rolePollMs: 100, replicaAck: 'accept' });
  await onMaster.createUser(sampleUser('j'));
  await onMaster.putToken(sampleToken('J', 'j', { type: 'hotp' }));
});
afterAll(async () => {
  await onReplica.close();
  await onMaster.close();
  await r.stop();
  await m.stop();
});

test('codes accepted while split off stay used after a plain resync', async () => {
  assert.equal(await onMaster.commitAccept('j', 'J', { kind: 'hotp', counter: 1 }, 1), true);
  const c = r.client();
  await c.call('REPLICAOF', 'NO', 'ONE');
  await waitFor(
    'the split-off store to see itself master',
    async () => (await onReplica.role()).role !== 'slave',
  );
  assert.equal(await onReplica.commitAccept('j', 'J', { kind: 'hotp', counter: 7 }, 2), true);
  await c.call('REPLICAOF', '127.0.0.1', String(m.port));
  c.disconnect();
  await waitForReplicaLink(r);
  await waitFor(
    'the journal to reach the master',
    async () => (await onMaster.getTokenState('J')).counter === 8,
    5_000,
    20,
  );
  assert.equal(
    await onMaster.commitAccept('j', 'J', { kind: 'hotp', counter: 7 }, 3),
    false,
    'the split-off code stays used',
  );
  assert.equal(await onReplica.commitAccept('j', 'J', { kind: 'hotp', counter: 8 }, 4), true);
});
