import { EventEmitter } from 'node:events';
import { Redis, type RedisOptions } from 'ioredis';
import type { AuditRetention, RedisRole, ReplicationEvents, ReplicationView } from '../types.ts';
import {
  APPEND_AUDIT,
  APPEND_CHAINED,
  AUDIT_INDEX_PROBE,
  INDEX_AUDIT,
  MIGRATE_AUDIT,
} from './audit-scripts.ts';
import * as lua from './scripts.ts';
import { explainConnectError, planTls, probeTls, type RedisTlsFiles, type RedisTlsPlan } from './tls.ts';

export interface RedisStoreOptions {
  /** The node's own Redis (reads, and the node's role). */
  url?: string;
  /** With Sentinel: writes follow the master Sentinel names. */
  sentinels?: { host: string; port: number }[];
  sentinelName?: string;
  /** What an accept does when no replica acknowledges the write in time (default reject; both alarm). */
  replicaAck?: 'accept' | 'reject';
  /** How many replicas must acknowledge (WAIT n); default 1. */
  ackReplicas?: number;
  waitTimeoutMs?: number;
  prefix?: string;
  rolePollMs?: number;
  /** Connections to the master for authentication-state writes (WAIT blocks its connection). */
  writePool?: number;
  /** ioredis auto-pipelining (default on). */
  autoPipelining?: boolean;
  /** Sentinel's own password, when the Sentinels require one. */
  sentinelPassword?: string;
  /** CA and client certificate files for TLS (`rediss://`); certificates are always verified. */
  tls?: RedisTlsFiles;
  /** Whether the Sentinels themselves speak TLS; by default they do when the data nodes do. */
  sentinelTls?: boolean;
  /** How long each audit stream keeps its events (and how many at most). */
  auditRetention?: Partial<AuditRetention>;
  /** The store's clock (tests fake it); Date.now by default. */
  now?: () => number;
}

export type { RedisRole, ReplicationView } from '../types.ts';

/** The replication events as EventEmitter argument lists. */
export type LinkEvents = { [E in keyof ReplicationEvents]: [ReplicationEvents[E]] };

const SCRIPTS: Record<string, { lua: string; keys: number }> = {
  tsCommitAccept: { lua: lua.COMMIT_ACCEPT, keys: 2 },
  tsCommitFailure: { lua: lua.COMMIT_FAILURE, keys: 1 },
  tsReserveAttempt: { lua: lua.RESERVE_ATTEMPT, keys: 1 },
  tsRefundAttempt: { lua: lua.REFUND_ATTEMPT, keys: 1 },
  tsAdvanceState: { lua: lua.ADVANCE_STATE, keys: 1 },
  tsUnlockUser: { lua: lua.UNLOCK_USER, keys: 1 },
  tsCreateUser: { lua: lua.CREATE_USER, keys: 3 },
  tsUpdateUser: { lua: lua.UPDATE_USER, keys: 1 },
  tsDeleteUser: { lua: lua.DELETE_USER, keys: 6 },
  tsRenameUser: { lua: lua.RENAME_USER, keys: 5 },
  tsPutToken: { lua: lua.PUT_TOKEN, keys: 3 },
  tsDeleteToken: { lua: lua.DELETE_TOKEN, keys: 3 },
  tsPutRecord: { lua: lua.PUT_RECORD, keys: 2 },
  tsDeleteRecord: { lua: lua.DELETE_RECORD, keys: 2 },
  tsLoadAuthView: { lua: lua.LOAD_AUTH_VIEW, keys: 5 },
  tsListTokens: { lua: lua.LIST_TOKENS, keys: 1 },
  tsAppendAudit: { lua: APPEND_AUDIT, keys: 8 },
  tsAppendChained: { lua: APPEND_CHAINED, keys: 9 },
  tsMigrateAudit: { lua: MIGRATE_AUDIT, keys: 4 },
  tsIndexAudit: { lua: INDEX_AUDIT, keys: 1 },
  tsAuditIndexProbe: { lua: AUDIT_INDEX_PROBE, keys: 0 },
};

export type ScriptName = keyof typeof SCRIPTS & string;

/** Runs one of our cached scripts (EVALSHA, falling back to EVAL once per connection). */
export function runScript(conn: Redis, name: ScriptName, args: (string | number)[]): Promise<unknown> {
  const fn = (conn as unknown as Record<string, (...a: (string | number)[]) => Promise<unknown>>)[name];
  if (!fn) throw new Error(`script ${name} is not defined`);
  return fn.apply(conn, args);
}

