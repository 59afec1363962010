import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Redis, RedisOptions } from 'ioredis';
import type { AuditRetention, RedisRole, ReplicationEvents, ReplicationView } from '../types.ts';
import { sleep, within } from '../within.ts';
import {
  APPEND_AUDIT,
  APPEND_CHAINED,
  AUDIT_INDEX_PROBE,
  INDEX_AUDIT,
  MIGRATE_AUDIT,
} from './audit-scripts.ts';
import { SETTLE_MS } from './hold.ts';
import { newRedis } from './new-redis.ts';
import { ANSWER_PUSH, CONSUME_PUSH, CREATE_PUSH } from './push-scripts.ts';
import * as lua from './scripts.ts';
import { SentinelWatch } from './sentinel-watch.ts';
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
  /**
   * How long a login step waits for a new master when the master is unreachable (default 5000;
   * 0 answers at once). Only in a replicated setup: a lone Redis has no successor to wait for.
   */
  holdMs?: number;
}

export type { RedisRole, ReplicationView } from '../types.ts';

/** The replication events as EventEmitter argument lists. */
export type LinkEvents = { [E in keyof ReplicationEvents]: [ReplicationEvents[E]] };

const SCRIPTS: Record<string, { lua: string; keys: number }> = {
  tsCommitAccept: { lua: lua.COMMIT_ACCEPT, keys: 3 },
  tsCommitFailure: { lua: lua.COMMIT_FAILURE, keys: 1 },
  tsReserveAttempt: { lua: lua.RESERVE_ATTEMPT, keys: 1 },
  tsSettleAttempt: { lua: lua.SETTLE_ATTEMPT, keys: 3 },
  tsRefundAttempt: { lua: lua.REFUND_ATTEMPT, keys: 1 },
  tsAdvanceState: { lua: lua.ADVANCE_STATE, keys: 1 },
  tsUnlockUser: { lua: lua.UNLOCK_USER, keys: 1 },
  tsCreateUser: { lua: lua.CREATE_USER, keys: 3 },
  tsUpdateUser: { lua: lua.UPDATE_USER, keys: 1 },
  tsDeleteUser: { lua: lua.DELETE_USER, keys: 6 },
  tsRenameUser: { lua: lua.RENAME_USER, keys: 5 },
  tsPutToken: { lua: lua.PUT_TOKEN, keys: 3 },
  tsWriteUserTokens: { lua: lua.WRITE_USER_TOKENS, keys: 4 },
  tsRestoreBatch: { lua: lua.RESTORE_BATCH, keys: 5 },
  tsLease: { lua: lua.LEASE, keys: 1 },
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
  tsCreatePush: { lua: CREATE_PUSH, keys: 2 },
  tsAnswerPush: { lua: ANSWER_PUSH, keys: 1 },
  tsConsumePush: { lua: CONSUME_PUSH, keys: 1 },
};

export type ScriptName = keyof typeof SCRIPTS & string;

const SHAS: Record<string, string> = Object.fromEntries(
  Object.entries(SCRIPTS).map(([name, s]) => [name, createHash('sha1').update(s.lua).digest('hex')]),
);

const noScript = (err: unknown) => err instanceof Error && err.message.startsWith('NOSCRIPT');

/**
 * Runs one of our scripts: EVALSHA, and EVAL where the server does not know it yet (a restarted or
 * newly promoted Redis), which also caches it there. Not ioredis's defineCommand: every pipeline,
 * auto-pipelined batches included, copies each defined command onto itself, a cost per batch that
 * grows with the number of scripts.
 */
export function runScript(conn: Redis, name: ScriptName, args: (string | number)[]): Promise<unknown> {
  const s = SCRIPTS[name];
  if (!s) throw new Error(`script ${name} is not defined`);
  return conn
    .evalsha(SHAS[name]!, s.keys, ...args)
    .catch((err: unknown) => (noScript(err) ? conn.eval(s.lua, s.keys, ...args) : Promise.reject(err)));
}

