import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { BASE32_SECRET_PATTERN, ROUTER_MAX_PARAM_LENGTH } from '../../plugin/admin/schemas.ts';
import { base32Decode, base32Encode } from '../../src/otp/index.ts';
import { Api, type Json, randomBase32, startTessera, type TesseraHandle } from '../harness/tessera.ts';

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

/** Writes `raw` on a fresh connection and returns everything the server sends before it closes. */
function rawExchange(port: number, raw: string): Promise<{ status: number; body: Json; head: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(raw));
    let text = '';
    socket.on('data', (d) => {
      text += d.toString('latin1');
    });
    socket.on('error', (err) => (text ? undefined : reject(err)));
    socket.on('close', () => {
      const [head = '', body = ''] = text.split('\r\n\r\n');
      let parsed: Json = body;
      try {
        parsed = JSON.parse(body);
      } catch {
        /* keep the text for the failure message */
      }
      resolve({ status: Number(head.split(' ')[1]), body: parsed, head });
    });
  });
}

/** A request from a chosen loopback source address, as a proxy (or a client pretending) would send it. */
function callFrom(
  localAddress: string,
  url: string,
  key: string,
  headers: Record<string, string>,
  body: unknown,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: 'POST',
        localAddress,
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

describe('the admin and HTTP edge as a fuzzer meets it (real node)', () => {
  let node: TesseraHandle;
  let admin: Api;

  beforeAll(async () => {
    node = await startTessera();
    admin = new Api(node.url, node.adminKey);
  });
  afterAll(async () => node?.stop());

  test('a client network list is checked when saved: 400 INVALID_CIDR naming the entry, nothing stored', async () => {
    const before = await admin.ok('GET', '/v1/admin/clients');
    for (const bad of ['10.0.0.0/99', '::/129', '10.0.0.0/08', '300.0.0.1']) {
      const r = await admin.call('POST', '/v1/admin/clients', {
        name: 'vpn',
        kind: 'radius',
        allowedCidrs: ['192.0.2.0/24', bad],
      });
      assert.equal(r.status, 400, bad);
      assert.equal(r.body.error.code, 'INVALID_CIDR', bad);
    }
    const named = await admin.call('POST', '/v1/admin/clients', {
      name: 'vpn',
      kind: 'radius',
      allowedCidrs: ['10.0.0.0/99'],
    });
    assert.match(named.body.error.message, /"10\.0\.0\.0\/99"/);
    assert.deepEqual(await admin.ok('GET', '/v1/admin/clients'), before);
    const ok = await admin.ok('POST', '/v1/admin/clients', {
      name: 'vpn',
      kind: 'api',
      allowedCidrs: ['127.0.0.0/8'],
    });
    const patch = await admin.call('PATCH', `/v1/admin/clients/${ok.id}`, { allowedCidrs: ['127.0.0.1/64'] });
    assert.equal(patch.status, 400);
    assert.equal(patch.body.error.code, 'INVALID_CIDR');
    const stillWorks = await new Api(node.url, ok.apiKey).call('POST', '/v1/validate', {
      user: 'nobody',
      pass: '1',
    });
    assert.equal(stillWorks.status, 200, 'the client keeps its saved networks and works');
  });

  test('deleting a client, group, key, user or token that does not exist is a 404', async () => {
    for (const path of [
      '/v1/admin/clients/AAAAAAAAAAAA',
      '/v1/admin/admin-keys/AAAAAAAAAAAA',
      '/v1/admin/groups/no-such-group',
      '/v1/admin/users/no-such-user',
      '/v1/admin/users/no-such-user/tokens/TOTP0',
    ]) {
      const r = await admin.call('DELETE', path);
      assert.equal(r.status, 404, path);
      assert.equal(r.body.error.code, 'NOT_FOUND', path);
    }
    const c = await admin.ok('POST', '/v1/admin/clients', { name: 'gone', kind: 'api' });
    assert.equal((await admin.call('DELETE', `/v1/admin/clients/${c.id}`)).status, 204);
    assert.equal((await admin.call('DELETE', `/v1/admin/clients/${c.id}`)).status, 404);
  });

  test('text/plain is a 415 like any other wrong type, with a body or without one', async () => {
    await admin.ok('POST', '/v1/admin/users', { username: 'plain-text' });
    const clientKey = await admin.createClient('api');
    for (const [path, key, body] of [
      ['/v1/admin/users', node.adminKey, '{"username":"sneaky"}'],
      ['/v1/admin/users/plain-text/unlock', node.adminKey, undefined],
      ['/v1/admin/users/plain-text/disable', node.adminKey, ''],
      ['/v1/validate', clientKey, '{"user":"plain-text"}'],
    ] as const) {
      const res = await fetch(`${node.url}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'text/plain' },
        ...(body !== undefined ? { body } : {}),
      });
      assert.equal(res.status, 415, path);
      assert.equal(((await res.json()) as Json).error.code, 'UNSUPPORTED_MEDIA_TYPE', path);
    }
    assert.equal((await admin.call('GET', '/v1/admin/users/sneaky')).status, 404);
    assert.equal((await admin.ok('GET', '/v1/admin/users/plain-text')).enabled, true);
  });

  test('a token secret is base32 of 10 to 128 bytes by the schema itself, never one repeated byte', async () => {
    await admin.ok('POST', '/v1/admin/users', { username: 'seed-rules' });
    const doc = await admin.ok('GET', '/docs/json');
    // the enrolment body is one shape per kind of token (anyOf); the seed is in the OTP one
    const members = (schema: Json): Json[] => (schema.anyOf ? schema.anyOf.flatMap(members) : [schema]);
    const secretSchema = members(
      doc.paths['/v1/admin/users/{username}/tokens'].post.requestBody.content['application/json'].schema,
    ).find((m) => m.properties?.secret)?.properties.secret;
    assert.equal(
      secretSchema.pattern,
      BASE32_SECRET_PATTERN,
      'the document shows the rule the server applies',
    );
    const enrol = (secret: string) =>
      admin.call('POST', '/v1/admin/users/seed-rules/tokens', { type: 'hotp', secret });
    const random = (n: number) =>
      base32Encode(Uint8Array.from({ length: n }, (_, i) => (i * 37 + 11) & 0xff));
    for (const [secret, code] of [
      ['A'.repeat(16), 'WEAK_SECRET'],
      [`${'A'.repeat(16)}======`, 'BAD_REQUEST'],
      [base32Encode(new Uint8Array(32)), 'WEAK_SECRET'],
      [random(9), 'BAD_REQUEST'],
      [random(129), 'BAD_REQUEST'],
      [`${random(20)}A`, 'BAD_REQUEST'],
      [`${random(10)} `, 'BAD_REQUEST'],
    ] as const) {
      const r = await enrol(secret);
      assert.equal(r.status, 400, secret);
      assert.equal(r.body.error.code, code, secret);
    }
    for (const n of [10, 128]) assert.equal((await enrol(random(n))).status, 201, `${n} bytes`);
    assert.equal((await enrol(random(33).toLowerCase())).status, 201, 'lower case');
  });

  test('a map keyed by group name: "__proto__" is outside its schema and refused, "constructor" is an ordinary group', async () => {
    const doc = await admin.ok('GET', '/docs/json');
    const groups =
      doc.paths['/v1/admin/settings'].patch.requestBody.content['application/json'].schema.properties.push
        .properties.onlineRegistrationGroups;
    assert.deepEqual(
      groups.propertyNames.not,
      { enum: ['__proto__'] },
      'the document says what the parser refuses',
    );
    const before = await admin.ok('GET', '/v1/admin/settings');
    const poisoned = await fetch(`${node.url}/v1/admin/settings`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${node.adminKey}`, 'content-type': 'application/json' },
      body: '{"push":{"onlineRegistrationGroups":{"__proto__":false,"staff":false}}}',
    });
    assert.equal(poisoned.status, 400);
    assert.equal(((await poisoned.json()) as Json).error.code, 'BAD_REQUEST');
    assert.deepEqual(await admin.ok('GET', '/v1/admin/settings'), before, 'nothing stored');
    await admin.ok('PATCH', '/v1/admin/settings', {
      push: { onlineRegistrationGroups: { constructor: false, staff: true } },
    });
    const after = await admin.ok('GET', '/v1/admin/settings');
    assert.deepEqual(after.push.onlineRegistrationGroups, { constructor: false, staff: true });
  });

  test('every path parameter the schemas allow fits the router: create, read and delete at the longest', async () => {
    const doc = await admin.ok('GET', '/docs/json');
    for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, Json>>)) {
      for (const op of Object.values(ops)) {
        for (const p of (op.parameters ?? []).filter((x: Json) => x.in === 'path')) {
          assert.ok(typeof p.schema.maxLength === 'number', `${path} {${p.name}} has a maxLength`);
          assert.ok(2 * p.schema.maxLength <= ROUTER_MAX_PARAM_LENGTH, `${path} {${p.name}} fits the router`);
        }
      }
    }
    const username = 'é'.repeat(128);
    const u = `/v1/admin/users/${encodeURIComponent(username)}`;
    assert.equal((await admin.ok('POST', '/v1/admin/users', { username })).username, username);
    assert.equal((await admin.ok('GET', u)).username, username);
    const serial = 'S'.repeat(64);
    await admin.ok('POST', `${u}/tokens`, { type: 'totp', serial });
    assert.equal((await admin.call('POST', `${u}/tokens/${serial}/disable`)).status, 200);
    assert.equal((await admin.call('DELETE', `${u}/tokens/${serial}`)).status, 204);
    assert.equal((await admin.call('DELETE', u)).status, 204);
    // 128 code points outside the BMP: 256 UTF-16 units once the router has decoded them.
    const group = '😀'.repeat(128);
    const g = `/v1/admin/groups/${encodeURIComponent(group)}`;
    assert.equal((await admin.call('POST', '/v1/admin/groups', { name: group })).status, 201);
    assert.equal((await admin.call('PATCH', g, { description: 'reachable' })).status, 200);
    assert.equal((await admin.call('DELETE', g)).status, 204);
    const tooLong = await admin.call('POST', '/v1/admin/users', { username: 'é'.repeat(129) });
    assert.equal(tooLong.status, 400);
    const lone = await admin.call('POST', '/v1/admin/groups', { name: 'a\ud800b' });
    assert.equal(lone.status, 400, 'a lone surrogate has no URL');
    const beyond = await admin.call('GET', `/v1/admin/users/${'x'.repeat(ROUTER_MAX_PARAM_LENGTH + 1)}`);
    assert.equal(beyond.status, 414);
    assert.equal(beyond.body.error.code, 'URI_TOO_LONG');
  });

  test('errors before routing keep the error shape: bad percent-encoding, 431, a URI too long, garbage', async () => {
    const auth = `Authorization: Bearer ${node.adminKey}\r\n`;
    const badUrl = await rawExchange(
      node.port,
      `GET /v1/admin/users/%E0%A4%A HTTP/1.1\r\nHost: x\r\n${auth}\r\n`,
    );
    assert.equal(badUrl.status, 400, badUrl.head);
    assert.equal(badUrl.body.error.code, 'BAD_URL');
    const bigHeader = await rawExchange(
      node.port,
      `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Fill: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    assert.equal(bigHeader.status, 431, bigHeader.head);
    assert.equal(bigHeader.body.error.code, 'HEADERS_TOO_LARGE');
    assert.match(bigHeader.head, /content-type: application\/json/i);
    const longUri = await rawExchange(
      node.port,
      `GET /v1/admin/users/${'u'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
    );
    assert.equal(longUri.status, 431, longUri.head);
    assert.equal(longUri.body.error.code, 'HEADERS_TOO_LARGE');
    const garbage = await rawExchange(node.port, 'HELLO THERE\r\n\r\n');
    assert.equal(garbage.status, 400, garbage.head);
    assert.equal(garbage.body.error.code, 'BAD_REQUEST');
    for (const r of [badUrl, bigHeader, longUri, garbage]) {
      assert.deepEqual(Object.keys(r.body), ['error']);
      assert.equal(typeof r.body.error.message, 'string');
    }
  });
});

