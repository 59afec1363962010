import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { awaitFreshStep, totpNow } from '../harness/codes.ts';
import { type RedisProcess, startRedis } from '../harness/redis.ts';
import { Api, type Json, startTessera, type TesseraHandle } from '../harness/tessera.ts';

describe('lockout, throttling and challenge expiry (real node)', () => {
  let node: TesseraHandle;
  let admin: Api;
  let client: Api;
  beforeAll(async () => {
    node = await startTessera();
    admin = new Api(node.url, node.adminKey);
    client = new Api(node.url, await admin.createClient('api'));
  });
  afterAll(async () => node.stop());

  test('lockout and throttling are on by default', async () => {
    const s = await admin.ok('GET', '/v1/admin/settings');
    assert.equal(s.lockout.threshold, 10);
    assert.ok(s.throttle.failuresPerWindow > 0 && s.throttle.failuresPerWindow <= 10);
  });

  test('a guesser is throttled after a handful of failures per window', async () => {
    await admin.createUserWithTotp('l-throttle');
    const reasons: string[] = [];
    for (let i = 0; i < 7; i++) {
      reasons.push((await client.ok('POST', '/v1/validate', { user: 'l-throttle', pass: '000000' })).reason);
    }
    assert.deepEqual(reasons.slice(5), ['USER_THROTTLED', 'USER_THROTTLED']);
  });

  test('N consecutive failures lock the user; unlock lets the right code in', async () => {
    await admin.ok('PATCH', '/v1/admin/settings', {
      lockout: { threshold: 3, baseSeconds: 600 },
      throttle: { failuresPerWindow: 100 },
    });
    // no wait: the node that changed the settings drops its cached copy at once
    const { secret } = await admin.createUserWithTotp('l-lock');
    for (let i = 0; i < 3; i++) await client.ok('POST', '/v1/validate', { user: 'l-lock', pass: '000001' });
    await awaitFreshStep();
    const locked = await client.ok('POST', '/v1/validate', { user: 'l-lock', pass: totpNow(secret) });
    assert.equal(locked.reason, 'USER_LOCKED');
    const shown = await admin.ok('GET', '/v1/admin/users/l-lock');
    assert.equal(shown.locked, true);
    await admin.ok('POST', '/v1/admin/users/l-lock/unlock');
    const ok = await client.ok('POST', '/v1/validate', { user: 'l-lock', pass: totpNow(secret) });
    assert.equal(ok.result, 'accept');
  });

  test('an unanswered challenge expires', async () => {
    await admin.ok('PATCH', '/v1/admin/settings', { challengeTtlSeconds: 1 });
    const { secret } = await admin.createUserWithTotp('l-expire');
    const ch = await client.ok('POST', '/v1/validate', { user: 'l-expire' });
    assert.equal(ch.result, 'challenge');
    await new Promise((r) => setTimeout(r, 1500)); // past the 1 s lifetime: the expiry is the event
    const r = await client.ok('POST', '/v1/validate', {
      user: 'l-expire',
      transactionId: ch.transactionId,
      pass: totpNow(secret),
    });
    assert.equal(r.reason, 'CHALLENGE_EXPIRED');
  });
});

