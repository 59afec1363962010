import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'vitest';
import type { ReplicationControl } from '../store/index.ts';
import { mergeSeedKeys, readSeedKeys } from './keys-file.ts';
import { clusterStatus, type NodeRecord } from './status.ts';

function record(over: Partial<NodeRecord>): NodeRecord {
  return {
    id: 'n',
    url: 'http://x',
    version: '0.1.0',
    role: 'slave',
    redisRole: 'slave',
    redisAddr: '127.0.0.1:1',
    offset: 100,
    masterOffset: 100,
    linkUp: true,
    lastSnapshot: null,
    lastSeen: 0,
    ...over,
  };
}

test('cluster status flags version mismatches, stale nodes and lag', async () => {
  const now = 1_000_000;
  const records = [
    record({
      id: 'a',
      role: 'master',
      redisRole: 'master',
      lastSeen: now - 1_000,
      offset: 500,
      masterOffset: 500,
    }),
    record({ id: 'b', version: '0.2.0', lastSeen: now - 2_000, offset: 420, masterOffset: 500 }),
    record({ id: 'c', lastSeen: now - 20_000 }),
    record({ id: 'd', lastSeen: now - 60_000 }),
    record({ id: 'e', lastSeen: now - 1_000, linkUp: false }),
  ];
  const store = { role: async () => ({ role: 'master' as const }) };
  const replication: ReplicationControl = {
    replication: () => null,
    onReplication: () => () => {},
    heartbeat: async () => {},
    nodeRecords: async () => records as unknown as Record<string, unknown>[],
  };
  const s = await clusterStatus({ store, replication, heartbeatMs: 5_000, now: () => now });
  const by = Object.fromEntries(s.nodes.map((n) => [n.id, n]));
  assert.equal(s.role, 'master');
  assert.equal(by.a?.versionMismatch, false);
  assert.equal(by.b?.versionMismatch, true);
  assert.equal(by.b?.lag, 80);
  assert.equal(by.a?.health, 'ok');
  assert.equal(by.c?.health, 'stale');
  assert.equal(by.d?.health, 'down');
  assert.equal(by.e?.health, 'redis-down');
});

test('restoring the keys component adds missing seed keys and never overwrites one', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-keys-'));
  try {
    const file = join(dir, 'master.key');
    writeFileSync(file, JSON.stringify({ current: 'k1', keys: { k1: 'AAAA' } }));
    const msg = mergeSeedKeys(file, { current: 'k2', keys: { k1: 'BBBB', k2: 'CCCC' } });
    assert.match(msg, /1 seed key\(s\) added/);
    assert.match(msg, /conflicting key ids left alone: k1/);
    const after = JSON.parse(readFileSync(file, 'utf8'));
    assert.deepEqual(after, { current: 'k1', keys: { k1: 'AAAA', k2: 'CCCC' } });
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(readSeedKeys(file), after);
    assert.deepEqual(readSeedKeys(file, 'ENVKEY'), { current: 'env', keys: { env: 'ENVKEY' } });
    assert.match(
      mergeSeedKeys(file, { current: 'env', keys: { env: 'OTHER' } }, 'ENVKEY'),
      /NOT in the snapshot/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
