import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Database, open, type RootDatabase, type RootDatabaseOptionsWithPath } from 'lmdb';
import {
  type AdminKey,
  type AttemptPolicy,
  type AttemptTicket,
  type AuditEvent,
  acceptAllowed,
  adminKeyFromStored,
  advances,
  applyAdvance,
  applySuccess,
  type Challenge,
  type Client,
  type CodeRedemption,
  EMPTY_TOKEN_STATE,
  EMPTY_USER_STATE,
  type Group,
  type Invitation,
  mergeTokenState,
  parseTombstoneKey,
  type Reservation,
  redeemFrom,
  refundAttempt,
  reserveAttempt,
  type Settings,
  settleFailure,
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
  RestoreBatchEntry,
  RestoreBatchResult,
  Store,
  StoreDump,
  StoreRole,
  UserWriteResult,
} from '../types.ts';
import { EmbeddedAuditLog } from './audit-log.ts';
import { EmbeddedAuthView } from './auth-view.ts';
import { EmbeddedPushStore } from './push-store.ts';
import { keysBetween } from './range-keys.ts';

const SEP = '\u0000';
/** The `meta` key of the store format marker (beside `settings`). */
const FORMAT_KEY = 'formatVersion';

/**
 * msgpackr options lmdb passes on to every database's encoder (not in lmdb's typings). Values are
 * plain MessagePack maps: without shared structures, msgpackr's records carry their definition in
 * every value and each read compiles it again, which cost more than decoding a map on the validate
 * path. Values stored as records by earlier versions still read back the same.
 */
interface MsgpackOptions {
  useRecords: false;
  mapsAsObjects: true;
}

export interface EmbeddedStoreOptions {
  /** How long each audit stream keeps its events (and how many at most). */
  auditRetention?: Partial<AuditRetention>;
  /** The store's clock for audit retention (tests fake it); Date.now by default. */
  now?: () => number;
}

interface StoredChallenge extends Challenge {
  retainUntil: number;
}

/**
 * The one-node store: LMDB in `<dataDir>/store`. Every check-and-advance runs inside one LMDB
 * write transaction; LMDB serialises writers (also across processes, e.g. the CLI), so the
 * compare and the write cannot interleave with another request's.
 */
export class EmbeddedStore extends AuditLogDelegation implements Store {
  readonly kind = 'embedded' as const;
  private readonly users: Database<User, string>;
  private readonly groups: Database<Group, string>;
  private readonly tokens: Database<Token, string>;
  private readonly userTokens: Database<string, string>;
  private readonly tokenStates: Database<TokenState, string>;
  /** `kind:id` → deletedAt, and its time index `<15-digit time>\0kind:id` for pruning in order. */
  private readonly tombstones: Database<number, string>;
  private readonly tombstoneTimes: Database<string, string>;
  private readonly userStates: Database<UserAuthState, string>;
  private readonly clients: Database<Client, string>;
  private readonly adminKeys: Database<AdminKey, string>;
  private readonly meta: Database<Settings, string>;
  private readonly challenges: Database<StoredChallenge, string>;
  private readonly consoleAccounts: Database<ConsoleAccount, string>;
  protected readonly audit: EmbeddedAuditLog;
  private readonly invitations: Database<Invitation, string>;
  private readonly userCodes: Database<UserCodes, string>;
  /** Send-limit key → the times (ms) of its hits inside the longest window asked for. */
  private readonly rateHits: Database<number[], string>;
  private readonly sweeper: NodeJS.Timeout;
  readonly push: EmbeddedPushStore;

