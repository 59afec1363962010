import assert from 'node:assert/strict';
import { test } from 'vitest';
import {
  base32Decode,
  base32Encode,
  findHotpCounter,
  findHotpPair,
  findTotpStep,
  hotp,
  timeStep,
  totpAt,
} from './index.ts';

const ascii = (s: string) => new Uint8Array(Buffer.from(s, 'ascii'));
const seed20 = ascii('12345678901234567890');
const seed32 = ascii('12345678901234567890123456789012');
const seed64 = ascii('1234567890123456789012345678901234567890123456789012345678901234');

test('HOTP matches the RFC 4226 Appendix D values', () => {
  const expected = [
    '755224',
    '287082',
    '359152',
    '969429',
    '338314',
    '254676',
    '287922',
    '162583',
    '399871',
    '520489',
  ];
  expected.forEach((code, counter) => {
    assert.equal(hotp({ secret: seed20, algorithm: 'SHA1', digits: 6 }, counter), code);
  });
});

test('TOTP matches the RFC 6238 Appendix B values for SHA1, SHA256 and SHA512', () => {
  const rows: [number, string, string, string][] = [
    [59, '94287082', '46119246', '90693936'],
    [1111111109, '07081804', '68084774', '25091201'],
    [1111111111, '14050471', '67062674', '99943326'],
    [1234567890, '89005924', '91819424', '93441116'],
    [2000000000, '69279037', '90698825', '38618901'],
    [20000000000, '65353130', '77737706', '47863826'],
  ];
  for (const [seconds, sha1, sha256, sha512] of rows) {
    const step = timeStep(seconds * 1000, 30);
    assert.equal(totpAt({ secret: seed20, algorithm: 'SHA1', digits: 8, period: 30 }, step), sha1);
    assert.equal(totpAt({ secret: seed32, algorithm: 'SHA256', digits: 8, period: 30 }, step), sha256);
    assert.equal(totpAt({ secret: seed64, algorithm: 'SHA512', digits: 8, period: 30 }, step), sha512);
  }
});

test('base32 round-trips and rejects foreign characters', () => {
  assert.equal(base32Encode(seed20), 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
  assert.deepEqual(base32Decode('gezd gnbv gy3t qojq gezd gnbv gy3t qojq'), seed20);
  assert.equal(base32Decode('GEZ1'), null);
});

test('HOTP search finds a counter inside the look-ahead only', () => {
  const p = { secret: seed20, algorithm: 'SHA1' as const, digits: 6 as const };
  assert.equal(findHotpCounter(p, '969429', 0, 10), 3);
  assert.equal(findHotpCounter(p, '969429', 4, 10), null);
  assert.equal(findHotpCounter(p, '96942', 0, 10), null);
  assert.equal(findHotpPair(p, '254676', '287922', 0, 1000), 5);
  assert.equal(findHotpPair(p, '254676', '162583', 0, 1000), null);
});

test('TOTP search prefers the step nearest the expected one', () => {
  const p = { secret: seed20, algorithm: 'SHA1' as const, digits: 6 as const, period: 30 as const };
  const code = totpAt(p, 1000);
  assert.equal(findTotpStep(p, code, 999, 1001, 1000), 1000);
  assert.equal(findTotpStep(p, code, 1001, 1003, 1002), null);
  assert.equal(findTotpStep(p, 'abcdef', 990, 1010, 1000), null);
});