// 300 parallel wrong guesses for one user, on both stores: the attempt is reserved atomically
// before any PIN or code is evaluated, so no more guesses are evaluated than the limits allow.
// "Evaluated" is what the answer and the audit trail say: OTP_INVALID / PIN_INVALID, against
// USER_THROTTLED / USER_LOCKED for the ones refused unevaluated.
for (const backend of ['embedded', 'redis'] as const) {
  describe(`300 parallel guesses on the ${backend} store (real node)`, () => {
    let redis: RedisProcess | undefined;
    let node: TesseraHandle;
    let admin: Api;
    let client: Api;
    beforeAll(async () => {
      if (backend === 'redis') redis = await startRedis();
      node = await startTessera({ env: redis ? { TESSERA_REDIS_URL: redis.url } : {} });
      admin = new Api(node.url, node.adminKey);
      client = new Api(node.url, await admin.createClient('api'));
    });
    afterAll(async () => {
      await node?.stop();
      await redis?.stop();
    });

    const flood = async (user: string, pass: (i: number) => string) => {
      const answers = await Promise.all(
        Array.from({ length: 300 }, (_, i) => client.call('POST', '/v1/validate', { user, pass: pass(i) })),
      );
      assert.ok(
        answers.every((a) => a.status === 200),
        JSON.stringify(answers.find((a) => a.status !== 200)),
      );
      const reasons: Record<string, number> = {};
      for (const a of answers) reasons[a.body.reason] = (reasons[a.body.reason] ?? 0) + 1;
      // A batch the sink is writing when the audit is read may land a moment later: wait for it.
      let events: Json[] = [];
      for (const until = Date.now() + 10_000; events.length < answers.length && Date.now() < until; ) {
        events = (await admin.ok('GET', '/v1/admin/audit?limit=1000')).items.filter(
          (e: Json) => e.type === 'validate' && e.username === user,
        );
      }
      const audited: Record<string, number> = {};
      for (const e of events) audited[e.reason] = (audited[e.reason] ?? 0) + 1;
      assert.deepEqual(audited, reasons, 'the audit trail tells the same story');
      return reasons;
    };
    const wrongCode = (secret: string, i: number) => {
      const near = new Set([-1, 0, 1].map((o) => totpNow(secret, { offsetSteps: o })));
      for (let x = i * 3331; ; x++) {
        const c = String(x % 1_000_000).padStart(6, '0');
        if (!near.has(c)) return c;
      }
    };

    test('with the default throttle only its window is evaluated, with and without a PIN', async () => {
      await admin.ok('PATCH', '/v1/admin/settings', {
        lockout: { threshold: 10 },
        throttle: { failuresPerWindow: 5, windowSeconds: 60 },
      });
      const a = await admin.createUserWithTotp(`f-${backend}-code`);
      assert.deepEqual(await flood(`f-${backend}-code`, (i) => wrongCode(a.secret, i)), {
        OTP_INVALID: 5,
        USER_THROTTLED: 295,
      });
      const b = await admin.createUserWithTotp(`f-${backend}-pin`, { pin: '4711' });
      assert.deepEqual(await flood(`f-${backend}-pin`, (i) => `${String(1000 + i)}${totpNow(b.secret)}`), {
        PIN_INVALID: 5,
        USER_THROTTLED: 295,
      });
      await awaitFreshStep();
      const late = await client.ok('POST', '/v1/validate', {
        user: `f-${backend}-pin`,
        pass: `4711${totpNow(b.secret)}`,
      });
      assert.equal(late.reason, 'USER_THROTTLED', 'a right PIN and code in the same window is refused too');
    });

    test('with the throttle off at most the lockout threshold is evaluated, then the user is locked', async () => {
      await admin.ok('PATCH', '/v1/admin/settings', {
        lockout: { threshold: 10, baseSeconds: 600 },
        throttle: { failuresPerWindow: 0 },
      });
      const a = await admin.createUserWithTotp(`l-${backend}-code`);
      assert.deepEqual(await flood(`l-${backend}-code`, (i) => wrongCode(a.secret, i)), {
        OTP_INVALID: 10,
        USER_LOCKED: 290,
      });
      const b = await admin.createUserWithTotp(`l-${backend}-pin`, { pin: '4711' });
      assert.deepEqual(await flood(`l-${backend}-pin`, (i) => `${String(1000 + i)}${totpNow(b.secret)}`), {
        PIN_INVALID: 10,
        USER_LOCKED: 290,
      });
      await awaitFreshStep();
      for (const [user, pass] of [
        [`l-${backend}-code`, totpNow(a.secret)],
        [`l-${backend}-pin`, `4711${totpNow(b.secret)}`],
      ] as const) {
        assert.equal((await admin.ok('GET', `/v1/admin/users/${user}`)).locked, true);
        assert.equal((await client.ok('POST', '/v1/validate', { user, pass })).reason, 'USER_LOCKED');
        await admin.ok('POST', `/v1/admin/users/${user}/unlock`);
        assert.equal((await client.ok('POST', '/v1/validate', { user, pass })).result, 'accept');
      }
    });
  });
}
