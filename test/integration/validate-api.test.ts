import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { awaitFreshStep, hotpAt, totpNow } from '../harness/codes.ts';
import { Api, randomBase32, startTessera, type TesseraHandle } from '../harness/tessera.ts';

describe('validate API over real HTTP on the embedded store', () => {
  let node: TesseraHandle;
  let admin: Api;
  let client: Api;

  beforeAll(async () => {
    node = await startTessera();
    admin = new Api(node.url, node.adminKey);
    client = new Api(node.url, await admin.createClient('api'));
  });
  afterAll(async () => {
    await node.stop();
  });

  const validate = async (body: Record<string, unknown>) => {
    const r = await client.call('POST', '/v1/validate', body);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body;
  };

  test('a right TOTP code is accepted once, then refused as reused', async () => {
    const { secret } = await admin.createUserWithTotp('v-once');
    await awaitFreshStep();
    const code = totpNow(secret);
    assert.deepEqual(await validate({ user: 'v-once', pass: code }), { result: 'accept', reason: 'OK' });
    const again = await validate({ user: 'v-once', pass: code });
    assert.equal(again.result, 'reject');
    assert.equal(again.reason, 'OTP_REUSED');
  });

  test('a code from before the last accepted one is refused', async () => {
    const { secret } = await admin.createUserWithTotp('v-older');
    await awaitFreshStep();
    assert.equal((await validate({ user: 'v-older', pass: totpNow(secret) })).result, 'accept');
    const older = await validate({ user: 'v-older', pass: totpNow(secret, { offsetSteps: -1 }) });
    assert.equal(older.result, 'reject');
    assert.equal(older.reason, 'OTP_REUSED');
  });

  test('a wrong code is rejected with OTP_INVALID', async () => {
    await admin.createUserWithTotp('v-wrong');
    const r = await validate({ user: 'v-wrong', pass: '000000' });
    assert.equal(r.result, 'reject');
    assert.match(r.reason, /OTP_INVALID|OTP_REUSED/);
  });

  test('50 parallel requests with the same valid code give exactly one accept', async () => {
    const { secret } = await admin.createUserWithTotp('v-race');
    await awaitFreshStep(8000);
    const code = totpNow(secret);
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => client.call('POST', '/v1/validate', { user: 'v-race', pass: code })),
    );
    assert.ok(answers.every((a) => a.status === 200));
    assert.equal(answers.filter((a) => a.body.result === 'accept').length, 1);
    // The others are refused as used, or unevaluated once the throttle window is full.
    assert.ok(answers.every((a) => ['OK', 'OTP_REUSED', 'USER_THROTTLED'].includes(a.body.reason)));
  });

  test('PIN followed by the OTP is one-shot; the PIN alone starts a challenge answered once', async () => {
    const { secret } = await admin.createUserWithTotp('v-pin', { pin: '4711' });
    await awaitFreshStep();
    assert.equal((await validate({ user: 'v-pin', pass: `4711${totpNow(secret)}` })).result, 'accept');
    assert.equal(
      (await validate({ user: 'v-pin', pass: `9999${totpNow(secret, { offsetSteps: 1 })}` })).reason,
      'PIN_INVALID',
    );

    const ch = await validate({ user: 'v-pin', pass: '4711' });
    assert.equal(ch.result, 'challenge');
    assert.ok(typeof ch.transactionId === 'string' && ch.transactionId.length >= 22, 'at least 128 bits');
    const answer = await validate({
      user: 'v-pin',
      transactionId: ch.transactionId,
      pass: totpNow(secret, { offsetSteps: 1 }),
    });
    assert.equal(answer.result, 'accept');
    const replay = await validate({
      user: 'v-pin',
      transactionId: ch.transactionId,
      pass: totpNow(secret, { offsetSteps: 1 }),
    });
    assert.equal(replay.result, 'reject');
    assert.equal(replay.reason, 'CHALLENGE_UNKNOWN');
  });

  test('a user with a PIN gets no challenge without it, and the code alone never logs in', async () => {
    const { secret } = await admin.createUserWithTotp('v-pinfirst', { pin: '4711' });
    await awaitFreshStep();
    const code = totpNow(secret);
    for (const [what, body] of [
      ['no pass', { user: 'v-pinfirst' }],
      ['an empty pass', { user: 'v-pinfirst', pass: '' }],
      ['the code alone', { user: 'v-pinfirst', pass: code }],
      ['a wrong PIN alone', { user: 'v-pinfirst', pass: '4712' }],
    ] as const) {
      const r = await validate(body);
      assert.deepEqual([r.result, r.reason, r.transactionId], ['reject', 'PIN_INVALID', undefined], what);
    }
    // A wrong PIN gives no challenge, so there is nothing the code could answer.
    const bogus = await validate({ user: 'v-pinfirst', transactionId: 'A'.repeat(24), pass: code });
    assert.equal(bogus.reason, 'CHALLENGE_UNKNOWN');
    assert.equal((await validate({ user: 'v-pinfirst', pass: `4711${code}` })).result, 'accept');
  });

  test('a challenge opened before the user had a PIN cannot be answered to an accept', async () => {
    const { secret } = await admin.createUserWithTotp('v-latepin');
    const ch = await validate({ user: 'v-latepin' });
    assert.equal(ch.result, 'challenge', 'no PIN yet: the code is the only factor');
    await admin.ok('PATCH', '/v1/admin/users/v-latepin', { pin: '2468' });
    await awaitFreshStep();
    const r = await validate({ user: 'v-latepin', transactionId: ch.transactionId, pass: totpNow(secret) });
    assert.deepEqual([r.result, r.reason], ['reject', 'PIN_REQUIRED']);
    assert.equal((await validate({ user: 'v-latepin', pass: `2468${totpNow(secret)}` })).result, 'accept');
  });

  test('a challenge opened through an upstream client is answered only through that client', async () => {
    const { secret } = await admin.createUserWithTotp('v-upstream', { pin: '4711' });
    const upstream = new Api(node.url, await admin.createClient('api', { firstFactor: 'upstream' }));
    await awaitFreshStep();
    const ch = await upstream.ok('POST', '/v1/validate', { user: 'v-upstream', pass: 'checked-upstream' });
    assert.equal(ch.result, 'challenge');
    const elsewhere = await validate({
      user: 'v-upstream',
      transactionId: ch.transactionId,
      pass: totpNow(secret),
    });
    assert.equal(elsewhere.reason, 'CHALLENGE_USER_MISMATCH');
    const ch2 = await upstream.ok('POST', '/v1/validate', { user: 'v-upstream' });
    const ok = await upstream.ok('POST', '/v1/validate', {
      user: 'v-upstream',
      transactionId: ch2.transactionId,
      pass: totpNow(secret),
    });
    assert.equal(ok.result, 'accept');
  });

  test('a challenge is bound to its user', async () => {
    const { secret } = await admin.createUserWithTotp('v-bound');
    await admin.createUserWithTotp('v-other');
    const ch = await validate({ user: 'v-bound' });
    assert.equal(ch.result, 'challenge');
    const r = await validate({ user: 'v-other', transactionId: ch.transactionId, pass: totpNow(secret) });
    assert.equal(r.reason, 'CHALLENGE_USER_MISMATCH');
  });

  test('HOTP accepts inside the look-ahead, moves forward, and resyncs from two codes', async () => {
    const secret = randomBase32();
    await admin.ok('POST', '/v1/admin/users', { username: 'v-hotp' });
    const tok = await admin.ok('POST', '/v1/admin/users/v-hotp/tokens', { type: 'hotp', secret });
    assert.equal((await validate({ user: 'v-hotp', pass: hotpAt(secret, 3) })).result, 'accept');
    assert.equal((await validate({ user: 'v-hotp', pass: hotpAt(secret, 2) })).reason, 'OTP_REUSED');
    assert.equal((await validate({ user: 'v-hotp', pass: hotpAt(secret, 500) })).result, 'reject');
    const resync = await admin.call('POST', `/v1/admin/users/v-hotp/tokens/${tok.serial}/resync`, {
      code1: hotpAt(secret, 500),
      code2: hotpAt(secret, 501),
    });
    assert.equal(resync.status, 200, JSON.stringify(resync.body));
    assert.equal((await validate({ user: 'v-hotp', pass: hotpAt(secret, 501) })).reason, 'OTP_REUSED');
    assert.equal((await validate({ user: 'v-hotp', pass: hotpAt(secret, 502) })).result, 'accept');
    const bad = await admin.call('POST', `/v1/admin/users/v-hotp/tokens/${tok.serial}/resync`, {
      code1: hotpAt(secret, 600),
      code2: hotpAt(secret, 602),
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'RESYNC_FAILED');
  });

  test('disabled, unknown and token-less users get their reasons; a client may pass unknown users through', async () => {
    await admin.createUserWithTotp('v-disabled');
    await admin.ok('POST', '/v1/admin/users/v-disabled/disable');
    assert.equal((await validate({ user: 'v-disabled', pass: '123456' })).reason, 'USER_DISABLED');
    assert.equal((await validate({ user: 'v-nobody', pass: '123456' })).reason, 'USER_UNKNOWN');
    await admin.ok('POST', '/v1/admin/users', { username: 'v-notoken' });
    assert.equal((await validate({ user: 'v-notoken', pass: '123456' })).reason, 'NO_TOKEN');
    const lenient = new Api(node.url, await admin.createClient('api', { unknownUserPolicy: 'passthrough' }));
    const r = await lenient.call('POST', '/v1/validate', { user: 'v-nobody', pass: 'x' });
    assert.deepEqual(r.body, { result: 'accept', reason: 'UNKNOWN_USER_PASSTHROUGH' });
  });

  test('a disabled token is not usable', async () => {
    const { secret, serial } = await admin.createUserWithTotp('v-tokoff');
    await admin.ok('POST', `/v1/admin/users/v-tokoff/tokens/${serial}/disable`);
    assert.equal((await validate({ user: 'v-tokoff', pass: totpNow(secret) })).reason, 'NO_TOKEN');
  });
});

