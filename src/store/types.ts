import type {
  AdminKey,
  AdminRole,
  AttemptPolicy,
  AttemptTicket,
  AuditEvent,
  Challenge,
  Client,
  CodeRedemption,
  Group,
  Invitation,
  Reservation,
  Settings,
  Token,
  TokenAdvance,
  TokenState,
  Tombstone,
  User,
  UserAuthState,
  UserCodes,
} from '../model/index.ts';
import type { PushStore } from './push-types.ts';

/** Everything the validate pipeline needs about one user, read in one call. */
export interface AuthView {
  user: User;
  group: Group | null;
  tokens: Token[];
  /** By serial; a Map, not an object keyed by serial (see TokenStateOf). */
  tokenStates: ReadonlyMap<string, TokenState>;
  userState: UserAuthState;
}

export interface FailurePolicy {
  lockout: Settings['lockout'];
  windowMs: number;
}

export interface Page<T> {
  items: T[];
  /** Opaque; pass back to get the next page. Absent on the last page. */
  next?: string;
}

export interface ListOptions {
  limit?: number;
  after?: string;
  prefix?: string;
}

/** A consistent cut of everything, for snapshots and backups. Secrets stay sealed. */
export interface StoreDump {
  users: User[];
  groups: Group[];
  tokens: Token[];
  clients: Client[];
  adminKeys: AdminKey[];
  settings: Settings | null;
  tokenStates: Record<string, TokenState>;
  userStates: Record<string, UserAuthState>;
  /** What was deleted, and when (src/model/tombstone.ts). */
  tombstones: Tombstone[];
}

/**
 * The audit trail's streams, kept apart so that one cannot push another out: `auth` holds validate
 * decisions, `admin` the changes admins and the CLI make, `event` what nodes report about
 * themselves (failover, snapshots).
 */
export type AuditStream = 'auth' | 'admin' | 'event';

/** How long a stream keeps its events; `maxEvents` bounds a stream that outside traffic fills. */
export interface AuditStreamRetention {
  maxAgeMs: number;
  maxEvents?: number;
}

export type AuditRetention = Record<AuditStream, AuditStreamRetention>;

/**
 * The chain fields of an `admin` or `event` entry (src/audit/chain.ts): its place in the stream,
 * the previous entry's hash, the time it sorts by (never before its predecessor's), the signing
 * key's id and the signature over all of it.
 */
export interface AuditChainLink {
  seq: number;
  prev: string;
  at: number;
  kid: string;
  sig: string;
}

/** An audit event as a chained stream stores it. */
export type ChainedAuditEvent = AuditEvent & { chain?: AuditChainLink };

/** Seals a batch onto a stream's last entry; the store calls it inside its atomic append. */
export interface AuditSealer {
  readonly streams: readonly AuditStream[];
  seal(stream: AuditStream, head: ChainedAuditEvent | null, events: AuditEvent[]): ChainedAuditEvent[];
}

/** What a search filters the audit trail by; each has an index in both stores (src/store/audit-index.ts). */
export type AuditIndexField = 'user' | 'client' | 'result' | 'reason' | 'node';

/** A place in one stream: the time it sorts by and its append sequence (the store's own counter). */
export interface AuditPosition {
  time: number;
  seq: number;
}

/** What one seek asks of a stream: newest first, from `atOrBelow` (inclusive) down to `from`. */
export interface AuditSeek {
  /** Only the entries whose indexed field has this value; the whole stream without. */
  where?: { field: AuditIndexField; value: string };
  atOrBelow?: AuditPosition;
  from?: number;
  limit: number;
}

/** A position a seek found, with its event when the store had it at hand. */
export interface AuditHit extends AuditPosition {
  event?: AuditEvent;
}

/** How many authentication entries one relying system had on one day (UTC) with one result. */
export interface AuditDailyCount {
  /** `YYYY-MM-DD`, UTC. */
  day: string;
  /** The client id ('' when the decision had none, e.g. a refused RADIUS body). */
  client: string;
  result: string;
  count: number;
}

/** A chained stream as stored, in storage order, for `tessera audit verify`. */
export interface AuditChainView {
  /** The last entry retention dropped (the kept chain continues from it), if any. */
  anchor: ChainedAuditEvent | null;
  /** The entry the store last appended (its own copy, to notice a dropped tail). */
  head: ChainedAuditEvent | null;
  /** The entry just before the range, when the range starts later than the oldest kept entry. */
  before: ChainedAuditEvent | null;
  /** `position`: the time the store sorts the entry by (LMDB key, Redis score). */
  entries: { position: number; event: ChainedAuditEvent }[];
}

/** One user of a restore chunk with its tokens and their saved states (restoreBatch). */
export interface RestoreBatchEntry {
  /** Created, or replacing the stored one; absent: tokens of a user the store holds already. */
  user?: User;
  tokens: { token: Token; state: TokenState }[];
}

