import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, test, vi } from 'vitest';
import { loadConfig } from '../server/config.ts';
import { sampleUser } from '../store/fixtures.ts';
import { openEmbeddedStore } from '../store/index.ts';
import { ClusterRuntime } from './runtime.ts';

const DAY = 86_400_000;
const dir = mkdtempSync(join(tmpdir(), 'tessera-retention-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('TESSERA_TOMBSTONE_RETENTION_DAYS sets the retention; 400 days without it', () => {
  const base = { TESSERA_DATA_DIR: dir };
  assert.equal(loadConfig(base).cluster.tombstoneRetentionMs, 400 * DAY);
  assert.equal(
    loadConfig({ ...base, TESSERA_TOMBSTONE_RETENTION_DAYS: '30' }).cluster.tombstoneRetentionMs,
    30 * DAY,
  );
  assert.throws(
    () => loadConfig({ ...base, TESSERA_TOMBSTONE_RETENTION_DAYS: 'soon' }),
    /TESSERA_TOMBSTONE_RETENTION_DAYS/,
  );
});

test('a node prunes tombstones past the retention when it starts, and keeps younger ones', async () => {
  const store = openEmbeddedStore(dir);
  const now = Date.now();
  try {
    vi.useFakeTimers({ toFake: ['Date'] });
    for (const [name, age] of [
      ['old', 31 * DAY],
      ['young', 29 * DAY],
    ] as const) {
      vi.setSystemTime(now - age);
      await store.createUser(sampleUser(name));
      await store.deleteUser(name);
    }
    vi.useRealTimers();
    assert.equal((await store.listTombstones()).length, 2);
    const config = {
      ...loadConfig({ TESSERA_DATA_DIR: dir, TESSERA_TOMBSTONE_RETENTION_DAYS: '30' }).cluster,
      snapshotIntervalMs: 0,
      heartbeatMs: 0,
    };
    const log = { info() {}, warn() {}, error() {} };
    const runtime = new ClusterRuntime(store, null, config, { keyFile: join(dir, 'master.key') }, { log });
    await runtime.start();
    const deadline = Date.now() + 5_000;
    while ((await store.listTombstones()).length !== 1 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    await runtime.stop();
    assert.deepEqual(
      (await store.listTombstones()).map((t) => t.id),
      ['young'],
    );
  } finally {
    vi.useRealTimers();
    await store.close();
  }
});
