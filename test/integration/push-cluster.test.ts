// Push approval across a cluster: two real Tessera nodes over a Redis master and its replica. A push
// created through one node is shown and approved through the other; its answer is replay-proof
// on both, and an approved push accepts exactly one login.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { DeviceClient, fetchTransport, readEvents } from '../harness/device-client.ts';
import { type RedisProcess, startRedis } from '../harness/redis.ts';
import { Api, type Json, startTessera, type TesseraHandle } from '../harness/tessera.ts';

describe('push across two nodes on Redis (created on one, approved through the other)', () => {
  let master: RedisProcess;
  let replica: RedisProcess;
  let nodeA: TesseraHandle;
  let nodeB: TesseraHandle;
  let admin: Api;
  let clientA: Api;
  let clientB: Api;
  let phoneA: DeviceClient;
  let phoneB: DeviceClient;
  const masterKey = randomBytes(32).toString('base64');

  beforeAll(async () => {
    master = await startRedis();
    replica = await startRedis({ replicaOf: master.port });
    nodeA = await startTessera({ env: { TESSERA_REDIS_URL: master.url, TESSERA_MASTER_KEY: masterKey } });
    nodeB = await startTessera({
      env: { TESSERA_REDIS_URL: replica.url, TESSERA_MASTER_KEY: masterKey },
      expectAdminKey: false,
    });
    admin = new Api(nodeA.url, nodeA.adminKey);
    const key = await admin.createClient('api');
    clientA = new Api(nodeA.url, key);
    clientB = new Api(nodeB.url, key);
    await admin.ok('POST', '/v1/admin/users', { username: 'pat', pin: '2468' });
    const enrol = await admin.ok('POST', '/v1/admin/users/pat/tokens', {
      type: 'push',
      description: 'work phone',
    });
    assert.equal(enrol.status, 'pending');
    assert.equal(enrol.type, 'push');
    assert.match(enrol.pairing.pairUri, /^tessera-pair:\/\/\?url=/);
    assert.match(enrol.qrCode, /^data:image\/png;base64,/);
    // the same phone (one key pair) talks to either node
    phoneA = await DeviceClient.create(fetchTransport(nodeA.url));
    const paired = await phoneA.pair(enrol.pairing.pairingToken, 'Pixel');
    assert.equal(paired.status, 201, JSON.stringify(paired.body));
    phoneB = phoneA.via(fetchTransport(nodeB.url));
    // the replica has the paired token before the test logs in through it
    for (let i = 0; i < 50; i++) {
      if ((await phoneB.request('GET', '/v1/device/config')).status === 200) break;
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  afterAll(async () => {
    await nodeB?.stop();
    await nodeA?.stop();
    await replica?.stop();
    await master?.stop();
  });

  const pushed = async (phone: DeviceClient): Promise<Json> => {
    for (let i = 0; i < 50; i++) {
      const list = await phone.pushes();
      assert.equal(list.status, 200, JSON.stringify(list.body));
      if (list.body.items.length > 0) return list.body.items.at(-1);
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('no push arrived');
  };
  const pickedNumber = (message: string): number => Number(/pick (\d+)/.exec(message)?.[1]);

  test('created through the replica node, seen on the master node (SSE), approved there: one accept', async () => {
    const start = await clientB.ok('POST', '/v1/validate', { user: 'pat', pass: '2468' });
    assert.equal(start.result, 'challenge');
    // the reply names the method, so a relying system (Keycloak) can show a waiting page
    assert.equal(start.method, 'push');
    const number = pickedNumber(start.message);
    assert.ok(number >= 10);
    // the phone's event stream on node A delivers the push node B created
    const ctl = new AbortController();
    let seen: Json = null;
    await readEvents(
      nodeA.url,
      phoneA,
      (event, data) => {
        if (event === 'push') seen = data;
        return event === 'push';
      },
      ctl.signal,
    );
    assert.ok(seen);
    assert.ok((seen as Json).numbers.includes(number));
    assert.equal('number' in (seen as Json), false);
    const still = await clientB.ok('POST', '/v1/validate', {
      user: 'pat',
      pass: '',
      transactionId: start.transactionId,
    });
    assert.equal(still.result, 'challenge');
    assert.equal(still.method, 'push');
    const headers = await phoneA.headers(
      'POST',
      `/v1/device/pushes/${(seen as Json).id}/answer`,
      JSON.stringify({ decision: 'approve', number }),
    );
    const send = (url: string) =>
      fetch(`${url}/v1/device/pushes/${(seen as Json).id}/answer`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: JSON.stringify({ decision: 'approve', number }),
      });
    const approved = await send(nodeA.url);
    assert.equal(approved.status, 200);
    // the same signed request replayed through the other node: its nonce is known there too
    const replayed = await send(nodeB.url);
    assert.equal(replayed.status, 401);
    const [one, two] = await Promise.all([
      clientB.ok('POST', '/v1/validate', { user: 'pat', pass: '', transactionId: start.transactionId }),
      clientA.ok('POST', '/v1/validate', { user: 'pat', pass: '', transactionId: start.transactionId }),
    ]);
    assert.deepEqual([one.result, two.result].sort(), ['accept', 'reject']);
  });

  test('created through the master node, denied through the replica node: refused, audited, counted', async () => {
    const start = await clientA.ok('POST', '/v1/validate', { user: 'pat', pass: '2468' });
    const push = await pushed(phoneB);
    const ans = await phoneB.answer(push.id, { decision: 'deny' });
    assert.deepEqual(ans, { status: 200, body: { state: 'denied' } });
    const late = await phoneA.answer(push.id, { decision: 'approve', number: pickedNumber(start.message) });
    assert.equal(late.status, 409);
    const r = await clientA.ok('POST', '/v1/validate', {
      user: 'pat',
      pass: '',
      transactionId: start.transactionId,
    });
    assert.deepEqual([r.result, r.reason], ['reject', 'PUSH_DENIED']);
    const metrics = await (await fetch(`${nodeB.url}/metrics`)).text();
    assert.match(metrics, /tessera_push_total\{event="denied"\} 1/);
    let events: Json[] = [];
    for (let i = 0; i < 40 && !events.some((e: Json) => e.type === 'push.denied'); i++) {
      await new Promise((res) => setTimeout(res, 250));
      events = (await admin.ok('GET', '/v1/admin/audit?limit=100')).items;
    }
    assert.ok(events.some((e: Json) => e.type === 'push.denied' && e.username === 'pat'));
  });
});