describe('a node warns at start about logins that pass without a password check', () => {
  test('each passwordless path is named in the log, and the defaults name none', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tessera-passwordless-'));
    try {
      let node = await startTessera({ dataDir });
      assert.doesNotMatch(node.output(), /passwordless/);
      const admin = new Api(node.url, node.adminKey);
      await admin.ok('POST', '/v1/admin/clients', {
        name: 'vpn-up',
        kind: 'radius',
        firstFactor: 'upstream',
      });
      await admin.ok('POST', '/v1/admin/clients', {
        name: 'kc-pass',
        kind: 'keycloak',
        unknownUserPolicy: 'passthrough',
      });
      await admin.ok('PATCH', '/v1/admin/settings', { newUserMode: 'after-first-token' });
      await node.stop({ keepData: true });
      node = await startTessera({ dataDir });
      const warned = node
        .output()
        .split('\n')
        .filter((l) => l.includes('"passwordless"'))
        .map((l) => JSON.parse(l) as { level: number; passwordless: string; client?: string; msg: string });
      await node.stop({ keepData: true });
      assert.deepEqual(warned.map((w) => [w.level, w.passwordless, w.client ?? '-']).sort(), [
        [40, 'NOT_ENROLLED_YET', '-'],
        [40, 'UNKNOWN_USER_PASSTHROUGH', 'kc-pass'],
        [40, 'UPSTREAM_FIRST_FACTOR', 'vpn-up'],
      ]);
      assert.match(warned.find((w) => w.passwordless === 'UPSTREAM_FIRST_FACTOR')!.msg, /RADIUS/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