function defineScripts(conn: Redis): Redis {
  for (const [name, s] of Object.entries(SCRIPTS))
    conn.defineCommand(name, { lua: s.lua, numberOfKeys: s.keys });
  return conn;
}

function baseOptions(waitTimeoutMs: number, autoPipelining: boolean, sentinel = false): RedisOptions {
  return {
    lazyConnect: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    commandTimeout: waitTimeoutMs + 3_000,
    enableReadyCheck: true,
    enableAutoPipelining: autoPipelining,
    retryStrategy: (times) => Math.min(100 * times, 1_000),
    // A demoted master answers READONLY. With Sentinel, reconnecting re-resolves the master, so
    // resend there; without it the store re-reads ROLE and re-points its writers instead.
    ...(sentinel
      ? { reconnectOnError: (err: Error) => (err.message.startsWith('READONLY') ? 2 : false) }
      : {}),
  };
}

/** Host, port, credentials and database of a redis:// or rediss:// URL (rediss: TLS with system CAs). */
export function urlOptions(url: string): RedisOptions {
  const u = new URL(url);
  const db = Number(u.pathname.replace(/^\//, '') || 0);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(Number.isInteger(db) && db > 0 ? { db } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

function parseRole(reply: unknown[]): {
  role: RedisRole;
  master?: string;
  linkUp: boolean;
  offset: number;
  replicas: { addr: string; offset: number }[];
} {
  if (reply[0] === 'master') {
    const replicas = ((reply[2] as string[][] | undefined) ?? []).map((r) => ({
      addr: `${r[0]}:${r[1]}`,
      offset: Number(r[2]),
    }));
    return { role: 'master', linkUp: true, offset: Number(reply[1]), replicas };
  }
  if (reply[0] === 'slave') {
    return {
      role: 'slave',
      master: `${reply[1]}:${reply[2]}`,
      linkUp: reply[3] === 'connected',
      offset: Number(reply[4]),
      replicas: [],
    };
  }
  throw new Error(`unexpected ROLE reply ${String(reply[0])}`);
}

/**
 * The store's connections. `local` is the node's own Redis: reads come from it and its ROLE is the
 * node's role. `writers` reach the master (learned from ROLE, or from Sentinel): every
 * authentication-state write goes there and is followed by WAIT on the same connection.
 */
export class RedisLinks extends EventEmitter<LinkEvents> {
  private localConn: Redis;
  /** How to make another writer like the current ones (null until the master is known). */
  private makeWriter: (() => Redis) | null = null;
  private writers: Redis[] = [];
  private next = 0;
  private view: ReplicationView | null = null;
  /** Once a replica was seen (or Sentinel is on), a write without a replica's ack is unreplicated. */
  private expectReplicas: boolean;
  private poll: NodeJS.Timeout | null = null;
  private polling: Promise<void> | null = null;
  private closed = false;
  readonly waitTimeoutMs: number;
  readonly replicaAck: 'accept' | 'reject';
  private readonly tls: RedisTlsPlan;
  /** The last connection error any of our connections saw (for a clear start-up error). */
  private lastError: unknown = null;
  private readonly noteError = (err: unknown) => {
    this.lastError = err;
  };

  constructor(private readonly opts: RedisStoreOptions) {
    super();
    this.waitTimeoutMs = opts.waitTimeoutMs ?? 1_000;
    this.replicaAck = opts.replicaAck ?? 'reject';
    this.expectReplicas = Boolean(opts.sentinels?.length);
    this.tls = planTls(opts);
    this.localConn = this.makeLocal();
  }

  private makeLocal(): Redis {
    const url = this.opts.url;
    const c = defineScripts(
      url
        ? new Redis({
            ...baseOptions(this.waitTimeoutMs, this.opts.autoPipelining ?? true),
            ...this.dataOptions(url),
          })
        : this.newSentinelClient(),
    );
    c.on('error', this.noteError);
    return c;
  }

  /**
   * The node's own Redis. ioredis ends a Sentinel client for good when a failover message arrives
   * while it is asking Sentinel for the master (its connector is told to disconnect mid-connect);
   * such a connection then answers every command "Connection is closed". It is replaced here, as
   * writers are in writer(), rather than failing until the node restarts.
   */
  get local(): Redis {
    if (this.localConn.status === 'end' && !this.closed) this.localConn = this.makeLocal();
    return this.localConn;
  }

  /** Whether the data connections use TLS (for status pages and tests). */
  get usesTls(): boolean {
    return this.tls.data !== undefined;
  }

  /**
   * A data node's address, credentials and database from the URL, with our TLS settings in place
   * of the URL's bare `rediss:` (which would trust only the system CAs and carry no client cert).
   */
  private dataOptions(url: string): RedisOptions {
    const { tls: _t, ...rest } = urlOptions(url);
    return this.tls.data ? { ...rest, tls: this.tls.data } : rest;
  }

  /** True once this store has seen a replica (or uses Sentinel): the cluster expects replication. */
  get expectsReplicas(): boolean {
    return this.expectReplicas;
  }

  get usesSentinel(): boolean {
    return Boolean(this.opts.sentinels?.length);
  }

  private newSentinelClient(): Redis {
    if (!this.opts.sentinels?.length) throw new Error('the Redis store needs a URL or Sentinels');
    // The data nodes' credentials and database come from the node's URL; Sentinel's own password
    // (if any) from the sentinelPassword option.
    const { host: _h, port: _p, tls: _t, ...auth } = this.opts.url ? urlOptions(this.opts.url) : {};
    const sentinelPassword = this.opts.sentinelPassword;
    // The master and replicas Sentinel names are reached with the data nodes' TLS settings, the
    // Sentinels with their own: without enableTLSForSentinelMode ioredis would talk plaintext to
    // the discovered master even for a rediss:// URL.
    const { data, sentinel } = this.tls;
    return new Redis({
      ...baseOptions(this.waitTimeoutMs, this.opts.autoPipelining ?? true, true),
      ...auth,
      ...(data ? { tls: data, enableTLSForSentinelMode: true } : {}),
      ...(sentinel ? { sentinelTLS: sentinel } : {}),
      ...(sentinelPassword ? { sentinelPassword } : {}),
      sentinels: this.opts.sentinels,
      name: this.opts.sentinelName ?? 'tessera',
      role: 'master',
      failoverDetector: true,
      sentinelRetryStrategy: (times) => Math.min(100 * times, 1_000),
    });
  }

  /** Connects, learns the role and starts following it. */
  async start(): Promise<void> {
    try {
      await this.refresh();
    } catch (err) {
      throw new Error(await this.explainStartFailure(err));
    }
    this.poll = setInterval(() => {
      if (!this.polling)
        this.polling = this.refresh()
          .catch(() => {})
          .finally(() => {
            this.polling = null;
          });
    }, this.opts.rolePollMs ?? 500);
    this.poll.unref();
  }

  /**
   * Why start() failed, naming the server and the reason (a refused certificate), never a password.
   * With TLS a failed Sentinel connection says only "Connection is closed", so one handshake with
   * each TLS endpoint finds the real reason.
   */
  private async explainStartFailure(err: unknown): Promise<string> {
    const url = this.opts.url ? new URL(this.opts.url) : null;
    const where = url
      ? `${url.hostname}:${url.port || 6379}`
      : `Sentinels ${(this.opts.sentinels ?? []).map((s) => `${s.host}:${s.port}`).join(',')}`;
    const hide = url ? [decodeURIComponent(url.password)] : [];
    const sentinelPassword = this.opts.sentinelPassword;
    if (sentinelPassword) hide.push(sentinelPassword);
    let reason = this.lastError ?? err;
    const probes: [string, number, NonNullable<RedisTlsPlan['data']>][] = [];
    const host = url?.hostname.replace(/^\[(.*)\]$/, '$1'); // an IPv6 literal without brackets
    if (url && host && this.tls.data) probes.push([host, Number(url.port || 6379), this.tls.data]);
    if (this.tls.sentinel)
      for (const s of this.opts.sentinels ?? []) probes.push([s.host, s.port, this.tls.sentinel]);
    for (const [host, port, options] of probes) {
      const failed = await probeTls(host, port, options);
      if (failed) {
        reason = failed;
        break;
      }
    }
    const how = this.tls.data ? ' over TLS' : '';
    return `cannot reach Redis at ${where}${how}: ${explainConnectError(reason, hide)}`;
  }

  replication(): ReplicationView | null {
    return this.view;
  }

  /** The next master connection, round-robin. */
  writer(): Redis {
    if (this.writers.length === 0) throw new Error('no master connection yet');
    const i = this.next++ % this.writers.length;
    const w = this.writers[i]!;
    if (w.status !== 'end' || this.closed || !this.makeWriter) return w;
    const fresh = this.makeWriter();
    this.writers[i] = fresh;
    return fresh;
  }

  /**
   * After a write on `conn`: WAIT for one replica when replication is expected. Returns false when
   * no replica acknowledged in time (the caller applies the replica-ack policy).
   */
  async acknowledged(conn: Redis): Promise<boolean> {
    const known = this.view?.replicas.length ?? 0;
    if (!this.expectReplicas && known === 0) return true;
    const need = Math.max(1, this.opts.ackReplicas ?? 1);
    const acks = known > 0 ? await conn.wait(need, this.waitTimeoutMs) : 0;
    if (acks >= need) return true;
    this.emit('replica-ack-missing', { waited: known > 0 ? this.waitTimeoutMs : 0, ms: this.waitTimeoutMs });
    return false;
  }

  /** Re-reads ROLE now (after a READONLY answer, or on the poll). */
  async refresh(): Promise<void> {
    if (this.closed) return;
    let own: ReturnType<typeof parseRole>;
    try {
      own = parseRole((await this.local.role()) as unknown[]);
    } catch (err) {
      if (!this.usesSentinel || !this.opts.url) throw err;
      await this.followWithoutLocal();
      return;
    }
    const selfAddr = this.localAddr();
    const masterAddr = own.role === 'master' ? selfAddr : (own.master ?? '');
    await this.ensureWriters(masterAddr);
    let masterOffset = own.offset;
    let replicas = own.replicas;
    if (own.role === 'slave') {
      try {
        const m = parseRole((await this.writer().role()) as unknown[]);
        masterOffset = m.offset;
        replicas = m.replicas;
      } catch {
        replicas = [];
      }
    }
    if (replicas.length > 0) this.expectReplicas = true;
    const before = this.view;
    this.view = {
      redisRole: own.role,
      self: selfAddr,
      master: masterAddr,
      linkUp: own.linkUp,
      offset: own.offset,
      masterOffset,
      replicas,
    };
    if (before && before.redisRole !== own.role)
      this.emit('role-change', { from: before.redisRole, to: own.role, master: masterAddr });
    if (before && before.redisRole === own.role && before.master !== masterAddr)
      this.emit('master-change', { from: before.master, to: masterAddr });
  }

  /** Own Redis down in Sentinel mode: keep serving through the master Sentinel names. */
  private async followWithoutLocal(): Promise<void> {
    await this.ensureWriters('');
    const w = this.writer();
    const m = parseRole((await w.role()) as unknown[]);
    const prev = this.view;
    const s = w.stream as { remoteAddress?: string; remotePort?: number } | undefined;
    const master =
      s?.remoteAddress && s.remotePort ? `${s.remoteAddress}:${s.remotePort}` : (prev?.master ?? '');
    this.view = {
      redisRole: prev?.redisRole ?? 'slave',
      self: prev?.self ?? this.localAddr(),
      master,
      linkUp: false,
      offset: prev?.offset ?? 0,
      masterOffset: m.offset,
      replicas: m.replicas,
    };
    if (prev && prev.master !== master) this.emit('master-change', { from: prev.master, to: master });
  }

  /** Reads come from the node's own Redis; while it is down (Sentinel mode), from the master. */
  reader(): Redis {
    if (this.local.status === 'ready' || !this.usesSentinel || this.writers.length === 0) return this.local;
    return this.writer();
  }

  private localAddr(): string {
    const s = this.local.stream as { remoteAddress?: string; remotePort?: number } | undefined;
    if (s?.remoteAddress && s.remotePort) return `${s.remoteAddress}:${s.remotePort}`;
    const o = this.local.options;
    return `${o.host ?? '127.0.0.1'}:${o.port ?? 6379}`;
  }

  private writerTarget = '';

  private async ensureWriters(masterAddr: string): Promise<void> {
    const size = Math.max(1, this.opts.writePool ?? 4);
    const watched = (make: () => Redis) => () => {
      const w = defineScripts(make());
      w.on('error', this.noteError);
      return w;
    };
    if (this.usesSentinel) {
      if (this.writers.length === 0) {
        this.makeWriter = watched(() => this.newSentinelClient());
        this.writers = Array.from({ length: size }, this.makeWriter);
      }
      return;
    }
    if (masterAddr === this.writerTarget && this.writers.length > 0) return;
    const old = this.writers;
    const [host, port] = splitAddr(masterAddr);
    const base = this.opts.url ? this.dataOptions(this.opts.url) : {};
    this.makeWriter = watched(
      () =>
        new Redis({
          ...baseOptions(this.waitTimeoutMs, this.opts.autoPipelining ?? true),
          ...base,
          host,
          port,
        }),
    );
    this.writers = Array.from({ length: size }, this.makeWriter);
    this.writerTarget = masterAddr;
    for (const w of old) w.disconnect();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.poll) clearInterval(this.poll);
    await this.polling?.catch(() => {});
    for (const w of this.writers) w.disconnect();
    this.localConn.disconnect();
  }
}

function splitAddr(addr: string): [string, number] {
  const i = addr.lastIndexOf(':');
  return [addr.slice(0, i), Number(addr.slice(i + 1))];
}
