// `npm run bench -- --only authLog` → what the authentication log costs a login, on both stores:
// accepted codes per second through POST /v1/validate on a node with the log on (as shipped) and on
// one with accepts not logged (TESSERA_AUDIT_SUCCESS_RATE=0), and the CPU each node (and, on Redis,
// its redis-server) spent per accept. Runs alternate ABBA per round; the CPU per accept is the
// steadier figure on a shared machine, the throughput ratio is the goal (≥ 0.9). The load average
// is printed with each store: above the machine's cores, the figures say little.
//   BENCH_AUTH_LOG_STORES=embedded|redis   one store only
//   BENCH_AUTH_LOG_PROFILE_DIR=DIR         also writes the raw CPU profiles (on, off) there
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RedisProcess, startRedis } from '../test/harness/redis.ts';
import { type ServerProcess, startServer } from './procs.ts';
import { profileTop } from './profile-top.ts';
import { ROUNDS, range, ratio, SECONDS, Slices, USERS_PER_RUN } from './validate.ts';
import { ensureWrk, runWrk, type WrkFigures } from './wrk.ts';

const STORES = (process.env.BENCH_AUTH_LOG_STORES ?? 'embedded,redis').split(',');
const ROUNDS_HERE = Number(process.env.BENCH_AUTH_LOG_ROUNDS ?? Math.max(ROUNDS, 4));
/**
 * Users a run may spend (three fresh codes each): enough for 5 s at 18,000 accepts a second (a node
 * with accepts not logged ran past 12,000 a second on 2026-12-01, which 20,000 users did not cover).
 */
const USERS = Number(process.env.BENCH_AUTH_LOG_USERS_PER_RUN ?? Math.min(USERS_PER_RUN, 30_000));

/** CPU time (user + system) of a /proc stat line, in microseconds. */
function statCpuUs(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the line: 12 and 13 after the command name
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
}

/** CPU time (user + system) a process has used, in microseconds, from /proc. */
function cpuUs(pid: number): number {
  return statCpuUs(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

/**
 * CPU of the node's main (JavaScript) thread; the rest of the process (LMDB's commits, V8's GC
 * helpers, libuv's pool) is the difference to cpuUs: a cost the CPU profile cannot see.
 */
function mainThreadCpuUs(pid: number): number {
  return statCpuUs(readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8'));
}

interface Side {
  node: ServerProcess;
  redis?: RedisProcess;
  slices: Slices;
}

interface Run extends WrkFigures {
  /** Node CPU per accept (µs); on Redis also redis-server's. */
  nodeCpuUs: number;
  /** Of nodeCpuUs, what its main thread spent (the rest: LMDB commits, GC helpers, libuv). */
  nodeMainCpuUs: number;
  redisCpuUs?: number;
}

async function measure(side: Side, seconds: number): Promise<Run> {
  const redisPid = side.redis?.proc.pid;
  const sample = () => [cpuUs(side.node.pid), redisPid ? cpuUs(redisPid) : 0, mainThreadCpuUs(side.node.pid)];
  const before = sample();
  const f = await runWrk(side.slices.take(USERS), { seconds });
  const after = sample();
  const per = (i: number) => +((after[i]! - before[i]!) / Math.max(1, f.accepts)).toFixed(1);
  return { ...f, nodeCpuUs: per(0), nodeMainCpuUs: per(2), ...(redisPid ? { redisCpuUs: per(1) } : {}) };
}

async function startSide(kind: string, logOn: boolean, runs: number, dirs: string[]): Promise<Side> {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-authlog-'));
  dirs.push(dir);
  const redis = kind === 'redis' ? await startRedis() : undefined;
  const population = { prefix: 'u', count: USERS * runs };
  const node = await startServer({
    kind: 'tessera',
    env: {
      TESSERA_DATA_DIR: dir,
      ...(redis ? { TESSERA_REDIS_URL: redis.url } : {}),
      ...(logOn ? {} : { TESSERA_AUDIT_SUCCESS_RATE: '0' }),
    },
    population,
  });
  return { node, ...(redis ? { redis } : {}), slices: new Slices(node, 'u', population.count) };
}

async function benchStore(kind: string): Promise<Record<string, unknown>> {
  const runs = ROUNDS_HERE + 3; // rounds, warm-up, two profiles
  const dirs: string[] = [];
  const on = await startSide(kind, true, runs, dirs);
  const off = await startSide(kind, false, runs, dirs);
  try {
    await runWrk(on.slices.take(USERS), { seconds: 2 });
    await runWrk(off.slices.take(USERS), { seconds: 2 });
    const rounds: { on: Run; off: Run }[] = [];
    for (let r = 0; r < ROUNDS_HERE; r++) {
      const order = r % 2 === 0 ? (['on', 'off'] as const) : (['off', 'on'] as const);
      const round = {} as { on: Run; off: Run };
      for (const name of order) round[name] = await measure(name === 'on' ? on : off, SECONDS);
      rounds.push(round);
    }
    const per = (f: (r: { on: Run; off: Run }) => number) => range(rounds.map(f));
    let profile: Record<string, unknown> | undefined;
    if (process.env.BENCH_PROFILE !== '0') {
      profile = {};
      for (const [name, side] of [
        ['on', on],
        ['off', off],
      ] as const) {
        await side.node.profileStart();
        const f = await runWrk(side.slices.take(USERS), { seconds: SECONDS });
        const raw = await side.node.profileStop();
        if (process.env.BENCH_AUTH_LOG_PROFILE_DIR)
          writeFileSync(
            join(process.env.BENCH_AUTH_LOG_PROFILE_DIR, `${kind}-${name}.cpuprofile`),
            JSON.stringify(raw),
          );
        // the accepts of the profiled run: a function's sampled ms over them is its µs per accept
        profile[name] = { accepts: f.accepts, ...profileTop(raw, 15) };
      }
    }
    return {
      loadAverage1m: +loadavg()[0]!.toFixed(1),
      acceptsPerSecond: { on: per((r) => r.on.acceptsPerSecond), off: per((r) => r.off.acceptsPerSecond) },
      authLogOnToOff: per((r) => ratio(r.on.acceptsPerSecond, r.off.acceptsPerSecond)),
      nodeCpuUsPerAccept: { on: per((r) => r.on.nodeCpuUs), off: per((r) => r.off.nodeCpuUs) },
      nodeMainThreadCpuUsPerAccept: {
        on: per((r) => r.on.nodeMainCpuUs),
        off: per((r) => r.off.nodeMainCpuUs),
      },
      ...(kind === 'redis'
        ? {
            redisCpuUsPerAccept: {
              on: per((r) => r.on.redisCpuUs ?? 0),
              off: per((r) => r.off.redisCpuUs ?? 0),
            },
          }
        : {}),
      ...(profile ? { profile } : {}),
    };
  } finally {
    for (const side of [on, off]) {
      await side.node.stop();
      await side.redis?.stop();
    }
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

export async function benchAuthLog(): Promise<Record<string, unknown>> {
  ensureWrk();
  const out: Record<string, unknown> = {
    what: 'accepts per second through POST /v1/validate with the authentication log on (every accept logged, as shipped) and off (TESSERA_AUDIT_SUCCESS_RATE=0), same node build, runs alternated ABBA; CPU per accept from /proc',
    aim: 'authLogOnToOff >= 0.9',
  };
  for (const kind of STORES) out[kind] = await benchStore(kind);
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${JSON.stringify(await benchAuthLog(), null, 2)}\n`);
}
