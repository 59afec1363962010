import type { Redis, RedisOptions } from 'ioredis';
import {
  newRedis,
  openRedisStore,
  planTls,
  type RedisStoreOptions,
  type RedisTlsFiles,
  urlOptions,
} from '../store/redis/index.ts';
import { sleep } from '../store/within.ts';

/** How the operator commands reach Redis and Sentinel: the node's own URL credentials and TLS. */
export interface RedisAccess {
  url?: string;
  tls?: RedisTlsFiles;
  sentinelTls?: boolean;
  sentinelPassword?: string;
}

function addr(a: string): { host: string; port: number } {
  const i = a.lastIndexOf(':');
  const port = Number(a.slice(i + 1));
  if (i <= 0 || !Number.isInteger(port)) throw new Error(`"${a}" is not host:port`);
  return { host: a.slice(0, i), port };
}

/** No operator command waits on one Redis or Sentinel answer longer than this. */
const COMMAND_TIMEOUT_MS = 5_000;

function connect(a: string, auth: RedisOptions): Redis {
  const c = newRedis({
    ...auth,
    ...addr(a),
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
    commandTimeout: COMMAND_TIMEOUT_MS,
    lazyConnect: false,
  });
  c.on('error', () => {});
  return c;
}

/**
 * Credentials and database from the URL, and TLS as the store uses it (verified, with the CA and
 * client certificate files): a bare `rediss:` would trust only the system CAs, and Sentinel would
 * be reached in plaintext.
 */
function accessOf(access: RedisAccess): { data: RedisOptions; sentinel: RedisOptions } {
  const plan = planTls(access);
  const { host: _h, port: _p, tls: _t, ...rest } = access.url ? urlOptions(access.url) : {};
  return {
    data: { ...rest, ...(plan.data ? { tls: plan.data } : {}) },
    sentinel: {
      ...(plan.sentinel ? { tls: plan.sentinel } : {}),
      ...(access.sentinelPassword ? { password: access.sentinelPassword } : {}),
    },
  };
}

async function offsetOf(c: Redis): Promise<number> {
  const role = (await c.role()) as unknown[];
  return Number(role[0] === 'master' ? role[1] : role[4]);
}

/**
 * A planned switchover without Sentinel: writes on the old master pause, the target catches up to
 * the last byte, is promoted, and every other Redis (the old master first) replicates from it. No
 * acknowledged write is lost; nothing fails back by itself later.
 */
export async function switchover(
  opts: {
    master: string;
    target: string;
    others: string[];
    pauseMs?: number;
  } & RedisAccess,
): Promise<{ from: string; to: string; offset: number }> {
  const auth = accessOf(opts).data;
  const pauseMs = opts.pauseMs ?? 10_000;
  const m = connect(opts.master, auth);
  const t = connect(opts.target, auth);
  try {
    await m.call('CLIENT', 'PAUSE', String(pauseMs), 'WRITE');
    const deadline = Date.now() + pauseMs - 2_000;
    const target = await offsetOf(m);
    while ((await offsetOf(t)) < target) {
      if (Date.now() > deadline)
        throw new Error(`${opts.target} did not catch up with the master; nothing changed`);
      await sleep(20);
    }
    await t.call('REPLICAOF', 'NO', 'ONE');
    const { host, port } = addr(opts.target);
    await m.call('REPLICAOF', host, String(port));
    for (const other of opts.others) {
      if (other === opts.target || other === opts.master) continue;
      const c = connect(other, auth);
      try {
        await c.call('REPLICAOF', host, String(port));
      } finally {
        c.disconnect();
      }
    }
    return { from: opts.master, to: opts.target, offset: target };
  } finally {
    await m.call('CLIENT', 'UNPAUSE').catch(() => {});
    m.disconnect();
    t.disconnect();
  }
}

