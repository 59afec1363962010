import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import type { AdminKey } from '../model/index.ts';
import { adminKeyUsable, isPermission, PERMISSIONS, roleAllows } from './roles.ts';

describe('admin roles', () => {
  test('superadmin may do everything', () => {
    for (const p of PERMISSIONS) assert.equal(roleAllows('superadmin', p), true, p);
  });

  test('an auditor reads everything (audit and key list included) and writes nothing', () => {
    for (const p of PERMISSIONS) {
      assert.equal(roleAllows('auditor', p), p.endsWith(':read'), p);
    }
    assert.equal(roleAllows('auditor', 'audit:read'), true);
    assert.equal(roleAllows('auditor', 'cluster:snapshot'), false);
    assert.equal(roleAllows('auditor', 'logins:read'), true);
  });

  test('helpdesk works on users and tokens only', () => {
    const allowed = PERMISSIONS.filter((p) => roleAllows('helpdesk', p)).sort();
    assert.deepEqual(allowed, [
      'cluster:read',
      'groups:read',
      'logins:read',
      'settings:read',
      'tokens:read',
      'tokens:write',
      'users:read',
      'users:write',
    ]);
    // a user's last logins, yes; the audit trail, no
    assert.equal(roleAllows('helpdesk', 'logins:read'), true);
    assert.equal(roleAllows('helpdesk', 'audit:read'), false);
  });

  test('isPermission accepts only declared permissions', () => {
    assert.equal(isPermission('users:read'), true);
    assert.equal(isPermission('users:*'), false);
    assert.equal(isPermission(undefined), false);
  });

  test('a key expires at its expiry instant, not a millisecond later', () => {
    const key: AdminKey = {
      id: 'k',
      name: 'n',
      role: 'helpdesk',
      keyHash: 'h',
      createdAt: 0,
      expiresAt: 1000,
    };
    assert.equal(adminKeyUsable(key, 999), true);
    assert.equal(adminKeyUsable(key, 1000), false);
    const { expiresAt: _, ...forever } = key;
    assert.equal(adminKeyUsable(forever, Number.MAX_SAFE_INTEGER), true);
  });
});
