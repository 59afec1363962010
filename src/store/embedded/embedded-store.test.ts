import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'lmdb';
import { test } from 'vitest';
import type { AuditEvent } from '../../model/index.ts';
import { storeContract } from '../store-contract-suite.ts';
import { openEmbeddedStore } from './index.ts';

storeContract('embedded (LMDB)', async (opts = {}) => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-lmdb-'));
  const store = openEmbeddedStore(dir, opts);
  return {
    store,
    async cleanup() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

test('audit events stored before streams existed move into their streams at open', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-lmdb-legacy-'));
  try {
    // the layout of earlier versions: one `audit` database keyed "<time>.<seq>"
    mkdirSync(join(dir, 'store'));
    const root = open({
      path: join(dir, 'store'),
      maxDbs: 16,
      useRecords: false,
      mapsAsObjects: true,
    } as never);
    const legacy = root.openDB<AuditEvent, string>({ name: 'audit' });
    const now = Date.now();
    await legacy.put(`${String(now - 2).padStart(15, '0')}.000001`, {
      time: now - 2,
      type: 'user.create',
      actor: 'admin:a',
    });
    await legacy.put(`${String(now - 1).padStart(15, '0')}.000002`, {
      time: now - 1,
      type: 'validate',
      actor: 'client:c',
    });
    await root.close();
    const store = openEmbeddedStore(dir);
    try {
      assert.deepEqual(
        (await store.listAudit(10, 'admin')).map((e) => e.type),
        ['user.create'],
      );
      assert.deepEqual(
        (await store.listAudit(10, 'auth')).map((e) => e.type),
        ['validate'],
      );
      assert.equal(store.migrateAudit(), 0, 'nothing is left to move');
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
