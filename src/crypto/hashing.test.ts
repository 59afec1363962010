import assert from 'node:assert/strict';
import { test } from 'vitest';
import {
  apiSecretMatches,
  hashApiSecret,
  hashPin,
  scryptRunCount,
  verifyPin,
  verifyPinCandidates,
} from './hashing.ts';

test('API secret hashes keep their stored format (SHA-256, base64url)', () => {
  // FIPS 180-2 test vector "abc"; stored key hashes must keep matching after any change here.
  assert.equal(hashApiSecret('abc'), 'ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0');
});

test('apiSecretMatches accepts the secret and refuses others', () => {
  const stored = hashApiSecret('s3cret-value');
  assert.equal(apiSecretMatches('s3cret-value', stored), true);
  assert.equal(apiSecretMatches('s3cret-valuf', stored), false);
  assert.equal(apiSecretMatches('s3cret-value', stored.slice(1)), false);
});

test('a PIN hash verifies the PIN and nothing else', async () => {
  const stored = await hashPin('4711');
  assert.match(stored, /^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
  assert.ok(!stored.includes('4711'));
  assert.equal(await verifyPin('4711', stored), true);
  assert.equal(await verifyPin('4712', stored), false);
  assert.equal(await verifyPin('', stored), false);
  assert.equal(await verifyPin('4711', 'bcrypt$x'), false);
});

test('every candidate costs one scrypt, whichever matches and wherever', async () => {
  const stored = await hashPin('4711');
  for (const candidates of [
    ['4711', 'a', 'b'],
    ['a', 'b', '4711'],
    ['a', 'b', 'c'],
  ]) {
    const before = scryptRunCount();
    const results = await verifyPinCandidates(candidates, stored);
    assert.equal(scryptRunCount() - before, 3, candidates.join());
    assert.deepEqual(
      results,
      candidates.map((c) => c === '4711'),
    );
  }
});
