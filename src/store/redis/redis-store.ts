import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import {
  type AdminKey,
  type AttemptPolicy,
  type AttemptTicket,
  type AuditEvent,
  adminKeyFromStored,
  type Challenge,
  type Client,
  type CodeRedemption,
  type Group,
  type Invitation,
  parseTombstoneKey,
  type Reservation,
  type Settings,
  STORE_UNAVAILABLE_MESSAGE,
  TesseraError,
  type Token,
  type TokenAdvance,
  type TokenState,
  type Tombstone,
  type TombstoneKind,
  type User,
  type UserAuthState,
  type UserCodes,
} from '../../model/index.ts';
import { AuditLogDelegation } from '../audit-delegation.ts';
import { auditRetention } from '../audit-retention.ts';
import { checkStoreFormat, type StoreFormatCheck } from '../format-version.ts';
import type {
  AttemptDecision,
  AttemptVerdict,
  AuditRetention,
  AuditStream,
  AuthView,
  ConsoleAccount,
  FailurePolicy,
  ListOptions,
  Page,
  RateLimitEntry,
  RateLimitResult,
  ReplicationControl,
  ReplicationEvents,
  RestoreBatchEntry,
  RestoreBatchResult,
  Store,
  StoreDump,
  StoreRole,
  UserWriteResult,
} from '../types.ts';
import { RedisAuditLog } from './audit-log.ts';
import {
  decodeTokenState,
  decodeUserState,
  parseJson,
  tokenStateFromReply,
  userStateFromReply,
} from './codec.ts';
import { isTransient } from './hold.ts';
import { AcceptJournal } from './journal.ts';
import { type RedisLinks, type ReplicationView, runScript, type ScriptName } from './links.ts';
import { RedisPushStore } from './push-store.ts';
import { HIT_RATE_LIMITS, REDEEM_USER_CODE, USE_INVITATION } from './self-service-scripts.ts';

/**
 * A login attempt's receipt id: unique across nodes and restarts (128 random bits drawn once per
 * process) and within the process (a counter), without drawing random bytes on every login.
 * Receipts need uniqueness, not secrecy: only the store's own scripts read them.
 */
const PROCESS_ID = randomBytes(16).toString('hex');
let attempts = 0;
export function attemptId(): string {
  attempts++;
  return `${PROCESS_ID}.${attempts.toString(36)}`;
}

/**
 * The Redis store. Reads come from the node's own Redis (a replica on a slave); every write goes
 * to the master. Configuration writes are refused on a slave; authentication-state writes from
 * any node go to the master and wait for a replica's acknowledgement before they count.
 */
export class RedisStore extends AuditLogDelegation implements Store, ReplicationControl {
  readonly kind = 'redis' as const;
  private readonly k: {
    users: string;
    usernames: string;
    groups: string;
    tokens: string;
    tstates: string;
    ustates: string;
    clients: string;
    adminKeys: string;
    consoleAccounts: string;
    settings: string;
    nodes: string;
    tombstones: string;
  };
  readonly journal = new AcceptJournal();
  private reconciling: Promise<void> | null = null;
  protected readonly audit: RedisAuditLog;
  readonly push: RedisPushStore;

  constructor(
    readonly links: RedisLinks,
    readonly prefix: string,
    auditOpts: { retention?: Partial<AuditRetention>; now?: () => number } = {},
  ) {
    super();
    const p = prefix;
    this.k = {
      users: `${p}users`,
      usernames: `${p}usernames`,
      groups: `${p}groups`,
      tokens: `${p}tokens`,
      tstates: `${p}tstates`,
      ustates: `${p}ustates`,
      clients: `${p}clients`,
      adminKeys: `${p}adminkeys`,
      consoleAccounts: `${p}consoleaccounts`,
      settings: `${p}settings`,
      nodes: `${p}nodes`,
      tombstones: `${p}tombstones`,
    };
    this.audit = new RedisAuditLog(
      p,
      { read: (fn) => this.read(fn), write: (fn) => this.stateWrite(fn, false) },
      auditRetention(auditOpts.retention),
      auditOpts.now ?? Date.now,
    );
    this.push = new RedisPushStore(p, {
      read: (fn) => this.read(fn),
      write: (fn, acknowledge) => this.stateWrite(fn, acknowledge),
    });
    // A node whose Redis was demoted or re-pointed pushes the codes it accepted to the new master
    // (max-merge) before it accepts again, so nothing it accepted while apart can be replayed.
    links.on('role-change', () => this.reconcile());
    links.on('master-change', () => this.reconcile());
  }

