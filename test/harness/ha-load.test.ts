import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { base32Decode, findHotpCounter } from '../../src/otp/index.ts';
import { hotpAt } from './codes.ts';
import { repeatsAhead } from './ha-load.ts';

// For this secret the code of counter 8755 (468595) is also the code of counter 8761.
const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const params = { secret: base32Decode(SECRET)!, algorithm: 'SHA1' as const, digits: 6 as const };

describe('the HA login load sends no code that repeats within the look-ahead', () => {
  test('a repeated code is a second counter to the server: sent again, it would be accepted again', () => {
    const code = hotpAt(SECRET, 8755);
    assert.equal(hotpAt(SECRET, 8761), code);
    // after 8755 is accepted the server's counter is 8756; its look-ahead of 10 reaches 8761
    assert.equal(findHotpCounter(params, code, 8756, 8766), 8761);
  });

  test('the load skips such a code and keeps every other', () => {
    assert.equal(repeatsAhead(SECRET, 8755, hotpAt(SECRET, 8755)), true);
    for (const counter of [0, 1, 8754, 8756, 8761, 9000])
      assert.equal(repeatsAhead(SECRET, counter, hotpAt(SECRET, counter)), false, String(counter));
  });
});