/** Sentinel-driven failover; with a target, Sentinel is steered to it by replica priority. */
export async function sentinelFailover(
  opts: {
    sentinels: { host: string; port: number }[];
    name: string;
    target?: string;
    timeoutMs?: number;
  } & RedisAccess,
): Promise<{ from: string; to: string }> {
  const access = accessOf(opts);
  const auth = access.data;
  let sentinel: Redis | null = null;
  for (const s of opts.sentinels) {
    const c = newRedis({
      ...access.sentinel,
      ...s,
      maxRetriesPerRequest: 1,
      retryStrategy: () => null,
      commandTimeout: COMMAND_TIMEOUT_MS,
    });
    c.on('error', () => {});
    try {
      await c.ping();
      sentinel = c;
      break;
    } catch {
      c.disconnect();
    }
  }
  if (!sentinel) throw new Error('no Sentinel answered');
  const masterAddr = async () =>
    ((await sentinel.call('SENTINEL', 'get-master-addr-by-name', opts.name)) as string[]).join(':');
  const from = await masterAddr();
  const replicas = ((await sentinel.call('SENTINEL', 'replicas', opts.name)) as string[][]).map((fields) => {
    const rec: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) rec[fields[i]!] = fields[i + 1]!;
    return `${rec.ip}:${rec.port}`;
  });
  const steer = async (priority: (a: string) => number) => {
    for (const r of replicas) {
      const c = connect(r, auth);
      await c.call('CONFIG', 'SET', 'replica-priority', String(priority(r))).catch(() => {});
      c.disconnect();
    }
  };
  try {
    if (opts.target) {
      if (!replicas.includes(opts.target))
        throw new Error(`${opts.target} is not a replica Sentinel knows (${replicas.join(', ')})`);
      await steer((r) => (r === opts.target ? 1 : 100));
    }
    await sentinel.call('SENTINEL', 'FAILOVER', opts.name);
    const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
    let to = from;
    while (to === from) {
      if (Date.now() > deadline) throw new Error('Sentinel did not complete the failover in time');
      await sleep(200);
      to = await masterAddr();
    }
    return { from, to };
  } finally {
    if (opts.target) await steer(() => 100);
    sentinel.disconnect();
  }
}

/**
 * Brings a Redis that diverged (it was split off and took writes) back under the master without
 * a replay window: its writes pause, its token states are max-merged into the master, and only
 * then does it replicate (which discards its own copy).
 */
export async function rejoin(opts: {
  local: string;
  master: string;
  prefix?: string;
  /** How the merge writes to the master (the node's own Redis settings). */
  redis?: Pick<RedisStoreOptions, 'waitTimeoutMs' | 'ackReplicas' | 'autoPipelining' | 'tls'>;
}): Promise<{ merged: number }> {
  const prefix = opts.prefix ?? 'tessera:';
  const localOpts = {
    ...urlOptions(opts.local),
    ...accessOf({ url: opts.local, ...(opts.redis?.tls ? { tls: opts.redis.tls } : {}) }).data,
  };
  const local = newRedis({ ...localOpts, maxRetriesPerRequest: 1, retryStrategy: () => null });
  local.on('error', () => {});
  const { host, port } = addr(opts.master);
  const masterUrl = new URL(opts.local);
  masterUrl.hostname = host;
  masterUrl.port = String(port);
  const master = await openRedisStore({
    ...opts.redis,
    url: masterUrl.toString(),
    prefix,
    replicaAck: 'accept',
  });
  try {
    await local.call('CLIENT', 'PAUSE', '30000', 'WRITE');
    const states = await local.hgetall(`${prefix}tstates`);
    let merged = 0;
    for (const [serial, raw] of Object.entries(states)) {
      const [counter, lastUsedStep, drift] = raw.split(',').map(Number);
      await master.advanceTokenState(serial, {
        counter: counter ?? 0,
        lastUsedStep: lastUsedStep ?? -1,
        drift: drift ?? 0,
      });
      merged++;
    }
    await local.call('REPLICAOF', host, String(port));
    return { merged };
  } finally {
    await local.call('CLIENT', 'UNPAUSE').catch(() => {});
    local.disconnect();
    await master.close();
  }
}
