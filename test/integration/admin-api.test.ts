import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { base32Decode } from '../../src/otp/index.ts';
import { Api, randomBase32, startTessera, type TesseraHandle } from '../harness/tessera.ts';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

describe('admin API, caller keys and secrets at rest (real node)', () => {
  let node: TesseraHandle;
  let admin: Api;
  let clientKey: string;
  const secret = randomBase32();
  const pin = 'pin-9d8c7b';

  beforeAll(async () => {
    node = await startTessera({ env: { TESSERA_TEST_LOG_LEVEL: 'info', TESSERA_LOG_LEVEL: 'info' } });
    admin = new Api(node.url, node.adminKey);
    clientKey = await admin.createClient('radius');
    await admin.createUserWithTotp('a-secret', { secret, pin });
  });
  afterAll(async () => node.stop());

  test('first start wrote admin.key and the seed key file with mode 0600', () => {
    assert.equal(statSync(join(node.dataDir, 'admin.key')).mode & 0o777, 0o600);
    assert.equal(statSync(join(node.dataDir, 'master.key')).mode & 0o777, 0o600);
    assert.match(node.adminKey, /^tessera-admin\./);
  });

  test('missing or wrong keys are 401, a key of the wrong kind is 403', async () => {
    const anon = new Api(node.url, '');
    assert.equal((await anon.call('GET', '/v1/admin/users')).status, 401);
    assert.equal((await anon.call('POST', '/v1/validate', { user: 'x' })).status, 401);
    const forged = new Api(node.url, `${clientKey.slice(0, -4)}AAAA`);
    assert.equal((await forged.call('POST', '/v1/validate', { user: 'x' })).status, 401);
    const client = new Api(node.url, clientKey);
    const wrongKind = await client.call('GET', '/v1/admin/users');
    assert.equal(wrongKind.status, 403);
    assert.equal(wrongKind.body.error.code, 'FORBIDDEN');
    assert.equal((await admin.call('POST', '/v1/validate', { user: 'x' })).status, 403);
  });

  test('health, readiness, metrics and docs need no key', async () => {
    const anon = new Api(node.url, '');
    assert.equal((await anon.call('GET', '/healthz')).status, 200);
    assert.equal((await anon.call('GET', '/readyz')).body.role, 'standalone');
    await new Api(node.url, clientKey).call('POST', '/v1/validate', { user: 'a-secret', pass: 'nope' });
    const metrics = await anon.call('GET', '/metrics');
    assert.match(String(metrics.body), /tessera_validate_total\{result="reject"/);
    assert.match(String(metrics.body), /tessera_validate_duration_seconds_bucket/);
    const docs = await anon.call('GET', '/docs/json');
    assert.equal(docs.status, 200);
    assert.ok(docs.body.paths['/v1/validate']);
  });

  test('malformed bodies are 400 with a code and change nothing', async () => {
    const before = await admin.ok('GET', '/v1/admin/users?limit=1000');
    const cases: unknown[] = [
      '{"username": "broken"',
      { username: 5 },
      { username: 'ok-name', enabled: 'yes' },
      { username: 'ok-name', surprise: true },
      { username: '' },
      { username: 'has space' },
      { username: 'ok-name', pin: '1' },
      [],
    ];
    for (const body of cases) {
      const r = await admin.call('POST', '/v1/admin/users', body);
      assert.equal(r.status, 400, `${JSON.stringify(body)} → ${r.status}`);
      assert.equal(r.body.error.code, 'BAD_REQUEST');
    }
    const tokenCases: unknown[] = [
      { type: 'sms' },
      { type: 'totp', digits: 7 },
      { type: 'totp', secret: '!!!!!!!!!!!!!!!!' },
    ];
    for (const body of tokenCases) {
      const r = await admin.call('POST', '/v1/admin/users/a-secret/tokens', body);
      assert.equal(r.status, 400, `${JSON.stringify(body)} → ${r.status}`);
    }
    const client = new Api(node.url, clientKey);
    for (const body of [
      'not json',
      { user: 'a-secret', pass: 123 },
      { pass: '1' },
      { user: 'x'.repeat(300) },
    ]) {
      const r = await client.call('POST', '/v1/validate', body);
      assert.equal(r.status, 400, `${JSON.stringify(body)} → ${r.status}`);
    }
    const afterList = await admin.ok('GET', '/v1/admin/users?limit=1000');
    assert.deepEqual(afterList, before);
    const tokens = await admin.ok('GET', '/v1/admin/users/a-secret/tokens');
    assert.equal(tokens.items.length, 1);
  });

  test('creating an existing user is 409 and an unknown one is 404', async () => {
    const dup = await admin.call('POST', '/v1/admin/users', { username: 'a-secret' });
    assert.equal(dup.status, 409);
    assert.equal((await admin.call('GET', '/v1/admin/users/a-nobody')).status, 404);
    assert.equal((await admin.call('DELETE', '/v1/admin/users/a-nobody')).status, 404);
  });

  test('enrolment without a secret returns it only inside the otpauth URI, with a QR code', async () => {
    await admin.ok('POST', '/v1/admin/users', { username: 'a-gen' });
    const t = await admin.ok('POST', '/v1/admin/users/a-gen/tokens', {
      type: 'totp',
      algorithm: 'SHA256',
      digits: 8,
    });
    assert.match(t.otpauthUri, /^otpauth:\/\/totp\/Tessera:a-gen\?secret=[A-Z2-7]{52}&/);
    assert.match(t.qrCode, /^data:image\/png;base64,/);
    assert.equal(t.secret, undefined);
    assert.equal(t.secretSealed, undefined);
    const shown = await admin.ok('GET', '/v1/admin/users/a-gen');
    assert.equal(shown.tokens[0].serial, t.serial);
    assert.doesNotMatch(JSON.stringify(shown), /secret/i);
  });

  test('neither the store files nor the log hold a seed, PIN or key in clear', async () => {
    await admin.call('GET', '/v1/admin/audit');
    const seed = Buffer.from(base32Decode(secret)!);
    for (const f of filesUnder(node.dataDir)) {
      if (f.endsWith('master.key') || f.endsWith('admin.key')) continue;
      const bytes = readFileSync(f);
      assert.equal(bytes.indexOf(seed), -1, `seed bytes in ${f}`);
      assert.equal(bytes.indexOf(Buffer.from(secret)), -1, `base32 seed in ${f}`);
      assert.equal(bytes.indexOf(Buffer.from(pin)), -1, `PIN in ${f}`);
      assert.equal(bytes.indexOf(Buffer.from(node.adminKey.split('.')[2]!)), -1, `admin key in ${f}`);
    }
    const log = node.output();
    assert.ok(log.includes('audit'), 'the node logs at info level in this test');
    for (const s of [secret, pin, node.adminKey.split('.')[2]!, clientKey.split('.')[2]!]) {
      assert.equal(log.includes(s), false, 'a secret reached the log');
    }
  });

  test('admin actions are audited with the acting key', async () => {
    const audit = await admin.ok('GET', '/v1/admin/audit?limit=1000');
    const enrol = audit.items.find(
      (e: { type: string; username?: string }) => e.type === 'token.enrol' && e.username === 'a-secret',
    );
    assert.ok(enrol);
    assert.match(enrol.actor, /^admin:/);
  });

  test('groups can switch a method off for their users', async () => {
    const { secret: s2 } = await admin.createUserWithTotp('a-grouped');
    await admin.ok('POST', '/v1/admin/groups', { name: 'no-totp', methods: { totp: 'disabled' } });
    await admin.ok('PATCH', '/v1/admin/users/a-grouped', { group: 'no-totp' });
    const { totpNow } = await import('../harness/codes.ts');
    const r = await new Api(node.url, clientKey).ok('POST', '/v1/validate', {
      user: 'a-grouped',
      pass: totpNow(s2),
    });
    assert.equal(r.reason, 'METHOD_DISABLED');
    assert.equal((await admin.call('DELETE', '/v1/admin/groups/default')).status, 409);
  });

  test('the cluster view shows one standalone node', async () => {
    const c = await admin.ok('GET', '/v1/admin/cluster');
    assert.equal(c.role, 'standalone');
    assert.ok(Array.isArray(c.nodes) && c.nodes.length === 1);
  });
});