function baseOptions(waitTimeoutMs: number, autoPipelining: boolean, sentinel = false): RedisOptions {
  return {
    lazyConnect: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    commandTimeout: waitTimeoutMs + 3_000,
    enableReadyCheck: true,
    enableAutoPipelining: autoPipelining,
    retryStrategy: reconnectDelay,
    // A demoted master answers READONLY. With Sentinel, reconnecting re-resolves the master, so
    // resend there; without it the store re-reads ROLE and re-points its writers instead.
    ...(sentinel
      ? { reconnectOnError: (err: Error) => (err.message.startsWith('READONLY') ? 2 : false) }
      : {}),
  };
}

/** How long Sentinel may take to name a master it promoted (it confirms on a 1 s INFO period). */
const PROMOTION_CONFIRM_MS = 3_000;

/**
 * Reconnect quickly for the first few seconds: during a failover the next attempt may find the new
 * master (with Sentinel, each attempt asks Sentinel again), and a held request waits for it.
 * After that a server that stays down is not hammered.
 */
function reconnectDelay(times: number): number {
  return times <= 60 ? SETTLE_MS : 1_000;
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
  /**
   * A connection to the master that never carries a WAIT: the role refresh reads the master's
   * replicas through it, so it is not stuck behind writes waiting for an acknowledgement.
   */
  private probe: Redis | null = null;
  private next = 0;
  private turnWriter = false;
  private view: ReplicationView | null = null;
  /** Once a replica was seen (or Sentinel is on), a write without a replica's ack is unreplicated. */
  private expectReplicas: boolean;
  private poll: NodeJS.Timeout | null = null;
  /** The ROLE read in flight, and the one asked for while it runs (see refresh). */
  private reading: Promise<void> | null = null;
  private rereading: Promise<void> | null = null;
  private closed = false;
  readonly waitTimeoutMs: number;
  readonly replicaAck: 'accept' | 'reject';
  readonly holdMs: number;
  /**
   * With Sentinel: this node saw its own Redis promoted from replica to master, so it writes there
   * directly instead of waiting up to a second more for Sentinel to name it. Cleared when the local
   * connection drops (a restarted Redis is not a promotion) or the local Redis is a replica again.
   */
  private promotedLocal = false;
  private promotedAt = 0;
  /** With Sentinel: where the Sentinels say the master is, and word of their switches. */
  private readonly watch: SentinelWatch | null;
  private sentinelMaster = '';
  /** When the master last changed or was found unreachable (a failover may be under way). */
  private lastUpset = 0;
  private started = false;
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
    this.holdMs = Math.max(0, opts.holdMs ?? 5_000);
    this.expectReplicas = Boolean(opts.sentinels?.length);
    this.tls = planTls(opts);
    this.watch = opts.sentinels?.length
      ? new SentinelWatch({
          sentinels: opts.sentinels,
          name: opts.sentinelName ?? 'tessera',
          ...(opts.sentinelPassword ? { password: opts.sentinelPassword } : {}),
          ...(this.tls.sentinel ? { tls: this.tls.sentinel } : {}),
          connectTimeout: 2_000,
          onError: this.noteError,
        })
      : null;
    this.watch?.on('switch', (addr) => {
      // Sentinel switched the master: re-point the writers now, not on their next failed try.
      this.sentinelMaster = addr;
      this.noteUpset();
      this.pointWriters(this.view?.self ?? '');
      // a read that starts now: one already in flight may have asked before the switch
      void this.refresh().catch(() => {});
    });
    this.localConn = this.makeLocal();
  }

  private makeLocal(): Redis {
    const url = this.opts.url;
    const c = url
      ? newRedis({
          ...baseOptions(this.waitTimeoutMs, this.opts.autoPipelining ?? true),
          ...this.dataOptions(url),
        })
      : this.newSentinelClient();
    c.on('error', this.noteError);
    c.on('close', () => {
      this.promotedLocal = false;
    });
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
    return newRedis({
      ...baseOptions(this.waitTimeoutMs, this.opts.autoPipelining ?? true, true),
      ...auth,
      ...(data ? { tls: data, enableTLSForSentinelMode: true } : {}),
      ...(sentinel ? { sentinelTLS: sentinel } : {}),
      ...(sentinelPassword ? { sentinelPassword } : {}),
      sentinels: this.opts.sentinels,
      name: this.opts.sentinelName ?? 'tessera',
      role: 'master',
      failoverDetector: true,
      sentinelRetryStrategy: reconnectDelay,
    });
  }

  /** Connects, learns the role and starts following it. */
  async start(): Promise<void> {
    try {
      await this.refresh();
    } catch (err) {
      throw new Error(await this.explainStartFailure(err));
    }
    this.started = true;
    this.poll = setInterval(() => void this.refreshSoon(), this.opts.rolePollMs ?? 500);
    this.poll.unref();
  }

  /** The poll's and a held step's refresh: joins the read in flight, if any; never rejects. */
  private refreshSoon(): Promise<void> {
    return (this.reading ?? this.refresh()).catch(() => {});
  }

  /** Whether a step that found the master unreachable waits for the next one (see holdMs). */
  get holds(): boolean {
    return this.holdMs > 0 && this.expectReplicas;
  }

  /** A step found the master unreachable: a failover may be under way. */
  noteUpset(): void {
    this.lastUpset = Date.now();
  }

  /** Whether the master changed or was unreachable within the last hold time. */
  get inFailover(): boolean {
    return this.holds && Date.now() - this.lastUpset < this.holdMs;
  }

  /** A held step's pause: look at the node's role again, and wait a moment (never past `deadline`). */
  async settle(deadline: number): Promise<void> {
    void this.refreshSoon();
    await sleep(Math.min(SETTLE_MS, deadline - Date.now()));
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
    // One connection per turn of the event loop, so that the writes of one turn share one socket
    // write and one WAIT (scriptAndWait); the next turn takes the next one while a WAIT blocks it.
    if (!this.turnWriter) {
      this.turnWriter = true;
      this.next++;
      setImmediate(() => {
        this.turnWriter = false;
      });
    }
    const i = this.next % this.writers.length;
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
  async acknowledged(conn: Redis, sent?: number): Promise<boolean> {
    const known = this.view?.replicas.length ?? 0;
    if (!this.expectReplicas && known === 0) return true;
    const need = Math.max(1, this.opts.ackReplicas ?? 1);
    let acks = sent ?? (known > 0 ? await conn.wait(need, this.waitTimeoutMs) : 0);
    // Strict, and the master just changed: its replicas may still be attaching (Sentinel re-points
    // them only after the promotion). Keep waiting for them within the hold, never accept without.
    if (acks < need && this.replicaAck === 'reject' && this.inFailover) {
      const deadline = Date.now() + this.holdMs;
      while (acks < need && Date.now() < deadline) {
        await this.settle(deadline);
        const left = deadline - Date.now();
        if ((this.view?.replicas.length ?? 0) > 0 && left > 0)
          acks = await conn.wait(need, Math.min(this.waitTimeoutMs, left));
      }
    }
    if (acks >= need) return true;
    this.emit('replica-ack-missing', { waited: known > 0 ? this.waitTimeoutMs : 0, ms: this.waitTimeoutMs });
    return false;
  }

  /** Per writer, the WAIT that the scripts sent in this turn of the event loop will share. */
  private readonly turnWaits = new Map<Redis, Promise<{ n: number } | { err: unknown }>>();

  /**
   * Runs one of our scripts on `conn` with a WAIT behind it: the scripts sent on one connection in
   * one turn of the event loop go out in one socket write, followed by one WAIT that covers them
   * all (a group commit), instead of a write and a WAIT each. `acks` is undefined when no WAIT
   * covered the script; pass it to acknowledged(), which decides as always.
   */
  async scriptAndWait(
    conn: Redis,
    name: ScriptName,
    args: (string | number)[],
  ): Promise<{ reply: unknown; acks: number | undefined }> {
    const s = SCRIPTS[name];
    const known = this.view?.replicas.length ?? 0;
    if (!s || known === 0) return { reply: await runScript(conn, name, args), acks: undefined };
    let wait = this.turnWaits.get(conn);
    if (!wait) {
      const socket = conn.status === 'ready' ? conn.stream : null;
      socket?.cork();
      const need = Math.max(1, this.opts.ackReplicas ?? 1);
      wait = new Promise((resolve) =>
        setImmediate(() => {
          this.turnWaits.delete(conn);
          conn.wait(need, this.waitTimeoutMs).then(
            (n) => resolve({ n }),
            (err: unknown) => resolve({ err }),
          );
          socket?.uncork();
        }),
      );
      this.turnWaits.set(conn, wait);
    }
    let reply: unknown;
    try {
      reply = await conn.evalsha(SHAS[name]!, s.keys, ...args);
    } catch (err) {
      if (!noScript(err)) throw err;
      // the WAIT may run ahead of the script's EVAL: it covers nothing of this write
      return { reply: await conn.eval(s.lua, s.keys, ...args), acks: undefined };
    }
    const acked = await wait;
    if ('err' in acked) throw acked.err;
    return { reply, acks: acked.n };
  }

  /**
   * Re-reads ROLE (after a READONLY answer, or on the poll). One read at a time: two that overlap
   * could finish out of order, the older one putting back the role from before a promotion (and
   * the writers on the old master), and the next poll raising the promotion a second time. A call
   * made while a read runs gets a read that starts after it, so it sees what changed since.
   */
  refresh(): Promise<void> {
    if (!this.reading) {
      this.reading = this.readRole().finally(() => {
        this.reading = null;
      });
      return this.reading;
    }
    this.rereading ??= this.reading
      .catch(() => {})
      .then(() => {
        this.rereading = null;
        return this.refresh();
      });
    return this.rereading;
  }

  private async readRole(): Promise<void> {
    if (this.closed) return;
    let own: ReturnType<typeof parseRole>;
    try {
      // Once running, a local Redis that is not connected is down: do not queue behind it.
      if (this.started && this.usesSentinel && this.local.status !== 'ready')
        throw new Error('the local Redis is not connected');
      own = parseRole((await this.local.role()) as unknown[]);
    } catch (err) {
      if (!this.usesSentinel || !this.opts.url) throw err;
      await this.followWithoutLocal();
      return;
    }
    const before = this.view;
    if (this.usesSentinel && this.opts.url) {
      if (own.role !== 'master') this.promotedLocal = false;
      else if (before?.redisRole === 'slave') {
        this.promotedLocal = true;
        this.promotedAt = Date.now();
      }
    }
    const selfAddr = this.localAddr();
    const masterAddr = own.role === 'master' ? selfAddr : (own.master ?? '');
    await this.askSentinel();
    // Sentinel confirms a promotion of its own within a second or two. If it still names another
    // master after that, this Redis was promoted by hand (a split brain): follow Sentinel.
    if (this.promotedLocal && this.sentinelMaster && this.sentinelMaster !== selfAddr)
      if (Date.now() - this.promotedAt > PROMOTION_CONFIRM_MS) this.promotedLocal = false;
    this.pointWriters(masterAddr);
    let masterOffset = own.offset;
    let replicas = own.replicas;
    if (own.role === 'slave') {
      // A master being replaced must not stall this refresh (it is how a promotion is noticed).
      // (At start the probe is still connecting: wait for it, as the node is not serving yet.)
      const w = this.probe;
      const ask = w && (w.status === 'ready' || !this.started);
      const reply = ask
        ? await within(w.role() as Promise<unknown[]>, this.started ? 250 : 2_000)
        : undefined;
      try {
        const m = reply ? parseRole(reply) : null;
        masterOffset = m?.offset ?? masterOffset;
        replicas = m?.replicas ?? [];
      } catch {
        replicas = [];
      }
    }
    if (replicas.length > 0) this.expectReplicas = true;
    this.view = {
      redisRole: own.role,
      self: selfAddr,
      master: masterAddr,
      linkUp: own.linkUp,
      offset: own.offset,
      masterOffset,
      replicas,
    };
    if (before && (before.redisRole !== own.role || before.master !== masterAddr)) this.noteUpset();
    if (before && before.redisRole !== own.role)
      this.emit('role-change', { from: before.redisRole, to: own.role, master: masterAddr });
    if (before && before.redisRole === own.role && before.master !== masterAddr)
      this.emit('master-change', { from: before.master, to: masterAddr });
  }

  /** Own Redis down in Sentinel mode: keep serving through the master Sentinel names. */
  private async followWithoutLocal(): Promise<void> {
    await this.askSentinel();
    this.pointWriters('');
    const w = this.probe;
    const reply = w?.status === 'ready' ? await within(w.role() as Promise<unknown[]>, 1_000) : undefined;
    if (!reply) throw new Error('no master reachable through Sentinel');
    const m = parseRole(reply);
    const prev = this.view;
    const s = w?.stream as { remoteAddress?: string; remotePort?: number } | undefined;
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
    if (prev && prev.master !== master) {
      this.noteUpset();
      this.emit('master-change', { from: prev.master, to: master });
    }
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

  /** Learns where Sentinel says the master is (kept when no Sentinel answers). */
  private async askSentinel(): Promise<void> {
    if (!this.watch) return;
    try {
      this.sentinelMaster = await this.watch.master();
    } catch (err) {
      if (!this.sentinelMaster) throw err;
    }
  }

  /** Where the writers point now. */
  private writerTarget = '';

  /**
   * Points the writers at the master: the one ROLE names (no Sentinel), the one Sentinel names,
   * or, right after this node's own Redis was promoted, that one (Sentinel names it up to a
   * second later: it confirms a promotion on its next INFO of the replica).
   */
  private pointWriters(masterAddr: string): void {
    const size = Math.max(1, this.opts.writePool ?? 4);
    const target = this.watch && !this.promotedLocal ? this.sentinelMaster : masterAddr;
    if (!target || (target === this.writerTarget && this.writers.length > 0)) return;
    const old = this.writers;
    const [host, port] = splitAddr(target);
    const base = this.opts.url
      ? this.dataOptions(this.opts.url)
      : this.tls.data
        ? { tls: this.tls.data }
        : {};
    this.makeWriter = () => {
      const w = newRedis({
        // No auto-pipelining on writers: a pipeline cut by a failover can leave its commands
        // waiting for their timeout (seen in the failover tests), and WAIT serialises writes anyway.
        ...baseOptions(this.waitTimeoutMs, false),
        ...base,
        host,
        port,
      });
      w.on('error', this.noteError);
      return w;
    };
    this.writers = Array.from({ length: size }, this.makeWriter);
    const oldProbe = this.probe;
    this.probe = this.makeWriter();
    this.writerTarget = target;
    for (const w of old) abandon(w);
    if (oldProbe) abandon(oldProbe);
    // The new master's replicas are not known yet: no WAIT on the old master's list of them
    // (each would block its writer for the whole wait) until the next refresh reads them.
    if (this.view && old.length > 0) this.view = { ...this.view, master: this.view.master, replicas: [] };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.poll) clearInterval(this.poll);
    await (this.rereading ?? this.reading)?.catch(() => {});
    for (const w of this.writers) w.disconnect();
    this.probe?.disconnect();
    this.watch?.close();
    this.localConn.disconnect();
  }
}

/**
 * Closes a writer that points at a master no longer in use, failing what it still has queued or
 * in flight: a client closed while it waits to reconnect never fails its queued commands, and one
 * whose master is cut off (no TCP reset) waits for the command timeout. A held step then tries
 * them again on the new master at once (a commitAccept that did run carries its receipt).
 */
function abandon(w: Redis): void {
  const queued = w as unknown as { flushQueue?: (err: Error) => void };
  queued.flushQueue?.(new Error('Connection is closed (the master moved).'));
  w.disconnect();
}

function splitAddr(addr: string): [string, number] {
  const i = addr.lastIndexOf(':');
  return [addr.slice(0, i), Number(addr.slice(i + 1))];
}
