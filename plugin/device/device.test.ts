import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { type AdminContext, createClient, createUser, updateToken } from '../../src/admin/index.ts';
import { CallerDirectory, Validator } from '../../src/auth/index.ts';
import { KeyRing } from '../../src/crypto/index.ts';
import { type AuditEvent, DEFAULT_SETTINGS, type Settings } from '../../src/model/index.ts';
import { base32Decode, timeStep, totpAt } from '../../src/otp/index.ts';
import { PushService, startPairing, vapidKeys } from '../../src/push/index.ts';
import { openEmbeddedStore } from '../../src/store/index.ts';
import { DeviceClient, type DeviceTransport, readEvents } from '../../test/harness/device-client.ts';
import { validatePlugin } from '../validate/index.ts';
import { devicePlugin } from './index.ts';

describe('device API (plugin/device): pairing, signed requests, push answers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-device-'));
  const store = openEmbeddedStore(dir);
  const keyring = KeyRing.generate();
  const audited: AuditEvent[] = [];
  const audit = { record: (e: AuditEvent) => void audited.push(e) };
  let settings: Settings = { ...DEFAULT_SETTINGS, push: { numberMatching: true, maxPending: 3 } };
  const admin: AdminContext = { store, keyring, settings: async () => settings, audit: () => {} };
  const denied: string[] = [];
  const push = new PushService({
    store,
    settings: async () => settings,
    audit,
    onDenied: (p) => denied.push(p.id),
  });
  const validator = new Validator({ store, keyring, settings: async () => settings, audit });
  let app: FastifyInstance;
  let clientId: string;
  let apiKey: string;
  const send: DeviceTransport = async (method, url, headers, body) => {
    const res = await app.inject({
      method: method as 'GET',
      url,
      headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { payload: body } : {}),
    });
    return { status: res.statusCode, body: res.body ? res.json() : null };
  };
  const pairNew = async (username: string) => {
    const start = await startPairing(admin, username, { baseUrl: 'https://mfa.example/' });
    const phone = await DeviceClient.create(send);
    const reply = await phone.pair(start.pairingToken);
    assert.equal(reply.status, 201, JSON.stringify(reply.body));
    return { phone, start };
  };
  const vpn = () => ({ id: clientId, name: 'vpn' });

  beforeAll(async () => {
    ({
      apiKey,
      client: { id: clientId },
    } = await createClient(admin, { name: 'vpn', kind: 'api' }));
    for (const u of ['alice', 'bob', 'carol', 'dave']) await createUser(admin, { username: u });
    // the node's validation (src/server/app.ts): nothing removed or coerced
    app = Fastify({ ajv: { customOptions: { removeAdditional: false, coerceTypes: false } } });
    await app.register(devicePlugin, {
      prefix: '/v1/device',
      store,
      push,
      settings: async () => settings,
      adminContext: () => admin,
      vapidPublicKey: () => vapidKeys(keyring).publicKey,
    });
    await app.register(validatePlugin, { prefix: '/v1', validator, callers: new CallerDirectory(store) });
    await app.ready();
  });

  afterAll(async () => {
    await app?.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a pairing token pairs once: the token turns online and active with a fresh TOTP seed', async () => {
    const start = await startPairing(admin, 'alice', { baseUrl: 'https://mfa.example/' });
    assert.match(
      start.pairUri,
      /^tessera-pair:\/\/\?url=https%3A%2F%2Fmfa\.example&token=[A-Za-z0-9_-]{43}$/,
    );
    assert.equal(start.pairLink, `https://mfa.example/authenticator/#pair=${start.pairingToken}`);
    assert.equal((await store.getToken(start.token.serial))?.status, 'pending');
    const phone = await DeviceClient.create(send);
    const [first, second] = await Promise.all([
      phone.pair(start.pairingToken),
      phone.pair(start.pairingToken),
    ]);
    const statuses = [first?.status, second?.status].sort();
    assert.deepEqual(statuses, [201, 401]);
    const ok = first?.status === 201 ? first : second;
    assert.equal(ok?.body.deviceId, start.token.serial);
    assert.deepEqual(ok?.body.config, {
      methods: ['push', 'totp'],
      numberMatching: true,
      userVerification: false,
    });
    const token = await store.getToken(start.token.serial);
    assert.equal(token?.status, 'active');
    assert.equal(token?.type, 'push');
    assert.equal(token?.device?.registration, 'online');
    assert.equal(token?.device?.name, 'Test phone');
    assert.deepEqual(token?.device?.publicKey, phone.publicJwk);
    // the pairing token is not in the store, only its hash
    assert.equal(JSON.stringify(await store.dump()).includes(start.pairingToken), false);
    // the phone makes codes offline with the seed it got
    const secret = base32Decode(ok?.body.totp.secret) as Uint8Array;
    const code = totpAt({ secret, algorithm: 'SHA1', digits: 6, period: 30 }, timeStep(Date.now(), 30));
    const v = await validator.validate({
      user: 'alice',
      pass: code,
      client: (await store.getClient(clientId))!,
    });
    assert.equal(v.result, 'accept');
    assert.equal(v.method, 'push');
  });

  test('pairing refuses an expired token, a private key and a point off the curve', async () => {
    const phone = await DeviceClient.create(send);
    const old = await startPairing(admin, 'bob', { baseUrl: 'https://x/', now: Date.now() - 11 * 60_000 });
    assert.equal((await phone.pair(old.pairingToken)).status, 401);
    const start = await startPairing(admin, 'bob', { baseUrl: 'https://x/', serial: old.token.serial });
    const body = (publicKey: object) =>
      JSON.stringify({ pairingToken: start.pairingToken, publicKey, name: 'p' });
    const withD = await send(
      'POST',
      '/v1/device/pair',
      {},
      body({ ...phone.publicJwk, d: phone.publicJwk.x }),
    );
    assert.equal(withD.status, 400);
    const offCurve = await send(
      'POST',
      '/v1/device/pair',
      {},
      body({ ...phone.publicJwk, y: phone.publicJwk.x }),
    );
    assert.equal(offCurve.status, 400);
    assert.equal(offCurve.body.error.code, 'BAD_REQUEST');
    // refused pairings did not spend the token
    assert.equal((await phone.pair(start.pairingToken)).status, 201);
  });

  test('signed requests: a good one passes; a bad signature, stale time, replayed nonce or unknown device is 401', async () => {
    const { phone } = await pairNew('carol');
    const ok = await phone.request('GET', '/v1/device/config');
    assert.equal(ok.status, 200);
    // the key the app subscribes to Web Push wake-ups with
    assert.equal(ok.body.vapidPublicKey, vapidKeys(keyring).publicKey);
    const nonce = 'AAAAAAAAAAAAAAAAAAAAAA';
    assert.equal((await phone.request('POST', '/v1/device/sync', {}, { nonce })).status, 200);
    const replay = await phone.request('POST', '/v1/device/sync', {}, { nonce });
    assert.equal(replay.status, 401);
    assert.match(replay.body.error.message, /nonce/);
    const stale = await phone.request('GET', '/v1/device/config', undefined, {
      timestamp: Date.now() - 61_000,
    });
    assert.equal(stale.status, 401);
    const future = await phone.request('GET', '/v1/device/config', undefined, {
      timestamp: Date.now() + 61_000,
    });
    assert.equal(future.status, 401);
    const other = await DeviceClient.create(send);
    const forged = await other.request('GET', '/v1/device/config', undefined, { device: phone.deviceId });
    assert.equal(forged.status, 401);
    assert.equal(forged.body.error.code, 'DEVICE_UNAUTHORIZED');
    assert.equal(
      (await other.request('GET', '/v1/device/config', undefined, { device: 'NOPE' })).status,
      401,
    );
    // a body changed after signing: the signature covers its hash
    const headers = await phone.headers('POST', '/v1/device/sync', '{}');
    assert.equal((await send('POST', '/v1/device/sync', headers, '{ }')).status, 401);
    const unsigned = await send('GET', '/v1/device/pushes', {}, undefined);
    assert.equal(unsigned.status, 401);
    assert.ok((await store.push.getDeviceState(phone.deviceId))?.lastSyncAt);
    const token = await store.getToken(phone.deviceId);
    await store.putToken({ ...token!, status: 'disabled' });
    assert.equal((await phone.request('GET', '/v1/device/config')).status, 401);
    await store.putToken({ ...token!, status: 'active' });
  });

  test('a push is listed without its right number; approving with it approves once, then 409', async () => {
    const { phone } = await pairNew('dave');
    const token = (await store.getToken(phone.deviceId))!;
    const p = await push.create({ token, client: vpn(), sourceIp: '192.0.2.9' });
    assert.ok(p?.number !== undefined && p.numbers?.includes(p.number));
    const list = await phone.pushes();
    assert.equal(list.status, 200);
    assert.equal(list.body.items.length, 1);
    const seen = list.body.items[0];
    assert.equal(seen.id, p.id);
    assert.equal('number' in seen, false);
    assert.deepEqual(seen.numbers, p.numbers);
    assert.deepEqual(seen.context, {
      client: 'vpn',
      system: 'vpn',
      sourceIp: '192.0.2.9',
      time: p.createdAt,
    });
    const ans = await phone.answer(p.id, { decision: 'approve', number: p.number });
    assert.deepEqual(ans, { status: 200, body: { state: 'approved' } });
    const again = await phone.answer(p.id, { decision: 'approve', number: p.number });
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'PUSH_NOT_PENDING');
    assert.equal(await push.consume(p.id), true);
    assert.equal(await push.consume(p.id), false);
  });

  test('a wrong number is a deny: audited in the auth log and as an event, counted for the mail', async () => {
    const { phone } = await pairNew('alice');
    const token = (await store.getToken(phone.deviceId))!;
    const p = (await push.create({ token, client: vpn() }))!;
    const wrong = p.numbers!.find((n) => n !== p.number);
    const ans = await phone.answer(p.id, { decision: 'approve', number: wrong });
    assert.deepEqual(ans.body, { state: 'denied' });
    assert.ok(denied.includes(p.id));
    const events = audited.filter((e) => e.serial === token.serial && e.reason === 'PUSH_DENIED');
    assert.deepEqual(events.map((e) => e.type).sort(), ['push.denied', 'validate']);
    assert.equal(await push.consume(p.id), false);
    const q = (await push.create({ token, client: vpn() }))!;
    assert.deepEqual((await phone.answer(q.id, { decision: 'deny' })).body, { state: 'denied' });
  });

  test('user verification required: an approval without it is 400 and the push stays pending', async () => {
    settings = { ...settings, push: { ...settings.push, userVerification: true, numberMatching: false } };
    try {
      const { phone } = await pairNew('bob');
      const token = (await store.getToken(phone.deviceId))!;
      const p = (await push.create({ token, client: vpn() }))!;
      assert.equal(p.numbers, undefined);
      const noUv = await phone.answer(p.id, { decision: 'approve' });
      assert.equal(noUv.status, 400);
      assert.equal((await push.get(p.id))?.state, 'pending');
      assert.deepEqual((await phone.answer(p.id, { decision: 'approve', userVerified: true })).body, {
        state: 'approved',
      });
    } finally {
      settings = { ...settings, push: { numberMatching: true, maxPending: 3 } };
    }
  });

  test('another device cannot answer a push; an expired push is 409; a user gets at most maxPending', async () => {
    const { phone } = await pairNew('carol');
    const { phone: stranger } = await pairNew('dave');
    const token = (await store.getToken(phone.deviceId))!;
    const p = (await push.create({ token, client: vpn() }))!;
    const theirs = await stranger.answer(p.id, { decision: 'approve', number: p.number });
    assert.equal(theirs.status, 409);
    assert.equal((await push.get(p.id))?.state, 'pending');
    assert.ok(await push.create({ token, client: vpn() }));
    assert.ok(await push.create({ token, client: vpn() }));
    assert.equal(await push.create({ token, client: vpn() }), null);
    const short = new PushService({
      store,
      settings: async () => ({ ...settings, push: { timeoutSeconds: 1, maxPending: 10 } }),
      audit,
    });
    const e = (await short.create({ token, client: vpn() }))!;
    await new Promise((r) => setTimeout(r, 1100));
    const late = await phone.answer(e.id, { decision: 'approve', number: e.number });
    assert.equal(late.status, 409);
    assert.equal(apiKey.length > 0, true);
  });

  test('a token locked or disabled after its QR was shown cannot be paired; its status stays', async () => {
    await createUser(admin, { username: 'frank' });
    for (const status of ['locked', 'disabled'] as const) {
      const start = await startPairing(admin, 'frank', { baseUrl: 'https://mfa.example/' });
      await updateToken(admin, 'frank', start.token.serial, { status });
      const phone = await DeviceClient.create(send);
      const reply = await phone.pair(start.pairingToken);
      assert.equal(reply.status >= 400 && reply.status < 500, true, JSON.stringify(reply.body));
      assert.equal((await store.getToken(start.token.serial))?.status, status);
    }
  });

  test('a phone replaced by a rescan, or its token disabled, has its open event stream ended', async () => {
    await createUser(admin, { username: 'gina' });
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    const { phone, start } = await pairNew('gina');
    const token = async () => (await store.getToken(start.token.serial))!;
    const seen: string[] = [];
    const stream = readEvents(base, phone, (event, data) => {
      if (event === 'push') seen.push(String(data.id));
      return undefined;
    });
    const first = await push.create({ token: await token(), client: vpn() });
    for (let i = 0; i < 50 && !seen.includes(first!.id); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(seen.includes(first!.id), 'the paired phone hears of a push');
    await store.push.putDeviceState({
      serial: start.token.serial,
      lastSyncAt: Date.now(),
      webPush: { endpoint: 'https://push.example/old', keys: { p256dh: 'x', auth: 'y' } },
    });
    // "Rescan device": a new phone takes the token with its own key
    const rescan = await startPairing(admin, 'gina', {
      baseUrl: 'https://mfa.example/',
      serial: start.token.serial,
    });
    const next = await DeviceClient.create(send);
    assert.equal((await next.pair(rescan.pairingToken)).status, 201);
    const ended = await Promise.race([
      stream.then(() => true),
      new Promise((r) => setTimeout(() => r(false), 5000)),
    ]);
    assert.equal(ended, true, "the old phone's stream is ended");
    assert.equal(
      (await store.push.getDeviceState(start.token.serial))?.webPush,
      undefined,
      'nor is it woken',
    );
    const later = await push.create({ token: await token(), client: vpn() });
    assert.ok(later && !seen.includes(later.id), 'the old phone learns of no later push');
    // the new phone's stream ends too once an admin disables the token
    const nextStream = readEvents(base, next, () => undefined);
    await new Promise((r) => setTimeout(r, 300));
    await updateToken(admin, 'gina', start.token.serial, { status: 'disabled' });
    const cut = await Promise.race([
      nextStream.then(
        () => true,
        () => true,
      ),
      new Promise((r) => setTimeout(() => r(false), 5000)),
    ]);
    assert.equal(cut, true, 'a disabled token has no open stream');
  });

  test('malformed bodies are 400 and change nothing', async () => {
    const { phone } = await pairNew('bob');
    const token = (await store.getToken(phone.deviceId))!;
    const p = (await push.create({ token, client: vpn() }))!;
    for (const bad of [
      { decision: 'maybe' },
      { decision: 'approve', extra: 1 },
      { decision: 'approve', number: 'x' },
    ]) {
      const r = await phone.request('POST', `/v1/device/pushes/${p.id}/answer`, bad);
      assert.equal(r.status, 400, JSON.stringify(bad));
    }
    assert.equal((await push.get(p.id))?.state, 'pending');
    const garbage = await send('POST', '/v1/device/pair', {}, '{"pairingToken":');
    assert.equal(garbage.status, 400);
  });
});
