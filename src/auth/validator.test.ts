import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, test } from 'vitest';
import type { AdminContext } from '../admin/context.ts';
import { createUser, enrolToken, resyncToken, updateUser } from '../admin/index.ts';
import { KeyRing, pinHashing, scryptRunCount } from '../crypto/index.ts';
import { type Client, DEFAULT_SETTINGS, type Settings } from '../model/index.ts';
import { timeStep, totpAt } from '../otp/index.ts';
import { SAMPLE_SECRET, SAMPLE_TOTP, sampleClient } from '../store/fixtures.ts';
import { openEmbeddedStore } from '../store/index.ts';
import { Validator } from './validator.ts';

const SECRET = SAMPLE_SECRET;
const params = SAMPLE_TOTP;
const client: Client = sampleClient('c1', { name: 'test', kind: 'api', challengeText: 'Code?' });

describe('validator decisions with a fake clock', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-validator-'));
  const store = openEmbeddedStore(dir);
  const keyring = KeyRing.generate();
  let settings: Settings = DEFAULT_SETTINGS;
  let clock = 1_700_000_000_000;
  const admin: AdminContext = { store, keyring, settings: async () => settings, audit: () => {} };
  const validator = new Validator({
    store,
    keyring,
    settings: async () => settings,
    audit: { record() {} },
    now: () => clock,
  });
  const code = (offsetSteps: number) => totpAt(params, timeStep(clock, 30) + offsetSteps);
  let n = 0;
  let user = '';

  beforeEach(async () => {
    settings = DEFAULT_SETTINGS;
    user = `u${n++}`;
    await createUser(admin, { username: user });
    await enrolToken(admin, user, { type: 'totp', secret: SECRET });
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the default window accepts one step either side, not two', async () => {
    assert.equal((await validator.validate({ user, pass: code(-2), client })).reason, 'OTP_INVALID');
    assert.equal((await validator.validate({ user, pass: code(2), client })).reason, 'OTP_INVALID');
    assert.equal((await validator.validate({ user, pass: code(1), client })).result, 'accept');
    await createUser(admin, { username: `${user}-b` });
    await enrolToken(admin, `${user}-b`, { type: 'totp', secret: SECRET });
    assert.equal((await validator.validate({ user: `${user}-b`, pass: code(-1), client })).result, 'accept');
  });

  test('a token running ahead teaches its drift, so later codes are checked around it', async () => {
    assert.equal((await validator.validate({ user, pass: code(1), client })).result, 'accept');
    const token = (await store.listTokens(user))[0]!;
    assert.equal((await store.getTokenState(token.serial)).drift, 1);
    clock += 60_000;
    // Expected step is now current+1, so +2 is inside the window and -1 (two behind the centre) is not.
    assert.equal((await validator.validate({ user, pass: code(2), client })).result, 'accept');
    assert.equal((await store.getTokenState(token.serial)).drift, 2);
    clock += 60_000;
    assert.equal((await validator.validate({ user, pass: code(-1), client })).reason, 'OTP_INVALID');
  });

  test('learned drift is bounded by maxDrift', async () => {
    settings = { ...DEFAULT_SETTINGS, totp: { window: 1, maxDrift: 1 } };
    assert.equal((await validator.validate({ user, pass: code(1), client })).result, 'accept');
    clock += 30_000;
    assert.equal((await validator.validate({ user, pass: code(2), client })).result, 'accept');
    const token = (await store.listTokens(user))[0]!;
    assert.equal((await store.getTokenState(token.serial)).drift, 1);
  });

  test('a code is never accepted twice and an older one is refused after it', async () => {
    assert.equal((await validator.validate({ user, pass: code(0), client })).result, 'accept');
    assert.equal((await validator.validate({ user, pass: code(0), client })).reason, 'OTP_REUSED');
    assert.equal((await validator.validate({ user, pass: code(-1), client })).reason, 'OTP_REUSED');
  });

  test('in after-first-token mode a user without tokens passes; manual mode leaves MFA off', async () => {
    settings = { ...DEFAULT_SETTINGS, newUserMode: 'after-first-token' };
    await createUser(admin, { username: `${user}-new` });
    assert.equal(
      (await validator.validate({ user: `${user}-new`, pass: '', client })).reason,
      'NOT_ENROLLED_YET',
    );
    settings = { ...DEFAULT_SETTINGS, newUserMode: 'manual' };
    await createUser(admin, { username: `${user}-manual` });
    assert.equal(
      (await validator.validate({ user: `${user}-manual`, pass: 'x', client })).reason,
      'MFA_NOT_REQUIRED',
    );
  });

  test('a lock ends by itself after its backoff, and the next lock lasts twice as long', async () => {
    settings = {
      ...DEFAULT_SETTINGS,
      lockout: { threshold: 2, baseSeconds: 60, maxSeconds: 3600 },
      throttle: { failuresPerWindow: 0, windowSeconds: 60 },
    };
    await validator.validate({ user, pass: '000000', client });
    await validator.validate({ user, pass: '000000', client });
    assert.equal((await validator.validate({ user, pass: code(0), client })).reason, 'USER_LOCKED');
    clock += 61_000;
    await validator.validate({ user, pass: '000000', client });
    await validator.validate({ user, pass: '000000', client });
    clock += 61_000;
    assert.equal((await validator.validate({ user, pass: code(0), client })).reason, 'USER_LOCKED');
    clock += 60_000;
    assert.equal((await validator.validate({ user, pass: code(0), client })).result, 'accept');
  });

  test('an upstream-first-factor client always gets a challenge first', async () => {
    const upstream = { ...client, firstFactor: 'upstream' as const };
    const r = await validator.validate({ user, pass: 'ldap-password', client: upstream });
    assert.equal(r.result, 'challenge');
    const ok = await validator.validate({
      user,
      pass: code(0),
      transactionId: r.transactionId!,
      client: upstream,
    });
    assert.equal(ok.result, 'accept');
  });

  test('a token marked resync-required by a restore is refused until resynchronised', async () => {
    const token = (await store.listTokens(user))[0]!;
    await store.putToken({ ...token, resyncRequired: true });
    assert.equal((await validator.validate({ user, pass: code(0), client })).reason, 'RESYNC_REQUIRED');
  });

  test('a TOTP token running 50 steps ahead is refused, then resynchronised from two consecutive codes', async () => {
    const serial = (await store.listTokens(user))[0]!.serial;
    assert.equal((await validator.validate({ user, pass: code(50), client })).reason, 'OTP_INVALID');
    // The user reads one code, waits for the next and types both: the token is 50 steps ahead.
    const first = code(50);
    clock += 30_000;
    const second = code(50);
    await assert.rejects(resyncToken(admin, user, serial, first, code(51), clock), /consecutive/);
    await resyncToken(admin, user, serial, first, second, clock);
    assert.equal((await validator.validate({ user, pass: second, client })).reason, 'OTP_REUSED');
    clock += 30_000;
    assert.equal((await validator.validate({ user, pass: code(50), client })).result, 'accept');
    assert.equal((await store.getTokenState(serial)).drift, 50);
  });
});

