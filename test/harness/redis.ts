import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import { ensureDebianPackages } from './debian.ts';
import { freePort, StopWaiting, waitFor } from './ports.ts';
import type { TlsMaterial } from './tls.ts';

export interface RedisProcess {
  port: number;
  url: string;
  dir: string;
  proc: ChildProcess;
  /** A short-lived admin connection (caller must disconnect). */
  client(): Redis;
  stop(): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

function track(proc: ChildProcess): void {
  running.add(proc);
  proc.once('exit', () => running.delete(proc));
}

function exited(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => proc.once('exit', () => resolve()));
}

/** Client options for a server started with `tls`: trust its CA, present the client certificate. */
function tlsOptions(tls?: TlsMaterial): RedisOptions {
  return tls ? { tls: tls.clientTls() } : {};
}

/** The arguments that make redis-server or redis-sentinel listen on TLS only (`port 0`). */
function tlsArgs(tls: TlsMaterial, port: number): string[] {
  return [
    '--port',
    '0',
    '--tls-port',
    String(port),
    '--tls-cert-file',
    tls.certFile,
    '--tls-key-file',
    tls.keyFile,
    '--tls-ca-cert-file',
    tls.caFile,
    // replication and Sentinel's own links to the servers speak TLS too
    '--tls-replication',
    'yes',
  ];
}

async function ping(port: number, dir?: string, tls?: TlsMaterial): Promise<boolean> {
  const c = new Redis({
    port,
    host: '127.0.0.1',
    ...tlsOptions(tls),
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  c.on('error', () => {});
  try {
    await c.connect();
    if ((await c.ping()) !== 'PONG') return false;
    if (!dir) return true;
    // Another test's server may have taken the port first: make sure this one is ours.
    const [, actual] = (await c.config('GET', 'dir')) as string[];
    if (actual !== dir) throw new Error(`port ${port} answers, but not for our redis-server`);
    return true;
  } finally {
    c.disconnect();
  }
}

/**
 * A real redis-server on a free loopback port, in the foreground, with no persistence and an
 * immediate diskless full sync (see integration.md §4). `replicaOf` starts it as a replica. With
 * `tls` it listens on TLS only (the plaintext port is 0), requires a client certificate signed by
 * the test CA, and replicates over TLS; `url` is then `rediss://`.
 */
export async function startRedis(
  opts: { replicaOf?: number; args?: string[]; port?: number; attempt?: number; tls?: TlsMaterial } = {},
): Promise<RedisProcess> {
  ensureDebianPackages(['redis-server']);
  const port = opts.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'tessera-redis-'));
  const args = [
    ...(opts.tls ? tlsArgs(opts.tls, port) : ['--port', String(port)]),
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--save',
    '',
    '--appendonly',
    'no',
    '--repl-diskless-sync-delay',
    '0',
    '--daemonize',
    'no',
    '--loglevel',
    'warning',
    '--logfile',
    join(dir, 'redis.log'),
    ...(opts.replicaOf ? ['--replicaof', '127.0.0.1', String(opts.replicaOf)] : []),
    ...(opts.args ?? []),
  ];
  const proc = spawn('/usr/bin/redis-server', args, { stdio: 'ignore' });
  track(proc);
  try {
    await waitFor(
      `redis-server on ${port}`,
      async () => {
        if (proc.exitCode !== null)
          throw new StopWaiting(`redis-server exited with ${proc.exitCode} (port ${port} taken?)`);
        return ping(port, dir, opts.tls);
      },
      15_000,
      50,
    );
  } catch (err) {
    proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    // The port went to another process between freePort() and the bind: take another one.
    if (opts.port === undefined && (opts.attempt ?? 0) < 3)
      return startRedis({ ...opts, attempt: (opts.attempt ?? 0) + 1 });
    throw err;
  }
  const handle: RedisProcess = {
    port,
    url: `${opts.tls ? 'rediss' : 'redis'}://127.0.0.1:${port}`,
    dir,
    proc,
    client: () => {
      const c = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1, ...tlsOptions(opts.tls) });
      c.on('error', () => {});
      return c;
    },
    async stop() {
      proc.kill('SIGTERM');
      await exited(proc);
      rmSync(dir, { recursive: true, force: true });
    },
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      proc.kill(signal);
      await exited(proc);
    },
  };
  if (opts.replicaOf) await waitForReplicaLink(handle);
  return handle;
}

/** Waits until a replica reports `master_link_status:up`. */
export async function waitForReplicaLink(replica: RedisProcess, timeoutMs = 20_000): Promise<void> {
  const c = replica.client();
  try {
    await waitFor(
      `replica ${replica.port} to sync`,
      async () => (await c.info('replication')).includes('master_link_status:up'),
      timeoutMs,
      50,
    );
  } finally {
    c.disconnect();
  }
}

