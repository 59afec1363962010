import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { base32Encode } from '../../src/otp/index.ts';
import { BASE32_SECRET_PATTERN } from './schemas.ts';

const re = new RegExp(BASE32_SECRET_PATTERN, 'u');
const padded = (s: string) => s + '='.repeat((8 - (s.length % 8)) % 8);

describe('the token secret pattern', () => {
  test('accepts base32 of every length from 10 to 128 bytes, padded or not, any case', () => {
    for (let n = 10; n <= 128; n++) {
      const text = base32Encode(new Uint8Array(n).fill(0x5a));
      assert.ok(re.test(text), `${n} bytes unpadded`);
      assert.ok(re.test(padded(text)), `${n} bytes padded`);
      assert.ok(re.test(text.toLowerCase()), `${n} bytes lower case`);
    }
  });

  test('refuses fewer than 10 or more than 128 bytes', () => {
    for (const n of [0, 1, 5, 9, 129, 130, 200]) {
      const text = base32Encode(new Uint8Array(n).fill(0x5a));
      assert.equal(re.test(text), false, `${n} bytes`);
      assert.equal(re.test(padded(text)), false, `${n} bytes padded`);
    }
  });

  test('refuses lengths no encoder writes, wrong padding and foreign characters', () => {
    const ok = base32Encode(new Uint8Array(20).fill(1));
    for (const bad of [
      `${ok}A`, // 33 characters: a remainder of 1 is never written
      `${ok}AAA`, // remainder 3
      `${ok}AAAAAA`, // remainder 6
      `${ok.slice(0, 34)}==`, // 34 + wrong padding count
      `${ok}========`,
      `${ok.slice(0, 31)}1`,
      `${ok.slice(0, 16)} ${ok.slice(16)}`,
      `${ok.slice(0, 31)}é`,
    ]) {
      assert.equal(re.test(bad), false, bad);
    }
  });
});