/** What restoreBatch did with one entry: the user, and each token (false: its user is missing). */
export interface RestoreBatchResult {
  user: 'created' | 'replaced' | 'none';
  tokens: boolean[];
}

/** What writeUserWithTokens did: `ok`, or why it wrote nothing. */
export type UserWriteResult = 'ok' | 'user-exists' | 'user-missing' | 'serial-taken';

/**
 * A person who signs in to the admin console (plugin/ui): a password (scrypt) or a directory bind,
 * then a TOTP code checked by Tessera itself. Its role is an admin-key role (src/auth/roles.ts).
 */
export interface ConsoleAccount {
  /** Canonical (src/model/username.ts). */
  username: string;
  role: AdminRole;
  /** scrypt hash (`scrypt$N$r$p$salt$hash`); absent for an account that binds to a directory. */
  passwordHash?: string;
  /** The directory source whose bind checks this account's password. */
  directorySource?: string;
  /** The TOTP seed, sealed with the node's key ring (AAD: `console:<username>`); absent until enrolled. */
  totpSealed?: string;
  enabled: boolean;
  createdAt: number;
  updatedAt: number;
}

export type StoreRole = { role: 'standalone' } | { role: 'master' } | { role: 'slave'; master: string };

/**
 * The one storage contract. `embedded` (LMDB) and `redis` implement it and pass the same suite
 * (src/store/store-contract-suite.ts). Configuration writes are only legal on the master; implementations
 * throw TesseraError('READ_ONLY_REPLICA') on a replica. Authentication-state writes are atomic
 * check-and-advance steps: of N concurrent commitAccept calls carrying the same advance,
 * exactly one returns true.
 */
/** What an evaluation inside decideAttempt found. */
export type AttemptVerdict =
  | { kind: 'accept'; serial: string; advance: TokenAdvance }
  | { kind: 'fail' }
  | { kind: 'refund' };

/**
 * How decideAttempt ended: refused unevaluated; accepted; `stale`, an accept verdict whose code
 * was used meanwhile (counted as a failure); failed (counted, `state` says whether it locked);
 * refunded (not counted).
 */
export type AttemptDecision =
  | { kind: 'refused'; refusal: 'locked' | 'throttled' }
  | { kind: 'accepted' }
  | { kind: 'stale' | 'failed'; state: UserAuthState }
  | { kind: 'refunded' };

/** One send limit: at most `limit` hits on `key` per sliding `windowMs`. */
export interface RateLimitEntry {
  key: string;
  limit: number;
  windowMs: number;
}

export type RateLimitResult = { allowed: true } | { allowed: false; blocked: string };

export interface Store {
  readonly kind: 'embedded' | 'redis';

  role(): Promise<StoreRole>;
  /** Throws when the backing store cannot be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;

  // configuration: users, groups, tokens
  getUser(username: string): Promise<User | null>;
  /** Creates the user; false if it already exists (nothing changed). */
  createUser(user: User): Promise<boolean>;
  /** Replaces an existing user; false if it does not exist. */
  updateUser(user: User): Promise<boolean>;
  /** Deletes the user, its tokens and all their state; false if it did not exist. */
  deleteUser(username: string): Promise<boolean>;
  /**
   * Atomically gives a user a new name, with its tokens and its failure state; false (nothing
   * changed) when `from` does not exist or `to` does. Leaves a tombstone for `from`.
   */
  renameUser(from: string, to: string): Promise<boolean>;
  /**
   * Writes a user and its new tokens in one atomic step, or nothing (CSV import): `create` needs
   * the name free, `update` needs it taken; every serial must be new. Clears their tombstones.
   */
  writeUserWithTokens(user: User, tokens: Token[], mode: 'create' | 'update'): Promise<UserWriteResult>;
  /**
   * A restore's chunk in one step (one transaction, or few round trips): per entry, atomically,
   * the user is created (its tombstone cleared) or replaced, each token whose user exists is put
   * like putToken and its state max-merged like advanceTokenState (never rolled back).
   */
  restoreBatch(entries: readonly RestoreBatchEntry[]): Promise<RestoreBatchResult[]>;
  listUsers(opts?: ListOptions): Promise<Page<User>>;
  countUsers(): Promise<number>;

  getGroup(name: string): Promise<Group | null>;
  putGroup(group: Group): Promise<void>;
  deleteGroup(name: string): Promise<boolean>;
  listGroups(): Promise<Group[]>;

  getToken(serial: string): Promise<Token | null>;
  /** Creates or replaces a token; the user must exist (false otherwise). */
  putToken(token: Token): Promise<boolean>;
  deleteToken(serial: string): Promise<boolean>;
  listTokens(username: string): Promise<Token[]>;

