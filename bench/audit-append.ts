// `node --import tsx bench/audit-append.ts` → process CPU (every thread: LMDB commits run on their
// own) per stored authentication entry, appended as the node's sink does (batches of
// BENCH_AUDIT_BATCH every flush), on the embedded store and on Redis (node and redis-server).
// It isolates the store's share of bench/auth-log.ts's cost.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { authEvent } from '../src/audit/auth-event.ts';
import type { AuditEvent } from '../src/model/index.ts';
import { openEmbeddedStore, type Store } from '../src/store/index.ts';
import { openRedisStore } from '../src/store/redis/index.ts';
import { startRedis } from '../test/harness/redis.ts';

const ENTRIES = Number(process.env.BENCH_AUDIT_ENTRIES ?? 60_000);
const BATCH = Number(process.env.BENCH_AUDIT_BATCH ?? 500);
const STORES = (process.env.BENCH_AUDIT_STORES ?? 'embedded,redis').split(',');

/** Like the validate bench: a fresh user per accept, one client, one node. */
function entry(i: number): AuditEvent {
  return authEvent({
    time: Date.now(),
    node: 'bench-node',
    client: { id: 'c00000001', name: 'bench' },
    user: `u${(i * 7919) % 200_000}`,
    result: 'accept',
    reason: 'OK',
    serial: `TOTP${i}`,
    method: 'totp',
    sourceIp: '127.0.0.1',
    latencyMs: 1.234,
  });
}

function cpuUs(pid: number, path = `/proc/${pid}/stat`): number {
  const stat = readFileSync(path, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1e6) / 100;
}

/** This process's main thread only (the rest: LMDB's commit thread, GC helpers). */
const mainUs = () => cpuUs(process.pid, `/proc/${process.pid}/task/${process.pid}/stat`);

async function fill(store: Store, from: number, n: number): Promise<void> {
  for (let i = from; i < from + n; i += BATCH)
    await store.appendAudit(
      Array.from({ length: Math.min(BATCH, from + n - i) }, (_, k) => entry(i + k)),
      'auth',
    );
}

async function measure(store: Store, serverPid?: number) {
  await fill(store, 0, ENTRIES / 2); // the log is not empty in a running node
  const m0 = mainUs();
  const c0 = process.cpuUsage();
  const s0 = serverPid ? cpuUs(serverPid) : 0;
  const t0 = performance.now();
  await fill(store, ENTRIES / 2, ENTRIES / 2);
  const c = process.cpuUsage(c0);
  const per = (us: number) => +(us / (ENTRIES / 2)).toFixed(2);
  return {
    nodeCpuUsPerEntry: per(c.user + c.system),
    ofWhichMainThread: per(mainUs() - m0),
    ...(serverPid ? { redisCpuUsPerEntry: per(cpuUs(serverPid) - s0) } : {}),
    wallUsPerEntry: per((performance.now() - t0) * 1000),
  };
}

const out: Record<string, unknown> = { entries: ENTRIES / 2, batch: BATCH };
if (STORES.includes('embedded')) {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-audit-append-'));
  const store = openEmbeddedStore(dir);
  try {
    out.embedded = await measure(store);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
if (STORES.includes('redis')) {
  const redis = await startRedis();
  const store = await openRedisStore({ url: redis.url });
  try {
    out.redis = await measure(store, redis.proc.pid);
  } finally {
    await store.close();
    await redis.stop();
  }
}
process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
