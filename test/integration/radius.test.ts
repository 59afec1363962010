// FreeRADIUS 3.2 (Debian) with the shipped freeradius-config, in front of a real Tessera, driven by radclient.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { awaitFreshStep, totpNow } from '../harness/codes.ts';
import { checkConfig, type FreeRadiusHandle, prepareRaddb, startFreeRadius } from '../harness/freeradius.ts';
import { freePort } from '../harness/ports.ts';
import { type AttrValue, type RadiusReply, radAuth, rawAccessRequest } from '../harness/radclient.ts';
import { Api, type Json, REPO_ROOT, startTessera, type TesseraHandle } from '../harness/tessera.ts';

const CHALLENGE_TEXT = 'Code for %{User-Name}: 100% %{exec:/bin/false}';

describe('FreeRADIUS + rlm_rest + Tessera, end to end with radclient', () => {
  let node: TesseraHandle;
  let admin: Api;
  let radiusKey: string;
  let clientId: string;
  let fr: FreeRadiusHandle;

  beforeAll(async () => {
    node = await startTessera();
    admin = new Api(node.url, node.adminKey);
    const created = await admin.ok('POST', '/v1/admin/clients', {
      name: 'freeradius-test',
      kind: 'radius',
      rejectDetail: 'reason',
      challengeText: CHALLENGE_TEXT,
    });
    radiusKey = created.apiKey;
    clientId = created.id;
    // A low lockout threshold so a lock is reachable before the per-window throttle.
    await admin.ok('PATCH', '/v1/admin/settings', {
      lockout: { threshold: 3 },
      throttle: { failuresPerWindow: 0 },
    });
    fr = await startFreeRadius({ tesseraUrl: node.url, apiKey: radiusKey });
  });

  afterAll(async () => {
    await fr?.stop();
    await node?.stop();
  });

  const auth = (attrs: Record<string, AttrValue>) => radAuth({ port: fr.port, secret: fr.secret }, attrs);
  const expect = (r: RadiusReply, code: RadiusReply['code'], message?: string | RegExp) => {
    assert.equal(r.code, code, r.transcript);
    // BlastRADIUS hardening on 3.2.1: every reply is signed, the signature first.
    assert.equal(r.order[0], 'Message-Authenticator', r.transcript);
    if (typeof message === 'string') assert.equal(r.attrs['Reply-Message'], message, r.transcript);
    else if (message) assert.match(r.attrs['Reply-Message'] ?? '', message, r.transcript);
  };
  const patchClient = (body: Record<string, unknown>) =>
    admin.ok('PATCH', `/v1/admin/clients/${clientId}`, body);
  const audit = async (): Promise<Json[]> => (await admin.ok('GET', '/v1/admin/audit?limit=200')).items;

  test('the installed configuration passes freeradius -XC', () => {
    const raddb = prepareRaddb();
    try {
      const r = checkConfig(raddb.dir, { tesseraUrl: node.url, apiKey: radiusKey, port: 1812 });
      assert.ok(r.ok, r.output.slice(-3000));
      assert.ok(!r.output.includes(radiusKey), 'the key never shows in the output');
    } finally {
      raddb.remove();
    }
  });

  test('one shot: PIN+OTP, and OTP alone for a user without a PIN, are accepted', async () => {
    const a = await admin.createUserWithTotp('r-pin', { pin: '4711' });
    const b = await admin.createUserWithTotp('r-nopin');
    await awaitFreshStep();
    expect(
      await auth({ 'User-Name': 'r-pin', 'User-Password': `4711${totpNow(a.secret)}` }),
      'Access-Accept',
    );
    expect(await auth({ 'User-Name': 'r-nopin', 'User-Password': totpNow(b.secret) }), 'Access-Accept');
  });

  test('a wrong code and a wrong PIN are rejected with their reasons', async () => {
    const a = await admin.createUserWithTotp('r-wrong', { pin: '4711' });
    await awaitFreshStep();
    const wrong = String((Number(totpNow(a.secret)) + 1) % 1_000_000).padStart(6, '0');
    expect(
      await auth({ 'User-Name': 'r-wrong', 'User-Password': `4711${wrong}` }),
      'Access-Reject',
      /\(OTP_INVALID\)$/,
    );
    expect(
      await auth({ 'User-Name': 'r-wrong', 'User-Password': `0000${totpNow(a.secret)}` }),
      'Access-Reject',
      /\(PIN_INVALID\)$/,
    );
  });

  test('a replayed code is rejected', async () => {
    const a = await admin.createUserWithTotp('r-replay');
    await awaitFreshStep();
    const code = totpNow(a.secret);
    expect(await auth({ 'User-Name': 'r-replay', 'User-Password': code }), 'Access-Accept');
    expect(
      await auth({ 'User-Name': 'r-replay', 'User-Password': code }),
      'Access-Reject',
      /\(OTP_REUSED\)$/,
    );
  });

  test('two steps: PIN alone gets a challenge with our State; the code answers it once', async () => {
    const a = await admin.createUserWithTotp('r-chal', { pin: '4711' });
    await awaitFreshStep();
    const ch = await auth({ 'User-Name': 'r-chal', 'User-Password': '4711' });
    expect(ch, 'Access-Challenge', CHALLENGE_TEXT);
    const state = ch.attrs['State'] ?? '';
    assert.match(state, /^0x[0-9a-f]{44,}$/, 'the State is a Tessera transaction id (>= 128 bits)');
    assert.equal(ch.attrs['Session-Timeout'], '120');
    const code = totpNow(a.secret);
    expect(
      await auth({ 'User-Name': 'r-chal', 'User-Password': code, State: { raw: state } }),
      'Access-Accept',
    );
    const replay = await auth({
      'User-Name': 'r-chal',
      'User-Password': totpNow(a.secret, { offsetSteps: 1 }),
      State: { raw: state },
    });
    expect(replay, 'Access-Reject', /\(CHALLENGE_UNKNOWN\)$/);
  });

  test('a user with a PIN: an empty password, the code alone or a wrong PIN is a Reject, never a challenge', async () => {
    const a = await admin.createUserWithTotp('r-nopinproof', { pin: '4711' });
    await awaitFreshStep();
    // radclient leaves an empty value out: the site itself rejects a request without a password.
    expect(
      await auth({ 'User-Name': 'r-nopinproof', 'User-Password': '' }),
      'Access-Reject',
      'Access denied',
    );
    // A NAS sends an empty field as sixteen zero bytes, which reaches Tessera as an empty password.
    for (const [what, password] of [
      ['an empty password', Buffer.alloc(16)],
      ['the code alone', Buffer.from(totpNow(a.secret))],
      ['a wrong PIN alone', Buffer.from('4712')],
    ] as const) {
      const r = await rawAccessRequest(
        { port: fr.port, secret: fr.secret },
        { user: 'r-nopinproof', password },
      );
      assert.equal(r.code, 'Access-Reject', what);
      assert.match(r.attrs['Reply-Message'] ?? '', /\(PIN_INVALID\)$/, what);
      assert.equal(r.attrs['State'], undefined, what);
      // The suite locks at three failures: start each attempt from a clean count.
      await admin.ok('POST', '/v1/admin/users/r-nopinproof/unlock');
    }
    const ch = await auth({ 'User-Name': 'r-nopinproof', 'User-Password': '4711' });
    expect(ch, 'Access-Challenge', CHALLENGE_TEXT);
    expect(
      await auth({
        'User-Name': 'r-nopinproof',
        'User-Password': totpNow(a.secret),
        State: { raw: ch.attrs['State'] ?? '' },
      }),
      'Access-Accept',
    );
  });

  test('the code cannot answer a challenge obtained without the PIN', async () => {
    const a = await admin.createUserWithTotp('r-latepin');
    await awaitFreshStep();
    // No PIN yet: an empty password is a challenge. A PIN set before the answer makes it useless.
    const early = await rawAccessRequest(
      { port: fr.port, secret: fr.secret },
      { user: 'r-latepin', password: Buffer.alloc(16) },
    );
    assert.equal(early.code, 'Access-Challenge');
    await admin.ok('PATCH', '/v1/admin/users/r-latepin', { pin: '4711' });
    expect(
      await auth({
        'User-Name': 'r-latepin',
        'User-Password': totpNow(a.secret),
        State: { raw: early.attrs['State'] ?? '' },
      }),
      'Access-Reject',
      /\(PIN_REQUIRED\)$/,
    );
    // A challenge the client gave while its first factor was upstream, answered after it went back to pin.
    await patchClient({ firstFactor: 'upstream' });
    let upstream: RadiusReply;
    try {
      upstream = await auth({ 'User-Name': 'r-latepin', 'User-Password': 'not-the-pin' });
    } finally {
      await patchClient({ firstFactor: 'pin' });
    }
    expect(upstream, 'Access-Challenge');
    expect(
      await auth({
        'User-Name': 'r-latepin',
        'User-Password': totpNow(a.secret),
        State: { raw: upstream.attrs['State'] ?? '' },
      }),
      'Access-Reject',
      /\(PIN_REQUIRED\)$/,
    );
    // A wrong PIN gives no State; an empty answer to a real challenge is a wrong code.
    const wrong = await auth({ 'User-Name': 'r-latepin', 'User-Password': '4712' });
    expect(wrong, 'Access-Reject', /\(PIN_INVALID\)$/);
    assert.equal(wrong.attrs['State'], undefined);
    const ch = await auth({ 'User-Name': 'r-latepin', 'User-Password': '4711' });
    expect(ch, 'Access-Challenge');
    const empty = await rawAccessRequest(
      { port: fr.port, secret: fr.secret },
      { user: 'r-latepin', password: Buffer.alloc(16), state: ch.attrs['State'] ?? '' },
    );
    assert.equal(empty.code, 'Access-Reject');
    assert.match(empty.attrs['Reply-Message'] ?? '', /\(OTP_INVALID\)$/);
    expect(
      await auth({ 'User-Name': 'r-latepin', 'User-Password': `4711${totpNow(a.secret)}` }),
      'Access-Accept',
    );
  });

  test('a client whose first factor is upstream gets a challenge for any password, then the code', async () => {
    const a = await admin.createUserWithTotp('r-upstream', { pin: '4711' });
    await patchClient({ firstFactor: 'upstream' });
    try {
      await awaitFreshStep();
      const ch = await auth({ 'User-Name': 'r-upstream', 'User-Password': 'ldap-password-checked-before' });
      expect(ch, 'Access-Challenge', CHALLENGE_TEXT);
      const state = { raw: ch.attrs['State'] ?? '' };
      expect(
        await auth({ 'User-Name': 'r-upstream', 'User-Password': totpNow(a.secret), State: state }),
        'Access-Accept',
      );
    } finally {
      await patchClient({ firstFactor: 'pin' });
    }
  });

  test('a foreign State, or one minted for another user, is rejected', async () => {
    const a = await admin.createUserWithTotp('r-foreign', { pin: '4711' });
    await admin.createUserWithTotp('r-other', { pin: '4711' });
    await awaitFreshStep();
    const foreign = await auth({
      'User-Name': 'r-foreign',
      'User-Password': totpNow(a.secret),
      State: { raw: '0x00112233445566778899aabbccddeeff' },
    });
    expect(foreign, 'Access-Reject', /\(CHALLENGE_UNKNOWN\)$/);
    const ch = await auth({ 'User-Name': 'r-other', 'User-Password': '4711' });
    expect(ch, 'Access-Challenge');
    const stolen = await auth({
      'User-Name': 'r-foreign',
      'User-Password': totpNow(a.secret),
      State: { raw: ch.attrs['State'] ?? '' },
    });
    expect(stolen, 'Access-Reject', /\(CHALLENGE_USER_MISMATCH\)$/);
  });

  test('an expired State is rejected', async () => {
    const a = await admin.createUserWithTotp('r-expire', { pin: '4711' });
    await admin.ok('PATCH', '/v1/admin/settings', { challengeTtlSeconds: 1 });
    try {
      await awaitFreshStep(8000);
      const ch = await auth({ 'User-Name': 'r-expire', 'User-Password': '4711' });
      expect(ch, 'Access-Challenge');
      assert.equal(ch.attrs['Session-Timeout'], '1');
      await new Promise((r) => setTimeout(r, 1500));
      const late = await auth({
        'User-Name': 'r-expire',
        'User-Password': totpNow(a.secret),
        State: { raw: ch.attrs['State'] ?? '' },
      });
      expect(late, 'Access-Reject', /\(CHALLENGE_EXPIRED\)$/);
    } finally {
      await admin.ok('PATCH', '/v1/admin/settings', { challengeTtlSeconds: 120 });
    }
  });

  test('a locked user and a disabled user are rejected, even with a right code', async () => {
    const l = await admin.createUserWithTotp('r-locked');
    const d = await admin.createUserWithTotp('r-disabled');
    await awaitFreshStep();
    for (let i = 0; i < 3; i++)
      expect(await auth({ 'User-Name': 'r-locked', 'User-Password': 'x' }), 'Access-Reject');
    expect(
      await auth({ 'User-Name': 'r-locked', 'User-Password': totpNow(l.secret) }),
      'Access-Reject',
      /\(USER_LOCKED\)$/,
    );
    await admin.ok('POST', '/v1/admin/users/r-disabled/disable');
    expect(
      await auth({ 'User-Name': 'r-disabled', 'User-Password': totpNow(d.secret) }),
      'Access-Reject',
      /\(USER_DISABLED\)$/,
    );
  });

  test('an unknown user is rejected, or let through when the client says passthrough', async () => {
    expect(
      await auth({ 'User-Name': 'r-nobody', 'User-Password': '123456' }),
      'Access-Reject',
      /\(USER_UNKNOWN\)$/,
    );
    await patchClient({ unknownUserPolicy: 'passthrough' });
    try {
      expect(await auth({ 'User-Name': 'r-nobody', 'User-Password': '123456' }), 'Access-Accept');
    } finally {
      await patchClient({ unknownUserPolicy: 'reject' });
    }
  });

  test('a generic client gets "Access denied"; the audit has the reason and the NAS identity', async () => {
    await admin.createUserWithTotp('r-generic');
    await patchClient({ rejectDetail: 'generic' });
    try {
      const r = await auth({
        'User-Name': 'r-generic',
        'User-Password': '999999',
        'NAS-Identifier': 'vpn-gw-7',
        'NAS-IP-Address': { raw: '10.9.8.7' },
      });
      expect(r, 'Access-Reject', 'Access denied');
    } finally {
      await patchClient({ rejectDetail: 'reason' });
    }
    const event = (await audit()).find((e) => e.username === 'r-generic' && e.type === 'validate');
    assert.ok(event, 'a validate event for r-generic');
    assert.equal(event.result, 'reject');
    assert.match(event.reason, /^OTP_(INVALID|REUSED)$/);
    assert.equal(event.nasIdentifier, 'vpn-gw-7');
    assert.equal(event.nasIpAddress, '10.9.8.7');
    assert.equal(event.sourceIp, '127.0.0.1');
    assert.equal(event.actor, `client:${clientId}`);
  });

  test('hostile input: nothing is expanded, every answer is a Reject', async () => {
    await admin.createUserWithTotp('r-xlat', { pin: '4711' });
    const ch = await auth({ 'User-Name': 'r-xlat', 'User-Password': '4711' });
    expect(ch, 'Access-Challenge', CHALLENGE_TEXT);
    const xlat = await auth({
      'User-Name': 'r-%{User-Password}%{exec:/bin/true}',
      'User-Password': '123456',
    });
    // `%`, `{` and `}` can never be in a user name: refused as such, even for a passthrough client
    expect(xlat, 'Access-Reject', /\(USER_INVALID\)$/);
    expect(
      await auth({ 'User-Name': { raw: '"r-\\377\\376bytes"' }, 'User-Password': '123456' }),
      'Access-Reject',
    );
    expect(
      await auth({ 'User-Name': 'r-chap', 'CHAP-Password': { raw: '0x0102030405060708090a0b0c0d0e0f1011' } }),
      'Access-Reject',
    );
    expect(await auth({ 'User-Name': 'x'.repeat(253), 'User-Password': '1'.repeat(128) }), 'Access-Reject');
    const state = await auth({
      'User-Name': 'r-xlat',
      'User-Password': '123456',
      State: { raw: `0x${'25'.repeat(200)}` },
    });
    expect(state, 'Access-Reject', /\(CHALLENGE_UNKNOWN\)$/);
    assert.ok(!fr.output().includes(radiusKey));
  });

  test('the HTTP face answers malformed bodies with 401, never 400 or 5xx', async () => {
    const post = async (
      body: string | Buffer,
      headers: Record<string, string> = {},
      key: string | null = radiusKey,
    ) => {
      const res = await fetch(`${node.url}/radius/auth`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(key ? { authorization: `Bearer ${key}` } : {}),
          ...headers,
        },
        body: typeof body === 'string' ? body : new Uint8Array(body),
      });
      const text = await res.text();
      return { status: res.status, text };
    };
    const cases: Array<[string, string | Buffer, Record<string, string>?]> = [
      ['not JSON', '{"User-Name":'],
      ['not UTF-8', Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d])],
      ['a JSON array', '[]'],
      ['no User-Password', JSON.stringify({ 'User-Name': { type: 'string', value: ['r-xlat'] } })],
      [
        'an oversized body',
        JSON.stringify({ 'User-Name': { type: 'string', value: ['a'.repeat(200_000)] } }),
      ],
      ['another content type', 'User-Name=a', { 'content-type': 'application/x-www-form-urlencoded' }],
      ['an empty body', ''],
    ];
    for (const [what, body, headers] of cases) {
      const r = await post(body, headers);
      assert.equal(r.status, 401, `${what}: ${r.status} ${r.text}`);
      const answer = JSON.parse(r.text);
      assert.deepEqual(Object.keys(answer), ['reply:Reply-Message'], what);
      assert.equal(answer['reply:Reply-Message'].do_xlat, false, what);
      assert.match(answer['reply:Reply-Message'].value, /\(BAD_REQUEST\)$/, what);
    }
    const recorded = (await audit()).filter(
      (e) => e.reason === 'BAD_REQUEST' && e.actor === `client:${clientId}`,
    );
    assert.ok(recorded.length >= cases.length, 'each malformed request is in the audit trail');
    const ok = JSON.stringify({
      'User-Name': { type: 'string', value: ['x'] },
      'User-Password': { type: 'string', value: ['1'] },
    });
    assert.equal((await post(ok, {}, null)).status, 401, 'no key');
    assert.equal((await post(ok, {}, 'tk_nope.nope')).status, 401, 'a wrong key');
    assert.equal((await post(ok, {}, node.adminKey)).status, 403, 'an admin key');
    const postAuth = await fetch(`${node.url}/radius/post-auth`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${radiusKey}` },
      body: ok,
    });
    assert.equal(postAuth.status, 204);
  });

  test('Tessera stopped: FreeRADIUS answers Reject at once and does not hang', async () => {
    // FreeRADIUS holds pooled keep-alive connections; they must not hold up a graceful stop.
    let stopped = false;
    const grace = new Promise<void>((r) => setTimeout(r, 10_000).unref());
    await Promise.race([node.stop().then(() => (stopped = true)), grace]);
    if (!stopped) await node.kill();
    assert.ok(stopped, 'Tessera stopped within 10 s of SIGTERM while FreeRADIUS was connected');
    const started = Date.now();
    const r = await auth({ 'User-Name': 'r-pin', 'User-Password': '4711123456' });
    expect(r, 'Access-Reject', 'Access denied');
    assert.ok(Date.now() - started < 5000, `answered in ${Date.now() - started} ms`);
  });
});

describe('freeradius-config/install.sh', () => {
  const script = join(REPO_ROOT, 'freeradius-config/install.sh');

  test('refuses a directory that is not a FreeRADIUS tree', () => {
    const empty = mkdtempSync(join(tmpdir(), 'tessera-not-raddb-'));
    try {
      const r = spawnSync('sh', [script, empty], { encoding: 'utf8' });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /usage/);
      assert.equal(spawnSync('sh', [script], { encoding: 'utf8' }).status, 2);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  test('installs and enables the module, policy and site, and a second run changes nothing', () => {
    const raddb = prepareRaddb();
    try {
      const snapshot = () =>
        ['mods-enabled/tessera', 'sites-enabled/tessera']
          .map((f) => readlinkSync(join(raddb.dir, f)))
          .join(',') +
        ['mods-available/tessera', 'sites-available/tessera', 'policy.d/tessera']
          .map((f) => readFileSync(join(raddb.dir, f), 'utf8'))
          .join('');
      const before = snapshot();
      assert.match(before, /^\.\.\/mods-available\/tessera,\.\.\/sites-available\/tessera/);
      const again = spawnSync('sh', [script, raddb.dir], { encoding: 'utf8' });
      assert.equal(again.status, 0, again.stderr);
      assert.equal(snapshot(), before);
    } finally {
      raddb.remove();
    }
  });
});

describe('FreeRADIUS when Tessera is unreachable', () => {
  let blackHole: Server;
  const sockets = new Set<Socket>();
  const started: FreeRadiusHandle[] = [];

  beforeAll(async () => {
    // Accepts connections and never answers: a hung backend.
    blackHole = createServer((s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((r) => blackHole.listen(0, '127.0.0.1', () => r()));
  });

  afterAll(async () => {
    for (const fr of started) await fr.stop();
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => blackHole.close(() => r()));
  });

  test('starts with nothing listening at TESSERA_URL and rejects', async () => {
    const fr = await startFreeRadius({
      tesseraUrl: `http://127.0.0.1:${await freePort()}`,
      apiKey: 'tk_unused.unused',
    });
    started.push(fr);
    const t0 = Date.now();
    const r = await radAuth(
      { port: fr.port, secret: fr.secret },
      { 'User-Name': 'u', 'User-Password': '123456' },
    );
    assert.equal(r.code, 'Access-Reject', r.transcript);
    assert.ok(Date.now() - t0 < 5000);
  });

  test('a backend that never answers gives a Reject within the module timeout', async () => {
    const addr = blackHole.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    const fr = await startFreeRadius({ tesseraUrl: `http://127.0.0.1:${port}`, apiKey: 'tk_unused.unused' });
    started.push(fr);
    const r = await radAuth(
      { port: fr.port, secret: fr.secret },
      { 'User-Name': 'u', 'User-Password': '123456' },
      { timeoutS: 15 },
    );
    assert.equal(r.code, 'Access-Reject', r.transcript);
    assert.ok(
      r.elapsedMs >= 2500 && r.elapsedMs < 8000,
      `rejected after ${r.elapsedMs} ms (module timeout 3 s)`,
    );
  });
});
