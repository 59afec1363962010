import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import { auditChanges } from './diff.ts';

describe('auditChanges', () => {
  test('a changed field shows before and after; unchanged ones and updatedAt are left out', () => {
    const d = auditChanges(
      { username: 'a', email: 'old@x', enabled: true, updatedAt: 1 },
      { username: 'a', email: 'new@x', enabled: true, updatedAt: 2 },
    );
    assert.deepEqual(d, { 'before.email': 'old@x', 'after.email': 'new@x' });
  });

  test('a secret shows only that it changed, never a value, hashed or not', () => {
    const d = auditChanges(
      { pinHash: '$scrypt$aaaa', keyHash: 'k1', bindPassword: 'p1', secretSealed: 's1' },
      { pinHash: '$scrypt$bbbb', keyHash: 'k2', bindPassword: 'p2', secretSealed: 's2' },
    );
    assert.deepEqual(d, { pin: 'changed', key: 'changed', bindPassword: 'changed', secret: 'changed' });
    assert.ok(!JSON.stringify(d).includes('scrypt'));
  });

  test('a secret inside an object is hidden in its JSON', () => {
    const d = auditChanges({ ldap: { url: 'a' } }, { ldap: { url: 'b', bindPassword: 'hunter2' } });
    assert.equal(d['after.ldap'], '{"url":"b","bindPassword":"[hidden]"}');
  });

  test('a set or removed field has only the side it exists on; objects are JSON', () => {
    const d = auditChanges({ phone: '+1' }, { methods: { sms: 'off' } });
    assert.deepEqual(d, { 'before.phone': '+1', 'after.methods': '{"sms":"off"}' });
  });

  test('a create or delete lists every field of the one side, and a long value is cut', () => {
    const d = auditChanges(null, { name: 'x'.repeat(400), pinHash: 'h' });
    assert.equal(d['after.name']?.length, 257);
    assert.equal(d.pin, 'changed');
    assert.deepEqual(auditChanges({ name: 'c' }, null), { 'before.name': 'c' });
  });
});
