import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { totpNow } from '../harness/codes.ts';
import { Api, type Json, startTessera, type TesseraHandle } from '../harness/tessera.ts';

const NODE_ID = 'audit-fields-node';

/** One rlm_rest attribute as FreeRADIUS sends it. */
const attr = (type: string, value: string) => ({ type, value: [value] });

// The three audit streams filled by a real node: what each authentication decision, each admin
// change and each node event carries when read back through GET /v1/admin/audit.
describe('the audit streams carry every field an auditor needs', () => {
  let node: TesseraHandle;
  let admin: Api;
  let radiusKey: string;
  let quietKey: string;
  let quietId: string;
  let secret: string;
  let serial: string;

  const auth = async (key: string, user: string, pass: string) => {
    const res = await fetch(`${node.url}/radius/auth`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${key}`,
        // where the end user came from, as the relying system tells it
        'x-tessera-client-ip': '192.0.2.44',
      },
      body: JSON.stringify({
        'User-Name': attr('string', user),
        'User-Password': attr('string', pass),
        'NAS-Identifier': attr('string', 'vpn-gw-1'),
        'NAS-IP-Address': attr('ipaddr', '10.9.8.7'),
      }),
    });
    await res.text();
    return res.status;
  };
  const stream = async (name: string, q = ''): Promise<Json[]> =>
    (await admin.ok('GET', `/v1/admin/audit?stream=${name}&limit=1000${q}`)).items;

  beforeAll(async () => {
    node = await startTessera({
      env: { TESSERA_NODE_ID: NODE_ID, TESSERA_SNAPSHOT_INTERVAL_MIN: '0.01' },
    });
    admin = new Api(node.url, node.adminKey);
    const created = await admin.ok('POST', '/v1/admin/clients', { name: 'vpn-gateway', kind: 'radius' });
    radiusKey = created.apiKey;
    const quiet = await admin.ok('POST', '/v1/admin/clients', {
      name: 'quiet-app',
      kind: 'radius',
      auditSuccessRate: 0,
    });
    quietKey = quiet.apiKey;
    quietId = quiet.id;
    ({ secret, serial } = await admin.createUserWithTotp('alice@corp.example'));
  });

  afterAll(async () => {
    await node?.stop();
  });

  test('an accept and a reject carry node, relying system, addresses, realm, method, serial, reason and latency', async () => {
    assert.equal(await auth(radiusKey, 'alice@corp.example', '000000x'), 401);
    assert.equal(await auth(radiusKey, 'alice@corp.example', totpNow(secret)), 204);
    const items = await stream('auth', '&user=alice@corp.example');
    const accept = items.find((e) => e.result === 'accept');
    const reject = items.find((e) => e.result === 'reject');
    assert.ok(accept && reject, JSON.stringify(items));
    for (const e of [accept, reject]) {
      assert.equal(e.type, 'validate');
      assert.equal(e.actor, `client:${e.actor.slice(7)}`);
      assert.equal(e.detail.clientName, 'vpn-gateway');
      assert.equal(e.detail.node, NODE_ID);
      assert.equal(e.detail.realm, 'corp.example');
      assert.equal(e.sourceIp, '192.0.2.44');
      assert.equal(e.nasIdentifier, 'vpn-gw-1');
      assert.equal(e.nasIpAddress, '10.9.8.7');
      assert.equal(typeof e.detail.latencyMs, 'number');
      assert.ok(e.detail.latencyMs >= 0 && e.detail.latencyMs < 10_000);
      assert.ok(Math.abs(e.time - Date.now()) < 60_000);
    }
    assert.equal(accept.reason, 'OK');
    assert.equal(accept.serial, serial);
    assert.equal(accept.detail.method, 'totp');
    assert.equal(reject.reason, 'OTP_INVALID');
  });

  test('a client with successes switched off logs none of its accepts, but every refusal', async () => {
    await admin.createUserWithTotp('quiet-bob');
    const { secret: bobSecret } = await admin.createUserWithTotp('quiet-carol');
    assert.equal(await auth(quietKey, 'quiet-bob', '123456'), 401);
    assert.equal(await auth(quietKey, 'quiet-carol', totpNow(bobSecret)), 204);
    const mine = (await stream('auth')).filter((e) => e.actor === `client:${quietId}`);
    assert.deepEqual(
      mine.map((e) => [e.username, e.result]),
      [['quiet-bob', 'reject']],
    );
  });

  test('the client route refuses a rate outside 0..1', async () => {
    const r = await admin.call('PATCH', `/v1/admin/clients/${quietId}`, { auditSuccessRate: 2 });
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, 'BAD_REQUEST');
  });

  test('admin changes show actor, role, source, result and the before/after of changed fields', async () => {
    await admin.ok('POST', '/v1/admin/users', { username: 'dora', email: 'old@corp.example', pin: '271828' });
    await admin.ok('PATCH', '/v1/admin/users/dora', { email: 'new@corp.example' });
    await admin.ok('PATCH', '/v1/admin/users/dora', { pin: '314159' });
    await admin.ok('PATCH', `/v1/admin/clients/${quietId}`, {
      challengeText: 'Code, please',
      auditSuccessRate: 1,
    });
    const items = await stream('admin');
    const updates = items.filter((e) => e.type === 'user.update' && e.username === 'dora');
    const email = updates.find((e) => e.detail['after.email']);
    assert.ok(email, JSON.stringify(updates));
    assert.equal(email.detail['before.email'], 'old@corp.example');
    assert.equal(email.detail['after.email'], 'new@corp.example');
    assert.equal(email.detail.role, 'superadmin');
    assert.equal(email.result, 'ok');
    assert.equal(email.sourceIp, '127.0.0.1');
    assert.match(email.actor, /^admin:/);
    assert.equal(email.detail.pin, undefined);

    const pin = updates.find((e) => e.detail.pin);
    assert.ok(pin);
    assert.equal(pin.detail.pin, 'changed');
    assert.deepEqual(
      Object.keys(pin.detail).filter((k) => k.startsWith('before.') || k.startsWith('after.')),
      [],
    );
    const raw = JSON.stringify(items);
    for (const secretText of ['271828', '314159', 'scrypt', 'pinHash', 'keyHash', radiusKey])
      assert.ok(!raw.includes(secretText), secretText);

    const client = items.find((e) => e.type === 'client.update' && e.detail.client === quietId);
    assert.ok(client);
    assert.equal(client.detail['before.challengeText'], 'Enter the code from your authenticator');
    assert.equal(client.detail['after.challengeText'], 'Code, please');
    assert.equal(client.detail['before.auditSuccessRate'], '0');
    assert.equal(client.detail['after.auditSuccessRate'], '1');
  });

  test('a refused change is in the trail with its error; groups and tokens show their changes', async () => {
    assert.equal((await admin.call('PATCH', '/v1/admin/users/nobody-here', { email: 'x@y.z' })).status, 404);
    assert.equal((await admin.call('POST', '/v1/admin/users', { username: 'dora' })).status, 409);
    await admin.ok('POST', '/v1/admin/groups', { name: 'ops', description: 'first' });
    await admin.ok('PATCH', '/v1/admin/groups/ops', { description: 'second' });
    const items = await stream('admin');
    const failed = items.filter((e) => e.type === 'admin.failed');
    assert.deepEqual(
      failed.map((e) => [e.detail.route, e.result, e.reason]),
      [
        ['POST /v1/admin/users', 'error', 'CONFLICT'],
        ['PATCH /v1/admin/users/:username', 'error', 'NOT_FOUND'],
        // the out-of-range auditSuccessRate above
        ['PATCH /v1/admin/clients/:id', 'error', 'BAD_REQUEST'],
      ],
    );
    assert.equal(failed[0]?.detail.role, 'superadmin');
    const group = items.find((e) => e.type === 'group.update');
    assert.equal(group?.detail['before.description'], 'first');
    assert.equal(group?.detail['after.description'], 'second');
    const enrol = items.find((e) => e.type === 'token.enrol' && e.username === 'alice@corp.example');
    assert.equal(enrol?.detail.secret, 'changed');
    assert.equal(enrol?.detail['after.type'], 'totp');
    assert.ok(!JSON.stringify(items).includes(secret), 'the seed is never in the trail');
  });

  test('the event stream holds the node start, snapshot runs and the stop', async () => {
    const deadline = Date.now() + 20_000;
    let events = await stream('event');
    while (!events.some((e) => e.type === 'snapshot.run') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 300));
      events = await stream('event');
    }
    const start = events.find((e) => e.type === 'node.start');
    assert.ok(start, JSON.stringify(events.map((e) => e.type)));
    assert.equal(start.actor, `node:${NODE_ID}`);
    const snap = events.find((e) => e.type === 'snapshot.run');
    assert.ok(snap, JSON.stringify(events.map((e) => e.type)));
    assert.equal(snap.result, 'ok');
    assert.match(snap.detail.path, /\.snap|snapshot/);
    assert.ok(events.some((e) => e.type === 'node.role' && e.detail.to));

    const { dataDir, adminKey } = node;
    await node.stop({ keepData: true });
    node = await startTessera({ dataDir, env: { TESSERA_NODE_ID: NODE_ID } });
    admin = new Api(node.url, adminKey);
    const after = await stream('event');
    const types = after.map((e) => e.type);
    const stop = types.indexOf('node.stop');
    assert.ok(stop > 0, JSON.stringify(types));
    // newest first: the second start is above the stop, the first below it
    assert.ok(types.slice(0, stop).includes('node.start'));
    assert.ok(types.slice(stop).includes('node.start'));
    assert.equal(after[stop]?.actor, `node:${NODE_ID}`);
  });
});