  constructor(
    private readonly root: RootDatabase,
    opts: EmbeddedStoreOptions = {},
  ) {
    super();
    this.users = root.openDB({ name: 'users' });
    this.groups = root.openDB({ name: 'groups' });
    this.tokens = root.openDB({ name: 'tokens' });
    this.userTokens = root.openDB({ name: 'userTokens' });
    this.tokenStates = root.openDB({ name: 'tokenStates' });
    this.userStates = root.openDB({ name: 'userStates' });
    this.clients = root.openDB({ name: 'clients' });
    this.adminKeys = root.openDB({ name: 'adminKeys' });
    this.meta = root.openDB({ name: 'meta' });
    this.challenges = root.openDB({ name: 'challenges' });
    this.consoleAccounts = root.openDB({ name: 'consoleAccounts' });
    this.audit = new EmbeddedAuditLog(
      root,
      root.openDB<AuditEvent, string>({ name: 'audit' }),
      auditRetention(opts.auditRetention),
      opts.now ?? Date.now,
    );
    this.tombstones = root.openDB({ name: 'tombstones' });
    this.tombstoneTimes = root.openDB({ name: 'tombstoneTimes' });
    this.invitations = root.openDB({ name: 'invitations' });
    this.userCodes = root.openDB({ name: 'userCodes' });
    this.push = new EmbeddedPushStore(root);
    this.rateHits = root.openDB({ name: 'rateHits' });
    this.sweeper = setInterval(() => void this.sweep().catch(() => {}), 60_000);
    this.sweeper.unref();
  }

  /** What opening found of the store format (src/store/format-version.ts). */
  format: StoreFormatCheck | null = null;

  /** Checks the store format marker and writes it when missing or older; throws when newer. */
  checkFormat(where: string): StoreFormatCheck {
    const marks = this.meta as unknown as Database<number, string>;
    const check = checkStoreFormat(marks.get(FORMAT_KEY) ?? null, where);
    if (check.write !== undefined) marks.putSync(FORMAT_KEY, check.write);
    this.format = check;
    return check;
  }

  async role(): Promise<StoreRole> {
    return { role: 'standalone' };
  }

  async ping(): Promise<void> {
    this.meta.get('settings');
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await this.root.close();
  }

  // users
  async getUser(username: string): Promise<User | null> {
    return this.users.get(username) ?? null;
  }

  async createUser(user: User): Promise<boolean> {
    return this.root.transaction(() => {
      if (this.users.doesExist(user.username)) return false;
      this.users.putSync(user.username, user);
      this.clearTombstoneSync('user', user.username);
      return true;
    });
  }

  async updateUser(user: User): Promise<boolean> {
    return this.root.transaction(() => {
      if (!this.users.doesExist(user.username)) return false;
      this.users.putSync(user.username, user);
      return true;
    });
  }

  async deleteUser(username: string): Promise<boolean> {
    return this.root.transaction(() => {
      if (!this.users.doesExist(username)) return false;
      const now = Date.now();
      for (const serial of this.serialsOf(username)) this.removeTokenSync(serial, now);
      this.users.removeSync(username);
      this.userStates.removeSync(username);
      this.putTombstoneSync('user', username, now);
      return true;
    });
  }

  async renameUser(from: string, to: string): Promise<boolean> {
    return this.root.transaction(() => {
      const user = this.users.get(from);
      if (!user || this.users.doesExist(to)) return false;
      this.users.putSync(to, { ...user, username: to });
      for (const serial of this.serialsOf(from)) {
        const token = this.tokens.get(serial);
        this.userTokens.removeSync(`${from}${SEP}${serial}`);
        if (!token) continue;
        this.tokens.putSync(serial, { ...token, username: to });
        this.userTokens.putSync(`${to}${SEP}${serial}`, serial);
      }
      const state = this.userStates.get(from);
      if (state) this.userStates.putSync(to, state);
      this.userStates.removeSync(from);
      this.users.removeSync(from);
      this.putTombstoneSync('user', from, Date.now());
      this.clearTombstoneSync('user', to);
      return true;
    });
  }

