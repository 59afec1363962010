import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { restoreSnapshot } from '../src/cluster/restore.ts';
import { createSnapshot } from '../src/cluster/snapshot.ts';
import { openSnapshot } from '../src/cluster/snapshot-format.ts';
import { KeyRing } from '../src/crypto/index.ts';
import type { Token } from '../src/model/index.ts';
import { sampleUser } from '../src/store/fixtures.ts';
import type { Store } from '../src/store/index.ts';
import { openRedisStore } from '../src/store/redis/index.ts';
import { type RedisProcess, startRedis } from '../test/harness/redis.ts';
import { cpuPerAccept } from './cpu.ts';
import { type ServerProcess, startServer } from './procs.ts';
import { profileTop } from './profile-top.ts';
import { ROUNDS, range, ratio, SECONDS, Slices, USERS_PER_RUN } from './validate.ts';
import { ensureWrk, runWrk, WRK_CONNECTIONS, type WrkFigures } from './wrk.ts';

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

type Calls = Record<string, { calls: number; usec: number }>;

/** Calls and microseconds per command so far (INFO commandstats). */
async function commandCalls(c: Redis): Promise<Calls> {
  const info = (await c.info('commandstats')) as string;
  const calls: Calls = {};
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm))
    calls[m[1]!] = { calls: Number(m[2]), usec: Number(m[3]) };
  return calls;
}

/**
 * The commands that ran at least once per ten accepts: calls per accept, and the master's own
 * microseconds in them per accept (a script's usec includes its inner calls, which count apart too).
 */
function perAccept(before: Calls, after: Calls, accepts: number): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  const n = Math.max(1, accepts);
  for (const [name, a] of Object.entries(after)) {
    const b = before[name] ?? { calls: 0, usec: 0 };
    const per = (a.calls - b.calls) / n;
    if (per >= 0.1) out[name] = `${+per.toFixed(2)} calls, ${+((a.usec - b.usec) / n).toFixed(1)} us`;
  }
  return out;
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
 * `npm run bench` → redis: accepted codes per second on a node whose store is a Redis master with
 * one replica acknowledging every accept (WAIT), as a ratio to the design-limit route pointed at
 * the same Redis (one read, one write, the same WAIT), runs alternated; the cost of the
 * acknowledgement per commitAccept; snapshot and restore of 100,000 users with BENCH_SNAPSHOT=1.
 */
export async function benchRedis(): Promise<Record<string, unknown>> {
  ensureWrk();
  const master = await startRedis();
  const replica = await startRedis({ replicaOf: master.port });
  try {
    return await measureRedis(master, replica);
  } finally {
    // also when a run failed: a Redis left running would keep the bench from ever exiting
    await replica.stop();
    await master.stop();
  }
}

async function measureRedis(master: RedisProcess, replica: RedisProcess): Promise<Record<string, unknown>> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tessera-bench-node-'));
  const profiling = process.env.BENCH_PROFILE !== '0';
  const runs = ROUNDS + 1 + (profiling ? 1 : 0); // rounds, warm-up, profile
  const population = { prefix: 'r', count: USERS_PER_RUN * runs };
  let limit: ServerProcess | undefined;
  let node: ServerProcess | undefined;
  const results: Record<string, unknown> = {
    what: 'accepted TOTP codes per second, Redis store with a replica acknowledging every accept (WAIT 1), vs the design-limit route on the same Redis with the same WAIT',
    load: `wrk -t1 -c${WRK_CONNECTIONS}, ${SECONDS} s per run, ${ROUNDS} rounds`,
  };
  try {
    [limit, node] = await Promise.all([
      startServer({ kind: 'limit', store: 'redis', redisUrl: master.url, replicas: 1, population }),
      startServer({
        kind: 'tessera',
        env: { TESSERA_DATA_DIR: dataDir, TESSERA_REDIS_URL: master.url, TESSERA_REPLICA_ACK: 'reject' },
        population,
      }),
    ]);
    const slices = {
      limit: new Slices(limit, 'r', population.count),
      node: new Slices(node, 'r', population.count),
    };
    await runWrk(slices.limit.take(), { seconds: 2 });
    await runWrk(slices.node.take(), { seconds: 2 });
    const stats = master.client();
    const servers = { limit, validate: node };
    type Figures = WrkFigures & {
      cpuUsPerAccept: Record<string, number>;
      redisCallsPerAccept: ReturnType<typeof perAccept>;
    };
    const rounds: { limit: Figures; validate: Figures }[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const round = {} as { limit: Figures; validate: Figures };
      for (const name of r % 2 === 0 ? (['limit', 'validate'] as const) : (['validate', 'limit'] as const)) {
        const before = await commandCalls(stats);
        const figures = await cpuPerAccept(
          { server: servers[name].pid, master: master.proc.pid ?? 0, replica: replica.proc.pid ?? 0 },
          () => runWrk((name === 'limit' ? slices.limit : slices.node).take(), { seconds: SECONDS }),
        );
        round[name] = {
          ...figures,
          redisCallsPerAccept: perAccept(before, await commandCalls(stats), figures.accepts),
        };
      }
      rounds.push(round);
    }
    stats.disconnect();
    const per = (f: (r: (typeof rounds)[number]) => number) => range(rounds.map(f));
    results.acceptsPerSecond = {
      validate: per((r) => r.validate.acceptsPerSecond),
      limit: per((r) => r.limit.acceptsPerSecond),
    };
    results.ratios = {
      validateToLimit: per((r) => ratio(r.validate.acceptsPerSecond, r.limit.acceptsPerSecond)),
    };
    results.latencyMs = {
      validate: { p50: per((r) => r.validate.p50ms).median, p99: per((r) => r.validate.p99ms).median },
      limit: { p50: per((r) => r.limit.p50ms).median, p99: per((r) => r.limit.p99ms).median },
    };
    const cpu = (name: 'limit' | 'validate', of: string) => per((r) => r[name].cpuUsPerAccept[of] ?? 0);
    results.cpuUsPerAccept = {
      what: "CPU time (user + system) per accept of each process; moves far less than throughput with the neighbours' load",
      validate: {
        server: cpu('validate', 'server'),
        master: cpu('validate', 'master'),
        replica: cpu('validate', 'replica'),
      },
      limit: {
        server: cpu('limit', 'server'),
        master: cpu('limit', 'master'),
        replica: cpu('limit', 'replica'),
      },
    };
    results.redisCallsPerAccept = {
      what: 'commands the master ran per accept and its microseconds in them (INFO commandstats; a script counts once and its inner calls apart, its usec includes theirs)',
      validate: rounds[rounds.length - 1]!.validate.redisCallsPerAccept,
      limit: rounds[rounds.length - 1]!.limit.redisCallsPerAccept,
    };
    if (profiling) {
      // The node's own CPU profile over one more run, for what it spends an accept on.
      await node.profileStart();
      await runWrk(slices.node.take(), { seconds: SECONDS });
      const raw = await node.profileStop();
      results.profile = profileTop(raw, 20);
      if (process.env.BENCH_PROFILE_DIR)
        writeFileSync(join(process.env.BENCH_PROFILE_DIR, 'redis-validate.cpuprofile'), JSON.stringify(raw));
    }
    results.runs = rounds;
    results.aim = 'validateToLimit >= 0.5';
  } finally {
    await limit?.stop();
    await node?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }

  const alone = await startRedis();
  try {
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
    if (process.env.BENCH_SNAPSHOT === '1') results.snapshot = await snapshotRestore(alone);
  } finally {
    await alone.stop();
  }
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${JSON.stringify(await benchRedis(), null, 2)}\n`);
}
