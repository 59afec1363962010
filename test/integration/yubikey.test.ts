// YubiKey (Yubico OTP) over the admin and validate APIs of a real node, with OTPs made by Debian's
// libyubikey (ykgenerate): Yubico's code makes them, ours checks them.
import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, test } from 'vitest';
import type { Api, TesseraHandle } from '../harness/tessera.ts';
import { newTestYubikey, startYubikeyNode, type TestYubikey, ykgenerate } from '../harness/ykgenerate.ts';

describe('YubiKey OTP, cross-checked with ykgenerate', () => {
  let node: TesseraHandle;
  let admin: Api;
  let client: Api;

  beforeAll(async () => {
    ({ node, admin, client } = await startYubikeyNode());
    await admin.ok('PATCH', '/v1/admin/settings', {
      throttle: { failuresPerWindow: 0 },
      lockout: { threshold: 50 },
    });
  });
  afterAll(async () => {
    await node?.stop();
  });

  const validate = async (body: Record<string, unknown>) => {
    const r = await client.call('POST', '/v1/validate', body);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return [r.body.result, r.body.reason];
  };
  const enrol = async (user: string, key: TestYubikey, pin?: string) => {
    await admin.ok('POST', '/v1/admin/users', { username: user, ...(pin ? { pin } : {}) });
    return admin.call('POST', `/v1/admin/users/${user}/tokens`, { type: 'yubikey', ...key });
  };

  test("enrolment takes the tool's values and shows no secret back", async () => {
    const key = newTestYubikey();
    const r = await enrol('yk-enrol', key);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.type, 'yubikey');
    assert.equal(r.body.publicId, key.publicId);
    const text = JSON.stringify(r.body) + JSON.stringify(await admin.ok('GET', '/v1/admin/users/yk-enrol'));
    assert.ok(!text.includes(key.aesKey) && !text.includes(key.privateId), 'no secret in any answer');
    const again = await admin.call('POST', '/v1/admin/users/yk-enrol/tokens', { type: 'yubikey', ...key });
    assert.equal(again.status, 409, 'one key is enrolled once');
    // not even for another user, and never under a serial of the caller's choosing: one key under two
    // serials would keep two counters, so an OTP spent under one would be accepted under the other
    await admin.ok('POST', '/v1/admin/users', { username: 'yk-other' });
    const other = await admin.call('POST', '/v1/admin/users/yk-other/tokens', { type: 'yubikey', ...key });
    assert.equal(other.status, 409, 'the same key for another user');
    const named = await admin.call('POST', '/v1/admin/users/yk-other/tokens', {
      type: 'yubikey',
      ...key,
      serial: 'MYKEY1',
    });
    assert.equal(named.status, 400, 'a serial of the caller is refused');
    assert.equal((await admin.ok('GET', '/v1/admin/users/yk-other/tokens')).items.length, 0);
    for (const bad of [
      { ...key, aesKey: key.aesKey.slice(2) },
      { ...key, privateId: 'xyz' },
      { ...key, publicId: '0123' },
      { ...key, extra: 1 },
    ]) {
      const refused = await admin.call('POST', '/v1/admin/users/yk-enrol/tokens', {
        type: 'yubikey',
        ...bad,
      });
      assert.equal(refused.status, 400, JSON.stringify(bad));
    }
    const weak = await admin.call('POST', '/v1/admin/users/yk-enrol/tokens', {
      type: 'yubikey',
      ...newTestYubikey(),
      aesKey: '00'.repeat(16),
    });
    assert.deepEqual([weak.status, weak.body.error.code], [400, 'WEAK_SECRET']);
  });

  test('OTPs from ykgenerate: counters moving forward are accepted, older ones refused', async () => {
    const key = newTestYubikey();
    await enrol('yk-gen', key);
    const v = (otp: string) => validate({ user: 'yk-gen', pass: otp });
    assert.deepEqual(await v(ykgenerate(key, 0x13, 0x10)), ['accept', 'OK']);
    assert.deepEqual(await v(ykgenerate(key, 0x13, 0x11)), ['accept', 'OK'], 'next press');
    assert.deepEqual(await v(ykgenerate(key, 0x13, 0x11)), ['reject', 'OTP_REUSED'], 'same counters again');
    assert.deepEqual(await v(ykgenerate(key, 0x13, 0x05)), ['reject', 'OTP_REUSED'], 'earlier press');
    assert.deepEqual(await v(ykgenerate(key, 0x14, 0x00)), ['accept', 'OK'], 'next power-up');
    assert.deepEqual(await v(ykgenerate(key, 0x13, 0xff)), ['reject', 'OTP_REUSED'], 'earlier power-up');
    // caps lock sets the counter's top bit: the same position, not a jump to 32768 power-ups
    assert.deepEqual(await v(ykgenerate(key, 0x8014, 0x01)), ['accept', 'OK']);
    assert.deepEqual(await v(ykgenerate(key, 0x14, 0x02)), ['accept', 'OK']);
  });

  test('the same OTP sent in parallel is accepted once', async () => {
    const key = newTestYubikey();
    await enrol('yk-race', key);
    const otp = ykgenerate(key, 3, 0);
    const results = await Promise.all(
      Array.from({ length: 16 }, () => validate({ user: 'yk-race', pass: otp })),
    );
    assert.equal(results.filter(([r]) => r === 'accept').length, 1);
    assert.ok(
      results.every(([r, reason]) => r === 'accept' || reason === 'OTP_REUSED'),
      JSON.stringify(results),
    );
  });

  test('PIN + OTP in one pass, and the OTP as the answer of a challenge', async () => {
    const key = newTestYubikey();
    await enrol('yk-pin', key, '2468');
    assert.deepEqual(await validate({ user: 'yk-pin', pass: `2468${ykgenerate(key, 1, 0)}` }), [
      'accept',
      'OK',
    ]);
    const ch = await client.call('POST', '/v1/validate', { user: 'yk-pin', pass: '2468' });
    assert.equal(ch.body.result, 'challenge');
    const answer = ykgenerate(key, 1, 1);
    assert.deepEqual(await validate({ user: 'yk-pin', pass: answer, transactionId: ch.body.transactionId }), [
      'accept',
      'OK',
    ]);
    const ch2 = await client.call('POST', '/v1/validate', { user: 'yk-pin', pass: '2468' });
    assert.deepEqual(
      await validate({ user: 'yk-pin', pass: answer, transactionId: ch2.body.transactionId }),
      ['reject', 'OTP_REUSED'],
    );
  });

  test('malformed OTPs are rejected, each with its own reason', async () => {
    const key = newTestYubikey();
    await enrol('yk-bad', key);
    const good = ykgenerate(key, 9, 0);
    const v = (pass: string) => validate({ user: 'yk-bad', pass });
    assert.deepEqual(await v(good.slice(0, -1)), ['reject', 'YUBIKEY_BAD_LENGTH']);
    assert.deepEqual(await v(`${good.slice(0, -2)}x${good.slice(-1)}`), ['reject', 'YUBIKEY_BAD_MODHEX']);
    assert.deepEqual(await v(ykgenerate(newTestYubikey(), 9, 0)), ['reject', 'YUBIKEY_UNKNOWN']);
    const foreign = ykgenerate({ ...newTestYubikey(), publicId: key.publicId }, 9, 0);
    assert.deepEqual(await v(foreign), ['reject', 'YUBIKEY_CRC']);
    assert.deepEqual(await v(good), ['accept', 'OK']);
  });
});