  async writeUserWithTokens(
    user: User,
    tokens: Token[],
    mode: 'create' | 'update',
  ): Promise<UserWriteResult> {
    return this.root.transaction((): UserWriteResult => {
      const exists = this.users.doesExist(user.username);
      if (mode === 'create' && exists) return 'user-exists';
      if (mode === 'update' && !exists) return 'user-missing';
      if (tokens.some((t) => this.tokens.doesExist(t.serial))) return 'serial-taken';
      this.users.putSync(user.username, user);
      this.clearTombstoneSync('user', user.username);
      for (const token of tokens) {
        this.tokens.putSync(token.serial, { ...token, username: user.username });
        this.userTokens.putSync(`${user.username}${SEP}${token.serial}`, token.serial);
        this.clearTombstoneSync('token', token.serial);
      }
      return 'ok';
    });
  }

  async restoreBatch(entries: readonly RestoreBatchEntry[]): Promise<RestoreBatchResult[]> {
    // One write transaction (one durable commit) for the chunk: the commit, not the puts, is what
    // a per-record restore paid a million times.
    return this.root.transaction(() =>
      entries.map((e): RestoreBatchResult => {
        let user: RestoreBatchResult['user'] = 'none';
        if (e.user) {
          user = this.users.doesExist(e.user.username) ? 'replaced' : 'created';
          this.users.putSync(e.user.username, e.user);
          if (user === 'created') this.clearTombstoneSync('user', e.user.username);
        }
        const tokens = e.tokens.map(({ token, state }) => {
          if (!this.users.doesExist(token.username)) return false;
          this.putTokenSync(token);
          const merged = mergeTokenState(this.tokenStates.get(token.serial) ?? EMPTY_TOKEN_STATE, state);
          this.tokenStates.putSync(token.serial, merged);
          return true;
        });
        return { user, tokens };
      }),
    );
  }

  async listUsers(opts: ListOptions = {}): Promise<Page<User>> {
    const limit = Math.min(Math.max(opts.limit ?? 100, 1), 1000);
    const prefix = opts.prefix ?? '';
    const start = opts.after !== undefined ? `${opts.after}${SEP}` : prefix;
    const items: User[] = [];
    for (const { key, value } of this.users.getRange({ start })) {
      if (!key.startsWith(prefix)) break;
      items.push(value);
      if (items.length > limit) break;
    }
    const more = items.length > limit;
    if (more) items.pop();
    return more ? { items, next: items[items.length - 1]!.username } : { items };
  }

  async countUsers(): Promise<number> {
    return this.users.getCount();
  }

  // groups
  async getGroup(name: string): Promise<Group | null> {
    return this.groups.get(name) ?? null;
  }

  async putGroup(group: Group): Promise<void> {
    await this.groups.put(group.name, group);
  }

  async deleteGroup(name: string): Promise<boolean> {
    return this.removeIfPresent(this.groups, name);
  }

  async listGroups(): Promise<Group[]> {
    return [...this.groups.getRange({}).map(({ value }) => value)];
  }

  // tokens
  async getToken(serial: string): Promise<Token | null> {
    return this.tokens.get(serial) ?? null;
  }

  async putToken(token: Token): Promise<boolean> {
    return this.root.transaction(() => {
      if (!this.users.doesExist(token.username)) return false;
      this.putTokenSync(token);
      return true;
    });
  }

  private putTokenSync(token: Token): void {
    const previous = this.tokens.get(token.serial);
    if (previous && previous.username !== token.username) {
      this.userTokens.removeSync(`${previous.username}${SEP}${token.serial}`);
    }
    this.tokens.putSync(token.serial, token);
    this.userTokens.putSync(`${token.username}${SEP}${token.serial}`, token.serial);
    this.clearTombstoneSync('token', token.serial);
  }

  async deleteToken(serial: string): Promise<boolean> {
    return this.root.transaction(() => this.removeTokenSync(serial, Date.now()));
  }

