import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { awaitFreshStep, totpNow } from '../harness/codes.ts';
import { Api, startTessera, type TesseraHandle } from '../harness/tessera.ts';

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
    await new Promise((r) => setTimeout(r, 5200)); // settings are cached for 5 s on each node
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
    await new Promise((r) => setTimeout(r, 5200));
    const { secret } = await admin.createUserWithTotp('l-expire');
    const ch = await client.ok('POST', '/v1/validate', { user: 'l-expire' });
    assert.equal(ch.result, 'challenge');
    await new Promise((r) => setTimeout(r, 1500));
    const r = await client.ok('POST', '/v1/validate', {
      user: 'l-expire',
      transactionId: ch.transactionId,
      pass: totpNow(secret),
    });
    assert.equal(r.reason, 'CHALLENGE_EXPIRED');
  });
});
