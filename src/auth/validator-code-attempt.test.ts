// The code-only login (no PIN) tried as an attacker would, on the three ways the validator runs it:
// one atomic step (decideAttempt, the embedded store), the verdict reached from the state read and
// then reserved and committed in one script (settleAttempt, the Redis store), and reserve → check →
// commit (a store with neither).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, test } from 'vitest';
import { type RedisProcess, startRedis } from '../../test/harness/redis.ts';
import type { AdminContext } from '../admin/context.ts';
import { createUser, enrolToken } from '../admin/index.ts';
import { KeyRing } from '../crypto/index.ts';
import { type Client, DEFAULT_SETTINGS, type Settings } from '../model/index.ts';
import { base32Decode, timeStep, totpAt } from '../otp/index.ts';
import { SAMPLE_SECRET, SAMPLE_TOTP, sampleClient, withoutDecideAttempt } from '../store/fixtures.ts';
import { openEmbeddedStore, type Store } from '../store/index.ts';
import { openRedisStore } from '../store/redis/index.ts';
import { Validator } from './validator.ts';

const client: Client = sampleClient('c1', { name: 'test', kind: 'api' });

/** A key ring that counts how many seeds it opened: one per evaluated code. */
function countingRing(ring: KeyRing): { ring: KeyRing; opened: () => number } {
  let opened = 0;
  const counting = new Proxy(ring, {
    get: (target, prop) => {
      if (prop === 'open')
        return (sealed: string, aad: string) => {
          opened++;
          return target.open(sealed, aad);
        };
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { ring: counting, opened: () => opened };
}

let redis: RedisProcess | undefined;
afterAll(async () => {
  await redis?.stop();
});

for (const path of ['one step', 'verdict, then settle', 'reserve, check, commit'] as const) {
  describe(`a code alone (${path})`, () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-code-attempt-'));
    let base: Store = openEmbeddedStore(dir);
    let store = withoutDecideAttempt(base);
    beforeAll(async () => {
      if (path === 'one step') store = base;
      if (path !== 'verdict, then settle') return;
      await base.close();
      redis ??= await startRedis();
      base = await openRedisStore({ url: redis.url, prefix: `ca${Date.now()}:` });
      store = base;
    });
    const keyring = KeyRing.generate();
    const counted = countingRing(keyring);
    let settings: Settings = DEFAULT_SETTINGS;
    const clock = 1_700_000_000_000;
    const admin = (): AdminContext => ({ store, keyring, settings: async () => settings, audit: () => {} });
    const errors: object[] = [];
    const make = (ring: KeyRing) =>
      new Validator({
        get store() {
          return store;
        },
        keyring: ring,
        settings: async () => settings,
        audit: { record() {} },
        now: () => clock,
        log: { error: (obj) => errors.push(obj) },
      });
    const validator = make(counted.ring);
    const code = (offset = 0) => totpAt(SAMPLE_TOTP, timeStep(clock, 30) + offset);
    let n = 0;
    let user = '';
    const v = (pass: string) => validator.validate({ user, pass, client });
    const state = async () => (await store.loadAuthView(user))!.userState;

    beforeEach(async () => {
      settings = DEFAULT_SETTINGS;
      user = `c${n++}`;
      await createUser(admin(), { username: user });
      await enrolToken(admin(), user, { type: 'totp', secret: SAMPLE_SECRET });
    });
    afterAll(async () => {
      await base.close();
      rmSync(dir, { recursive: true, force: true });
    });

    test('the store path in use is the one named', () => {
      assert.equal(typeof store.decideAttempt, path === 'one step' ? 'function' : 'undefined');
      assert.equal(typeof store.settleAttempt, path === 'verdict, then settle' ? 'function' : 'undefined');
    });

    test('one right code sent 40 times at once is accepted exactly once; the rest are OTP_REUSED', async () => {
      // Limits off, so that every copy is evaluated and only the replay check stands between them.
      settings = {
        ...DEFAULT_SETTINGS,
        lockout: { threshold: 0, baseSeconds: 60, maxSeconds: 60 },
        throttle: { failuresPerWindow: 0, windowSeconds: 60 },
      };
      const answers = await Promise.all(Array.from({ length: 40 }, () => v(code())));
      assert.equal(answers.filter((a) => a.result === 'accept').length, 1);
      assert.equal(answers.filter((a) => a.reason === 'OTP_REUSED').length, 39);
      assert.equal((await v(code())).reason, 'OTP_REUSED', 'and stays used');
      assert.equal((await v(code(-1))).reason, 'OTP_REUSED', 'an older code is refused after it');
    });

    test('with two tokens, the code of each sent 40 times at once is accepted exactly once', async () => {
      // Whichever token the store reads last, the other one's code is the one it must read again
      // before advancing it: both are tried.
      settings = {
        ...DEFAULT_SETTINGS,
        lockout: { threshold: 0, baseSeconds: 60, maxSeconds: 60 },
        throttle: { failuresPerWindow: 0, windowSeconds: 60 },
      };
      const other = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
      await enrolToken(admin(), user, { type: 'totp', secret: other });
      const otherCode = totpAt({ ...SAMPLE_TOTP, secret: base32Decode(other)! }, timeStep(clock, 30));
      assert.notEqual(otherCode, code());
      for (const pass of [code(), otherCode]) {
        const answers = await Promise.all(Array.from({ length: 40 }, () => v(pass)));
        assert.equal(answers.filter((a) => a.result === 'accept').length, 1, pass);
        assert.equal(answers.filter((a) => a.reason === 'OTP_REUSED').length, 39, pass);
        assert.equal((await v(pass)).reason, 'OTP_REUSED', 'and stays used');
      }
    });

    test('60 parallel wrong codes: only the throttle window is evaluated', async () => {
      settings = { ...DEFAULT_SETTINGS, throttle: { failuresPerWindow: 5, windowSeconds: 60 } };
      const before = counted.opened();
      const wrong = (i: number) => (String(100000 + i) === code() ? '099999' : String(100000 + i));
      const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => v(wrong(i))));
      assert.equal(answers.filter((a) => a.reason === 'OTP_INVALID').length, 5);
      assert.equal(answers.filter((a) => a.reason === 'USER_THROTTLED').length, 55);
      // On the settle path every verdict is reached before its reservation (Redis cannot call back
      // into Node inside a script); a refused one changes nothing and its answer does not depend on it.
      if (path !== 'verdict, then settle')
        assert.equal(counted.opened() - before, 5, 'the refused ones opened no seed');
      const s = await state();
      assert.deepEqual([s.failures, s.windowFailures], [5, 5], 'exactly the evaluated ones are counted');
      assert.equal((await v(code())).reason, 'USER_THROTTLED', 'and the right code is refused too');
    });

    test('wrong codes lock at the threshold; the right code is then refused and stays unused', async () => {
      settings = {
        ...DEFAULT_SETTINGS,
        lockout: { threshold: 3, baseSeconds: 60, maxSeconds: 60 },
        throttle: { failuresPerWindow: 0, windowSeconds: 60 },
      };
      const wrong = code() === '000000' ? '111111' : '000000';
      const answers = await Promise.all(Array.from({ length: 30 }, () => v(wrong)));
      assert.equal(answers.filter((a) => a.reason === 'OTP_INVALID').length, 3);
      assert.equal(answers.filter((a) => a.reason === 'USER_LOCKED').length, 27);
      assert.match(
        answers.find((a) => a.reason === 'OTP_INVALID' && a.message?.includes('locked'))?.message ?? '',
        /locked/,
      );
      assert.ok((await state()).lockedUntil > clock);
      assert.equal((await v(code())).reason, 'USER_LOCKED');
      await store.unlockUser(user);
      assert.equal((await v(code())).result, 'accept', 'the code was not spent by the refusal');
    });

    test('a node with another seed key answers SEED_UNREADABLE, counts nothing, logs no secret', async () => {
      const stranger = make(KeyRing.generate());
      errors.length = 0;
      for (let i = 0; i < 4; i++) {
        const r = await stranger.validate({ user, pass: code(), client });
        assert.deepEqual([r.result, r.reason], ['reject', 'SEED_UNREADABLE']);
      }
      const s = await state();
      assert.deepEqual([s.failures, s.windowFailures], [0, 0]);
      assert.equal(errors.length, 4);
      assert.ok(!JSON.stringify(errors).includes(code()));
      assert.equal((await v(code())).result, 'accept', 'the right node still accepts the code');
    });

    test('an accept reports the serial and method; a wrong code counts one failure', async () => {
      const ok = await v(code(1));
      assert.equal(ok.result, 'accept');
      assert.equal(ok.method, 'totp');
      assert.ok(ok.serial);
      const bad = await v(code() === '123456' ? '654321' : '123456');
      assert.equal(bad.reason, 'OTP_INVALID');
      assert.equal((await state()).failures, 1);
    });
  });
}
