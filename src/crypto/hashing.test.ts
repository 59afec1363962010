import assert from 'node:assert/strict';
import { test } from 'vitest';
import { apiSecretMatches, hashApiSecret } from './hashing.ts';

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
