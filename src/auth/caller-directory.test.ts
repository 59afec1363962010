import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, test } from 'vitest';
import type { AdminKey } from '../model/index.ts';
import { openEmbeddedStore } from '../store/index.ts';
import { CallerDirectory } from './caller-directory.ts';

// A real store, counted: every lookup that reaches it is one store round trip.
describe('caller directory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-callers-'));
  const store = openEmbeddedStore(dir);
  let asked = 0;
  const counted = {
    getAdminKey: (id: string) => {
      asked++;
      return store.getAdminKey(id);
    },
    getClient: (id: string) => {
      asked++;
      return store.getClient(id);
    },
  };
  const key = (id: string): AdminKey => ({
    id,
    name: id,
    role: 'superadmin',
    keyHash: 'x',
    createdAt: 0,
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a key that appears after a refused lookup is found once the short miss expires', async () => {
    let now = 1_000_000;
    const callers = new CallerDirectory(counted, { now: () => now });
    assert.equal(await callers.lookup('admin', 'late-key-0001'), null);
    // replication brings the key a moment later
    await store.putAdminKey(key('late-key-0001'));
    now += 100;
    assert.equal(await callers.lookup('admin', 'late-key-0001'), null, 'a miss absorbs a burst');
    now += 200;
    assert.equal((await callers.lookup('admin', 'late-key-0001'))?.id, 'late-key-0001');
  });

  test('a found key is reused for a few seconds without asking the store', async () => {
    let now = 2_000_000;
    const callers = new CallerDirectory(counted, { now: () => now });
    await store.putAdminKey(key('hit-key-0001'));
    asked = 0;
    for (let i = 0; i < 10; i++) assert.ok(await callers.lookup('admin', 'hit-key-0001'));
    assert.equal(asked, 1);
    now += 4_000;
    assert.ok(await callers.lookup('admin', 'hit-key-0001'));
    assert.equal(asked, 1);
    now += 2_000;
    assert.ok(await callers.lookup('admin', 'hit-key-0001'));
    assert.equal(asked, 2);
  });

  test('concurrent lookups of one id share one store round trip', async () => {
    const callers = new CallerDirectory(counted);
    asked = 0;
    const all = await Promise.all(Array.from({ length: 20 }, () => callers.lookup('client', 'nobody-00001')));
    assert.ok(all.every((r) => r === null));
    assert.equal(asked, 1);
  });

  test('a flood of bogus ids is budgeted; known keys keep working and asking', async () => {
    let now = 3_000_000;
    const callers = new CallerDirectory(counted, { now: () => now, unknownLookupsPerSecond: 50 });
    await store.putAdminKey(key('known-key-01'));
    assert.ok(await callers.lookup('admin', 'known-key-01'));
    asked = 0;
    for (let i = 0; i < 1_000; i++) assert.equal(await callers.lookup('admin', `bogus-${i}`), null);
    assert.equal(asked, 49, 'only the budget reached the store (one token went to the known key)');
    // the known key's entry ages out during the flood: it is asked again, outside the budget
    now += 5_001;
    const before = asked;
    assert.ok(await callers.lookup('admin', 'known-key-01'));
    assert.equal(asked, before + 1);
    // the budget refills with time
    now += 1_000;
    await store.putAdminKey(key('new-key-0001'));
    assert.ok(await callers.lookup('admin', 'new-key-0001'));
  });

  test('forget() drops hits and misses at once', async () => {
    const callers = new CallerDirectory(counted, { now: () => 4_000_000 });
    assert.equal(await callers.lookup('admin', 'forget-key-1'), null);
    await store.putAdminKey(key('forget-key-1'));
    assert.equal(await callers.lookup('admin', 'forget-key-1'), null);
    callers.forget();
    assert.ok(await callers.lookup('admin', 'forget-key-1'));
    await store.deleteAdminKey('forget-key-1');
    assert.ok(await callers.lookup('admin', 'forget-key-1'), 'still cached');
    callers.forget();
    assert.equal(await callers.lookup('admin', 'forget-key-1'), null);
  });
});