describe('TESSERA_TRUST_PROXY: a list of proxies whose X-Forwarded-For is believed', () => {
  let node: TesseraHandle;

  beforeAll(async () => {
    node = await startTessera({ env: { TESSERA_TRUST_PROXY: '127.0.0.1, 10.9.0.0/16' } });
  });
  afterAll(async () => node?.stop());

  test('a listed proxy sets the address; the same header from anywhere else is ignored', async () => {
    const admin = new Api(node.url, node.adminKey);
    // A client that may call only from 203.0.113.7: the address decides, so it shows which one was used.
    const key = await admin.createClient('api', { allowedCidrs: ['203.0.113.7/32'] });
    const url = `${node.url}/v1/validate`;
    const body = { user: 'proxy-user', pass: '123456' };
    const forged = { 'x-forwarded-for': '203.0.113.7' };
    assert.equal(
      await callFrom('127.0.0.1', url, key, forged, body),
      200,
      'from the proxy: the header counts',
    );
    assert.equal(
      await callFrom('127.0.0.2', url, key, forged, body),
      403,
      'not from a proxy: the header is ignored',
    );
    assert.equal(await callFrom('127.0.0.1', url, key, {}, body), 403, 'the proxy itself is not the client');
    const chain = { 'x-forwarded-for': '203.0.113.7, 198.51.100.1' };
    assert.equal(await callFrom('127.0.0.1', url, key, chain, body), 403, 'only listed proxies are skipped');
  });

  test('"true" or a bad entry stops the node at start, naming the variable', async () => {
    for (const value of ['true', '10.0.0.0/99']) {
      const err = await startTessera({ env: { TESSERA_TRUST_PROXY: value } }).then(
        async (n) => {
          await n.stop();
          return null;
        },
        (e: unknown) => String(e),
      );
      assert.ok(err, `${value}: the node started`);
      assert.match(err, /TESSERA_TRUST_PROXY/, err);
    }
  });
});
