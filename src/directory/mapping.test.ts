import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import type { StoredDirectorySource } from '../model/index.ts';
import { mapEntry, tesseraGroupFor } from './mapping.ts';
import { guidToText } from './presets.ts';

const ad: StoredDirectorySource = {
  name: 'ad',
  url: 'ldaps://dc.example.test',
  startTls: false,
  bindDn: 'CN=svc,DC=example,DC=test',
  bindPasswordSealed: 'v1:k:x',
  baseDn: 'DC=example,DC=test',
  preset: 'ad',
  connectTimeoutMs: 1000,
  timeoutMs: 1000,
  pageSize: 100,
  maxDisableFraction: 0.1,
  createdAt: 0,
};

const guid = Buffer.from('00112233445566778899aabbccddeeff', 'hex');

describe('directory mapping', () => {
  test('objectGUID reads as AD writes it (first three fields little-endian)', () => {
    assert.equal(guidToText(guid), '33221100-5544-7766-8899-aabbccddeeff');
    assert.equal(guidToText(Buffer.alloc(3)), null);
  });

  test('AD entry: sAMAccountName, memberOf groups, disabled flag', () => {
    const entry = {
      dn: 'CN=Eve Evans,OU=Staff,DC=example,DC=test',
      objectGUID: guid,
      sAMAccountName: 'EVE',
      userPrincipalName: 'eve@example.test',
      displayName: 'Eve Evans',
      memberOf: ['CN=VPN Users,OU=Groups,DC=example,DC=test', 'CN=Staff\\, all,OU=Groups,DC=example,DC=test'],
      userAccountControl: '514',
    };
    const m = mapEntry(ad, entry, new Map());
    assert.ok(m.ok);
    assert.equal(m.user.username, 'eve');
    assert.equal(m.user.id, '33221100-5544-7766-8899-aabbccddeeff');
    assert.deepEqual(m.user.groups, ['staff, all', 'vpn users']);
    assert.equal(m.user.disabled, true);
    const enabled = mapEntry(ad, { ...entry, userAccountControl: '512' }, new Map());
    assert.ok(enabled.ok && !enabled.user.disabled);
  });

  test('falls back to userPrincipalName; skips entries without id or a usable name', () => {
    const upn = mapEntry(
      ad,
      { dn: 'CN=x', objectGUID: guid, userPrincipalName: 'X@Example.Test' },
      new Map(),
    );
    assert.ok(upn.ok && upn.user.username === 'x@example.test');
    const noId = mapEntry(ad, { dn: 'CN=y', sAMAccountName: 'y' }, new Map());
    assert.ok(!noId.ok);
    const badName = mapEntry(ad, { dn: 'CN=z', objectGUID: guid, sAMAccountName: 'a/b' }, new Map());
    assert.ok(!badName.ok);
  });

  test('a user gets the first directory group that names a Tessera group', () => {
    assert.equal(tesseraGroupFor(['a', 'vpn', 'zz'], new Set(['zz', 'vpn']), 'default'), 'vpn');
    assert.equal(tesseraGroupFor(['a'], new Set(['vpn']), 'default'), 'default');
  });
});
