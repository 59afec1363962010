// One server of a benchmark, in its own process so that the load generator (wrk) and each server
// get their own share of the CPU and can be profiled alone (`node --cpu-prof`). Started by
// bench/procs.ts with a JSON spec as its one argument; answers its address over the IPC channel
// and runs until SIGTERM.
import { mkdtempSync, rmSync } from 'node:fs';
import { Session } from 'node:inspector';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  constants,
  type IntervalHistogram,
  monitorEventLoopDelay,
  PerformanceObserver,
} from 'node:perf_hooks';
import { createClient } from '../src/admin/index.ts';
import { hashPin } from '../src/crypto/index.ts';
import type { Token, User } from '../src/model/index.ts';
import { buildApp, createLogger, createServices, loadConfig, openStore } from '../src/server/index.ts';
import { tuneV8 } from '../src/server/v8-tuning.ts';
import type { Store } from '../src/store/index.ts';
import { BENCH_SECRET_BYTES } from './codes.ts';
import { startLimitServer, startNoopServer } from './limit-server.ts';

export interface Population {
  /** Users `<prefix><i>` for i in [0, count), each with one TOTP token holding the bench seed. */
  prefix: string;
  count: number;
  /** Users that also have this PIN (the first `pinUsers` of the population). */
  pin?: string;
  pinUsers?: number;
}

export type ServeSpec =
  | {
      kind: 'tessera';
      /** TESSERA_* settings of the node (data dir, Redis URL, log level, audit success rate). */
      env: Record<string, string>;
      population: Population;
    }
  | { kind: 'limit'; store: 'lmdb' | 'redis'; redisUrl?: string; replicas?: number; population: Population }
  | { kind: 'noop' };

export interface Ready {
  port: number;
  /** The client key the load generator sends (empty for the no-op route). */
  apiKey: string;
  pid: number;
  rssBytes: number;
  populateMs: number;
}

function sampleUser(username: string, pinHash: string | undefined): User {
  return {
    username,
    group: 'default',
    enabled: true,
    mfaRequired: true,
    methods: {},
    createdAt: 1,
    updatedAt: 1,
    ...(pinHash ? { pinHash } : {}),
  };
}

/** Writes the users and tokens straight into the store, many at a time (commits are batched). */
async function populate(
  store: Store,
  seal: (secret: Uint8Array, serial: string) => string,
  p: Population,
): Promise<void> {
  const pinHash = p.pin ? await hashPin(p.pin) : undefined;
  let next = 0;
  const worker = async () => {
    while (next < p.count) {
      const i = next++;
      const username = `${p.prefix}${i}`;
      const serial = `B${p.prefix.toUpperCase()}${i}`;
      await store.createUser(sampleUser(username, i < (p.pinUsers ?? 0) ? pinHash : undefined));
      const token: Token = {
        serial,
        username,
        type: 'totp',
        isDefault: true,
        status: 'active',
        algorithm: 'SHA1',
        digits: 6,
        period: 30,
        secretSealed: seal(BENCH_SECRET_BYTES, serial),
        createdAt: 1,
        updatedAt: 1,
      };
      await store.putToken(token);
    }
  };
  await Promise.all(Array.from({ length: 512 }, worker));
}

async function serveTessera(
  spec: Extract<ServeSpec, { kind: 'tessera' }>,
): Promise<Ready & { stop(): Promise<void> }> {
  // As bin/tessera.mjs does for a node (the bare baselines keep V8's defaults); here after the
  // modules loaded, but before the node opens its store or serves.
  tuneV8();
  const dataDir = spec.env.TESSERA_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'tessera-bench-node-'));
  const config = loadConfig({
    TESSERA_HOST: '127.0.0.1',
    TESSERA_PORT: '0',
    ...spec.env,
    TESSERA_DATA_DIR: dataDir,
  });
  const opened = await openStore(config);
  const log = createLogger(config);
  const services = createServices(config, opened, log);
  const app = await buildApp(services, log);
  const started = Date.now();
  await populate(services.store, (s, serial) => services.keyring.seal(s, serial), spec.population);
  const populateMs = Date.now() - started;
  // a node started again on the same store makes its own client beside the earlier one's
  const { apiKey } = await createClient(services.admin('bench'), {
    name: `bench-${process.pid}`,
    kind: 'api',
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    apiKey,
    pid: process.pid,
    rssBytes: process.memoryUsage.rss(),
    populateMs,
    stop: async () => {
      app.server.closeAllConnections();
      await app.close();
      if (!spec.env.TESSERA_DATA_DIR) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const spec = JSON.parse(process.argv[2] ?? '{}') as ServeSpec;
const server =
  spec.kind === 'tessera'
    ? await serveTessera(spec)
    : spec.kind === 'limit'
      ? await startLimitServer(spec)
      : await startNoopServer();
const { stop, ...ready } = server;
process.send?.({ ...ready, rssBytes: process.memoryUsage.rss() } satisfies Ready);
let profiler: Session | null = null;
let loopDelay: IntervalHistogram | null = null;
let gcPauses: { ms: number; major: boolean }[] = [];
const gcWatch = new PerformanceObserver((list) => {
  for (const e of list.getEntries())
    gcPauses.push({
      ms: e.duration,
      major:
        (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ===
        constants.NODE_PERFORMANCE_GC_MAJOR,
    });
});
process.on('message', (m: unknown) => {
  if (m === 'rss') process.send?.({ rssBytes: process.memoryUsage.rss() });
  // How long this server's event loop was held up (ms), between these two messages: a stall here
  // is a stall of every request in flight.
  if (m === 'loop-start') {
    loopDelay = monitorEventLoopDelay({ resolution: 1 });
    loopDelay.enable();
    gcPauses = [];
    gcWatch.observe({ entryTypes: ['gc'] });
    process.send?.({ loop: true });
  }
  if (m === 'loop-stop' && loopDelay) {
    loopDelay.disable();
    gcWatch.disconnect();
    const h = loopDelay;
    const major = gcPauses.filter((g) => g.major);
    const round = (x: number) => +x.toFixed(2);
    process.send?.({
      loopDelayMs: {
        p50: round(h.percentile(50) / 1e6),
        p99: round(h.percentile(99) / 1e6),
        max: round(h.max / 1e6),
        gcPauses: gcPauses.length,
        gcMs: round(gcPauses.reduce((a, g) => a + g.ms, 0)),
        gcMaxMs: round(Math.max(0, ...gcPauses.map((g) => g.ms))),
        majorGcs: major.length,
      },
    });
    loopDelay = null;
  }
  // A CPU profile of the measured part only (not the population), for bench/profile.ts.
  if (m === 'profile-start') {
    profiler = new Session();
    profiler.connect();
    profiler.post('Profiler.enable', () =>
      profiler!.post('Profiler.start', () => process.send?.({ profiling: true })),
    );
  }
  if (m === 'profile-stop' && profiler) {
    profiler.post('Profiler.stop', (err, result) => {
      process.send?.({ profile: err ? null : result.profile });
      profiler?.disconnect();
      profiler = null;
    });
  }
});
// The bench that started this server is gone: nobody will stop it.
process.once('disconnect', () => process.exit(1));
process.once('SIGTERM', () => {
  void stop().finally(() => process.exit(0));
});
