import assert from 'node:assert/strict';
import { createECDH, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { browserSubscription, verifyVapid } from '../../test/support/web-push.ts';
import { type AdminContext, createUser } from '../admin/index.ts';
import { KeyRing } from '../crypto/index.ts';
import { DEFAULT_SETTINGS, type PushChallenge, type Settings, type Token } from '../model/index.ts';
import { openEmbeddedStore } from '../store/index.ts';
import { pairDevice, startPairing } from './pairing.ts';
import { PushService } from './service.ts';
import { vapidKeys } from './vapid.ts';
import { type WakeOutcome, WebPushWaker } from './wake.ts';

interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

describe('Web Push wake-ups: no secret, VAPID-signed, retried, and dropped when gone', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-wake-'));
  const store = openEmbeddedStore(dir);
  const keyring = KeyRing.generate();
  const settings: Settings = { ...DEFAULT_SETTINGS, push: { maxPending: 20 } };
  const admin: AdminContext = { store, keyring, settings: async () => settings, audit: () => {} };
  const received: Received[] = [];
  /** What the endpoint answers next, per path: a status, or 'hang' (no answer: a timeout). */
  const script = new Map<string, (number | 'hang' | Promise<number>)[]>();
  let server: Server;
  let base = '';
  const outcomes: WakeOutcome[] = [];
  const waker = new WebPushWaker({
    store,
    vapid: () => vapidKeys(keyring),
    subject: 'mailto:ops@example.test',
    attempts: 3,
    backoffMs: 20,
    timeoutMs: 300,
    hosts: ['127.0.0.1'],
    allowHttp: true,
    observe: (o) => void outcomes.push(o),
  });
  let woken: Promise<unknown> = Promise.resolve();
  const push = new PushService({
    store,
    settings: async () => settings,
    audit: { record: () => {} },
    wake: (p) => {
      woken = waker.wake(p);
      return woken;
    },
  });
  let phone: Token;

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
        const next = script.get(req.url ?? '')?.shift() ?? 201;
        if (next === 'hang') return; // never answers: the sender's timeout must end it
        void Promise.resolve(next).then((status) => res.writeHead(status).end());
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    await createUser(admin, { username: 'ann' });
    const start = await startPairing(admin, 'ann', { baseUrl: 'https://x/' });
    const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign']);
    const jwk = (await crypto.subtle.exportKey('jwk', pair.publicKey)) as { x: string; y: string };
    phone = (
      await pairDevice(admin, {
        pairingToken: start.pairingToken,
        publicKey: { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y },
        name: "ann's phone",
      })
    ).token;
  });
  afterAll(async () => {
    server.closeAllConnections();
    server.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const subscribe = async (path: string) => {
    const browser = browserSubscription(`${base}${path}`);
    await store.push.putDeviceState({ serial: phone.serial, lastSyncAt: Date.now(), webPush: browser.sub });
    return browser;
  };
  const newPush = async (mode: 'approve' | 'code' = 'approve'): Promise<PushChallenge> => {
    const p = await push.create({ token: phone, client: { id: 'c1', name: 'VPN' }, mode });
    assert.ok(p);
    return p;
  };
  const sinceNow = () => {
    const from = received.length;
    return () => received.slice(from);
  };

  test('a new push wakes the device: VAPID verifies, the payload decrypts and carries no code or number', async () => {
    const browser = await subscribe('/wake/ok');
    const seen = sinceNow();
    for (const mode of ['approve', 'code'] as const) {
      const p = await newPush(mode);
      assert.equal(await woken, 'sent');
      const req = seen().at(-1)!;
      assert.equal(req.path, '/wake/ok');
      const claims = verifyVapid(req.headers.authorization, vapidKeys(keyring).publicKey);
      assert.equal(claims.aud, base, 'the audience is the push service origin');
      assert.equal(claims.sub, 'mailto:ops@example.test');
      assert.ok(
        Number(claims.exp) * 1000 > Date.now() && Number(claims.exp) * 1000 <= Date.now() + 86_400_000,
      );
      assert.equal(req.headers['content-encoding'], 'aes128gcm');
      assert.equal(req.headers.urgency, 'high');
      assert.ok(Number(req.headers.ttl) > 0 && Number(req.headers.ttl) <= 300);
      const text = browser.decrypt(req.body);
      assert.deepEqual(JSON.parse(text), { type: 'push', id: p.id });
      if (mode === 'code') {
        assert.ok(p.code);
        assert.ok(!text.includes(p.code), 'the code to type is never in a wake-up');
        assert.ok(!req.body.includes(Buffer.from(p.code)));
      }
    }
  });

  test('5xx and timeouts are retried with backoff, then delivered', async () => {
    await subscribe('/wake/flaky');
    script.set('/wake/flaky', [503, 'hang', 201]);
    const seen = sinceNow();
    const t0 = Date.now();
    await newPush();
    assert.equal(await woken, 'sent');
    const tries = seen();
    assert.equal(tries.length, 3, 'three attempts: 503, timeout, 201');
    assert.ok(Date.now() - t0 >= 300 + 20 + 40, 'waited the timeout and both backoffs');
    // the retries resend the very same encrypted message
    assert.deepEqual(tries[2]!.body, tries[0]!.body);
  });

  test('retries are bounded: a push service that keeps failing is given up on, the subscription kept', async () => {
    await subscribe('/wake/down');
    script.set('/wake/down', [500, 502, 503, 201]);
    const seen = sinceNow();
    await newPush();
    assert.equal(await woken, 'failed');
    assert.equal(seen().length, 3);
    assert.ok((await store.push.getDeviceState(phone.serial))?.webPush);
    script.delete('/wake/down');
  });

  test('a 4xx other than 404/410/429 is not retried', async () => {
    await subscribe('/wake/bad');
    script.set('/wake/bad', [400]);
    const seen = sinceNow();
    await newPush();
    assert.equal(await woken, 'failed');
    assert.equal(seen().length, 1);
  });

  test('410 Gone drops the subscription; later pushes wake nothing', async () => {
    await subscribe('/wake/gone');
    script.set('/wake/gone', [410]);
    const seen = sinceNow();
    await newPush();
    assert.equal(await woken, 'dropped');
    assert.equal(seen().length, 1, 'no retry after Gone');
    const state = await store.push.getDeviceState(phone.serial);
    assert.ok(state, 'the device state stays');
    assert.equal(state.webPush, undefined, 'the subscription is gone');
    await newPush();
    assert.equal(await woken, 'none');
    assert.equal(seen().length, 1);
  });

  test('404 drops too; a subscription replaced meanwhile is kept', async () => {
    await subscribe('/wake/missing');
    script.set('/wake/missing', [404]);
    await newPush();
    assert.equal(await woken, 'dropped');
    assert.equal((await store.push.getDeviceState(phone.serial))?.webPush, undefined);
    // the device re-subscribes while the old endpoint's 404 is still on its way
    await subscribe('/wake/slow-404');
    let answer = (_status: number) => {};
    script.set('/wake/slow-404', [new Promise<number>((r) => (answer = r))]);
    const seen = sinceNow();
    await newPush();
    while (seen().length === 0) await new Promise((r) => setTimeout(r, 5));
    await subscribe('/wake/new');
    answer(404);
    assert.equal(await woken, 'dropped');
    assert.equal((await store.push.getDeviceState(phone.serial))?.webPush?.endpoint, `${base}/wake/new`);
  });

  test('plain http endpoints are refused unless allowed (a device cannot aim the server at any URL)', async () => {
    await subscribe('/wake/plain');
    const strict = new WebPushWaker({
      store,
      vapid: () => vapidKeys(keyring),
      subject: 'mailto:a@b.test',
      hosts: ['127.0.0.1'],
    });
    const seen = sinceNow();
    const p = await push.create({ token: phone, client: { id: 'c1', name: 'VPN' } });
    await woken;
    const before = seen().length;
    assert.equal(await strict.wake(p!), 'none');
    assert.equal(seen().length, before);
  });

  test('an endpoint on a host off the list is never contacted, though it answers', async () => {
    // the same listening server, named another way: only the host name keeps the wake-up home
    const other = `${base.replace('127.0.0.1', 'localhost')}/wake/elsewhere`;
    await store.push.putDeviceState({
      serial: phone.serial,
      lastSyncAt: Date.now(),
      webPush: browserSubscription(other).sub,
    });
    const seen = sinceNow();
    const p = await push.create({ token: phone, client: { id: 'c1', name: 'VPN' } });
    assert.equal(await woken, 'none');
    assert.ok(p);
    assert.deepEqual(seen(), []);
  });

  test('outcomes were observed for metrics', () => {
    assert.ok(outcomes.includes('sent') && outcomes.includes('dropped') && outcomes.includes('failed'));
  });
});

