// `npm run bench` → validate: accepted codes per second through POST /v1/validate on a Tessera
// node (embedded store), as ratios to two baselines measured in the same run, each in its own
// process and driven by the same wrk script with the same bodies:
// - limit: a bare Fastify route doing only what an accept cannot avoid (bench/limit-server.ts);
// - noop: a bare Fastify route that parses the body and answers.
// The node runs twice, authentication log on (as shipped) and off (accepts not logged), for the
// log's cost. Runs alternate (ABBA per round) so a drift of the shared machine falls on all sides.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuPerAccept, mainThreadCpuMs } from './cpu.ts';
import { type OpenLoopFigures, openLoop } from './open-loop.ts';
import { type LoopFigures, type ServerProcess, startServer } from './procs.ts';
import { profileTop } from './profile-top.ts';
import { ensureWrk, runWrk, WRK_CONNECTIONS, type WrkFigures, type WrkTarget } from './wrk.ts';

export const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
export const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** Users a run may spend: three fresh codes each, so a run can accept up to 3× this many. */
export const USERS_PER_RUN = Number(process.env.BENCH_USERS_PER_RUN ?? 40_000);
const PIN_USERS = 2_000;
const HALF_PEAK_PAIRS = Number(process.env.BENCH_HALF_PEAK_PAIRS ?? 2);
/** Each half-peak run's lead-in at its rate, answered and not counted (bench/open-loop.ts says why). */
const HALF_PEAK_LEAD_IN = Number(process.env.BENCH_HALF_PEAK_LEAD_IN ?? 2);
const PIN = '4711';

/** Hands out disjoint user ranges of one server's population, one per run. */
export class Slices {
  private next: number;
  constructor(
    private readonly server: Pick<ServerProcess, 'port' | 'apiKey'>,
    private readonly prefix: string,
    private readonly end: number,
    start = 0,
  ) {
    this.next = start;
  }
  take(users = USERS_PER_RUN): WrkTarget {
    if (this.next + users > this.end) throw new Error(`bench population ${this.prefix} used up`);
    const t = {
      port: this.server.port,
      apiKey: this.server.apiKey,
      prefix: this.prefix,
      first: this.next,
      users,
    };
    this.next += users;
    return t;
  }
}

/** For the no-op route, which accepts anything: codes never run out. */
export function endless(server: Pick<ServerProcess, 'port' | 'apiKey'>, prefix = 'u'): WrkTarget {
  return { port: server.port, apiKey: server.apiKey, prefix, first: 0, users: 1e9 };
}

export const ratio = (a: number, b: number) => +(a / Math.max(1, b)).toFixed(3);
export function range(xs: number[]): { min: number; median: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0] ?? 0, median: s[Math.floor(s.length / 2)] ?? 0, max: s[s.length - 1] ?? 0 };
}