  /** What opening found of the store format (src/store/format-version.ts). */
  format: StoreFormatCheck | null = null;

  /**
   * Checks the keyspace's store format marker (`<prefix>format`) on this node's Redis and, on a
   * replica, on the master's too (it will replicate whatever the master holds); throws when either
   * is newer than this node reads. The master (or a lone Redis) writes a missing or older marker.
   */
  async checkFormat(): Promise<StoreFormatCheck> {
    const key = `${this.prefix}format`;
    const parse = (raw: string | null) => (raw === null ? null : Number(raw));
    const where = `the Redis keyspace "${this.prefix}"`;
    let check = checkStoreFormat(parse(await this.read((r) => r.get(key))), where);
    if ((await this.role()).role === 'slave') {
      const onMaster = parse(await this.held(() => this.links.writer().get(key)));
      const master = checkStoreFormat(onMaster, `${where} on the master`);
      this.format = master.found !== null && (check.found ?? 0) < master.found ? master : check;
      return this.format;
    }
    if (check.write !== undefined) {
      const v = check.write;
      // NX for an unmarked keyspace, so a newer node's marker written meanwhile is not overwritten
      await this.stateWrite(
        (w) => (check.found === null ? w.set(key, String(v), 'NX') : w.set(key, String(v))),
        false,
      );
      // another node may have marked it in between: read what is there now
      const now = parse(await this.stateWrite((w) => w.get(key), false));
      if (now !== v) check = checkStoreFormat(now, where);
    }
    this.format = check;
    return check;
  }

  async role(): Promise<StoreRole> {
    const v = this.links.replication();
    if (!v) return { role: 'standalone' };
    if (v.redisRole === 'slave') return { role: 'slave', master: v.master };
    // A master that lost its replicas stays "master": the cluster still expects them back.
    return v.replicas.length > 0 || this.links.expectsReplicas ? { role: 'master' } : { role: 'standalone' };
  }

  replication(): ReplicationView | null {
    return this.links.replication();
  }

  onReplication<E extends keyof ReplicationEvents>(
    event: E,
    listener: (e: ReplicationEvents[E]) => void,
  ): () => void {
    // LinkEvents is ReplicationEvents as argument lists; the emitter's conditional listener type
    // cannot be resolved for a generic event name, hence the cast.
    const forward = (e: ReplicationEvents[E]) => listener(e);
    this.links.on(event, forward as never);
    return () => this.links.off(event, forward as never);
  }

  async ping(): Promise<void> {
    await this.read((r) => r.ping());
  }

  async close(): Promise<void> {
    await this.links.close();
  }

  // --- plumbing

  private async read<T>(fn: (r: Redis) => Promise<T>): Promise<T> {
    try {
      return await this.held(() => fn(this.links.reader()));
    } catch (err) {
      throw unavailable(err);
    }
  }

  /**
   * Runs one store step; while the master is being replaced (the step failed on a lost connection
   * or a moving master) it tries again until the new master answers, for at most the hold time.
   * Trying again is safe for every step: each is idempotent or only ever moves state forward
   * (a commitAccept that ran on the dead master and reached the replica now reads as used).
   */
  private async held<T>(step: () => Promise<T>, mayHold = true): Promise<T> {
    let deadline = 0;
    for (;;) {
      try {
        return await step();
      } catch (err) {
        if (!isTransient(err)) throw err;
        this.links.noteUpset();
        if (!mayHold || !this.links.holds) throw err;
        const now = Date.now();
        if (!deadline) deadline = now + this.links.holdMs;
        if (now >= deadline) throw err;
        await this.links.settle(deadline);
      }
    }
  }

  /**
   * A configuration write: refused on a slave, acknowledged by a replica on the master. Never held:
   * an admin is told at once (503, Retry-After) rather than kept waiting through a failover.
   */
  private async configWrite<T>(fn: (w: Redis) => Promise<T>): Promise<T> {
    if (!this.replicaWrites) await this.refuseOnSlave();
    return this.stateWrite(
      async (w) => {
        if (!this.replicaWrites) await this.refuseOnSlave();
        return fn(w);
      },
      true,
      false,
    );
  }

  /** Set only on the view masterWrites() returns. */
  private readonly replicaWrites: boolean = false;

  masterWrites(): Store {
    // the same connections and state; only the replica's refusal of configuration writes is lifted
    return Object.create(this, { replicaWrites: { value: true } }) as RedisStore;
  }

  async lease(name: string, holder: string, ttlMs: number, mode: 'claim' | 'take'): Promise<string | null> {
    const before = await this.stateWrite(
      (w) => this.script(w, 'tsLease', [`${this.prefix}lease:${name}`, holder, Math.ceil(ttlMs), mode]),
      false,
    );
    return typeof before === 'string' ? before : null;
  }