  // callers: clients and admin keys
  getClient(id: string): Promise<Client | null>;
  putClient(client: Client): Promise<void>;
  deleteClient(id: string): Promise<boolean>;
  listClients(): Promise<Client[]>;
  getAdminKey(id: string): Promise<AdminKey | null>;
  putAdminKey(key: AdminKey): Promise<void>;
  deleteAdminKey(id: string): Promise<boolean>;
  listAdminKeys(): Promise<AdminKey[]>;

  getSettings(): Promise<Settings | null>;
  putSettings(settings: Settings): Promise<void>;

  // console accounts (plugin/ui), configuration like admin keys: written on the master only
  getConsoleAccount(username: string): Promise<ConsoleAccount | null>;
  putConsoleAccount(account: ConsoleAccount): Promise<void>;
  deleteConsoleAccount(username: string): Promise<boolean>;
  listConsoleAccounts(): Promise<ConsoleAccount[]>;

  // authentication state (the hot path)
  /** User, group, tokens, their states and the user's failure state, in one read. */
  loadAuthView(username: string): Promise<AuthView | null>;
  getTokenState(serial: string): Promise<TokenState>;
  /**
   * Atomically, before any PIN or code is evaluated: refuses a locked or throttled user (see
   * reserveAttempt in src/model/state.ts), otherwise counts the attempt as a failure up front.
   * Parallel requests therefore never evaluate more attempts than the limits allow.
   */
  reserveAttempt(username: string, now: number, policy: AttemptPolicy): Promise<Reservation>;
  /** Atomically gives a reserved attempt back (see refundAttempt in src/model/state.ts). */
  refundAttempt(username: string, ticket: AttemptTicket): Promise<UserAuthState>;
  /**
   * Atomically: if the user is not locked at `now` and `advance` still moves the token forward,
   * apply it, reset the user's counters (the reserved attempt included) and return true;
   * otherwise change nothing and return false (the code was used already, or the user is locked).
   */
  commitAccept(username: string, serial: string, advance: TokenAdvance, now: number): Promise<boolean>;
  /**
   * Atomically settles a reserved attempt that failed: it is counted already, so this only locks
   * the user when the count reached the threshold. Returns the failure state.
   */
  commitFailure(username: string, now: number, policy: FailurePolicy): Promise<UserAuthState>;
  /**
   * Optional (the embedded store): reserveAttempt, the evaluation and commitAccept or
   * commitFailure as one atomic step with one durable commit instead of two. The reservation is
   * decided first; `evaluate` runs only when it was granted, synchronously inside the step, with
   * the token states as they are then. A `refund` verdict leaves the attempt uncounted.
   */
  decideAttempt?(
    username: string,
    now: number,
    policy: AttemptPolicy,
    evaluate: (tokenState: (serial: string) => TokenState) => AttemptVerdict,
  ): Promise<AttemptDecision>;
  /**
   * Optional (the Redis store): reserveAttempt and the commit of a verdict reached beforehand from
   * the state loadAuthView read, as one atomic step (one round trip instead of two). The
   * reservation is decided first and exactly as reserveAttempt decides it: refused, the verdict
   * changes nothing and the answer does not depend on it. Granted, an accept whose advance still
   * moves the token forward is committed as commitAccept (else `stale`), a fail is the counted
   * failure settled as commitFailure, a refund leaves the attempt uncounted.
   */
  settleAttempt?(
    username: string,
    now: number,
    policy: AttemptPolicy,
    verdict: AttemptVerdict,
  ): Promise<AttemptDecision>;
  /** Moves a token's state forward by max-merge (resync, restore); never backwards. */
  advanceTokenState(serial: string, state: TokenState): Promise<TokenState>;
  /** Clears the lock and failure counters. */
  unlockUser(username: string): Promise<void>;

  /** Stores a challenge; it disappears `retainMs` from now (by the store's clock, like a TTL). */
  putChallenge(challenge: Challenge, retainMs: number): Promise<void>;
  /** Returns and removes the challenge in one step, so it can be answered only once. */
  takeChallenge(transactionId: string): Promise<Challenge | null>;

  /** Push approval's records: pairing tokens, nonces, push challenges, device state (src/push). */
  readonly push: PushStore;
  /**
   * Sliding-window send limits (mail and SMS codes), all or nothing in one atomic step: when every
   * entry has fewer than `limit` hits in the last `windowMs`, a hit is added to each and the
   * answer is `{ allowed: true }`; otherwise nothing changes and `blocked` names the first full key.
   * Written on the master like challenges, so the limits hold across nodes.
   */
  hitRateLimits(entries: readonly RateLimitEntry[], now: number): Promise<RateLimitResult>;

