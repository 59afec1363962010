// Web Push wake-ups from real nodes of a cluster: both nodes (one key ring, one Redis) hand the app
// the same VAPID key, and a push created through either node wakes the phone's push endpoint (an
// https server on loopback whose test CA the nodes trust) with a message that verifies against
// that key and carries no secret. A 410 from the endpoint drops the subscription for every node.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { DeviceClient, fetchTransport } from '../harness/device-client.ts';
import { type RedisProcess, startRedis } from '../harness/redis.ts';
import { Api, startTessera, type TesseraHandle } from '../harness/tessera.ts';
import { makeTlsMaterial, type TlsMaterial } from '../harness/tls.ts';
import { browserSubscription, verifyVapid } from '../support/web-push.ts';

describe('Web Push wake-ups from two nodes sharing one key ring', () => {
  let redis: RedisProcess;
  let tls: TlsMaterial;
  let endpoint: Server;
  let base = '';
  let nodeA: TesseraHandle;
  let nodeB: TesseraHandle;
  let clientA: Api;
  let clientB: Api;
  let phone: DeviceClient;
  const received: { path: string; auth: string; body: Buffer }[] = [];
  const answers: number[] = [];
  const masterKey = randomBytes(32).toString('base64');

  beforeAll(async () => {
    tls = makeTlsMaterial();
    endpoint = createServer(
      { cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) },
      (req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          received.push({
            path: req.url ?? '',
            auth: req.headers.authorization ?? '',
            body: Buffer.concat(chunks),
          });
          res.writeHead(answers.shift() ?? 201).end();
        });
      },
    );
    await new Promise<void>((r) => endpoint.listen(0, '127.0.0.1', r));
    base = `https://127.0.0.1:${(endpoint.address() as AddressInfo).port}`;
    redis = await startRedis();
    const env = {
      TESSERA_REDIS_URL: redis.url,
      TESSERA_MASTER_KEY: masterKey,
      NODE_EXTRA_CA_CERTS: tls.caFile,
      // the test's endpoint stands in for a browser's push service
      TESSERA_WEBPUSH_HOSTS: '127.0.0.1',
    };
    nodeA = await startTessera({ env });
    nodeB = await startTessera({ env, expectAdminKey: false });
    const admin = new Api(nodeA.url, nodeA.adminKey);
    const key = await admin.createClient('api');
    clientA = new Api(nodeA.url, key);
    clientB = new Api(nodeB.url, key);
    await admin.ok('POST', '/v1/admin/users', { username: 'wes', pin: '1357' });
    const enrol = await admin.ok('POST', '/v1/admin/users/wes/tokens', { type: 'push' });
    phone = await DeviceClient.create(fetchTransport(nodeA.url));
    assert.equal((await phone.pair(enrol.pairing.pairingToken, 'Pixel')).status, 201);
  });

  afterAll(async () => {
    await nodeB?.stop();
    await nodeA?.stop();
    await redis?.stop();
    endpoint?.closeAllConnections();
    endpoint?.close();
    tls?.remove();
  });

  /** The phone denies what is pending, so the next login may start a push (at most 3 pending). */
  const denyAll = async () => {
    const list = await phone.request('GET', '/v1/device/pushes');
    for (const p of list.body.items as { id: string }[])
      await phone.request('POST', `/v1/device/pushes/${p.id}/answer`, { decision: 'deny' });
  };
  const waitFor = async (n: number) => {
    for (let i = 0; i < 100 && received.length < n; i++) await new Promise((r) => setTimeout(r, 50));
    assert.equal(received.length, n);
  };

  test('a subscription to a host off the list is refused and kept nowhere: no node sends to it', async () => {
    // the same endpoint server under another name: only the host list stops it
    const elsewhere = browserSubscription(`${base.replace('127.0.0.1', 'localhost')}/sub/elsewhere`);
    const put = await phone.request('PUT', '/v1/device/webpush', elsewhere.sub);
    assert.equal(put.status, 400);
    assert.equal(put.body.error.code, 'BAD_URL');
    const start = await clientA.ok('POST', '/v1/validate', { user: 'wes', pass: '1357' });
    assert.equal(start.result, 'challenge');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(received.length, 0);
    await denyAll();
  });

  test('one VAPID key on both nodes; a push from either node wakes the endpoint with no secret', async () => {
    const configA = await phone.request('GET', '/v1/device/config');
    const configB = await phone.via(fetchTransport(nodeB.url)).request('GET', '/v1/device/config');
    assert.equal(configA.status, 200);
    const vapid = configA.body.vapidPublicKey as string;
    assert.match(vapid, /^[A-Za-z0-9_-]{87}$/);
    assert.equal(configB.body.vapidPublicKey, vapid, 'both nodes sign with one pair');

    const browser = browserSubscription(`${base}/sub/1`);
    assert.equal((await phone.request('PUT', '/v1/device/webpush', browser.sub)).status, 204);
    for (const [i, client] of [clientA, clientB].entries()) {
      const start = await client.ok('POST', '/v1/validate', { user: 'wes', pass: '1357' });
      assert.equal(start.result, 'challenge');
      await waitFor(i + 1);
      const got = received[i]!;
      assert.equal(got.path, '/sub/1');
      assert.equal(verifyVapid(got.auth, vapid).aud, base);
      const message = JSON.parse(browser.decrypt(got.body));
      assert.deepEqual(Object.keys(message).sort(), ['id', 'type']);
      const number = /pick (\d+)/.exec(start.message)?.[1];
      if (number) assert.ok(!JSON.stringify(message).includes(`"${number}"`));
    }
  });

  test('410 Gone from the endpoint drops the subscription: the next push wakes nothing', async () => {
    await denyAll();
    answers.push(410);
    const start = await clientB.ok('POST', '/v1/validate', { user: 'wes', pass: '1357' });
    assert.equal(start.result, 'challenge');
    await waitFor(3);
    await new Promise((r) => setTimeout(r, 300));
    await denyAll();
    const again = await clientA.ok('POST', '/v1/validate', { user: 'wes', pass: '1357' });
    assert.equal(again.result, 'challenge', 'a push was created, and woke nothing');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(received.length, 3, 'no wake-up after the subscription was dropped');
  });
});