  private async refuseOnSlave(): Promise<void> {
    const v = this.links.replication();
    if (v?.redisRole === 'slave') throw readOnly(v.master);
  }

  /** An authentication-state write: always on the master (held through a failover), then WAIT. */
  private async stateWrite<T>(fn: (w: Redis) => Promise<T>, acknowledge = true, mayHold = true): Promise<T> {
    let followed = false;
    const once = async (w: Redis): Promise<T> => {
      const result = await fn(w);
      if (acknowledge) await this.acknowledge(w);
      return result;
    };
    try {
      return await this.held(async () => {
        try {
          return await once(this.links.writer());
        } catch (err) {
          // The master moved (planned failover, rejoin): follow it once even when not holding.
          if (!followed && err instanceof Error && err.message.startsWith('READONLY')) {
            followed = true;
            await this.links.refresh().catch(() => {});
            return await once(this.links.writer());
          }
          throw err;
        }
      }, mayHold);
    } catch (err) {
      throw unavailable(err);
    }
  }

  private acknowledge(w: Redis): Promise<void> {
    return this.acknowledgeWith(w, undefined);
  }

  /** `acks`: what a WAIT sent along with the write answered (none sent: undefined). */
  private async acknowledgeWith(w: Redis, acks: number | undefined): Promise<void> {
    let ok: boolean;
    try {
      ok = await this.links.acknowledged(w, acks);
    } catch (err) {
      // A lost connection while waiting: the caller's hold sends the step again (see held()).
      if (isTransient(err)) throw err;
      throw unavailable(err);
    }
    if (!ok && this.links.replicaAck === 'reject') {
      throw unavailable(
        `no replica acknowledged the write within ${this.links.waitTimeoutMs} ms (TESSERA_REPLICA_ACK=reject)`,
      );
    }
  }

  private script(w: Redis, name: ScriptName, args: (string | number)[]): Promise<unknown> {
    return runScript(w, name, args);
  }

  // --- users

  async getUser(username: string): Promise<User | null> {
    const raw = await this.read((r) => r.hget(this.k.users, username));
    return raw ? parseJson<User>(raw) : null;
  }

  async createUser(user: User): Promise<boolean> {
    const n = await this.configWrite((w) =>
      this.script(w, 'tsCreateUser', [
        this.k.users,
        this.k.usernames,
        this.k.tombstones,
        user.username,
        JSON.stringify(user),
      ]),
    );
    return n === 1;
  }

  async restoreBatch(entries: readonly RestoreBatchEntry[]): Promise<RestoreBatchResult[]> {
    // One script per slice of a chunk instead of three per user; a slice is short enough that
    // Redis is not blocked for long (validate requests wait behind a running script). Slices are
    // sent together: no two hold the same user or serial, so their order does not matter.
    const slices: RestoreBatchEntry[][] = [];
    for (let at = 0; at < entries.length; at += RESTORE_SLICE)
      slices.push(entries.slice(at, at + RESTORE_SLICE));
    const done = await Promise.all(slices.map((slice) => this.restoreSlice(slice)));
    return done.flat();
  }

  private async restoreSlice(slice: readonly RestoreBatchEntry[]): Promise<RestoreBatchResult[]> {
    const args: (string | number)[] = [
      this.k.users,
      this.k.usernames,
      this.k.tokens,
      this.k.tstates,
      this.k.tombstones,
      this.prefix,
    ];
    for (const e of slice) {
      args.push(e.user?.username ?? '', e.user ? JSON.stringify(e.user) : '', e.tokens.length);
      for (const { token, state } of e.tokens)
        args.push(
          token.serial,
          token.username,
          JSON.stringify(token),
          Math.trunc(state.counter),
          Math.trunc(state.lastUsedStep),
          Math.trunc(state.drift),
        );
    }
    const reply = (await this.configWrite((w) => this.script(w, 'tsRestoreBatch', args))) as number[];
    let r = 0;
    return slice.map((e) => {
      const u = reply[r++];
      return {
        user: u === 1 ? 'created' : u === 2 ? 'replaced' : 'none',
        tokens: e.tokens.map(() => reply[r++] === 1),
      };
    });
  }

  async updateUser(user: User): Promise<boolean> {
    const n = await this.configWrite((w) =>
      this.script(w, 'tsUpdateUser', [this.k.users, user.username, JSON.stringify(user)]),
    );
    return n === 1;
  }

