import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { hotpAt } from '../harness/codes.ts';
import { validateHttp } from '../harness/ha-load.ts';
import { waitFor } from '../harness/ports.ts';
import { type RedisProcess, type SentinelGroup, startRedis, startSentinels } from '../harness/redis.ts';
import { Api, randomBase32, startTessera, type TesseraHandle } from '../harness/tessera.ts';

// A node writes to its own Redis the moment it sees it promoted, before Sentinel names it (that
// is what makes a failover fast). A Redis promoted by hand (`REPLICAOF NO ONE`, a split brain)
// must not keep that shortcut: once Sentinel has had time to confirm a promotion of its own and
// still names the real master, the node writes there again.
describe('a Redis promoted by hand, not by Sentinel, does not take the node with it', () => {
  let master: RedisProcess;
  let replica: RedisProcess;
  let sentinels: SentinelGroup;
  let nodeA: TesseraHandle;
  let nodeB: TesseraHandle;
  let apiKey = '';
  const secret = randomBase32();

  beforeAll(async () => {
    master = await startRedis();
    replica = await startRedis({ replicaOf: master.port });
    sentinels = await startSentinels({ masterPort: master.port, name: 'tessera-hand', downAfterMs: 1000 });
    const env = {
      TESSERA_MASTER_KEY: randomBytes(32).toString('base64'),
      TESSERA_SENTINELS: sentinels.sentinels.map((s) => `${s.host}:${s.port}`).join(','),
      TESSERA_SENTINEL_NAME: 'tessera-hand',
      TESSERA_REPLICA_ACK: 'accept',
    };
    nodeA = await startTessera({ env: { ...env, TESSERA_REDIS_URL: master.url } });
    nodeB = await startTessera({ env: { ...env, TESSERA_REDIS_URL: replica.url }, expectAdminKey: false });
    const admin = new Api(nodeA.url, nodeA.adminKey);
    apiKey = await admin.createClient('api');
    await admin.ok('POST', '/v1/admin/users', { username: 'hand' });
    await admin.ok('POST', '/v1/admin/users/hand/tokens', { type: 'hotp', secret, counter: 0 });
    assert.equal((await validateHttp(nodeB.url, apiKey, 'hand', hotpAt(secret, 0))).result, 'accept');
  });

  afterAll(async () => {
    await nodeB?.stop();
    await nodeA?.stop();
    await sentinels?.stop();
    await replica?.stop();
    await master?.stop();
  });

  test('after the confirmation time the node writes to the master Sentinel names', async () => {
    const c = replica.client();
    try {
      await c.call('REPLICAOF', 'NO', 'ONE');
    } finally {
      c.disconnect();
    }
    const promotedAt = Date.now();
    // node B notices its Redis is master (its /readyz says so), then waits for Sentinel's word
    await waitFor('node B to see its Redis as master', async () => {
      const r = await new Api(nodeB.url, '').call('GET', '/readyz');
      return r.body?.role === 'master';
    });
    assert.equal(await sentinels.masterPort(), master.port, 'Sentinel still names the real master');
    await new Promise((r) => setTimeout(r, Math.max(0, promotedAt + 4_500 - Date.now())));
    assert.equal(await sentinels.masterPort(), master.port, 'Sentinel did not fail over');
    // a login on node B now lands on the real master: its code is used there, not on the orphan
    assert.equal((await validateHttp(nodeB.url, apiKey, 'hand', hotpAt(secret, 1))).result, 'accept');
    const m = master.client();
    const orphan = replica.client();
    try {
      const serial = (await new Api(nodeA.url, nodeA.adminKey).ok('GET', '/v1/admin/users/hand')).tokens[0]
        .serial as string;
      const onMaster = await m.hget('tessera:tstates', serial);
      const onOrphan = await orphan.hget('tessera:tstates', serial);
      process.stdout.write(
        `# by hand: token state on the real master ${onMaster}, on the orphan ${onOrphan}\n`,
      );
      assert.equal(Number(onMaster?.split(',')[0]), 2, 'the accept went to the master Sentinel names');
      assert.equal(Number(onOrphan?.split(',')[0]), 1, 'the orphan did not take it');
    } finally {
      m.disconnect();
      orphan.disconnect();
    }
    assert.equal((await validateHttp(nodeA.url, apiKey, 'hand', hotpAt(secret, 1))).reason, 'OTP_REUSED');
  });
});
