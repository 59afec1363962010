import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { slapdSource } from '../harness/directory.ts';
import { waitFor } from '../harness/ports.ts';
import { type RedisProcess, startRedis, waitForReplicaLink } from '../harness/redis.ts';
import { personLdif, type SlapdProcess, startSlapd } from '../harness/slapd.ts';
import { Api, type Json, startTessera, type TesseraHandle } from '../harness/tessera.ts';

const TAKEOVER_SECONDS = 2;
const timeOf = (e: Json): number => (typeof e.time === 'number' ? e.time : Date.parse(e.time));

// The directory schedule on two real Tessera nodes over a real Redis master and replica: the
// master syncs on its interval; when it goes silent the replica takes the schedule over after the
// takeover time, and hands it back when the master returns. Every run is in the event log.
describe('scheduled directory sync with replica takeover (two nodes, real Redis, real slapd)', () => {
  let slapd: SlapdProcess;
  let master: RedisProcess;
  let replica: RedisProcess;
  let nodeA: TesseraHandle;
  let nodeB: TesseraHandle;
  let adminB: Api;
  const masterKey = randomBytes(32).toString('base64');
  const envA = () => ({
    TESSERA_REDIS_URL: master.url,
    TESSERA_MASTER_KEY: masterKey,
    TESSERA_NODE_ID: 'node-a',
    TESSERA_DIRECTORY_TAKEOVER_SECONDS: String(TAKEOVER_SECONDS),
  });

  /** The schedule's events, oldest first, read on node B (a replica reads the same store). */
  const scheduleEvents = async (): Promise<Json[]> => {
    const page = await adminB.ok('GET', '/v1/admin/audit?stream=event&limit=1000');
    return (page.items as Json[]).filter((e) => e.type.startsWith('directory.schedule.')).reverse();
  };
  const exists = async (name: string) => (await adminB.call('GET', `/v1/admin/users/${name}`)).status === 200;
  const addPerson = (uid: string) => slapd.ldif(personLdif({ uid, cn: `Person ${uid}` }));

  beforeAll(async () => {
    slapd = await startSlapd();
    addPerson('early');
    master = await startRedis();
    replica = await startRedis({ replicaOf: master.port });
    await waitForReplicaLink(replica);
    nodeA = await startTessera({ env: envA() });
    nodeB = await startTessera({
      env: {
        TESSERA_REDIS_URL: replica.url,
        TESSERA_MASTER_KEY: masterKey,
        TESSERA_NODE_ID: 'node-b',
        TESSERA_DIRECTORY_TAKEOVER_SECONDS: String(TAKEOVER_SECONDS),
      },
      expectAdminKey: false,
    });
    adminB = new Api(nodeB.url, nodeA.adminKey);
  }, 120_000);
  afterAll(async () => {
    await nodeB?.stop();
    await nodeA?.stop();
    await replica?.stop();
    await master?.stop();
    await slapd?.stop();
  });

  test('the master runs the schedule; the replica does not while the master is heard', async () => {
    const adminA = new Api(nodeA.url, nodeA.adminKey);
    await adminA.ok('POST', '/v1/admin/directory/sources', slapdSource(slapd, { syncIntervalSeconds: 1 }));
    await waitFor('the master syncs "early"', () => exists('early'), 20_000);
    addPerson('second');
    await waitFor('the master syncs "second"', () => exists('second'), 20_000);
    // several takeover times with the master alive: the replica never steps in
    await new Promise((r) => setTimeout(r, TAKEOVER_SECONDS * 1500));
    const events = await waitFor('two runs in the event log', async () => {
      const e = await scheduleEvents();
      return e.filter((x) => x.type === 'directory.schedule.run').length >= 2 && e;
    });
    const runs = events.filter((e) => e.type === 'directory.schedule.run');
    assert.ok(
      runs.every((e) => e.detail.node === 'node-a' && e.detail.role === 'master'),
      JSON.stringify(runs),
    );
    assert.ok(
      runs.some((e) => /created=1 /.test(e.detail.result)),
      JSON.stringify(runs),
    );
    assert.ok(!events.some((e) => e.type === 'directory.schedule.takeover'), JSON.stringify(events));
  });

  let killedAt = 0;
  test('the master goes silent: after the takeover time the replica syncs in its place', async () => {
    await nodeA.kill();
    killedAt = Date.now();
    addPerson('while-away');
    await waitFor('the replica syncs "while-away"', () => exists('while-away'), 30_000);
    const events = await waitFor('the takeover and a replica run in the event log', async () => {
      const e = await scheduleEvents();
      return e.some((x) => x.type === 'directory.schedule.run' && x.detail.node === 'node-b') && e;
    });
    const takeover = events.find((e) => e.type === 'directory.schedule.takeover');
    assert.ok(takeover, JSON.stringify(events));
    assert.equal(takeover.detail.node, 'node-b');
    assert.equal(takeover.detail.from, 'nobody', 'the lease had lapsed');
    // the lease was renewed at most a tick (takeover / 4) before the kill
    const waited = timeOf(takeover) - killedAt;
    assert.ok(waited >= TAKEOVER_SECONDS * 750 - 300, `took over ${waited} ms after the master went silent`);
    const run = events.find((e) => e.type === 'directory.schedule.run' && e.detail.node === 'node-b');
    assert.equal(run.detail.role, 'slave');
    assert.equal(run.result, 'ok');
    // what the replica wrote is on the master (the replica's own Redis is read-only)
    const user = await adminB.ok('GET', '/v1/admin/users/while-away');
    assert.equal(user.displayName, 'Person while-away');
  });

  test('the master returns: it takes the schedule back and the replica stops', async () => {
    nodeA = await startTessera({ env: envA(), dataDir: nodeA.dataDir });
    const events = await waitFor('reclaim and handback in the event log', async () => {
      const e = await scheduleEvents();
      return (
        e.some((x) => x.type === 'directory.schedule.reclaim') &&
        e.some((x) => x.type === 'directory.schedule.handback') &&
        e
      );
    });
    const reclaim = events.find((e) => e.type === 'directory.schedule.reclaim');
    assert.deepEqual([reclaim.detail.node, reclaim.detail.from], ['node-a', 'node-b']);
    const handback = events.find((e) => e.type === 'directory.schedule.handback');
    assert.deepEqual([handback.detail.node, handback.detail.to], ['node-b', 'node-a']);
    addPerson('after-return');
    await waitFor('the master syncs "after-return"', () => exists('after-return'), 20_000);
    await new Promise((r) => setTimeout(r, 2_000));
    const later = (await scheduleEvents()).filter(
      (e) => e.type === 'directory.schedule.run' && timeOf(e) > timeOf(handback) + 500,
    );
    assert.ok(later.length > 0);
    assert.ok(
      later.every((e) => e.detail.node === 'node-a'),
      JSON.stringify(later),
    );
  });
});

