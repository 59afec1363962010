import type { Redis } from 'ioredis';
import {
  type AdminKey,
  type AuditEvent,
  type Challenge,
  type Client,
  type Group,
  type Settings,
  TesseraError,
  type Token,
  type TokenAdvance,
  type TokenState,
  type User,
  type UserAuthState,
} from '../../model/index.ts';
import type {
  AuthView,
  FailurePolicy,
  ListOptions,
  Page,
  ReplicationControl,
  ReplicationEvents,
  Store,
  StoreDump,
  StoreRole,
} from '../types.ts';
import {
  decodeTokenState,
  decodeUserState,
  parseJson,
  tokenStateFromReply,
  userStateFromReply,
} from './codec.ts';
import { AcceptJournal } from './journal.ts';
import { type RedisLinks, type ReplicationView, runScript, type ScriptName } from './links.ts';

const AUDIT_CAP = 100_000;

/**
 * The Redis store. Reads come from the node's own Redis (a replica on a slave); every write goes
 * to the master. Configuration writes are refused on a slave; authentication-state writes from
 * any node go to the master and wait for a replica's acknowledgement before they count.
 */
export class RedisStore implements Store, ReplicationControl {
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
    settings: string;
    audit: string;
    nodes: string;
  };
  readonly journal = new AcceptJournal();
  private reconciling: Promise<void> | null = null;

  constructor(
    readonly links: RedisLinks,
    readonly prefix: string,
  ) {
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
      settings: `${p}settings`,
      audit: `${p}audit`,
      nodes: `${p}nodes`,
    };
    // A node whose Redis was demoted or re-pointed pushes the codes it accepted to the new master
    // (max-merge) before it accepts again, so nothing it accepted while apart can be replayed.
    links.on('role-change', () => this.reconcile());
    links.on('master-change', () => this.reconcile());
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
      return await fn(this.links.reader());
    } catch (err) {
      throw unavailable(err);
    }
  }

  /** A configuration write: refused on a slave, acknowledged by a replica on the master. */
  private async configWrite<T>(fn: (w: Redis) => Promise<T>): Promise<T> {
    await this.refuseOnSlave();
    return this.stateWrite(async (w) => {
      await this.refuseOnSlave();
      return fn(w);
    });
  }

  private async refuseOnSlave(): Promise<void> {
    const v = this.links.replication();
    if (v?.redisRole === 'slave') throw readOnly(v.master);
  }

  /** An authentication-state write: always on the master, then WAIT. */
  private async stateWrite<T>(fn: (w: Redis) => Promise<T>, acknowledge = true, retry = true): Promise<T> {
    let w: Redis;
    let result: T;
    try {
      w = this.links.writer();
      result = await fn(w);
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('READONLY')) {
        // The master moved (planned failover, rejoin): follow it once, then give up.
        await this.links.refresh().catch(() => {});
        if (retry) return this.stateWrite(fn, acknowledge, false);
        throw new TesseraError('STORE_UNAVAILABLE', 'the Redis master moved; try again');
      }
      throw unavailable(err);
    }
    if (acknowledge) await this.acknowledge(w);
    return result;
  }

  private async acknowledge(w: Redis): Promise<void> {
    let ok: boolean;
    try {
      ok = await this.links.acknowledged(w);
    } catch (err) {
      throw unavailable(err);
    }
    if (!ok && this.links.replicaAck === 'reject') {
      throw new TesseraError(
        'STORE_UNAVAILABLE',
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
      this.script(w, 'tsCreateUser', [this.k.users, this.k.usernames, user.username, JSON.stringify(user)]),
    );
    return n === 1;
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
        this.prefix,
        username,
      ]),
    );
    return n === 1;
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
      this.script(w, 'tsDeleteToken', [this.k.tokens, this.k.tstates, this.prefix, serial]),
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
    await this.configWrite((w) => w.hset(this.k.clients, client.id, JSON.stringify(client)));
  }
  async deleteClient(id: string): Promise<boolean> {
    return (await this.configWrite((w) => w.hdel(this.k.clients, id))) === 1;
  }
  async listClients(): Promise<Client[]> {
    return this.values<Client>(this.k.clients);
  }
  async getAdminKey(id: string): Promise<AdminKey | null> {
    const raw = await this.read((r) => r.hget(this.k.adminKeys, id));
    return raw ? parseJson<AdminKey>(raw) : null;
  }
  async putAdminKey(key: AdminKey): Promise<void> {
    await this.configWrite((w) => w.hset(this.k.adminKeys, key.id, JSON.stringify(key)));
  }
  async deleteAdminKey(id: string): Promise<boolean> {
    return (await this.configWrite((w) => w.hdel(this.k.adminKeys, id))) === 1;
  }
  async listAdminKeys(): Promise<AdminKey[]> {
    return this.values<AdminKey>(this.k.adminKeys);
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
    const tokenStates: Record<string, TokenState> = {};
    for (let i = 0; i + 1 < rest.length; i += 2) {
      const token = parseJson<Token>(rest[i]!);
      tokens.push(token);
      tokenStates[token.serial] = decodeTokenState(rest[i + 1]);
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
    let state: TokenState | null = null;
    await this.stateWrite(async (w) => {
      const reply = (await this.script(w, 'tsCommitAccept', [
        this.k.tstates,
        this.k.ustates,
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

  async commitFailure(username: string, now: number, policy: FailurePolicy): Promise<UserAuthState> {
    const reply = await this.stateWrite((w) =>
      this.script(w, 'tsCommitFailure', [
        this.k.ustates,
        username,
        Math.trunc(now),
        policy.lockout.threshold,
        policy.lockout.baseSeconds,
        policy.lockout.maxSeconds,
        Math.trunc(policy.windowMs),
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

  // --- audit

  async appendAudit(events: AuditEvent[]): Promise<void> {
    if (events.length === 0) return;
    await this.stateWrite(
      (w) =>
        w
          .multi()
          .lpush(this.k.audit, ...events.map((e) => JSON.stringify(e)))
          .ltrim(this.k.audit, 0, AUDIT_CAP - 1)
          .exec(),
      false,
    );
  }

  async listAudit(limit: number): Promise<AuditEvent[]> {
    const raws = await this.read((r) => r.lrange(this.k.audit, 0, Math.max(0, limit - 1)));
    return raws.map((x) => parseJson<AuditEvent>(x));
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
        .exec(),
    );
    if (!replies) throw new TesseraError('STORE_UNAVAILABLE', 'the Redis dump transaction was aborted');
    const [users, groups, tokens, clients, adminKeys, settings, tstates, ustates] = replies.map(
      ([err, v]) => {
        if (err) throw unavailable(err);
        return v;
      },
    ) as [Hash, Hash, Hash, Hash, Hash, string | null, Hash, Hash];
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

function readOnly(master: string): TesseraError {
  return new TesseraError('READ_ONLY_REPLICA', `this node is a slave; write to the master at ${master}`);
}

function unavailable(err: unknown): TesseraError {
  if (err instanceof TesseraError) return err;
  const what = err instanceof Error ? err.message.split('\n')[0]!.slice(0, 160) : 'unknown error';
  return new TesseraError('STORE_UNAVAILABLE', `the Redis store is unavailable (${what})`);
}
