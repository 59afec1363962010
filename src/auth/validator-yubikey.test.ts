// YubiKey (Yubico OTP) logins tried as an attacker would: replays, older OTPs, parallel sends,
// malformed OTPs each with their own reason, and PIN + OTP in one pass, on both ways the validator
// runs a code (one atomic step on the embedded store; reserve → check → commit as on Redis).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, test } from 'vitest';
import type { AdminContext } from '../admin/context.ts';
import { createUser, enrolToken, enrolYubikey, randomYubikey, resyncToken } from '../admin/index.ts';
import { KeyRing } from '../crypto/index.ts';
import { type Client, DEFAULT_SETTINGS } from '../model/index.ts';
import { timeStep, totpAt } from '../otp/index.ts';
import { generateOtp } from '../otp/yubico/index.ts';
import { SAMPLE_SECRET, SAMPLE_TOTP, sampleClient, withoutDecideAttempt } from '../store/fixtures.ts';
import { openEmbeddedStore } from '../store/index.ts';
import { Validator } from './validator.ts';

const client: Client = sampleClient('c1', { name: 'test', kind: 'api' });

type Key = ReturnType<typeof randomYubikey>;
function otp(key: Key, usageCounter: number, sessionCounter: number): string {
  return generateOtp(key.publicId, Buffer.from(key.aesKey, 'hex'), {
    privateId: Buffer.from(key.privateId, 'hex'),
    usageCounter,
    sessionCounter,
    timestamp: 1000 + sessionCounter,
    random: usageCounter * 7 + sessionCounter,
  });
}