describe('VAPID keys: the same pair on every node sharing the key ring, kept through rotations', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-vapid-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('two nodes with one key file derive one pair; another ring another pair; a rotation keeps it', () => {
    const file = join(dir, 'master.key');
    const a = vapidKeys(KeyRing.loadOrCreate(file));
    const b = vapidKeys(KeyRing.loadOrCreate(file));
    assert.deepEqual(a, b);
    assert.notEqual(vapidKeys(KeyRing.generate()).publicKey, a.publicKey);
    KeyRing.rotate(file);
    assert.deepEqual(vapidKeys(KeyRing.loadOrCreate(file)), a);
    // a valid P-256 pair: the public point is the private scalar's
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(Buffer.from(a.privateKey, 'base64url'));
    assert.equal(ecdh.getPublicKey().toString('base64url'), a.publicKey);
    assert.equal(Buffer.from(a.publicKey, 'base64url').length, 65);
  });

  test('the env key (TESSERA_MASTER_KEY) gives every node the same pair', () => {
    const env = randomBytes(32).toString('base64');
    assert.deepEqual(
      vapidKeys(KeyRing.loadOrCreate(join(dir, 'x'), env)),
      vapidKeys(KeyRing.loadOrCreate(join(dir, 'y'), env)),
    );
  });
});