  /** lmdb's remove() answers true for an absent key too; a delete reports whether there was one. */
  private removeIfPresent<V>(db: Database<V, string>, key: string): Promise<boolean> {
    return this.root.transaction(() => {
      if (!db.doesExist(key)) return false;
      db.removeSync(key);
      return true;
    });
  }

  async listTokens(username: string): Promise<Token[]> {
    return this.serialsOf(username)
      .map((s) => this.tokens.get(s))
      .filter((t): t is Token => t !== undefined);
  }

  private serialsOf(username: string): string[] {
    const start = `${username}${SEP}`;
    // the key holds the serial: no value to decode (and no for...of: see keysBetween)
    return keysBetween(this.userTokens, start, `${username}\u0001`).map((key) => key.slice(start.length));
  }

  private removeTokenSync(serial: string, now: number): boolean {
    const token = this.tokens.get(serial);
    if (!token) return false;
    this.userTokens.removeSync(`${token.username}${SEP}${serial}`);
    this.tokens.removeSync(serial);
    this.tokenStates.removeSync(serial);
    this.putTombstoneSync('token', serial, now);
    return true;
  }

  // tombstones (always inside the caller's write transaction)
  private putTombstoneSync(kind: TombstoneKind, id: string, deletedAt: number): void {
    this.clearTombstoneSync(kind, id);
    const key = `${kind}:${id}`;
    this.tombstones.putSync(key, deletedAt);
    this.tombstoneTimes.putSync(`${timeKey(deletedAt)}${SEP}${key}`, key);
  }

  private clearTombstoneSync(kind: TombstoneKind, id: string): void {
    const key = `${kind}:${id}`;
    const at = this.tombstones.get(key);
    if (at === undefined) return;
    this.tombstones.removeSync(key);
    this.tombstoneTimes.removeSync(`${timeKey(at)}${SEP}${key}`);
  }

  /** Deletes one record of a plain table and leaves its tombstone, in one transaction. */
  private removeWithTombstone<V>(db: Database<V, string>, kind: TombstoneKind, id: string): Promise<boolean> {
    return this.root.transaction(() => {
      if (!db.doesExist(id)) return false;
      db.removeSync(id);
      this.putTombstoneSync(kind, id, Date.now());
      return true;
    });
  }

  private async putClearing<V>(
    db: Database<V, string>,
    kind: TombstoneKind,
    id: string,
    value: V,
  ): Promise<void> {
    await this.root.transaction(() => {
      db.putSync(id, value);
      this.clearTombstoneSync(kind, id);
    });
  }

  async listTombstones(since = 0): Promise<Tombstone[]> {
    const out: Tombstone[] = [];
    for (const { key, value } of this.tombstoneTimes.getRange({ start: timeKey(since) })) {
      const t = parseTombstoneKey(value, Number(key.slice(0, key.indexOf(SEP))));
      if (t) out.push(t);
    }
    return out;
  }

  async pruneTombstones(before: number): Promise<number> {
    return this.root.transaction(() => {
      const expired = [...this.tombstoneTimes.getRange({ end: timeKey(before) })];
      for (const { key, value } of expired) {
        this.tombstoneTimes.removeSync(key);
        this.tombstones.removeSync(value);
      }
      return expired.length;
    });
  }