  async deleteUser(username: string): Promise<boolean> {
    const k = this.k;
    const n = await this.configWrite((w) =>
      this.script(w, 'tsDeleteUser', [
        k.users,
        k.usernames,
        k.tokens,
        k.tstates,
        k.ustates,
        k.tombstones,
        this.prefix,
        username,
        Date.now(),
      ]),
    );
    return n === 1;
  }

  async renameUser(from: string, to: string): Promise<boolean> {
    const k = this.k;
    const n = await this.configWrite(async (w) => {
      const raw = await w.hget(k.users, from);
      if (!raw) return 0;
      const user = { ...parseJson<User>(raw), username: to };
      return this.script(w, 'tsRenameUser', [
        k.users,
        k.usernames,
        k.tokens,
        k.ustates,
        k.tombstones,
        this.prefix,
        from,
        to,
        JSON.stringify(user),
        Date.now(),
      ]);
    });
    return n === 1;
  }

  async writeUserWithTokens(
    user: User,
    tokens: Token[],
    mode: 'create' | 'update',
  ): Promise<UserWriteResult> {
    const k = this.k;
    const pairs = tokens.flatMap((t) => [t.serial, JSON.stringify({ ...t, username: user.username })]);
    const n = await this.configWrite((w) =>
      this.script(w, 'tsWriteUserTokens', [
        k.users,
        k.usernames,
        k.tokens,
        k.tombstones,
        this.prefix,
        mode,
        user.username,
        JSON.stringify(user),
        ...pairs,
      ]),
    );
    return (['ok', 'user-exists', 'user-missing', 'serial-taken'] as const)[Number(n)] ?? 'user-missing';
  }

  async listUsers(opts: ListOptions = {}): Promise<Page<User>> {
    const limit = Math.min(Math.max(opts.limit ?? 100, 1), 1000);
    const prefix = opts.prefix ?? '';
    const min = opts.after !== undefined ? `(${opts.after}` : `[${prefix}`;
    const names = await this.read((r) => r.zrangebylex(this.k.usernames, min, '+', 'LIMIT', 0, limit + 1));
    const matching: string[] = [];
    for (const n of names) {
      if (!n.startsWith(prefix)) break;
      matching.push(n);
    }
    const more = matching.length > limit;
    if (more) matching.pop();
    const raws = matching.length ? await this.read((r) => r.hmget(this.k.users, ...matching)) : [];
    const items = raws.filter((x): x is string => x !== null).map((x) => parseJson<User>(x));
    return more ? { items, next: matching[matching.length - 1]! } : { items };
  }

  async countUsers(): Promise<number> {
    return this.read((r) => r.zcard(this.k.usernames));
  }

  // --- groups

  async getGroup(name: string): Promise<Group | null> {
    const raw = await this.read((r) => r.hget(this.k.groups, name));
    return raw ? parseJson<Group>(raw) : null;
  }

  async putGroup(group: Group): Promise<void> {
    await this.configWrite((w) => w.hset(this.k.groups, group.name, JSON.stringify(group)));
  }

  async deleteGroup(name: string): Promise<boolean> {
    return (await this.configWrite((w) => w.hdel(this.k.groups, name))) === 1;
  }

  async listGroups(): Promise<Group[]> {
    return this.values<Group>(this.k.groups);
  }

  private async values<T>(key: string): Promise<T[]> {
    const all = await this.read((r) => r.hgetall(key));
    return Object.keys(all)
      .sort()
      .map((id) => parseJson<T>(all[id]!));
  }

  // --- tokens

  async getToken(serial: string): Promise<Token | null> {
    const raw = await this.read((r) => r.hget(this.k.tokens, serial));
    return raw ? parseJson<Token>(raw) : null;
  }

  async putToken(token: Token): Promise<boolean> {
    const n = await this.configWrite((w) =>
      this.script(w, 'tsPutToken', [
        this.k.users,
        this.k.tokens,
        this.k.tombstones,
        this.prefix,
        token.serial,
        token.username,
        JSON.stringify(token),
      ]),
    );
    return n === 1;
  }

  async deleteToken(serial: string): Promise<boolean> {
    const n = await this.configWrite((w) =>
      this.script(w, 'tsDeleteToken', [
        this.k.tokens,
        this.k.tstates,
        this.k.tombstones,
        this.prefix,
        serial,
        Date.now(),
      ]),
    );
    return n === 1;
  }

  async listTokens(username: string): Promise<Token[]> {
    const raws = (await this.read((r) =>
      this.script(r, 'tsListTokens', [this.k.tokens, this.prefix, username]),
    )) as string[];
    return raws.map((x) => parseJson<Token>(x));
  }