describe('the directory schedule on one node (embedded store, real slapd)', () => {
  let slapd: SlapdProcess;
  let on: TesseraHandle;
  let off: TesseraHandle;

  beforeAll(async () => {
    slapd = await startSlapd();
    slapd.ldif(personLdif({ uid: 'solo', cn: 'Solo Person' }));
    [on, off] = await Promise.all([
      startTessera(),
      startTessera({ env: { TESSERA_DIRECTORY_SCHEDULE: 'false' } }),
    ]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([on?.stop(), off?.stop()]);
    await slapd?.stop();
  });

  test('a lone node runs the schedule without a lease; TESSERA_DIRECTORY_SCHEDULE=false runs none', async () => {
    const body = slapdSource(slapd, { syncIntervalSeconds: 1 });
    const apiOn = new Api(on.url, on.adminKey);
    const apiOff = new Api(off.url, off.adminKey);
    await apiOn.ok('POST', '/v1/admin/directory/sources', body);
    await apiOff.ok('POST', '/v1/admin/directory/sources', body);
    await waitFor(
      'the lone node syncs',
      async () => (await apiOn.call('GET', '/v1/admin/users/solo')).status === 200,
    );
    await new Promise((r) => setTimeout(r, 2_500));
    assert.equal((await apiOff.call('GET', '/v1/admin/users/solo')).status, 404);
    const events = (await apiOff.ok('GET', '/v1/admin/audit?stream=event&limit=100')).items as Json[];
    assert.ok(!events.some((e) => e.type.startsWith('directory.schedule.')), JSON.stringify(events));
    const ran = (await apiOn.ok('GET', '/v1/admin/audit?stream=event&limit=100')).items as Json[];
    assert.ok(ran.some((e) => e.type === 'directory.schedule.run' && e.detail.role === 'standalone'));
  });
});