for (const path of ['one step', 'reserve, check, commit'] as const) {
  describe(`YubiKey OTP (${path})`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-yubikey-'));
    const embedded = openEmbeddedStore(dir);
    const store = path === 'one step' ? embedded : withoutDecideAttempt(embedded);
    const keyring = KeyRing.generate();
    const clock = 1_700_000_000_000;
    // Limits out of the way, to see every reason; the limits themselves hold for any code (validator tests).
    const settings = async () => ({
      ...DEFAULT_SETTINGS,
      lockout: { ...DEFAULT_SETTINGS.lockout, threshold: 50 },
      throttle: { ...DEFAULT_SETTINGS.throttle, failuresPerWindow: 0 },
    });
    const admin: AdminContext = { store, keyring, settings, audit: () => {} };
    const validator = new Validator({ store, keyring, settings, audit: { record() {} }, now: () => clock });
    let n = 0;
    let user = '';
    let key: Key;
    const v = async (pass: string, transactionId?: string) => {
      const r = await validator.validate({ user, pass, client, ...(transactionId ? { transactionId } : {}) });
      return [r.result, r.reason];
    };

    beforeEach(async () => {
      user = `y${n++}`;
      key = randomYubikey();
      await createUser(admin, { username: user });
      await enrolYubikey(admin, user, key);
    });
    afterAll(async () => {
      await embedded.close();
      rmSync(dir, { recursive: true, force: true });
    });

    test('a key marked for resync (a restore) accepts nothing until two consecutive OTPs resync it', async () => {
      const serial = `YK${key.publicId}`;
      assert.deepEqual(await v(otp(key, 5, 3)), ['accept', 'OK']);
      const token = await store.getToken(serial);
      await store.putToken({ ...token!, resyncRequired: true });
      assert.deepEqual(await v(otp(key, 5, 4)), ['reject', 'RESYNC_REQUIRED']);
      for (const [a, b] of [
        [otp(key, 5, 10), otp(key, 5, 12)],
        [otp(key, 5, 11), otp(key, 5, 10)],
        [otp(key, 5, 2), otp(key, 5, 3)],
        [otp(key, 5, 10), otp(randomYubikey(), 5, 11)],
      ] as const)
        await assert.rejects(resyncToken(admin, user, serial, a, b), /RESYNC_FAILED|not consecutive/);
      assert.equal((await store.getToken(serial))?.resyncRequired, true, 'a failed resync changes nothing');
      await resyncToken(admin, user, serial, otp(key, 5, 10), otp(key, 5, 11));
      assert.deepEqual(await v(otp(key, 5, 11)), ['reject', 'OTP_REUSED'], 'the resync OTPs are spent');
      assert.deepEqual(await v(otp(key, 5, 8)), ['reject', 'OTP_REUSED'], 'so is anything before them');
      assert.deepEqual(await v(otp(key, 5, 12)), ['accept', 'OK']);
    });

    test('counters only move forward: a replay and an older OTP are refused', async () => {
      assert.deepEqual(await v(otp(key, 5, 3)), ['accept', 'OK']);
      assert.deepEqual(await v(otp(key, 5, 3)), ['reject', 'OTP_REUSED'], 'the same OTP again');
      assert.deepEqual(await v(otp(key, 5, 2)), ['reject', 'OTP_REUSED'], 'earlier in the session');
      assert.deepEqual(await v(otp(key, 4, 200)), ['reject', 'OTP_REUSED'], 'an earlier power-up');
      assert.deepEqual(await v(otp(key, 5, 4)), ['accept', 'OK'], 'the next press');
      assert.deepEqual(await v(otp(key, 6, 0)), ['accept', 'OK'], 'the next power-up');
      assert.deepEqual(
        await v(otp(key, 5, 9)),
        ['reject', 'OTP_REUSED'],
        'a held-back OTP of the last session',
      );
      const state = await store.getTokenState(`YK${key.publicId}`);
      assert.equal(state.counter, 6 * 256 + 1, 'the next position the key may send');
    });

    test('one OTP sent many times at once is accepted exactly once', async () => {
      const code = otp(key, 9, 1);
      const results = await Promise.all(Array.from({ length: 12 }, () => v(code)));
      assert.equal(results.filter(([r]) => r === 'accept').length, 1);
      assert.deepEqual(
        results.filter(([r]) => r !== 'accept').map(([, reason]) => reason),
        Array(11).fill('OTP_REUSED'),
      );
    });

    test('malformed OTPs: each its own reason, and each a counted failure', async () => {
      const good = otp(key, 2, 0);
      assert.deepEqual(await v(good.slice(1)), ['reject', 'YUBIKEY_BAD_LENGTH']);
      assert.deepEqual(await v('123456'), ['reject', 'YUBIKEY_BAD_LENGTH'], 'digits, and no other token');
      assert.deepEqual(await v(`${good.slice(0, -1)}a`), ['reject', 'YUBIKEY_BAD_MODHEX']);
      const other = randomYubikey();
      assert.deepEqual(await v(otp({ ...key, publicId: other.publicId }, 2, 0)), [
        'reject',
        'YUBIKEY_UNKNOWN',
      ]);
      const flipped = `${good.slice(0, 20)}${good[20] === 'c' ? 'b' : 'c'}${good.slice(21)}`;
      assert.deepEqual(await v(flipped), ['reject', 'YUBIKEY_CRC']);
      assert.deepEqual(await v(otp({ ...other, publicId: key.publicId }, 2, 0)), ['reject', 'YUBIKEY_CRC']);
      // the right AES key with another private id: a forgery, a wrong code
      assert.deepEqual(await v(otp({ ...key, privateId: other.privateId }, 2, 0)), ['reject', 'OTP_INVALID']);
      assert.equal((await store.loadAuthView(user))!.userState.failures, 7);
      assert.deepEqual(await v(good), ['accept', 'OK']);
    });

    test('caps lock: the OTP typed in capitals is the same OTP', async () => {
      const code = otp(key, 3, 1);
      assert.deepEqual(await v(code.toUpperCase()), ['accept', 'OK']);
      assert.deepEqual(await v(code), ['reject', 'OTP_REUSED']);
    });

    test('beside a TOTP token: a wrong six-digit code is OTP_INVALID, both tokens work', async () => {
      await enrolToken(admin, user, { type: 'totp', secret: SAMPLE_SECRET });
      assert.deepEqual(await v('000000'), ['reject', 'OTP_INVALID']);
      assert.deepEqual(await v(totpAt(SAMPLE_TOTP, timeStep(clock, 30))), ['accept', 'OK']);
      assert.deepEqual(await v(otp(key, 1, 1)), ['accept', 'OK']);
      assert.deepEqual(await v(otp(key, 1, 1).slice(2)), ['reject', 'YUBIKEY_BAD_LENGTH']);
    });

    test('a public id of another length (the tool allows 1 to 16 bytes)', async () => {
      const long = { ...randomYubikey(), publicId: 'vvccccccccccccccccccccccccccccbb' };
      await enrolYubikey(admin, user, long);
      assert.deepEqual(await v(otp(long, 1, 0)), ['accept', 'OK']);
      const short = { ...randomYubikey(), publicId: 'vb' };
      await enrolYubikey(admin, user, short);
      assert.deepEqual(await v(otp(short, 1, 0)), ['accept', 'OK']);
      assert.deepEqual(await v(otp(key, 1, 0)), ['accept', 'OK']);
    });

    test('PIN + OTP in one pass; the PIN alone starts a challenge the OTP answers', async () => {
      const { updateUser } = await import('../admin/index.ts');
      await updateUser(admin, user, { pin: '4711' });
      assert.deepEqual(await v(`4711${otp(key, 7, 0)}`), ['accept', 'OK']);
      assert.deepEqual(await v(`4711${otp(key, 7, 0)}`), ['reject', 'OTP_REUSED']);
      assert.deepEqual(await v(`4712${otp(key, 7, 1)}`), ['reject', 'PIN_INVALID']);
      assert.deepEqual(await v(otp(key, 7, 1)), ['reject', 'PIN_INVALID'], 'the OTP without its PIN');
      const flipped = otp(key, 7, 2).replace(/.$/, (c) => (c === 'c' ? 'b' : 'c'));
      assert.deepEqual(await v(`4711${flipped}`), ['reject', 'YUBIKEY_CRC']);
      assert.deepEqual(await v(`4711${otp(key, 7, 3).replace(/.$/, 'x')}`), ['reject', 'YUBIKEY_BAD_MODHEX']);
      const first = await validator.validate({ user, pass: '4711', client });
      assert.equal(first.result, 'challenge');
      assert.deepEqual(await v(otp(key, 7, 4), first.transactionId), ['accept', 'OK']);
      const again = await validator.validate({ user, pass: '4711', client });
      assert.deepEqual(await v(otp(key, 7, 4), again.transactionId), ['reject', 'OTP_REUSED']);
    });

    test('a switched-off method refuses the key', async () => {
      const { updateUser } = await import('../admin/index.ts');
      await updateUser(admin, user, { methods: { yubikey: 'disabled' } });
      assert.deepEqual(await v(otp(key, 1, 0)), ['reject', 'METHOD_DISABLED']);
    });
  });
}