  // --- clients, admin keys, settings

  async getClient(id: string): Promise<Client | null> {
    const raw = await this.read((r) => r.hget(this.k.clients, id));
    return raw ? parseJson<Client>(raw) : null;
  }
  async putClient(client: Client): Promise<void> {
    await this.putRecord(this.k.clients, 'client', client.id, client);
  }
  async deleteClient(id: string): Promise<boolean> {
    return this.deleteRecord(this.k.clients, 'client', id);
  }
  async listClients(): Promise<Client[]> {
    return this.values<Client>(this.k.clients);
  }
  async getConsoleAccount(username: string): Promise<ConsoleAccount | null> {
    const raw = await this.read((r) => r.hget(this.k.consoleAccounts, username));
    return raw ? parseJson<ConsoleAccount>(raw) : null;
  }
  async putConsoleAccount(account: ConsoleAccount): Promise<void> {
    await this.configWrite((w) => w.hset(this.k.consoleAccounts, account.username, JSON.stringify(account)));
  }
  async deleteConsoleAccount(username: string): Promise<boolean> {
    return (await this.configWrite((w) => w.hdel(this.k.consoleAccounts, username))) === 1;
  }
  async listConsoleAccounts(): Promise<ConsoleAccount[]> {
    return this.values<ConsoleAccount>(this.k.consoleAccounts);
  }
  async getAdminKey(id: string): Promise<AdminKey | null> {
    const raw = await this.read((r) => r.hget(this.k.adminKeys, id));
    return raw ? adminKeyFromStored(parseJson<AdminKey>(raw)) : null;
  }
  async putAdminKey(key: AdminKey): Promise<void> {
    await this.putRecord(this.k.adminKeys, 'adminKey', key.id, key);
  }
  async deleteAdminKey(id: string): Promise<boolean> {
    return this.deleteRecord(this.k.adminKeys, 'adminKey', id);
  }

  private async putRecord(hash: string, kind: TombstoneKind, id: string, value: object): Promise<void> {
    await this.configWrite((w) =>
      this.script(w, 'tsPutRecord', [hash, this.k.tombstones, id, kind, JSON.stringify(value)]),
    );
  }

  private async deleteRecord(hash: string, kind: TombstoneKind, id: string): Promise<boolean> {
    const n = await this.configWrite((w) =>
      this.script(w, 'tsDeleteRecord', [hash, this.k.tombstones, id, kind, Date.now()]),
    );
    return n === 1;
  }

  // --- tombstones

  async listTombstones(since = 0): Promise<Tombstone[]> {
    const flat = await this.read((r) => r.zrangebyscore(this.k.tombstones, since, '+inf', 'WITHSCORES'));
    return tombstonesFrom(flat);
  }

  async pruneTombstones(before: number): Promise<number> {
    return this.configWrite((w) => w.zremrangebyscore(this.k.tombstones, '-inf', `(${Math.trunc(before)}`));
  }
  async listAdminKeys(): Promise<AdminKey[]> {
    return (await this.values<AdminKey>(this.k.adminKeys)).flatMap((k) => adminKeyFromStored(k) ?? []);
  }

  async getSettings(): Promise<Settings | null> {
    const raw = await this.read((r) => r.get(this.k.settings));
    return raw ? parseJson<Settings>(raw) : null;
  }
  async putSettings(settings: Settings): Promise<void> {
    await this.configWrite((w) => w.set(this.k.settings, JSON.stringify(settings)));
  }

  // --- authentication state

  async loadAuthView(username: string): Promise<AuthView | null> {
    const k = this.k;
    const reply = (await this.read((r) =>
      this.script(r, 'tsLoadAuthView', [
        k.users,
        k.groups,
        k.tokens,
        k.tstates,
        k.ustates,
        this.prefix,
        username,
      ]),
    )) as string[] | null;
    if (!reply) return null;
    const [userRaw, groupRaw, ustateRaw, ...rest] = reply;
    const tokens: Token[] = [];
    const tokenStates = new Map<string, TokenState>();
    for (let i = 0; i + 1 < rest.length; i += 2) {
      const token = parseJson<Token>(rest[i]!);
      tokens.push(token);
      tokenStates.set(token.serial, decodeTokenState(rest[i + 1]));
    }
    return {
      user: parseJson<User>(userRaw!),
      group: groupRaw ? parseJson<Group>(groupRaw) : null,
      tokens,
      tokenStates,
      userState: decodeUserState(ustateRaw),
    };
  }

  async getTokenState(serial: string): Promise<TokenState> {
    return decodeTokenState(await this.read((r) => r.hget(this.k.tstates, serial)));
  }

