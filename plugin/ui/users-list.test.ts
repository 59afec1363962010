import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { openEmbeddedStore, type Store } from '../../src/store/index.ts';
import type { UiFaceOptions } from './options.ts';
import { listPage } from './routes/users.ts';

describe('console user listing (keyset pages)', () => {
  let dir: string;
  let store: Store;
  let face: UiFaceOptions;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-ui-list-'));
    store = openEmbeddedStore(dir);
    await Promise.all(
      Array.from({ length: 12_000 }, (_, i) =>
        store.createUser({
          username: `u${String(i).padStart(5, '0')}`,
          group: i % 1000 === 7 ? 'rare' : 'default',
          enabled: true,
          mfaRequired: true,
          methods: {},
          createdAt: 0,
          updatedAt: 0,
        }),
      ),
    );
    face = { store } as unknown as UiFaceOptions;
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('following the cursor visits every user once, in name order', async () => {
    const seen: string[] = [];
    let after: string | undefined;
    for (let pages = 0; pages < 1000; pages++) {
      const page = await listPage(face, '', after ? { after } : {});
      seen.push(...page.rows.map((u) => u.username));
      if (!page.next) break;
      after = page.next;
    }
    assert.equal(seen.length, 12_000);
    assert.deepEqual(seen, [...seen].sort());
    assert.equal(new Set(seen).size, 12_000);
  });

  test('a rare filter reads a bounded number of records per page and goes on from where it stopped', async () => {
    const found: string[] = [];
    let after: string | undefined;
    let requests = 0;
    for (;;) {
      const page = await listPage(face, '', { group: 'rare', ...(after ? { after } : {}) });
      requests++;
      assert.ok(page.scanned <= 5_000 + 250);
      found.push(...page.rows.map((u) => u.username));
      if (!page.next) break;
      after = page.next;
    }
    assert.deepEqual(
      found,
      Array.from({ length: 12 }, (_, i) => `u${String(i * 1000 + 7).padStart(5, '0')}`),
    );
    assert.ok(requests >= 3, 'the scan stopped at its bound and offered more');
  });

  test('a prefix search lists only matching names', async () => {
    const page = await listPage(face, 'u0110', {});
    assert.equal(page.rows.length, 10);
    assert.equal(page.next, null);
  });
});