export async function benchValidate(): Promise<Record<string, unknown>> {
  ensureWrk();
  const runsPerNode = ROUNDS + 2 + HALF_PEAK_PAIRS; // rounds, warm-up, half-peak runs, profile
  const dataDirs = [0, 1].map(() => mkdtempSync(join(tmpdir(), 'tessera-bench-node-')));
  const population = {
    prefix: 'u',
    count: PIN_USERS + USERS_PER_RUN * runsPerNode,
    pin: PIN,
    pinUsers: PIN_USERS,
  };
  const started = Date.now();
  const [noop, limit, on, off] = await Promise.all([
    startServer({ kind: 'noop' }),
    startServer({
      kind: 'limit',
      store: 'lmdb',
      // and one more slice per half-peak pair: the run at half of its own peak
      population: { prefix: 'u', count: USERS_PER_RUN * (runsPerNode + HALF_PEAK_PAIRS) },
    }),
    startServer({ kind: 'tessera', env: { TESSERA_DATA_DIR: dataDirs[0]! }, population }),
    startServer({
      kind: 'tessera',
      env: { TESSERA_DATA_DIR: dataDirs[1]!, TESSERA_AUDIT_SUCCESS_RATE: '0' },
      population,
    }),
  ]);
  const startMs = Date.now() - started;
  try {
    const slices = {
      limit: new Slices(limit, 'u', USERS_PER_RUN * (runsPerNode + HALF_PEAK_PAIRS)),
      on: new Slices(on, 'u', population.count, PIN_USERS),
      off: new Slices(off, 'u', population.count, PIN_USERS),
    };
    const targets = {
      noop: () => endless(noop),
      limit: () => slices.limit.take(),
      on: () => slices.on.take(),
      off: () => slices.off.take(),
    };
    type Name = keyof typeof targets;
    // Warm-up (JIT, caches, connection pools), not counted.
    for (const name of ['noop', 'limit', 'on', 'off'] as Name[])
      await runWrk(targets[name](), { seconds: 2 });

    const servers = { noop, limit, on, off };
    type Figures = WrkFigures & { cpuUsPerAccept: Record<string, number> };
    const rounds: Record<Name, Figures>[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const order: Name[] = r % 2 === 0 ? ['noop', 'limit', 'on', 'off'] : ['off', 'on', 'limit', 'noop'];
      const round = {} as Record<Name, Figures>;
      for (const name of order)
        round[name] = await cpuPerAccept(
          { server: servers[name].pid, mainThread: () => mainThreadCpuMs(servers[name].pid) },
          () => runWrk(targets[name](), { seconds: SECONDS }),
        );
      rounds.push(round);
    }
    const per = (f: (r: Record<Name, Figures>) => number) => range(rounds.map(f));
    /** One CPU reading (the process, or its main thread) per accept of each server, over the rounds. */
    const cpuOfEach = (of: 'server' | 'mainThread') => ({
      validate: per((r) => r.on.cpuUsPerAccept[of] ?? 0),
      validateAuthLogOff: per((r) => r.off.cpuUsPerAccept[of] ?? 0),
      limit: per((r) => r.limit.cpuUsPerAccept[of] ?? 0),
      noop: per((r) => r.noop.cpuUsPerAccept[of] ?? 0),
    });
    /** The share of a core a server's main thread used in each round (its µs per accept × accepts/s). */
    const busyShare = (name: Name) =>
      per((r) => +(((r[name].cpuUsPerAccept.mainThread ?? 0) * r[name].acceptsPerSecond) / 1e6).toFixed(2));
    const peak = per((r) => r.on.acceptsPerSecond).median;
    // Latency at half of validate's peak, open loop (bench/open-loop.ts), and the limit route at the
    // same rate: what the machine and the generator add on their own. Alternated as the rounds are.
    // And the limit route at half of its own peak: the same load on the machine as validate's half
    // peak puts on validate, so what the p99 aim asks of the bare route itself here.
    type HalfFigures = OpenLoopFigures & { serverLoopMs: LoopFigures };
    type HalfName = 'validate' | 'limit' | 'limitAtOwnHalf';
    const half: Record<HalfName, HalfFigures[]> = { validate: [], limit: [], limitAtOwnHalf: [] };
    const limitPeak = per((r) => r.limit.acceptsPerSecond).median;
    const halfOrder: HalfName[] = ['validate', 'limit', 'limitAtOwnHalf'];
    for (let r = 0; r < HALF_PEAK_PAIRS; r++)
      for (const name of r % 2 === 0 ? halfOrder : [...halfOrder].reverse()) {
        const server = name === 'validate' ? on : limit;
        const figures = await openLoop(name === 'validate' ? targets.on() : targets.limit(), {
          rate: (name === 'limitAtOwnHalf' ? limitPeak : peak) / 2,
          seconds: SECONDS,
          leadInSeconds: HALF_PEAK_LEAD_IN,
          // the server's loop and GC figures cover the counted part only
          onMeasured: () => void server.loopStart(),
        });
        half[name].push({ ...figures, serverLoopMs: await server.loopStop() });
      }
    const halfSummary = (name: HalfName) => {
      const of = (f: (x: HalfFigures) => number) => range(half[name].map(f));
      return {
        acceptsPerSecond: of((x) => x.acceptsPerSecond),
        p50: of((x) => x.p50ms),
        p99: of((x) => x.p99ms),
        serverLoopDelayMaxMs: of((x) => x.serverLoopMs.max),
        // p99 at half of peak follows these: see docs/performance.md, "What sets p99 at half of peak"
        serverMajorGcs: of((x) => x.serverLoopMs.majorGcs),
      };
    };

    // PIN + code: one scrypt per candidate split; 8 connections stay inside the scrypt queue.
    const pin = await runWrk(
      { port: on.port, apiKey: on.apiKey, prefix: 'u', first: 0, users: PIN_USERS },
      { seconds: SECONDS, connections: 8, pin: PIN },
    );

    let profile: unknown;
    if (process.env.BENCH_PROFILE !== '0') {
      await on.profileStart();
      await runWrk(targets.on(), { seconds: SECONDS });
      profile = profileTop(await on.profileStop(), 20);
    }
    return {
      what: 'accepted TOTP codes per second through POST /v1/validate (embedded store), each request a fresh valid code; ratios to a bare design-limit route and a bare no-op route, each in its own process, same wrk script, runs alternated',
      load: `wrk -t1 -c${WRK_CONNECTIONS}, ${SECONDS} s per run, ${ROUNDS} rounds`,
      startSeconds: Math.round(startMs / 1000),
      acceptsPerSecond: {
        validate: per((r) => r.on.acceptsPerSecond),
        validateAuthLogOff: per((r) => r.off.acceptsPerSecond),
        limit: per((r) => r.limit.acceptsPerSecond),
        noop: per((r) => r.noop.acceptsPerSecond),
      },
      ratios: {
        validateToLimit: per((r) => ratio(r.on.acceptsPerSecond, r.limit.acceptsPerSecond)),
        validateToNoop: per((r) => ratio(r.on.acceptsPerSecond, r.noop.acceptsPerSecond)),
        limitToNoop: per((r) => ratio(r.limit.acceptsPerSecond, r.noop.acceptsPerSecond)),
        authLogOnToOff: per((r) => ratio(r.on.acceptsPerSecond, r.off.acceptsPerSecond)),
        validateToLimitByMainThreadCpu: per((r) =>
          ratio(r.limit.cpuUsPerAccept.mainThread ?? 0, r.on.cpuUsPerAccept.mainThread ?? 0),
        ),
      },
      serverCpuUsPerAccept: {
        what: "CPU time (user + system) of the server process per accept; moves far less than throughput with the neighbours' load",
        ...cpuOfEach('server'),
        mainThread: {
          what: "the server's main thread alone (its JavaScript, which one core bounds), the rest being LMDB's writer and libuv's pool; busyShare: the main thread's CPU per second of the run (1 = a whole core), where it is near 1 throughput follows the main thread's CPU per accept",
          ...cpuOfEach('mainThread'),
          busyShare: { validate: busyShare('on'), limit: busyShare('limit'), noop: busyShare('noop') },
        },
      },
      latencyMs: {
        validateAtPeak: { p50: per((r) => r.on.p50ms).median, p99: per((r) => r.on.p99ms).median },
        limitAtPeak: { p50: per((r) => r.limit.p50ms).median, p99: per((r) => r.limit.p99ms).median },
        atHalfPeak: {
          what: "open loop: requests leave at a fixed rate (half of validate's median peak), latency from when each was due, after a lead-in at the same rate (leadInSeconds, not counted: a node that sat idle starts with a shrunk young generation); the limit route at the same rate for the floor of machine and generator; serverLoopDelayMaxMs: the longest stall of the server's event loop in the run, sampled every 1 ms (so an idle loop reads about 1 ms); serverMajorGcs: the server's mark-compact collections in the run; each run's GC pauses in runs[].serverLoopMs",
          offered: Math.round(peak / 2),
          leadInSeconds: HALF_PEAK_LEAD_IN,
          validate: halfSummary('validate'),
          limit: halfSummary('limit'),
          limitAtOwnHalf: {
            what: 'the limit route at half of its own median peak: whether the p99 aim holds for the bare route on this machine at the same share of its capacity',
            offered: Math.round(limitPeak / 2),
            ...halfSummary('limitAtOwnHalf'),
          },
          generator: {
            what: "the open-loop generator's own lateness (issue time minus due time) and CPU share of one core: where these are large, the generator and not the server was behind",
            sendLagP99Ms: range(Object.values(half).flatMap((xs) => xs.map((x) => x.sendLagMs.p99))),
            cpu: range(Object.values(half).flatMap((xs) => xs.map((x) => x.generatorCpu))),
          },
          runs: half,
        },
      },
      pinUsers: {
        what: 'PIN + code in one pass: one scrypt (N=2^14, r=8, p=1, ~50 ms of one core) per candidate split, at most 2 at a time (8 connections)',
        acceptsPerSecond: pin.acceptsPerSecond,
        p50ms: pin.p50ms,
        p99ms: pin.p99ms,
        ratioToValidate: ratio(pin.acceptsPerSecond, peak),
      },
      rssMiB: {
        validate: Math.round((await on.rss()) / 2 ** 20),
        limit: Math.round((await limit.rss()) / 2 ** 20),
      },
      ...(profile ? { profile } : {}),
      runs: rounds,
      aim: 'validateToLimit >= 0.6 with p99 < 5 ms at half of peak (latencyMs.atHalfPeak.validate.p99); authLogOnToOff >= 0.9',
    };
  } finally {
    await Promise.all([noop, limit, on, off].map((s) => s.stop()));
    for (const d of dataDirs) rmSync(d, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(`${JSON.stringify(await benchValidate(), null, 2)}\n`);
}