  async commitAccept(username: string, serial: string, advance: TokenAdvance, now: number): Promise<boolean> {
    if (this.reconciling) await this.reconciling;
    const value = advance.kind === 'totp' ? advance.step : advance.counter;
    const drift = advance.kind === 'totp' ? advance.drift : 0;
    // One receipt per attempt, the same on every try of it (see COMMIT_ACCEPT).
    const receipt = `${this.prefix}receipt:${attemptId()}`;
    let state: TokenState | null = null;
    await this.stateWrite(async (w) => {
      const reply = (await this.script(w, 'tsCommitAccept', [
        this.k.tstates,
        this.k.ustates,
        receipt,
        serial,
        username,
        advance.kind,
        value,
        drift,
        Math.trunc(now),
      ])) as number[];
      if (reply[0] !== 1) return;
      state = tokenStateFromReply(reply.slice(1));
      this.journal.record(serial, state);
      await this.acknowledge(w);
    }, false);
    return state !== null;
  }

  async settleAttempt(
    username: string,
    now: number,
    policy: AttemptPolicy,
    verdict: AttemptVerdict,
  ): Promise<AttemptDecision> {
    if (this.reconciling) await this.reconciling;
    const accept = verdict.kind === 'accept' ? verdict : null;
    // One receipt per attempt, the same on every try of it (see SETTLE_ATTEMPT); a refund writes nothing.
    const receipt = `${this.prefix}receipt:${verdict.kind === 'refund' ? '-' : attemptId()}`;
    const args: (string | number)[] = [
      this.k.tstates,
      this.k.ustates,
      receipt,
      username,
      Math.trunc(now),
      policy.lockout.threshold,
      policy.lockout.baseSeconds,
      policy.lockout.maxSeconds,
      Math.trunc(policy.windowMs),
      policy.failuresPerWindow,
      verdict.kind,
    ];
    if (accept) {
      const a = accept.advance;
      args.push(
        accept.serial,
        a.kind,
        a.kind === 'totp' ? a.step : a.counter,
        a.kind === 'totp' ? Math.trunc(a.drift) : 0,
      );
    }
    return this.stateWrite(async (w): Promise<AttemptDecision> => {
      // The WAIT rides along in the script's write: an accept and a counted failure (which may
      // lock) are acknowledged as commitAccept and commitFailure are; a refusal or refund wrote
      // nothing of this attempt, so its acknowledgement is not waited for.
      const { reply, acks } = await this.links.scriptAndWait(w, 'tsSettleAttempt', args);
      const r = reply as number[];
      const status = Number(r[0]);
      if (status === 2 || status === 3)
        return { kind: 'refused', refusal: status === 3 ? 'throttled' : 'locked' };
      if (status === 4) return { kind: 'refunded' };
      if (status === 1) {
        this.journal.record(accept!.serial, tokenStateFromReply(r.slice(1)));
        await this.acknowledgeWith(w, acks);
        return { kind: 'accepted' };
      }
      await this.acknowledgeWith(w, acks);
      return { kind: status === 6 ? 'stale' : 'failed', state: userStateFromReply(r.slice(1)) };
    }, false);
  }

  // Reservations and refunds are on every login's path and do not wait for a replica: a failover
  // in the same moment may lose a few counted attempts. A lock (commitFailure) is acknowledged.
  async reserveAttempt(username: string, now: number, policy: AttemptPolicy): Promise<Reservation> {
    const reply = (await this.stateWrite(
      (w) =>
        this.script(w, 'tsReserveAttempt', [
          this.k.ustates,
          username,
          Math.trunc(now),
          policy.lockout.threshold,
          policy.lockout.baseSeconds,
          policy.lockout.maxSeconds,
          Math.trunc(policy.windowMs),
          policy.failuresPerWindow,
        ]),
      false,
    )) as number[];
    const state = userStateFromReply(reply.slice(1));
    if (Number(reply[0]) === 1) {
      const ticket = {
        windowStart: state.windowStart,
        lockCount: state.lockCount,
        lastSuccess: state.lastSuccess,
      };
      return { granted: true, ticket, state };
    }
    return { granted: false, refusal: Number(reply[0]) === 3 ? 'throttled' : 'locked', state };
  }

  async refundAttempt(username: string, ticket: AttemptTicket): Promise<UserAuthState> {
    const reply = await this.stateWrite(
      (w) =>
        this.script(w, 'tsRefundAttempt', [
          this.k.ustates,
          username,
          Math.trunc(ticket.windowStart),
          Math.trunc(ticket.lockCount),
          Math.trunc(ticket.lastSuccess),
        ]),
      false,
    );
    return userStateFromReply(reply);
  }

