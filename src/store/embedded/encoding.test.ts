import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'lmdb';
import { test } from 'vitest';
import type { Group, User } from '../../model/index.ts';
import { sampleUser } from '../fixtures.ts';
import { openEmbeddedStore } from './index.ts';

const user: User = sampleUser('alice', {
  pinHash: 'scrypt$16384$8$1$c2FsdA$aGFzaA',
  methods: { totp: 'enabled' },
  createdAt: 1_700_000_000_000,
});

test('values stored by the earlier encoding (msgpackr records) still read back', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-lmdb-enc-'));
  try {
    const old = open({ path: join(dir, 'store'), maxDbs: 16, compression: false, overlappingSync: false });
    await old.openDB<User, string>({ name: 'users' }).put(user.username, user);
    await old.close();

    const store = openEmbeddedStore(dir);
    assert.deepEqual(await store.getUser('alice'), user);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('nested values read back as plain objects', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-lmdb-enc-'));
  try {
    const store = openEmbeddedStore(dir);
    const group: Group = { name: 'ops', description: 'x', methods: { hotp: 'disabled' }, permanent: false };
    await store.putGroup(group);
    const back = await store.getGroup('ops');
    assert.deepEqual(back, group);
    assert.equal(Object.getPrototypeOf(back?.methods), Object.prototype);
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