  // clients and admin keys
  async getClient(id: string): Promise<Client | null> {
    return this.clients.get(id) ?? null;
  }
  async putClient(client: Client): Promise<void> {
    await this.putClearing(this.clients, 'client', client.id, client);
  }
  async deleteClient(id: string): Promise<boolean> {
    return this.removeWithTombstone(this.clients, 'client', id);
  }
  async listClients(): Promise<Client[]> {
    return [...this.clients.getRange({}).map(({ value }) => value)];
  }
  async getConsoleAccount(username: string): Promise<ConsoleAccount | null> {
    return this.consoleAccounts.get(username) ?? null;
  }
  async putConsoleAccount(account: ConsoleAccount): Promise<void> {
    await this.consoleAccounts.put(account.username, account);
  }
  async deleteConsoleAccount(username: string): Promise<boolean> {
    return this.removeIfPresent(this.consoleAccounts, username);
  }
  async listConsoleAccounts(): Promise<ConsoleAccount[]> {
    return [...this.consoleAccounts.getRange({}).map(({ value }) => value)];
  }
  async getAdminKey(id: string): Promise<AdminKey | null> {
    const stored = this.adminKeys.get(id);
    return stored ? adminKeyFromStored(stored) : null;
  }
  async putAdminKey(key: AdminKey): Promise<void> {
    await this.putClearing(this.adminKeys, 'adminKey', key.id, key);
  }
  async deleteAdminKey(id: string): Promise<boolean> {
    return this.removeWithTombstone(this.adminKeys, 'adminKey', id);
  }
  async listAdminKeys(): Promise<AdminKey[]> {
    return [...this.adminKeys.getRange({}).map(({ value }) => value)].flatMap(
      (k) => adminKeyFromStored(k) ?? [],
    );
  }

  async getSettings(): Promise<Settings | null> {
    return this.meta.get('settings') ?? null;
  }
  async putSettings(settings: Settings): Promise<void> {
    await this.meta.put('settings', settings);
  }

  // authentication state
  async loadAuthView(username: string): Promise<AuthView | null> {
    const user = this.users.get(username);
    if (!user) return null;
    const tokens: Token[] = [];
    for (const serial of this.serialsOf(username)) {
      const token = this.tokens.get(serial);
      if (token) tokens.push(token);
    }
    return new EmbeddedAuthView(
      user,
      this.groups.get(user.group) ?? null,
      tokens,
      this.userStates.get(username) ?? EMPTY_USER_STATE,
      this.tokenStates,
    );
  }

  async getTokenState(serial: string): Promise<TokenState> {
    return this.tokenStates.get(serial) ?? EMPTY_TOKEN_STATE;
  }

  async reserveAttempt(username: string, now: number, policy: AttemptPolicy): Promise<Reservation> {
    return this.root.transaction(() => {
      const { reservation, changed } = reserveAttempt(
        this.userStates.get(username) ?? EMPTY_USER_STATE,
        now,
        policy,
      );
      if (changed) this.userStates.putSync(username, reservation.state);
      return reservation;
    });
  }

  async refundAttempt(username: string, ticket: AttemptTicket): Promise<UserAuthState> {
    return this.root.transaction(() => {
      const current = this.userStates.get(username) ?? EMPTY_USER_STATE;
      const next = refundAttempt(current, ticket);
      if (next !== current) this.userStates.putSync(username, next);
      return next;
    });
  }

  async commitAccept(username: string, serial: string, advance: TokenAdvance, now: number): Promise<boolean> {
    return this.root.transaction(() => {
      const user = this.userStates.get(username) ?? EMPTY_USER_STATE;
      if (!acceptAllowed(user, now)) return false;
      const state = this.tokenStates.get(serial) ?? EMPTY_TOKEN_STATE;
      if (!advances(state, advance)) return false;
      this.tokenStates.putSync(serial, applyAdvance(state, advance));
      this.userStates.putSync(username, applySuccess(user, now));
      return true;
    });
  }

  async commitFailure(username: string, now: number, policy: FailurePolicy): Promise<UserAuthState> {
    return this.root.transaction(() => {
      const current = this.userStates.get(username) ?? EMPTY_USER_STATE;
      const next = settleFailure(current, now, policy.lockout);
      if (next !== current) this.userStates.putSync(username, next);
      return next;
    });
  }