  async commitFailure(username: string, now: number, policy: FailurePolicy): Promise<UserAuthState> {
    const reply = await this.stateWrite((w) =>
      this.script(w, 'tsCommitFailure', [
        this.k.ustates,
        username,
        Math.trunc(now),
        policy.lockout.threshold,
        policy.lockout.baseSeconds,
        policy.lockout.maxSeconds,
      ]),
    );
    return userStateFromReply(reply);
  }

  async advanceTokenState(serial: string, state: TokenState): Promise<TokenState> {
    return this.mergeTokenState(serial, state, true);
  }

  private async mergeTokenState(
    serial: string,
    state: TokenState,
    acknowledge: boolean,
  ): Promise<TokenState> {
    const reply = await this.stateWrite(
      (w) =>
        this.script(w, 'tsAdvanceState', [
          this.k.tstates,
          serial,
          Math.trunc(state.counter),
          Math.trunc(state.lastUsedStep),
          Math.trunc(state.drift),
        ]),
      acknowledge,
    );
    return tokenStateFromReply(reply);
  }

  async unlockUser(username: string): Promise<void> {
    await this.stateWrite((w) => this.script(w, 'tsUnlockUser', [this.k.ustates, username]));
  }

  async putChallenge(challenge: Challenge, retainMs: number): Promise<void> {
    const ttl = Math.max(1, Math.trunc(challenge.createdAt + retainMs - Date.now()));
    await this.stateWrite(
      (w) => w.set(`${this.prefix}ch:${challenge.transactionId}`, JSON.stringify(challenge), 'PX', ttl),
      false,
    );
  }

  async takeChallenge(transactionId: string): Promise<Challenge | null> {
    // GETDEL is one atomic command: of two concurrent takes, one gets the value.
    const raw = await this.stateWrite((w) => w.getdel(`${this.prefix}ch:${transactionId}`), false);
    return raw ? parseJson<Challenge>(raw) : null;
  }

  async hitRateLimits(entries: readonly RateLimitEntry[], now: number): Promise<RateLimitResult> {
    if (entries.length === 0) return { allowed: true };
    const keys = entries.map((e) => `${this.prefix}rl:${e.key}`);
    const args = entries.flatMap((e) => [Math.trunc(e.limit), Math.max(1, Math.trunc(e.windowMs))]);
    const full = await this.stateWrite(
      (w) => w.eval(HIT_RATE_LIMITS, keys.length, ...keys, Math.trunc(now), ...args),
      false,
    );
    const i = Number(full);
    return i === 0 ? { allowed: true } : { allowed: false, blocked: entries[i - 1]!.key };
  }

  // --- self-service (invitations, one-time codes)

  async putInvitation(invitation: Invitation): Promise<void> {
    await this.configWrite((w) =>
      w.hset(`${this.prefix}invitations`, invitation.id, JSON.stringify(invitation)),
    );
  }

  async getInvitation(id: string): Promise<Invitation | null> {
    const raw = await this.read((r) => r.hget(`${this.prefix}invitations`, id));
    return raw ? parseJson<Invitation>(raw) : null;
  }

  async listInvitations(): Promise<Invitation[]> {
    const all = await this.read((r) => r.hvals(`${this.prefix}invitations`));
    return all
      .map((raw) => parseJson<Invitation>(raw))
      .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
  }

  async useInvitation(id: string, now: number): Promise<boolean> {
    const n = await this.configWrite((w) =>
      w.eval(USE_INVITATION, 1, `${this.prefix}invitations`, id, Math.trunc(now)),
    );
    return Number(n) === 1;
  }

  async getUserCodes(username: string): Promise<UserCodes | null> {
    const raw = await this.read((r) => r.hget(`${this.prefix}usercodes`, username));
    return raw ? parseJson<UserCodes>(raw) : null;
  }

  async putUserCodes(codes: UserCodes): Promise<void> {
    await this.configWrite((w) => w.hset(`${this.prefix}usercodes`, codes.username, JSON.stringify(codes)));
  }

  async redeemUserCode(username: string, hash: string, now: number): Promise<CodeRedemption> {
    const kind = await this.stateWrite((w) =>
      w.eval(REDEEM_USER_CODE, 2, `${this.prefix}usercodes`, this.k.ustates, username, hash, Math.trunc(now)),
    );
    return String(kind) as CodeRedemption;
  }

  // --- audit

  async appendAudit(events: AuditEvent[], stream: AuditStream = 'admin'): Promise<void> {
    if (events.length === 0) return;
    await this.audit.append(events, stream);
  }