describe('the PIN is a factor, attempts are reserved, and the challenge needs its proof', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-validator-pin-'));
  const store = openEmbeddedStore(dir);
  const keyring = KeyRing.generate();
  let settings: Settings = DEFAULT_SETTINGS;
  let clock = 1_700_000_000_000;
  const admin: AdminContext = { store, keyring, settings: async () => settings, audit: () => {} };
  const errors: Array<{ obj: object; msg: string }> = [];
  const make = (ring: KeyRing) =>
    new Validator({
      store,
      keyring: ring,
      settings: async () => settings,
      audit: { record() {} },
      now: () => clock,
      log: { error: (obj, msg) => errors.push({ obj, msg }) },
    });
  const validator = make(keyring);
  const code = (offsetSteps = 0, digits: 6 | 8 = 6) =>
    totpAt({ ...params, digits }, timeStep(clock, 30) + offsetSteps);
  /** A 6-digit code that is none of the codes inside the ±1 window. */
  const wrongCode = (seed = 0) => {
    const near = new Set([code(-1), code(0), code(1)]);
    for (let x = seed * 7919; ; x++) {
      const c = String(x % 1_000_000).padStart(6, '0');
      if (!near.has(c)) return c;
    }
  };
  const upstream: Client = { ...client, id: 'c-up', firstFactor: 'upstream' };
  let n = 0;
  let user = '';
  const state = async () => (await store.loadAuthView(user))!.userState;
  const v = (pass: string | undefined, over: Partial<Parameters<Validator['validate']>[0]> = {}) =>
    validator.validate({ user, client, ...(pass !== undefined ? { pass } : {}), ...over });

  beforeEach(async () => {
    settings = DEFAULT_SETTINGS;
    clock += 3_600_000;
    user = `p${n++}`;
    await createUser(admin, { username: user, pin: '4711' });
    await enrolToken(admin, user, { type: 'totp', secret: SECRET });
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('without the PIN there is no challenge: no pass, an empty pass, the code alone, a wrong PIN', async () => {
    settings = { ...DEFAULT_SETTINGS, throttle: { failuresPerWindow: 10, windowSeconds: 60 } };
    const attempts: Array<[string, string | undefined]> = [
      ['no pass', undefined],
      ['an empty pass', ''],
      ['the code alone', code()],
      ['a wrong PIN and the code', `4712${code()}`],
      ['a wrong PIN alone', '4712'],
    ];
    for (const [what, pass] of attempts) {
      const r = await v(pass);
      assert.equal(r.result, 'reject', what);
      assert.equal(r.reason, 'PIN_INVALID', what);
      assert.equal(r.transactionId, undefined, what);
    }
    assert.equal((await state()).failures, attempts.length, 'each one counted as a failure');
    assert.equal((await v(`4711${code()}`)).result, 'accept', 'the code was not used by any of them');
  });

  test('PIN → challenge → code → accept; the PIN round gives its attempt back', async () => {
    const ch = await v('4711');
    assert.equal(ch.result, 'challenge');
    assert.equal((await state()).failures, 0, 'a proved PIN does not count towards a lock');
    assert.equal((await state()).windowFailures, 0);
    const ok = await v(code(), { transactionId: ch.transactionId! });
    assert.deepEqual([ok.result, ok.reason], ['accept', 'OK']);
    // Ten two-step logins in a row never throttle or lock their own user.
    for (let i = 1; i <= 10; i++) {
      clock += 30_000;
      const c = await v('4711');
      assert.equal(c.result, 'challenge', `login ${i}`);
      assert.equal((await v(code(), { transactionId: c.transactionId! })).result, 'accept', `login ${i}`);
    }
  });

  test('a challenge answered with a wrong code, then a new one: the wrong code counted once', async () => {
    const ch = await v('4711');
    const wrong = await v(wrongCode(), { transactionId: ch.transactionId! });
    assert.equal(wrong.reason, 'OTP_INVALID');
    assert.equal((await state()).failures, 1);
  });

  test('a challenge made before the user had a PIN cannot be answered, and the code stays unused', async () => {
    const nopin = `${user}-late`;
    await createUser(admin, { username: nopin });
    await enrolToken(admin, nopin, { type: 'totp', secret: SECRET });
    const ch = await validator.validate({ user: nopin, client });
    assert.equal(ch.result, 'challenge', 'no PIN yet: no pass is a challenge');
    await updateUser(admin, nopin, { pin: '2468' });
    const r = await validator.validate({
      user: nopin,
      client,
      transactionId: ch.transactionId!,
      pass: code(),
    });
    assert.deepEqual([r.result, r.reason], ['reject', 'PIN_REQUIRED']);
    const again = await validator.validate({
      user: nopin,
      client,
      transactionId: ch.transactionId!,
      pass: code(),
    });
    assert.equal(again.reason, 'CHALLENGE_UNKNOWN', 'the challenge is gone');
    assert.equal((await validator.validate({ user: nopin, client, pass: code() })).reason, 'PIN_INVALID');
    assert.equal((await validator.validate({ user: nopin, client, pass: `2468${code()}` })).result, 'accept');
  });

  test('an upstream challenge answered through a pin client is a mismatch; a client switched to pin needs the PIN', async () => {
    const ch = await v('anything', { client: upstream });
    assert.equal(ch.result, 'challenge');
    const other = await v(code(), { transactionId: ch.transactionId! });
    assert.equal(other.reason, 'CHALLENGE_USER_MISMATCH');
    const ch2 = await v('anything', { client: upstream });
    const switched = { ...upstream, firstFactor: 'pin' as const };
    const r = await v(code(), { client: switched, transactionId: ch2.transactionId! });
    assert.deepEqual([r.result, r.reason], ['reject', 'PIN_REQUIRED']);
    // A PIN-proved challenge still works for a client switched to upstream.
    const ch3 = await v('4711');
    const r3 = await v(code(), {
      client: { ...client, firstFactor: 'upstream' },
      transactionId: ch3.transactionId!,
    });
    assert.equal(r3.result, 'accept');
  });

  test('a lock or a disable between the rounds refuses the right code', async () => {
    settings = { ...DEFAULT_SETTINGS, lockout: { threshold: 2, baseSeconds: 60, maxSeconds: 60 } };
    const ch = await v('4711');
    await v('9999');
    await v('9999');
    const locked = await v(code(), { transactionId: ch.transactionId! });
    assert.equal(locked.reason, 'USER_LOCKED');
    clock += 61_000;
    const ch2 = await v('4711');
    await updateUser(admin, user, { enabled: false });
    assert.equal((await v(code(), { transactionId: ch2.transactionId! })).reason, 'USER_DISABLED');
    await updateUser(admin, user, { enabled: true });
    assert.equal((await v(`4711${code()}`)).result, 'accept', 'neither refusal used the code');
  });

  test('a throttled user with the right code is refused USER_THROTTLED and the code stays unused', async () => {
    settings = { ...DEFAULT_SETTINGS, throttle: { failuresPerWindow: 3, windowSeconds: 60 } };
    for (let i = 0; i < 3; i++)
      assert.equal((await v(`4711${i}00000`)).reason, code() === `${i}00000` ? 'OK' : 'OTP_INVALID');
    const r = await v(`4711${code()}`);
    assert.deepEqual([r.result, r.reason], ['reject', 'USER_THROTTLED']);
    clock += 60_000;
    assert.equal((await v(`4711${code(-2)}`)).result, 'reject', 'two steps old: outside the window');
    assert.equal((await v(`4711${code()}`)).result, 'accept');
  });

  test('a user with a 6- and an 8-digit token: PIN+6 and PIN+8 each pick their token', async () => {
    const eight = await enrolToken(admin, user, { type: 'totp', secret: SECRET, digits: 8 });
    const six = (await store.listTokens(user)).find((t) => t.digits === 6)!;
    const a = await v(`4711${code(0, 8)}`);
    assert.deepEqual([a.result, a.serial], ['accept', eight.token.serial]);
    const b = await v(`4711${code(1, 6)}`);
    assert.deepEqual([b.result, b.serial], ['accept', six.serial]);
    const ch = await v('4711');
    clock += 60_000;
    const c = await v(code(0, 8), { transactionId: ch.transactionId! });
    assert.deepEqual([c.result, c.serial], ['accept', eight.token.serial]);
  });

  test('PIN checking does the same work whether the PIN is right, wrong, alone or missing its code', async () => {
    await enrolToken(admin, user, { type: 'totp', secret: SECRET, digits: 8 });
    settings = { ...DEFAULT_SETTINGS, throttle: { failuresPerWindow: 0, windowSeconds: 60 } };
    const passes = [
      `4711${code()}`,
      `4712${code(1)}`,
      '4711',
      '4712',
      `4711${code(0, 8)}`,
      '1',
      'x'.repeat(40),
      `4711abcdef`,
    ];
    const runs: number[] = [];
    for (const pass of passes) {
      const before = scryptRunCount();
      await v(pass);
      runs.push(scryptRunCount() - before);
    }
    // Two token lengths and the whole pass: three, every time.
    assert.deepEqual(
      runs,
      passes.map(() => 3),
    );
  });

  test('parallel wrong guesses: only the throttle window is evaluated', async () => {
    settings = { ...DEFAULT_SETTINGS, throttle: { failuresPerWindow: 5, windowSeconds: 60 } };
    const before = scryptRunCount();
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) => v(`47${String(i).padStart(2, '0')}123456`)),
    );
    const evaluated = answers.filter((a) => a.reason === 'PIN_INVALID').length;
    assert.equal(evaluated, 5);
    assert.equal(answers.filter((a) => a.reason === 'USER_THROTTLED').length, 55);
    assert.equal(scryptRunCount() - before, 5 * 2, 'the refused ones ran no scrypt');
  });

  test('a node with another seed key refuses SEED_UNREADABLE, counts nothing, and logs without secrets', async () => {
    const stranger = make(KeyRing.generate());
    settings = { ...DEFAULT_SETTINGS, lockout: { threshold: 3, baseSeconds: 60, maxSeconds: 60 } };
    errors.length = 0;
    for (let i = 0; i < 6; i++) {
      clock += 30_000;
      const r = await stranger.validate({ user, client, pass: `4711${code()}` });
      assert.deepEqual([r.result, r.reason], ['reject', 'SEED_UNREADABLE']);
    }
    const s = await state();
    assert.deepEqual([s.failures, s.windowFailures, s.lockedUntil], [0, 0, 0], JSON.stringify(s));
    assert.equal(errors.length, 6);
    const logged = JSON.stringify(errors);
    assert.match(logged, /seed key/);
    for (const e of errors) {
      assert.deepEqual(Object.keys(e.obj).sort(), ['currentKeyId', 'keyIds', 'serials', 'username'], logged);
    }
    assert.ok(!logged.includes(SECRET) && !logged.includes(`4711${code()}`), logged);
    const token = (await store.listTokens(user))[0]!;
    assert.ok(!logged.includes(token.secretSealed.split(':')[2]!), 'not the sealed seed either');
    assert.equal((await v(`4711${code()}`)).result, 'accept', 'the right node still accepts');
  });

  test('with one readable and one unreadable token a wrong code still counts', async () => {
    const foreign = KeyRing.generate();
    const other = await enrolToken({ ...admin, keyring: foreign }, user, { type: 'hotp', secret: SECRET });
    assert.ok(other.token.secretSealed);
    const r = await v('4711000000');
    assert.equal(r.reason, 'OTP_INVALID');
    assert.equal((await state()).failures, 1);
  });

  test('a full PIN queue answers SERVER_BUSY and counts nothing', async () => {
    const saved = pinHashing.limits;
    pinHashing.configure({ concurrency: 1, maxWaiting: 0 });
    try {
      const answers = await Promise.all([v('4712'), v('4712'), v('4712')]);
      assert.deepEqual(answers.map((a) => a.reason).sort(), ['PIN_INVALID', 'SERVER_BUSY', 'SERVER_BUSY']);
      assert.equal((await state()).failures, 1, 'only the evaluated one is counted');
    } finally {
      pinHashing.configure(saved);
    }
  });
});
