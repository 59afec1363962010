import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'vitest';
import { findHotpPair, hotp, MAX_SECRET_BYTES, MIN_SECRET_BYTES } from './index.ts';

/** RFC 4226 section 5.3, written out with node:crypto, as the reference for secrets otplib refuses by default. */
function reference(secret: Uint8Array, counter: number): string {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac('sha1', secret).update(msg).digest();
  const at = mac[mac.length - 1]! & 0x0f;
  return String((mac.readUInt32BE(at) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

test('a 10-byte secret (the enrolment floor) gives RFC 4226 codes instead of an exception', () => {
  assert.equal(MIN_SECRET_BYTES, 10);
  const secret = new Uint8Array(Buffer.from('0123456789', 'ascii'));
  const params = { secret, algorithm: 'SHA1' as const, digits: 6 as const };
  for (const counter of [0, 1, 7, 1000]) assert.equal(hotp(params, counter), reference(secret, counter));
  assert.equal(findHotpPair(params, reference(secret, 7), reference(secret, 8), 0, 20), 7);
});

test('a 128-byte secret (the enrolment ceiling) gives RFC 4226 codes instead of an exception', () => {
  assert.equal(MAX_SECRET_BYTES, 128);
  const secret = new Uint8Array(128).map((_, i) => (i * 37 + 11) & 0xff);
  const params = { secret, algorithm: 'SHA1' as const, digits: 6 as const };
  for (const counter of [0, 1, 7, 1000]) assert.equal(hotp(params, counter), reference(secret, counter));
});

test('secrets outside the enrolment bounds are still refused', () => {
  for (const bytes of [9, 129]) {
    const params = { secret: new Uint8Array(bytes).fill(1), algorithm: 'SHA1' as const, digits: 6 as const };
    assert.throws(() => hotp(params, 0), `${bytes} bytes`);
  }
});