export interface SentinelGroup {
  name: string;
  ports: number[];
  sentinels: { host: string; port: number }[];
  procs: ChildProcess[];
  /** SENTINEL get-master-addr-by-name, from the first sentinel that answers. */
  masterPort(): Promise<number>;
  /** A short-lived connection to one sentinel (caller must disconnect). */
  client(index?: number): Redis;
  /** Waits until the first sentinel lists `count` replicas: before that it cannot promote one. */
  waitForReplicas(count: number): Promise<void>;
  /** What the sentinels decided (down, promoted, switched), from their logs, each line tagged s0.. */
  decisions(): string;
  stop(): Promise<void>;
}

/** Sentinel log events that say who took what for down and which master it named. */
const DECISION = /[+-][so]down master|\+promoted-slave|\+switch-master|\+convert-to-slave|-failover-abort/;

/**
 * `count` real redis-sentinel processes watching the master on `masterPort` (quorum 2), each with
 * its own writable config file (Sentinel rewrites it).
 */
export async function startSentinels(opts: {
  masterPort: number;
  name?: string;
  count?: number;
  downAfterMs?: number;
  failoverTimeoutMs?: number;
  /** TLS only, like startRedis({ tls }): to clients and to the servers they watch. */
  tls?: TlsMaterial;
}): Promise<SentinelGroup> {
  ensureDebianPackages(['redis-sentinel']);
  const name = opts.name ?? 'tessera';
  const count = opts.count ?? 3;
  const root = mkdtempSync(join(tmpdir(), 'tessera-sentinel-'));
  const ports: number[] = [];
  const procs: ChildProcess[] = [];
  for (let i = 0; i < count; i++) {
    const port = await freePort();
    const conf = join(root, `s${i}.conf`);
    const tls = opts.tls;
    const listen = tls
      ? [
          'port 0',
          `tls-port ${port}`,
          `tls-cert-file ${tls.certFile}`,
          `tls-key-file ${tls.keyFile}`,
          `tls-ca-cert-file ${tls.caFile}`,
          'tls-replication yes',
        ]
      : [`port ${port}`];
    writeFileSync(
      conf,
      [
        ...listen,
        'bind 127.0.0.1',
        `dir ${root}`,
        `sentinel monitor ${name} 127.0.0.1 ${opts.masterPort} 2`,
        `sentinel down-after-milliseconds ${name} ${opts.downAfterMs ?? 1000}`,
        `sentinel failover-timeout ${name} ${opts.failoverTimeoutMs ?? 5000}`,
        `sentinel parallel-syncs ${name} 1`,
        '',
      ].join('\n'),
    );
    const proc = spawn(
      '/usr/bin/redis-sentinel',
      [conf, '--logfile', join(root, `s${i}.log`), '--loglevel', 'notice'],
      {
        stdio: 'ignore',
      },
    );
    track(proc);
    ports.push(port);
    procs.push(proc);
  }
  for (const port of ports)
    await waitFor(`redis-sentinel on ${port}`, () => ping(port, undefined, opts.tls), 15_000, 50);
  const group: SentinelGroup = {
    name,
    ports,
    sentinels: ports.map((port) => ({ host: '127.0.0.1', port })),
    procs,
    async masterPort() {
      for (const port of ports) {
        const c = new Redis({
          port,
          host: '127.0.0.1',
          maxRetriesPerRequest: 0,
          retryStrategy: () => null,
          ...tlsOptions(opts.tls),
        });
        c.on('error', () => {});
        try {
          const addr = (await c.call('SENTINEL', 'get-master-addr-by-name', name)) as string[] | null;
          if (addr) return Number(addr[1]);
        } catch {
          // try the next sentinel
        } finally {
          c.disconnect();
        }
      }
      throw new Error('no sentinel answered');
    },
    client(index = 0) {
      const c = new Redis({
        port: ports[index]!,
        host: '127.0.0.1',
        maxRetriesPerRequest: 1,
        ...tlsOptions(opts.tls),
      });
      c.on('error', () => {});
      return c;
    },
    async waitForReplicas(count) {
      await waitFor(`Sentinel to know ${count} replica(s) of ${name}`, async () => {
        const c = group.client();
        try {
          return ((await c.call('SENTINEL', 'replicas', name)) as unknown[]).length === count;
        } finally {
          c.disconnect();
        }
      });
    },
    decisions() {
      return ports
        .flatMap((_, i) => {
          const file = join(root, `s${i}.log`);
          if (!existsSync(file)) return [];
          return readFileSync(file, 'utf8')
            .split('\n')
            .filter((l) => DECISION.test(l))
            .map((l) => `s${i} ${l.replace(/^\d+:X /, '')}`);
        })
        .sort((a, b) => a.slice(3).localeCompare(b.slice(3)))
        .join('\n');
    },
    async stop() {
      for (const p of procs) p.kill('SIGTERM');
      await Promise.all(procs.map(exited));
      rmSync(root, { recursive: true, force: true });
    },
  };
  return group;
}
