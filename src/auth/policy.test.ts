import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { proofSatisfies, requiredProof } from './policy.ts';

describe('first-factor proofs', () => {
  test('an ldap client needs a directory password, PIN or not', () => {
    assert.equal(requiredProof({ firstFactor: 'ldap' }, {}), 'ldap');
    assert.equal(requiredProof({ firstFactor: 'ldap' }, { pinHash: 'scrypt$x' }), 'ldap');
  });

  test('only a directory bind proves a directory password', () => {
    assert.equal(proofSatisfies('ldap', 'ldap'), true);
    for (const have of ['pin', 'upstream', 'none', undefined] as const) {
      assert.equal(proofSatisfies(have, 'ldap'), false, String(have));
    }
  });

  test('a directory password stands in for an upstream check, never for a PIN', () => {
    assert.equal(proofSatisfies('ldap', 'upstream'), true);
    assert.equal(proofSatisfies('ldap', 'pin'), false);
  });
});