  // audit
  /** Appends to one stream; without one, to `admin` (an unrouted event is kept the longest). */
  appendAudit(events: AuditEvent[], stream?: AuditStream): Promise<void>;
  /** Newest first, from one stream, or from all streams merged when none is named. */
  listAudit(limit: number, stream?: AuditStream): Promise<AuditEvent[]>;
  /**
   * Drops events older than their stream's retention (and beyond its maxEvents), by the store's
   * clock. The stores also do it by themselves (a sweep, or a trim on append).
   */
  pruneAudit(): Promise<void>;
  /** Chains and signs every later append to the sealer's streams (set once, at start). */
  useAuditSealer?(sealer: AuditSealer): void;
  /** One seek of a stream or of one of its indexes (src/audit/search.ts): a B-tree or sorted-set
   * lookup from the given position, never a scan, so a deep page costs what the first one does. */
  seekAudit?(stream: AuditStream, seek: AuditSeek): Promise<AuditHit[]>;
  /** Per-day counts of the authentication log, kept as it is appended (reports, never a scan). */
  auditDailyCounts?(fromDay: string, toDay: string): Promise<AuditDailyCount[]>;
  /** The events at these positions; null where retention dropped one in between. */
  readAudit?(stream: AuditStream, positions: AuditPosition[]): Promise<(AuditEvent | null)[]>;
  /** A chained stream's entries with `from <= position <= to`, as stored. */
  readAuditChain?(stream: AuditStream, range?: { from?: number; to?: number }): Promise<AuditChainView>;

  // self-service (src/portal): invitation links and a user's one-time codes
  putInvitation(invitation: Invitation): Promise<void>;
  getInvitation(id: string): Promise<Invitation | null>;
  /** Every invitation kept (open, used, revoked), oldest first. */
  listInvitations(): Promise<Invitation[]>;
  /** Atomically: an open invitation not expired at `now` becomes used; false (nothing changed) otherwise. */
  useInvitation(id: string, now: number): Promise<boolean>;
  getUserCodes(username: string): Promise<UserCodes | null>;
  putUserCodes(codes: UserCodes): Promise<void>;
  /**
   * Atomically, unless the user is locked at `now` ('locked', nothing changed): redeems the code
   * whose hash is `hash` (see redeemFrom in src/model/self-service.ts) and, like an accepted code,
   * resets the user's failure counters. 'none' when no code matches (nothing changed).
   */
  redeemUserCode(username: string, hash: string, now: number): Promise<CodeRedemption>;

  // whole-store cut, for snapshots, backups and restore
  dump(): Promise<StoreDump>;

  // tombstones: every delete of a user, token, client or admin key leaves one (a user's delete
  // also one for each of its tokens); creating the record again clears it.
  /** Tombstones with `deletedAt >= since` (all without it). */
  listTombstones(since?: number): Promise<Tombstone[]>;
  /** Removes tombstones with `deletedAt < before`; returns how many. */
  pruneTombstones(before: number): Promise<number>;
}

export type RedisRole = 'master' | 'slave';

/** What ROLE said last, on the node's own Redis and on the master. */
export interface ReplicationView {
  redisRole: RedisRole;
  /** host:port of the node's own Redis. */
  self: string;
  /** host:port of the master (this Redis when it is the master). */
  master: string;
  linkUp: boolean;
  offset: number;
  masterOffset: number;
  replicas: { addr: string; offset: number }[];
}

/** What a replicated store reports as it happens. */
export interface ReplicationEvents {
  'role-change': { from: RedisRole; to: RedisRole; master: string };
  'master-change': { from: string; to: string };
  'replica-ack-missing': { waited: number; ms: number };
}

/**
 * The small replication interface the cluster code needs beside a replicated store (Redis): the
 * replication view, role and master changes, missed replica acknowledgements, and the node
 * registry that heartbeats write. A one-node store has none; whoever opens the store hands it on.
 */
export interface ReplicationControl {
  replication(): ReplicationView | null;
  /** Subscribes to one kind of event; returns the unsubscribe. */
  onReplication<E extends keyof ReplicationEvents>(
    event: E,
    listener: (e: ReplicationEvents[E]) => void,
  ): () => void;
  /** Registers this node's heartbeat record in the cluster's node list (on the master). */
  heartbeat(nodeId: string, record: object): Promise<void>;
  /** Every node's last heartbeat record. */
  nodeRecords(): Promise<Record<string, unknown>[]>;
  /**
   * A named lease on the master, for a duty one node does at a time (the directory schedule):
   * `claim` takes it when it is free or ours already, `take` whoever holds it; it lapses `ttlMs`
   * after the last claim. Returns who held it before the call (null: nobody).
   */
  lease?(name: string, holder: string, ttlMs: number, mode: 'claim' | 'take'): Promise<string | null>;
  /**
   * The same store, but its configuration writes go to the master even from a replica: only for
   * the holder of a lease that stands in for a silent master (the directory schedule).
   */
  masterWrites?(): Store;
}