  async pruneAudit(): Promise<void> {
    await this.audit.prune();
  }

  /** Moves the audit list of earlier versions into the streams; a no-op on a slave. */
  async migrateAudit(): Promise<number> {
    if ((await this.role()).role === 'slave') return 0;
    return this.audit.migrate();
  }

  // --- whole-store cut

  async dump(): Promise<StoreDump> {
    const k = this.k;
    const replies = await this.read((r) =>
      r
        .multi()
        .hgetall(k.users)
        .hgetall(k.groups)
        .hgetall(k.tokens)
        .hgetall(k.clients)
        .hgetall(k.adminKeys)
        .get(k.settings)
        .hgetall(k.tstates)
        .hgetall(k.ustates)
        .zrange(k.tombstones, '0', '-1', 'WITHSCORES')
        .exec(),
    );
    if (!replies) throw unavailable('the Redis dump transaction was aborted');
    const [users, groups, tokens, clients, adminKeys, settings, tstates, ustates, tombstones] = replies.map(
      ([err, v]) => {
        if (err) throw unavailable(err);
        return v;
      },
    ) as [Hash, Hash, Hash, Hash, Hash, string | null, Hash, Hash, string[]];
    const list = <T>(h: Hash): T[] =>
      Object.keys(h)
        .sort()
        .map((id) => parseJson<T>(h[id]!));
    const tokenStates: Record<string, TokenState> = {};
    for (const [serial, raw] of Object.entries(tstates)) tokenStates[serial] = decodeTokenState(raw);
    const userStates: Record<string, UserAuthState> = {};
    for (const [name, raw] of Object.entries(ustates)) userStates[name] = decodeUserState(raw);
    return {
      users: list<User>(users),
      groups: list<Group>(groups),
      tokens: list<Token>(tokens),
      clients: list<Client>(clients),
      adminKeys: list<AdminKey>(adminKeys),
      settings: settings ? parseJson<Settings>(settings) : null,
      tokenStates,
      userStates,
      tombstones: tombstonesFrom(tombstones),
    };
  }

  // --- replication control (src/store/types.ts ReplicationControl), for src/cluster

  /** Registers this node's heartbeat on the master (the cluster's node list). */
  async heartbeat(nodeId: string, record: object): Promise<void> {
    await this.stateWrite((w) => w.hset(this.k.nodes, nodeId, JSON.stringify(record)), false);
  }

  async nodeRecords(): Promise<Record<string, unknown>[]> {
    const all = await this.read((r) => r.hgetall(this.k.nodes));
    return Object.values(all).map((x) => parseJson<Record<string, unknown>>(x));
  }

  async removeNodeRecord(nodeId: string): Promise<void> {
    await this.stateWrite((w) => w.hdel(this.k.nodes, nodeId), false);
  }

  /** Pushes recently accepted token states to the (new) master by max-merge. */
  reconcile(): Promise<void> {
    if (this.reconciling) return this.reconciling;
    this.reconciling = (async () => {
      for (let attempt = 0; attempt < 20; attempt++) {
        try {
          for (const [serial, state] of this.journal.entries())
            await this.mergeTokenState(serial, state, false);
          return;
        } catch {
          await new Promise((r) => setTimeout(r, 250));
        }
      }
    })().finally(() => {
      this.reconciling = null;
    });
    return this.reconciling;
  }
}

type Hash = Record<string, string>;

/** Entries per restoreBatch script: about a millisecond of Redis time each. */
const RESTORE_SLICE = 200;

/** A WITHSCORES reply (member, score, member, score, …) as tombstones. */
function tombstonesFrom(flat: string[]): Tombstone[] {
  const out: Tombstone[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const t = parseTombstoneKey(flat[i]!, Number(flat[i + 1]));
    if (t) out.push(t);
  }
  return out;
}

function readOnly(master: string): TesseraError {
  return new TesseraError('READ_ONLY_REPLICA', `this node is a slave; write to the master at ${master}`);
}

/**
 * Redis's own words (a refused connection, an OOM answer, a script error) stay out of the message
 * every face shows its caller; they travel as `cause`, which the faces log. Only the first line,
 * cut short: an error text is never a place for data.
 */
function unavailable(err: unknown): TesseraError {
  if (err instanceof TesseraError) return err;
  const what = err instanceof Error ? err.message.split('\n')[0]!.slice(0, 160) : String(err).slice(0, 160);
  const e = new TesseraError('STORE_UNAVAILABLE', STORE_UNAVAILABLE_MESSAGE);
  e.cause = `Redis: ${what}`;
  return e;
}
