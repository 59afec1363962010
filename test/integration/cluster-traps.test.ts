import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { mintKey } from '../../src/auth/index.ts';
import { openRedisStore, type RedisStore } from '../../src/store/redis/index.ts';
import { hotpAt } from '../harness/codes.ts';
import { waitFor } from '../harness/ports.ts';
import { type RedisProcess, startRedis } from '../harness/redis.ts';
import { Api, randomBase32, startTessera, type TesseraHandle } from '../harness/tessera.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function readyz(
  url: string,
): Promise<{ status: number; body: { error?: { code: string; message: string } } }> {
  const res = await fetch(`${url}/readyz`);
  return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string } } };
}

// Traps a newcomer meets when starting a cluster: a replica that says "ready" before it can honour
// the master's keys, a refused key remembered too long, a node with another seed key that says
// "ready" and then refuses every code.
describe('a cluster started as a newcomer would', () => {
  const clusterKey = randomBytes(32).toString('base64');
  let master: RedisProcess;
  let nodeA: TesseraHandle;
  let adminA: Api;
  let secret = '';
  const started: TesseraHandle[] = [];
  const redises: RedisProcess[] = [];

  beforeAll(async () => {
    master = await startRedis();
    nodeA = await startTessera({ env: { TESSERA_REDIS_URL: master.url, TESSERA_MASTER_KEY: clusterKey } });
    adminA = new Api(nodeA.url, nodeA.adminKey);
    secret = randomBase32();
    await adminA.ok('POST', '/v1/admin/users', { username: 'trap-user' });
    await adminA.ok('POST', '/v1/admin/users/trap-user/tokens', { type: 'hotp', secret, counter: 0 });
  });

  afterAll(async () => {
    for (const n of started.reverse()) await n.stop();
    await nodeA?.stop();
    for (const r of redises.reverse()) await r.stop();
    await master?.stop();
  });

  test('a replica node answers ready only once synced, and then honours the master admin key at once', async () => {
    // The master holds the first sync back until the node has answered a few probes, so the node
    // starts while its Redis is still empty (as a compose file that starts everything at once does).
    const m = master.client();
    await m.config('SET', 'repl-diskless-sync', 'yes');
    await m.config('SET', 'repl-diskless-sync-delay', '60');
    const replica = await startRedis();
    redises.push(replica);
    const c = replica.client();
    await c.replicaof('127.0.0.1', String(master.port));
    c.disconnect();
    const seen = { syncing: 0, refusedBeforeReady: 0, refusedAfterReady: 0 };
    let readyAt = 0;
    let t0 = 0;
    try {
      const nodeB = await startTessera({
        env: { TESSERA_REDIS_URL: replica.url, TESSERA_MASTER_KEY: clusterKey },
        expectAdminKey: false,
        waitForReady: false,
      });
      started.push(nodeB);
      const onB = new Api(nodeB.url, nodeA.adminKey);
      t0 = Date.now();
      while (Date.now() - t0 < 20_000) {
        // the caller first, as a RADIUS server that does not probe /readyz would
        const call = await onB.call('GET', '/v1/admin/cluster');
        const ready = await readyz(nodeB.url);
        if (ready.status === 503 && ready.body.error?.code === 'REPLICA_SYNCING') seen.syncing++;
        if (call.status === 401) {
          if (readyAt) seen.refusedAfterReady++;
          else seen.refusedBeforeReady++;
        }
        if (ready.status === 200 && !readyAt) readyAt = Date.now();
        if (readyAt && Date.now() - readyAt > 1_000) break;
        // let the sync go once the node has shown how it answers without it
        if (seen.syncing === 5) await m.config('SET', 'repl-diskless-sync-delay', '0');
        await sleep(20);
      }
      assert.equal((await onB.call('GET', '/v1/admin/cluster')).status, 200);
    } finally {
      await m.config('SET', 'repl-diskless-sync-delay', '0');
      m.disconnect();
    }
    console.log(
      `# replica start: not ready (syncing) for ${seen.syncing} probes, ready ${readyAt - t0} ms after the node ` +
        `answered; admin key refused ${seen.refusedBeforeReady} times before ready, ${seen.refusedAfterReady} after`,
    );
    assert.ok(readyAt > 0, 'the replica node became ready');
    assert.ok(seen.syncing > 0, 'the node said it was syncing before its Redis had the data');
    assert.equal(seen.refusedAfterReady, 0, 'a ready replica refused the master admin key');
  });

  test('a key refused on every node, then created on the master, works everywhere within 1 s', async () => {
    const replica = await startRedis({ replicaOf: master.port });
    redises.push(replica);
    const nodeC = await startTessera({
      env: { TESSERA_REDIS_URL: replica.url, TESSERA_MASTER_KEY: clusterKey },
      expectAdminKey: false,
    });
    started.push(nodeC);
    const minted = mintKey('admin');
    const nodes = [nodeA, nodeC].map((n) => new Api(n.url, minted.key));
    for (const api of nodes) assert.equal((await api.call('GET', '/v1/admin/cluster')).status, 401);
    // Written straight into the master, as another node's admin API would: neither node here is
    // told, each learns it from its Redis.
    const store: RedisStore = await openRedisStore({ url: master.url });
    try {
      await store.putAdminKey({
        id: minted.id,
        name: 'late',
        role: 'superadmin',
        keyHash: minted.hash,
        createdAt: Date.now(),
      });
    } finally {
      await store.close();
    }
    const created = Date.now();
    const took = await Promise.all(
      nodes.map(async (api) => {
        await waitFor(
          'the new key to work',
          async () => (await api.call('GET', '/v1/admin/cluster')).status === 200,
          5_000,
          10,
        );
        return Date.now() - created;
      }),
    );
    console.log(
      `# a new admin key worked on the master node after ${took[0]} ms, on the replica node after ${took[1]} ms`,
    );
    for (const ms of took) assert.ok(ms < 1_000, `the key worked only after ${ms} ms`);
  });

  test('a node with another seed key is not ready, says why in /readyz and its log, and is ready with the right key', async () => {
    const replica = await startRedis({ replicaOf: master.port });
    redises.push(replica);
    const otherKey = randomBytes(32).toString('base64');
    const wrong = await startTessera({
      env: { TESSERA_REDIS_URL: replica.url, TESSERA_MASTER_KEY: otherKey },
      expectAdminKey: false,
      waitForReady: false,
    });
    let ready: Awaited<ReturnType<typeof readyz>>;
    try {
      ready = await readyz(wrong.url);
      assert.equal(ready.status, 503);
      assert.equal(ready.body.error?.code, 'SEED_KEY_MISMATCH');
      assert.match(ready.body.error?.message ?? '', /TESSERA_MASTER_KEY/);
      assert.match(ready.body.error?.message ?? '', /master\.key/);
      const log = wrong.output();
      assert.match(log, /not ready: this node's seed key cannot open the token seeds/);
      assert.match(log, /TESSERA_MASTER_KEY/);
      for (const secretText of [otherKey, clusterKey])
        assert.ok(!log.includes(secretText), 'a seed key in the log');
      assert.ok(!JSON.stringify(ready.body).includes(otherKey));
      // it stays unready: the periodic check does not forget
      await sleep(300);
      assert.equal((await readyz(wrong.url)).status, 503);
    } finally {
      await wrong.stop({ keepData: true });
    }
    // the fix the message names: the cluster's key, same data directory
    const fixed = await startTessera({
      env: { TESSERA_REDIS_URL: replica.url, TESSERA_MASTER_KEY: clusterKey },
      dataDir: wrong.dataDir,
      expectAdminKey: false,
    });
    started.push(fixed);
    assert.equal((await readyz(fixed.url)).status, 200);
    const client = new Api(fixed.url, await adminA.createClient('api'));
    await waitFor('the client key on the replica', async () => {
      const r = await client.call('POST', '/v1/validate', { user: 'trap-user', pass: hotpAt(secret, 0) });
      return r.status === 200 && r.body.result === 'accept';
    });
  });
});

// The replica-ack default: strict as soon as the store has a replica, explicit `accept` warned about.
describe('strict replica acknowledgement by default', () => {
  let master: RedisProcess;
  let replica: RedisProcess;
  let strict: TesseraHandle;
  let lenient: TesseraHandle;
  let clientStrict: Api;
  let clientLenient: Api;
  let secret = '';

  beforeAll(async () => {
    master = await startRedis();
    replica = await startRedis({ replicaOf: master.port });
    const env = {
      TESSERA_REDIS_URL: master.url,
      TESSERA_MASTER_KEY: randomBytes(32).toString('base64'),
      TESSERA_REPLICA_WAIT_MS: '300',
    };
    strict = await startTessera({ env });
    lenient = await startTessera({ env: { ...env, TESSERA_REPLICA_ACK: 'accept' }, expectAdminKey: false });
    const admin = new Api(strict.url, strict.adminKey);
    const key = await admin.createClient('api');
    clientStrict = new Api(strict.url, key);
    clientLenient = new Api(lenient.url, key);
    secret = randomBase32();
    await admin.ok('POST', '/v1/admin/users', { username: 'ack-user' });
    await admin.ok('POST', '/v1/admin/users/ack-user/tokens', { type: 'hotp', secret, counter: 0 });
  });

  afterAll(async () => {
    replica?.proc.kill('SIGCONT');
    await lenient?.stop();
    await strict?.stop();
    await replica?.stop();
    await master?.stop();
  });

  test('an explicit accept is warned about at start; the default is not', () => {
    assert.match(
      lenient.output(),
      /TESSERA_REPLICA_ACK=accept: in a cluster, a login is accepted even when no replica/,
    );
    assert.doesNotMatch(strict.output(), /TESSERA_REPLICA_ACK=accept/);
  });

  test('with the replica stopped, the default refuses the accept; an explicit accept accepts', async () => {
    const ok = await clientStrict.call('POST', '/v1/validate', { user: 'ack-user', pass: hotpAt(secret, 0) });
    assert.equal(ok.body.result, 'accept', 'acknowledged while the replica answers');
    replica.proc.kill('SIGSTOP');
    try {
      const refused = await clientStrict.call('POST', '/v1/validate', {
        user: 'ack-user',
        pass: hotpAt(secret, 1),
      });
      assert.notEqual(refused.body?.result, 'accept', `accepted without an ack: ${JSON.stringify(refused)}`);
      assert.equal(refused.status, 503);
      // the refused code is used all the same: it can never be accepted later, on any node
      const reused = await clientLenient.call('POST', '/v1/validate', {
        user: 'ack-user',
        pass: hotpAt(secret, 1),
      });
      assert.equal(reused.body.result, 'reject');
      const accepted = await clientLenient.call('POST', '/v1/validate', {
        user: 'ack-user',
        pass: hotpAt(secret, 2),
      });
      assert.equal(accepted.body.result, 'accept');
    } finally {
      replica.proc.kill('SIGCONT');
    }
    // once the replica answers again, the default accepts
    const next = await clientStrict.call('POST', '/v1/validate', {
      user: 'ack-user',
      pass: hotpAt(secret, 3),
    });
    assert.equal(next.body.result, 'accept');
  });
});
