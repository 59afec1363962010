import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import type { AdminContext } from '../admin/context.ts';
import { createUser, enrolToken } from '../admin/index.ts';
import { KeyRing } from '../crypto/index.ts';
import { type AuditEvent, type Client, DEFAULT_SETTINGS, type Settings } from '../model/index.ts';
import { timeStep, totpAt } from '../otp/index.ts';
import { SAMPLE_SECRET, SAMPLE_TOTP, sampleClient } from '../store/fixtures.ts';
import { openEmbeddedStore } from '../store/index.ts';
import { Validator } from './validator.ts';

const SECRET = SAMPLE_SECRET;
const params = SAMPLE_TOTP;
const passthrough: Client = sampleClient('c-pass', {
  name: 'test',
  kind: 'api',
  challengeText: 'Code?',
  unknownUserPolicy: 'passthrough',
});

// An enrolled user spelled another way is that user, on every path; never a stranger let through.
describe('validator: one canonical name per user', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-validator-name-'));
  const store = openEmbeddedStore(dir);
  const keyring = KeyRing.generate();
  const settings: Settings = { ...DEFAULT_SETTINGS, unknownUserPolicy: 'passthrough' };
  let clock = 1_700_000_000_000;
  const events: AuditEvent[] = [];
  const validator = new Validator({
    store,
    keyring,
    settings: async () => settings,
    audit: { record: (e) => events.push(e) },
    now: () => clock,
  });
  const code = () => totpAt(params, timeStep(clock, 30));
  const check = (user: string, pass?: string, transactionId?: string) =>
    validator.validate({
      user,
      client: passthrough,
      ...(pass !== undefined ? { pass } : {}),
      ...(transactionId ? { transactionId } : {}),
    });

  beforeAll(async () => {
    const admin: AdminContext = { store, keyring, settings: async () => settings, audit: () => {} };
    await createUser(admin, { username: 'Dave' });
    await enrolToken(admin, 'DAVE', { type: 'totp', secret: SECRET });
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the code one spelling used is used for every spelling', async () => {
    assert.equal((await check('dave\u200b', code())).result, 'accept');
    for (const spelling of ['dave', 'Dave', 'ｄａｖｅ', '\u202eDAVE', 'da\u00a0ve']) {
      const r = await check(spelling, code());
      assert.equal(r.reason, 'OTP_REUSED', spelling);
    }
    assert.equal(events.at(-1)?.username, 'dave', 'the audit names the canonical user');
  });

  test('a wrong code for a respelled enrolled user is a failure of that user, not a passthrough', async () => {
    clock += 60_000;
    await store.unlockUser('dave');
    const r = await check('ＤＡＶＥ', '000000');
    assert.equal(r.result, 'reject');
    assert.equal(r.reason, 'OTP_INVALID');
    assert.equal((await store.loadAuthView('dave'))?.userState.failures, 1, 'counted against dave');
  });

  test('a challenge opened under one spelling is answered under another', async () => {
    clock += 60_000;
    const first = await check('DAVE');
    assert.equal(first.result, 'challenge');
    const second = await check('dave\u200d', code(), first.transactionId);
    assert.equal(second.result, 'accept');
  });

  test('a name that can never be canonical is refused, even for a passthrough client', async () => {
    for (const bad of ['dave\ud800', '\u200b', 'a/b', '50％', 'x'.repeat(200)]) {
      const r = await check(bad, code());
      assert.equal(r.result, 'reject', JSON.stringify(bad));
      assert.equal(r.reason, 'USER_INVALID');
    }
    const audited = events.at(-5)?.username ?? '';
    assert.ok(!/[\ud800-\udfff]/u.test(audited), 'no lone surrogate reaches the audit trail');
  });

  test('an unknown user still takes the client policy', async () => {
    assert.equal((await check('nobody', '123456')).reason, 'UNKNOWN_USER_PASSTHROUGH');
  });
});
