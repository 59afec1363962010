import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { firstFactorProved, proofSatisfies, requiredProof } from './policy.ts';

describe('first-factor proofs', () => {
  test('nothing proved is no first factor, except behind Keycloak, whose flow checked the password', () => {
    for (const kind of ['radius', 'api'] as const) {
      assert.equal(firstFactorProved('none', { kind }), false, kind);
      for (const proof of ['pin', 'upstream', 'ldap'] as const)
        assert.equal(firstFactorProved(proof, { kind }), true);
    }
    assert.equal(firstFactorProved('none', { kind: 'keycloak' }), true);
  });

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