  async decideAttempt(
    username: string,
    now: number,
    policy: AttemptPolicy,
    evaluate: (tokenState: (serial: string) => TokenState) => AttemptVerdict,
  ): Promise<AttemptDecision> {
    return this.root.transaction((): AttemptDecision => {
      const { reservation, changed } = reserveAttempt(
        this.userStates.get(username) ?? EMPTY_USER_STATE,
        now,
        policy,
      );
      if (!reservation.granted) {
        if (changed) this.userStates.putSync(username, reservation.state);
        return { kind: 'refused', refusal: reservation.refusal };
      }
      // The state the code was judged on is the one advanced (the same transaction: nothing can
      // change it between), read once: the last token asked for is kept, and a code login with
      // one token asks for one.
      let keptSerial: string | undefined;
      let kept: TokenState = EMPTY_TOKEN_STATE;
      const stateOf = (serial: string): TokenState => {
        if (serial !== keptSerial) {
          kept = this.tokenStates.get(serial) ?? EMPTY_TOKEN_STATE;
          keptSerial = serial;
        }
        return kept;
      };
      const verdict = evaluate(stateOf);
      if (verdict.kind === 'refund') return { kind: 'refunded' };
      if (verdict.kind === 'accept') {
        const state = stateOf(verdict.serial);
        if (acceptAllowed(reservation.state, now) && advances(state, verdict.advance)) {
          this.tokenStates.putSync(verdict.serial, applyAdvance(state, verdict.advance));
          this.userStates.putSync(username, applySuccess(reservation.state, now));
          return { kind: 'accepted' };
        }
      }
      const settled = settleFailure(reservation.state, now, policy.lockout);
      this.userStates.putSync(username, settled);
      return { kind: verdict.kind === 'accept' ? 'stale' : 'failed', state: settled };
    });
  }

  async advanceTokenState(serial: string, state: TokenState): Promise<TokenState> {
    return this.root.transaction(() => {
      const merged = mergeTokenState(this.tokenStates.get(serial) ?? EMPTY_TOKEN_STATE, state);
      this.tokenStates.putSync(serial, merged);
      return merged;
    });
  }

  async unlockUser(username: string): Promise<void> {
    await this.root.transaction(() => {
      const s = this.userStates.get(username) ?? EMPTY_USER_STATE;
      this.userStates.putSync(username, {
        ...s,
        failures: 0,
        lockCount: 0,
        lockedUntil: 0,
        windowFailures: 0,
      });
    });
  }

  async putChallenge(challenge: Challenge, retainMs: number): Promise<void> {
    await this.challenges.put(challenge.transactionId, {
      ...challenge,
      retainUntil: Date.now() + retainMs, // the store's own clock, as a Redis TTL would
    });
  }

  async takeChallenge(transactionId: string): Promise<Challenge | null> {
    return this.root.transaction(() => {
      const stored = this.challenges.get(transactionId);
      if (!stored) return null;
      this.challenges.removeSync(transactionId);
      if (stored.retainUntil < Date.now()) return null;
      const { retainUntil: _, ...challenge } = stored;
      return challenge;
    });
  }

  async hitRateLimits(entries: readonly RateLimitEntry[], now: number): Promise<RateLimitResult> {
    return this.root.transaction((): RateLimitResult => {
      const kept = entries.map((e) => ({
        e,
        hits: (this.rateHits.get(e.key) ?? []).filter((t) => t > now - e.windowMs && t <= now),
      }));
      const full = kept.find(({ e, hits }) => hits.length >= e.limit);
      if (full) return { allowed: false, blocked: full.e.key };
      for (const { e, hits } of kept) this.rateHits.putSync(e.key, [...hits, now]);
      return { allowed: true };
    });
  }

  async appendAudit(events: AuditEvent[], stream: AuditStream = 'admin'): Promise<void> {
    await this.audit.append(events, stream);
  }

  async pruneAudit(): Promise<void> {
    await this.audit.prune();
  }

  /** Moves audit events written before streams existed into their streams (once, at open). */
  migrateAudit(): number {
    return this.audit.migrate();
  }

