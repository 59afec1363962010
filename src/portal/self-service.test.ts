import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, test } from 'vitest';
import { createUser, enrolToken } from '../admin/index.ts';
import { Validator } from '../auth/index.ts';
import { KeyRing } from '../crypto/index.ts';
import { type Client, DEFAULT_SETTINGS, type Settings } from '../model/index.ts';
import { base32Decode, timeStep, totpAt } from '../otp/index.ts';
import { SAMPLE_SECRET, SAMPLE_TOTP, sampleClient } from '../store/fixtures.ts';
import { openEmbeddedStore } from '../store/index.ts';
import type { SelfServiceContext } from './context.ts';
import { finishNewDevice, listDevices, renameDevice, setDefaultDevice, startNewDevice } from './devices.ts';
import {
  enrolmentFor,
  finishInvitation,
  invitationId,
  inviteUser,
  listInvitations,
  openInvitation,
  revokeInvitations,
} from './invitations.ts';
import {
  generateRecoveryCodes,
  issueTemporaryCode,
  looksLikeOneTimeCode,
  oneTimeCodeChecker,
  recoveryCodesLeft,
} from './one-time-codes.ts';

const client: Client = sampleClient('c1', { name: 'test', kind: 'api', firstFactor: 'pin' });

describe('self-service operations against a real store and validator', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-portal-'));
  const store = openEmbeddedStore(dir);
  const keyring = KeyRing.generate();
  let settings: Settings = DEFAULT_SETTINGS;
  let clock = Date.now();
  const mails: { template: string; to: string | undefined; data: Record<string, unknown> }[] = [];
  const audit: { type: string; detail: Record<string, string | undefined> }[] = [];
  const used: { username: string; left: number }[] = [];
  const ctx: SelfServiceContext = {
    store,
    keyring,
    settings: async () => settings,
    audit: (type, detail) => audit.push({ type, detail }),
    notifier: {
      send: (template, to, data) => {
        mails.push({ template, to, data });
        return true;
      },
    },
    portalUrl: 'http://portal.test/portal/',
    invitationTtlMs: 3_600_000,
    now: () => clock,
    actor: 'admin:test',
  };
  const validator = new Validator({
    store,
    keyring,
    settings: async () => settings,
    audit: { record() {} },
    now: () => clock,
    oneTimeCodes: oneTimeCodeChecker(store, {
      onRecoveryUsed: (username, left) => used.push({ username, left }),
    }),
  });
  const codeOf = (secret: string, offset = 0) =>
    totpAt({ ...SAMPLE_TOTP, secret: base32Decode(secret)! }, timeStep(clock, 30) + offset);
  let n = 0;
  let user = '';

  beforeEach(async () => {
    settings = DEFAULT_SETTINGS;
    clock += 120_000;
    user = `s${n++}`;
    await createUser(ctx, { username: user, email: `${user}@example.test` });
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const secretFromMail = () => {
    const link = String([...mails].reverse().find((m) => m.template === 'invitation')?.data.link);
    return link.slice(link.lastIndexOf('/') + 1);
  };

  test('an invitation link: 256 bits, stored only as a hash, mailed; the pending token authenticates nothing until proved', async () => {
    const { mailed, view } = await inviteUser(ctx, user);
    assert.equal(mailed, true);
    assert.equal(view.status, 'open');
    const secret = secretFromMail();
    assert.match(secret, /^[A-Za-z0-9_-]{43}$/);
    const stored = await store.getInvitation(invitationId(secret));
    assert.ok(stored);
    assert.equal(
      JSON.stringify(await store.listInvitations()).includes(secret),
      false,
      'the secret is not stored',
    );
    const opened = await openInvitation(ctx, secret);
    assert.ok(opened.ok);
    const enrol = await enrolmentFor(ctx, opened.invitation);
    assert.equal(enrol.token.status, 'pending');
    // "Later": the same link shows the same token again
    const again = await openInvitation(ctx, secret);
    assert.ok(again.ok);
    assert.equal((await enrolmentFor(ctx, again.invitation)).token.serial, enrol.token.serial);
    const code = codeOf(enrol.secret);
    const before = await validator.validate({ user, pass: code, client });
    assert.equal(before.result, 'reject', 'a pending token never authenticates');
    assert.equal(before.reason, 'NO_TOKEN');
    assert.equal(
      (await listInvitations(ctx, { notEnrolled: true })).some((i) => i.username === user),
      true,
    );
    clock += 30_000;
    const fresh = await openInvitation(ctx, secret);
    assert.ok(fresh.ok);
    const done = await finishInvitation(ctx, fresh.invitation, codeOf(enrol.secret));
    assert.equal(done.result, 'ok');
    assert.equal((await store.getToken(enrol.token.serial))?.status, 'active');
    assert.deepEqual(await openInvitation(ctx, secret), { ok: false, why: 'used' });
    assert.equal(mails.at(-1)?.template, 'enrolment-done');
    clock += 30_000;
    assert.equal((await validator.validate({ user, pass: codeOf(enrol.secret), client })).result, 'accept');
    assert.equal(
      (await listInvitations(ctx, { notEnrolled: true })).some((i) => i.username === user),
      false,
    );
  });

  test('a wrong code keeps the token pending and counts as a failure; expired, revoked and forged links open nothing', async () => {
    await inviteUser(ctx, user);
    const secret = secretFromMail();
    const opened = await openInvitation(ctx, secret);
    assert.ok(opened.ok);
    const enrol = await enrolmentFor(ctx, opened.invitation);
    const wrong = codeOf(enrol.secret, 5);
    assert.equal(
      (await finishInvitation(ctx, (await store.getInvitation(opened.invitation.id))!, wrong)).result,
      'invalid',
    );
    assert.equal((await store.getToken(enrol.token.serial))?.status, 'pending');
    assert.ok((await store.loadAuthView(user))!.userState.failures >= 1);
    assert.deepEqual(await openInvitation(ctx, `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`), {
      ok: false,
      why: 'unknown',
    });
    assert.deepEqual(await openInvitation(ctx, '../../etc/passwd'), { ok: false, why: 'unknown' });
    clock += 3_600_000;
    assert.deepEqual(await openInvitation(ctx, secret), { ok: false, why: 'expired' });
    clock -= 3_600_000;
    await inviteUser(ctx, user);
    assert.deepEqual(
      await openInvitation(ctx, secret),
      { ok: false, why: 'revoked' },
      'a new invitation revokes the old',
    );
    assert.equal(await store.getToken(enrol.token.serial), null, "the old link's pending token is gone");
    const second = secretFromMail();
    assert.equal(await revokeInvitations(ctx, user), 1);
    assert.deepEqual(await openInvitation(ctx, second), { ok: false, why: 'revoked' });
  });

  test('a link of a user deleted and created again opens nothing', async () => {
    await inviteUser(ctx, user);
    const secret = secretFromMail();
    await store.deleteUser(user);
    await createUser(ctx, { username: user, email: 'other@example.test' });
    assert.deepEqual(await openInvitation(ctx, secret), { ok: false, why: 'unknown' });
  });

  test('a new phone: proved, then the old token is retired in the same step; a wrong code retires nothing', async () => {
    const { token: old } = await enrolToken(ctx, user, {
      type: 'totp',
      secret: SAMPLE_SECRET,
      description: 'Old phone',
    });
    const next = await startNewDevice(ctx, user, old.serial);
    assert.equal(
      await finishNewDevice(ctx, user, next.token.serial, codeOf(next.secret, 4), old.serial),
      'invalid',
    );
    assert.equal(
      (await listDevices(ctx, user)).length,
      1,
      'pending tokens are not listed; the old one stays',
    );
    assert.equal(await finishNewDevice(ctx, user, next.token.serial, codeOf(next.secret), old.serial), 'ok');
    const devices = await listDevices(ctx, user);
    assert.deepEqual(
      devices.map((d) => [d.serial, d.name, d.isDefault, d.registeredBy]),
      [[next.token.serial, 'Old phone', true, 'this portal']],
    );
    assert.equal(await store.getToken(old.serial), null);
    assert.equal(mails.at(-1)?.template, 'device-replaced');
    clock += 30_000;
    assert.equal(
      (await validator.validate({ user, pass: codeOf(SAMPLE_SECRET), client })).reason,
      'OTP_INVALID',
    );
  });

  test('recovery codes: 10 of 12 characters, each works once over the validator, a new set voids the old', async () => {
    await enrolToken(ctx, user, { type: 'totp', secret: SAMPLE_SECRET });
    const codes = await generateRecoveryCodes(ctx, user);
    assert.equal(codes.length, 10);
    assert.equal(new Set(codes).size, 10);
    for (const c of codes) assert.match(c, /^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$/);
    assert.ok(codes.every(looksLikeOneTimeCode));
    assert.equal(JSON.stringify(await store.getUserCodes(user)).includes(codes[0]!.replace(/-/g, '')), false);
    const first = await validator.validate({
      user,
      pass: codes[0]!.toUpperCase().replace(/-/g, ' '),
      client,
    });
    assert.equal(first.result, 'accept');
    assert.equal(first.method, 'recovery');
    assert.deepEqual(used.at(-1), { username: user, left: 9 });
    assert.equal(
      (await validator.validate({ user, pass: codes[0]!, client })).reason,
      'OTP_INVALID',
      'once only',
    );
    assert.deepEqual(await recoveryCodesLeft(store, user), { left: 9, total: 10, createdAt: clock });
    const fresh = await generateRecoveryCodes(ctx, user);
    assert.equal(
      (await validator.validate({ user, pass: codes[1]!, client })).reason,
      'OTP_INVALID',
      'the old set is void',
    );
    assert.equal((await validator.validate({ user, pass: fresh[1]!, client })).result, 'accept');
    assert.equal(
      mails.some((m) => m.template === 'recovery-codes-regenerated' && m.to === `${user}@example.test`),
      true,
    );
  });

  test('recovery codes are guessed inside the lockout like any code', async () => {
    settings = {
      ...DEFAULT_SETTINGS,
      lockout: { threshold: 3, baseSeconds: 600, maxSeconds: 600 },
      throttle: { failuresPerWindow: 0, windowSeconds: 60 },
    };
    await enrolToken(ctx, user, { type: 'totp', secret: SAMPLE_SECRET });
    const [good] = await generateRecoveryCodes(ctx, user);
    for (let i = 0; i < 3; i++)
      assert.equal(
        (await validator.validate({ user, pass: 'aaaa-bbbb-cccc', client })).reason,
        'OTP_INVALID',
      );
    const locked = await validator.validate({ user, pass: good!, client });
    assert.equal(locked.reason, 'USER_LOCKED');
    assert.equal((await recoveryCodesLeft(store, user)).left, 10, 'nothing spent while locked');
  });

  test('with a PIN, a recovery code answers the challenge the PIN opened', async () => {
    await store.deleteUser(user);
    await createUser(ctx, { username: user, pin: '4711' });
    await enrolToken(ctx, user, { type: 'totp', secret: SAMPLE_SECRET });
    const [good] = await generateRecoveryCodes(ctx, user);
    const ch = await validator.validate({ user, pass: '4711', client });
    assert.equal(ch.result, 'challenge');
    const r = await validator.validate({ user, pass: good!, transactionId: ch.transactionId!, client });
    assert.equal(r.result, 'accept');
    const noPin = await validator.validate({
      user,
      pass: (await generateRecoveryCodes(ctx, user))[0]!,
      client,
    });
    assert.equal(noPin.result, 'reject', 'the code alone is not the PIN');
  });

  test('with a PIN, PIN ‖ recovery code in one pass is accepted once; a wrong PIN spends no code', async () => {
    await store.deleteUser(user);
    await createUser(ctx, { username: user, pin: '4711' });
    await enrolToken(ctx, user, { type: 'totp', secret: SAMPLE_SECRET });
    const [a, b, c] = await generateRecoveryCodes(ctx, user);
    const wrong = await validator.validate({ user, pass: `4712${a!}`, client });
    assert.equal(wrong.reason, 'PIN_INVALID');
    assert.equal((await recoveryCodesLeft(store, user)).left, 10, 'a wrong PIN spends no code');
    const ok = await validator.validate({ user, pass: `4711${a!}`, client });
    assert.equal(ok.result, 'accept');
    assert.equal(ok.method, 'recovery');
    assert.equal((await validator.validate({ user, pass: `4711${a!}`, client })).reason, 'OTP_INVALID');
    // as typed without dashes, and in capitals
    const bare = await validator.validate({
      user,
      pass: `4711${b!.replace(/-/g, '').toUpperCase()}`,
      client,
    });
    assert.equal(bare.result, 'accept');
    assert.equal((await recoveryCodesLeft(store, user)).left, 8);
    // a PIN that is a prefix of the right one, with the rest glued to the code, is no PIN
    assert.equal((await validator.validate({ user, pass: `471${c!}`, client })).reason, 'PIN_INVALID');
    assert.equal((await recoveryCodesLeft(store, user)).left, 8);
  });

  test('a temporary code: one-time works once; time-limited works until it expires; either can be mailed', async () => {
    await enrolToken(ctx, user, { type: 'totp', secret: SAMPLE_SECRET });
    const once = await issueTemporaryCode(ctx, user, {
      oneTime: true,
      validMinutes: 10,
      mailTo: 'second@example.test',
    });
    assert.equal(once.mailed, true);
    assert.equal(mails.at(-1)?.to, 'second@example.test');
    assert.equal(mails.at(-1)?.data.code, once.code);
    const a = await validator.validate({ user, pass: once.code, client });
    assert.equal(a.method, 'temporary');
    assert.equal((await validator.validate({ user, pass: once.code, client })).reason, 'OTP_INVALID');
    const timed = await issueTemporaryCode(ctx, user, { oneTime: false, validMinutes: 10 });
    assert.equal((await validator.validate({ user, pass: timed.code, client })).result, 'accept');
    assert.equal((await validator.validate({ user, pass: timed.code, client })).result, 'accept');
    clock += 10 * 60_000;
    assert.equal((await validator.validate({ user, pass: timed.code, client })).reason, 'OTP_INVALID');
    assert.ok(audit.some((e) => e.type === 'temporary-code.issue' && e.detail.username === user));
    assert.equal(JSON.stringify(audit).includes(timed.code), false, 'the code is not in the audit trail');
  });

  test('a temporary code logs in a user whose only token is marked lost; a guessed code is a counted failure, an OTP still NO_TOKEN', async () => {
    const { token } = await enrolToken(ctx, user, { type: 'totp', secret: SAMPLE_SECRET });
    await store.putToken({ ...token, status: 'locked' });
    const guess = 'abcd-efgh-ijkl';
    assert.equal((await validator.validate({ user, pass: guess, client })).reason, 'OTP_INVALID');
    assert.equal((await validator.validate({ user, pass: '123456', client })).reason, 'NO_TOKEN');
    const { code } = await issueTemporaryCode(ctx, user, { oneTime: true, validMinutes: 10 });
    const r = await validator.validate({ user, pass: code, client });
    assert.equal(r.result, 'accept');
    assert.equal(r.method, 'temporary');
    assert.equal((await validator.validate({ user, pass: code, client })).reason, 'OTP_INVALID');
  });

  test("an extra device: both work, the default moves, names are cleaned, other users' devices are out of reach", async () => {
    const { token: first } = await enrolToken(ctx, user, { type: 'totp', secret: SAMPLE_SECRET });
    const extra = await startNewDevice(ctx, user);
    assert.equal(await finishNewDevice(ctx, user, extra.token.serial, codeOf(extra.secret)), 'ok');
    let devices = await listDevices(ctx, user);
    assert.deepEqual(
      devices.map((d) => [d.serial, d.isDefault]),
      [
        [first.serial, true],
        [extra.token.serial, false],
      ],
    );
    await setDefaultDevice(ctx, user, extra.token.serial);
    await renameDevice(ctx, user, extra.token.serial, '  Tablet\u0000\u202e  ');
    devices = await listDevices(ctx, user);
    assert.deepEqual(
      devices.map((d) => [d.name, d.isDefault]),
      [
        ['Tablet', true],
        [first.description ?? first.serial, false],
      ],
    );
    await createUser(ctx, { username: `${user}-other` });
    await assert.rejects(setDefaultDevice(ctx, `${user}-other`, first.serial), /no such device/);
    await assert.rejects(renameDevice(ctx, `${user}-other`, first.serial, 'mine'), /no such device/);
    clock += 30_000;
    assert.equal((await validator.validate({ user, pass: codeOf(SAMPLE_SECRET), client })).result, 'accept');
    assert.equal((await validator.validate({ user, pass: codeOf(extra.secret), client })).result, 'accept');
  });
});
