import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'lmdb';
import { authEvent } from '../src/audit/auth-event.ts';
import type { AuditEvent } from '../src/model/index.ts';
import { openEmbeddedStore, type Store } from '../src/store/index.ts';
import { openRedisStore } from '../src/store/redis/index.ts';
import { startRedis } from '../test/harness/redis.ts';

/**
 * Store size of the authentication log per million entries, with its search indexes. Writing a
 * million entries takes minutes on a shared machine, so BENCH_AUDIT_ENTRIES (default 100,000)
 * are written and the bytes are scaled to a million: both stores grow linearly in entries (B-tree
 * pages, sorted-set nodes), the fixed overhead is measured away by the before/after difference.
 */
const ENTRIES = Number(process.env.BENCH_AUDIT_ENTRIES ?? 100_000);
const BATCH = 1000;
const T0 = Date.now() - ENTRIES * 5 - 60_000;

/** A realistic decision: 10,000 users, 20 relying systems, 3 nodes, one refusal in eight. */
function entry(i: number): AuditEvent {
  const reject = i % 8 === 0;
  return authEvent({
    time: T0 + i * 5,
    node: `node-${i % 3}`,
    client: { id: `c${String(i % 20).padStart(8, '0')}`, name: `VPN gateway ${i % 20}` },
    user: `user${String(i % 10_000).padStart(5, '0')}@example.org`,
    result: reject ? 'reject' : 'accept',
    reason: reject ? 'OTP_INVALID' : 'OK',
    serial: `TOTP${String(i % 10_000).padStart(8, '0')}`,
    method: 'totp',
    sourceIp: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    nasIdentifier: `nas-${i % 50}`,
    latencyMs: 1 + (i % 100) / 10,
  });
}

async function fill(store: Store): Promise<number> {
  const started = Date.now();
  for (let i = 0; i < ENTRIES; i += BATCH)
    await store.appendAudit(
      Array.from({ length: Math.min(BATCH, ENTRIES - i) }, (_, k) => entry(i + k)),
      'auth',
    );
  return Date.now() - started;
}

const perMillion = (bytes: number) => Math.round((bytes / ENTRIES) * 1_000_000);

/** Pages the `audit` and `audit-index` databases hold (LMDB's own count, not the sparse file). */
function lmdbBytes(dir: string): { entries: number; index: number } {
  const root = open({ path: join(dir, 'store'), maxDbs: 24, readOnly: true });
  const used = (name: string) => {
    const s = root.openDB({ name }).getStats() as {
      pageSize: number;
      treeBranchPageCount: number;
      treeLeafPageCount: number;
      overflowPages: number;
    };
    return s.pageSize * (s.treeBranchPageCount + s.treeLeafPageCount + s.overflowPages);
  };
  const out = { entries: used('audit'), index: used('audit-index') };
  root.close();
  return out;
}

async function embedded() {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-audit-size-'));
  try {
    const store = openEmbeddedStore(dir);
    const before = lmdbBytes(dir);
    const ms = await fill(store);
    await store.close();
    const after = lmdbBytes(dir);
    const entries = after.entries - before.entries;
    const index = after.index - before.index;
    return {
      writtenEntries: ENTRIES,
      writeMs: ms,
      bytesPerMillion: perMillion(entries + index),
      ofWhichIndexes: perMillion(index),
      fileBytes: statSync(join(dir, 'store', 'data.mdb')).size,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function redis() {
  const server = await startRedis();
  const c = server.client();
  try {
    const store = await openRedisStore({ url: server.url, prefix: 'size:' });
    const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await c.info('memory'))?.[1] ?? 0);
    const before = await usedMemory();
    const ms = await fill(store);
    const after = await usedMemory();
    let index = 0;
    // the index sets' share, sampled key by key (MEMORY USAGE counts the key and its value)
    for await (const keys of c.scanStream({ match: 'size:audit:auth:ix:*', count: 1000 }))
      for (const k of keys as string[]) index += Number(await c.memory('USAGE', k, 'SAMPLES', '0'));
    await store.close();
    return {
      writtenEntries: ENTRIES,
      writeMs: ms,
      bytesPerMillion: perMillion(after - before),
      ofWhichIndexes: perMillion(index),
    };
  } finally {
    c.disconnect();
    await server.stop();
  }
}

export async function benchAuditSize() {
  return {
    note: `${ENTRIES} authentication entries written, bytes scaled to a million`,
    embedded: await embedded(),
    redis: await redis(),
  };
}

if (import.meta.url === `file://${process.argv[1]}`)
  process.stdout.write(`${JSON.stringify(await benchAuditSize(), null, 2)}\n`);