  async dump(): Promise<StoreDump> {
    return this.root.transactionSync(() => {
      const all = <V>(db: Database<V, string>): V[] => [...db.getRange({}).map(({ value }) => value)];
      const byKey = <V>(db: Database<V, string>): Record<string, V> => {
        const out: Record<string, V> = {};
        for (const { key, value } of db.getRange({})) out[key] = value;
        return out;
      };
      return {
        users: all(this.users),
        groups: all(this.groups),
        tokens: all(this.tokens),
        clients: all(this.clients),
        adminKeys: all(this.adminKeys),
        settings: this.meta.get('settings') ?? null,
        tokenStates: byKey(this.tokenStates),
        userStates: byKey(this.userStates),
        tombstones: [...this.tombstones.getRange({})]
          .map(({ key, value }) => parseTombstoneKey(key, value))
          .filter((t): t is Tombstone => t !== null),
      };
    });
  }

  async putInvitation(invitation: Invitation): Promise<void> {
    await this.invitations.put(invitation.id, invitation);
  }

  async getInvitation(id: string): Promise<Invitation | null> {
    return this.invitations.get(id) ?? null;
  }

  async listInvitations(): Promise<Invitation[]> {
    return [...this.invitations.getRange({})]
      .map(({ value }) => value)
      .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
  }

  async useInvitation(id: string, now: number): Promise<boolean> {
    return this.root.transaction(() => {
      const inv = this.invitations.get(id);
      if (inv?.status !== 'open' || inv.expiresAt <= now) return false;
      this.invitations.putSync(id, { ...inv, status: 'used', usedAt: now });
      return true;
    });
  }

  async getUserCodes(username: string): Promise<UserCodes | null> {
    return this.userCodes.get(username) ?? null;
  }

  async putUserCodes(codes: UserCodes): Promise<void> {
    await this.userCodes.put(codes.username, codes);
  }

  async redeemUserCode(username: string, hash: string, now: number): Promise<CodeRedemption> {
    return this.root.transaction(() => {
      const user = this.userStates.get(username) ?? EMPTY_USER_STATE;
      if (!acceptAllowed(user, now)) return 'locked';
      const codes = this.userCodes.get(username);
      const found = codes ? redeemFrom(codes, hash, now) : null;
      if (!found) return 'none';
      if (found.next !== codes) this.userCodes.putSync(username, found.next);
      this.userStates.putSync(username, applySuccess(user, now));
      return found.kind;
    });
  }

  private async sweep(): Promise<void> {
    const now = Date.now();
    await this.root.transaction(() => {
      for (const { key, value } of this.challenges.getRange({})) {
        if (value.retainUntil < now) this.challenges.removeSync(key);
      }
      // no window is longer than a day (settings schema): older hits count for nothing
      for (const { key, value } of this.rateHits.getRange({})) {
        if (value.every((t) => t < now - 86_400_000)) this.rateHits.removeSync(key);
      }
    });
    await this.push.sweep(now);
    await this.audit.prune();
  }
}

/** Fixed-width decimal, so the time index sorts in time order. */
function timeKey(time: number): string {
  return String(Math.max(0, Math.trunc(time))).padStart(15, '0');
}

export function openEmbeddedStore(dataDir: string, opts: EmbeddedStoreOptions = {}): EmbeddedStore {
  const path = join(dataDir, 'store');
  mkdirSync(path, { recursive: true, mode: 0o700 });
  // Every commit is flushed before its promise resolves (an accepted code must stay used after a
  // crash). overlappingSync off measured faster here for small, frequent commits (bench/validate.ts).
  const options: RootDatabaseOptionsWithPath & MsgpackOptions = {
    path,
    maxDbs: 24,
    compression: false,
    overlappingSync: false,
    useRecords: false,
    mapsAsObjects: true,
  };
  const store = new EmbeddedStore(open(options), opts);
  try {
    store.checkFormat(`the embedded store at ${path}`);
  } catch (err) {
    void store.close().catch(() => {});
    throw err;
  }
  store.migrateAudit();
  return store;
}
