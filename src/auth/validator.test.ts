import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, test } from 'vitest';
import type { AdminContext } from '../admin/context.ts';
import { createUser, enrolToken, resyncToken } from '../admin/index.ts';
import { KeyRing } from '../crypto/index.ts';
import { type Client, DEFAULT_SETTINGS, type Settings } from '../model/index.ts';
import { base32Decode, timeStep, totpAt } from '../otp/index.ts';
import { openEmbeddedStore } from '../store/index.ts';
import { Validator } from './validator.ts';

const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const params = {
  secret: base32Decode(SECRET)!,
  algorithm: 'SHA1' as const,
  digits: 6 as const,
  period: 30 as const,
};
const client: Client = {
  id: 'c1',
  name: 'test',
  kind: 'api',
  keyHash: 'x',
  allowedCidrs: [],
  challengeText: 'Code?',
  enabled: true,
  rejectDetail: 'generic',
  firstFactor: 'pin',
  createdAt: 0,
};

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
