import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { restoreSnapshot } from '../src/cluster/restore.ts';
import { createSnapshot } from '../src/cluster/snapshot.ts';
import { openSnapshot } from '../src/cluster/snapshot-format.ts';
import { KeyRing } from '../src/crypto/index.ts';
import type { Token } from '../src/model/index.ts';
import { sampleUser } from '../src/store/fixtures.ts';
import type { Store } from '../src/store/index.ts';
import { openRedisStore } from '../src/store/redis/index.ts';
import { type RedisProcess, startRedis } from '../test/harness/redis.ts';
import { validateOn } from './validate.ts';

const SNAPSHOT_USERS = Number(process.env.BENCH_SNAPSHOT_USERS ?? 100_000);

/** Sequential commitAccept latency: the cost of one Lua check-and-advance (plus WAIT when replicated). */
async function acceptLatency(
  store: Store,
  n = 2000,
): Promise<{ p50ms: number; p99ms: number; perSecond: number }> {
  await store.createUser(sampleUser('lat'));
  const times: number[] = [];
  const started = Date.now();
  for (let i = 0; i < n; i++) {
    const t = process.hrtime.bigint();
    await store.commitAccept('lat', 'LAT', { kind: 'hotp', counter: i }, Date.now());
    times.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  times.sort((a, b) => a - b);
  return {
    p50ms: +times[Math.floor(n / 2)]!.toFixed(3),
    p99ms: +times[Math.floor(n * 0.99)]!.toFixed(3),
    perSecond: Math.round(n / ((Date.now() - started) / 1000)),
  };
}

async function populate(store: Store, n: number): Promise<number> {
  const ring = KeyRing.generate();
  const started = Date.now();
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      const serial = `TOTP${String(i).padStart(8, '0')}`;
      await store.createUser({
        ...sampleUser(`user${String(i).padStart(6, '0')}`),
        email: `user${i}@example.org`,
      });
      const token: Token = {
        serial,
        username: `user${String(i).padStart(6, '0')}`,
        type: i % 10 === 0 ? 'hotp' : 'totp',
        isDefault: true,
        status: 'active',
        algorithm: 'SHA1',
        digits: 6,
        period: 30,
        secretSealed: ring.seal(Buffer.alloc(20, i % 251), serial),
        createdAt: 1,
        updatedAt: 1,
      };
      await store.putToken(token);
      await store.advanceTokenState(serial, { counter: i % 50, lastUsedStep: 1000 + (i % 7), drift: 0 });
    }
  };
  await Promise.all(Array.from({ length: 128 }, worker));
  return Date.now() - started;
}

/** Snapshot and restore of SNAPSHOT_USERS users, each with one token and its state. */
async function snapshotRestore(redis: RedisProcess): Promise<Record<string, unknown>> {
  const source = await openRedisStore({ url: redis.url, prefix: 'snapsrc:' });
  const target = await openRedisStore({ url: redis.url, prefix: 'snapdst:' });
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-snap-'));
  try {
    const populateMs = await populate(source, SNAPSHOT_USERS);
    const secret = { passphrase: 'bench passphrase' };
    let t = Date.now();
    const { bytes, manifest } = await createSnapshot(source, {
      secret,
      components: ['users', 'tokens', 'clients', 'settings'],
      node: 'bench',
    });
    writeFileSync(join(dir, 'bench.tsnap'), bytes);
    const snapshotMs = Date.now() - t;
    t = Date.now();
    const opened = await openSnapshot(bytes, secret);
    const openMs = Date.now() - t;
    t = Date.now();
    const report = await restoreSnapshot(target, opened, {
      components: ['users', 'tokens', 'clients', 'settings'],
    });
    const restoreMs = Date.now() - t;
    return {
      users: SNAPSHOT_USERS,
      counts: manifest.counts,
      fileBytes: statSync(join(dir, 'bench.tsnap')).size,
      populateMs,
      snapshotMs,
      openAndVerifyMs: openMs,
      restoreMs,
      restored: {
        users: report.usersCreated,
        tokens: report.tokensRestored,
        hotpResyncRequired: report.hotpResyncRequired.length,
      },
    };
  } finally {
    await source.close();
    await target.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `npm run bench` → redis: validate throughput on the Redis store (ratio to a no-op route), the
 * cost of the replica acknowledgement (WAIT), and snapshot/restore time for 100,000 users.
 */
export async function benchRedis(): Promise<Record<string, unknown>> {
  const seconds = Number(process.env.BENCH_SECONDS ?? 8);
  const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 64);
  const results: Record<string, unknown> = {
    what: 'Redis store: validate throughput, replica-ack cost, snapshot/restore',
    concurrency,
  };

  const alone = await startRedis();
  const master = await startRedis();
  const replica = await startRedis({ replicaOf: master.port });
  const snapRedis = await startRedis();
  try {
    const standalone = await openRedisStore({ url: alone.url });
    results.standalone = await validateOn(standalone, seconds, concurrency);
    const replicated = await openRedisStore({ url: master.url });
    results.replicated = await validateOn(replicated, seconds, concurrency);
    const s = results.standalone as { validate: { perSecond: number } };
    const r = results.replicated as { validate: { perSecond: number } };
    results.replicaAckThroughputRatio = +(r.validate.perSecond / s.validate.perSecond).toFixed(3);

    const a = await openRedisStore({ url: alone.url, prefix: 'lat:' });
    const b = await openRedisStore({ url: master.url, prefix: 'lat:' });
    const withoutWait = await acceptLatency(a);
    const withWait = await acceptLatency(b);
    await a.close();
    await b.close();
    results.commitAcceptLatency = {
      standalone: withoutWait,
      withReplicaAck: withWait,
      ackCostMsP50: +(withWait.p50ms - withoutWait.p50ms).toFixed(3),
    };
    results.snapshot = await snapshotRestore(snapRedis);
  } finally {
    await snapRedis.stop();
    await replica.stop();
    await master.stop();
    await alone.stop();
  }
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${JSON.stringify(await benchRedis(), null, 2)}\n`);
}
