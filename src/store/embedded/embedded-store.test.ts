import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'lmdb';
import { test, vi } from 'vitest';
import type { AuditEvent } from '../../model/index.ts';
import { storeContract } from '../store-contract-suite.ts';
import { APPEND_CHUNK } from './audit-log.ts';
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

test('a long authentication-log append lets other work run between its chunks, and counts every entry', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-lmdb-chunks-'));
  const store = openEmbeddedStore(dir);
  // lmdb's put, as the audit log reaches it: the databases of one root share its class
  const { root } = store as unknown as { root: object };
  const put = vi.spyOn(Object.getPrototypeOf(root) as { put: () => unknown }, 'put');
  try {
    const time = Date.UTC(2026, 10, 30, 12);
    const events: AuditEvent[] = Array.from({ length: 5 * APPEND_CHUNK }, (_, i) => ({
      time: time + i,
      type: 'validate',
      actor: 'client:vpn',
      username: `user${i}`,
      result: 'ACCEPT',
      reason: 'OK',
    }));
    let putsBeforeNextTurn = -1;
    put.mockClear();
    setImmediate(() => {
      putsBeforeNextTurn = put.mock.calls.length;
    });
    await store.appendAudit(events, 'auth');
    assert.ok(putsBeforeNextTurn > 0, 'the first chunk was written in the first turn');
    assert.ok(
      putsBeforeNextTurn < put.mock.calls.length / 2,
      `a waiting callback ran after ${putsBeforeNextTurn} of ${put.mock.calls.length} writes`,
    );
    assert.equal((await store.listAudit(10 * APPEND_CHUNK, 'auth')).length, events.length);
    assert.deepEqual(await store.auditDailyCounts!('2026-11-30', '2026-11-30'), [
      { day: '2026-11-30', client: 'vpn', result: 'ACCEPT', count: events.length },
    ]);
  } finally {
    put.mockRestore();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
