import {
  canonicalUsername,
  EMPTY_TOKEN_STATE,
  type Settings,
  TesseraError,
  type Token,
  type TokenState,
  type Tombstone,
  tombstoneKey,
  type User,
} from '../model/index.ts';
import { timeStep } from '../otp/index.ts';
import type { Store } from '../store/index.ts';
import { NameResolver } from './restore-names.ts';
import { mergeCodes, mergeInvitation } from './restore-self-service.ts';
import { describeTombstones } from './resurrection.ts';
import type {
  Component,
  KeyFileContent,
  Manifest,
  SnapshotChunks,
  SnapshotFile,
  SnapshotPayload,
} from './snapshot-format.ts';
import { applySyncRemovals, planSyncRemovals, type SyncRemovals } from './sync-removals.ts';

/**
 * What a recovery restore does with records the live store deleted after the snapshot was taken:
 * `refuse` (default) changes nothing and names them; `allow` brings them back; `skip` restores
 * everything else.
 */
export type ResurrectPolicy = 'refuse' | 'allow' | 'skip';

export interface RestoreOptions {
  components: readonly Component[];
  now?: number;
  /** Writes the snapshot's seed keys (the `keys` component); returns what it did. */
  restoreKeys?: (keys: KeyFileContent) => string;
  /**
   * `recovery` (default): the snapshot may be older than reality (floors, resync marks).
   * `sync`: a standby applying the master's fresh snapshots; states are max-merged and the
   * master's tokens are taken as they are (no floor, so standby users are not locked out each pull),
   * and whatever the master no longer has is removed here (src/cluster/sync-removals.ts).
   */
  mode?: 'recovery' | 'sync';
  /** Recovery only (a standby mirrors its master whatever it deleted). Default `refuse`. */
  resurrect?: ResurrectPolicy;
  /** Writes the files of file components (FreeRADIUS, Keycloak settings); returns what it did. */
  restoreFiles?: (files: SnapshotFile[]) => string;
  /** Called after each chunk: users and tokens done, of the total the snapshot holds. */
  progress?: (done: number, total: number) => void;
}

/** A refused restore: these records were deleted after the snapshot and would come back. */
export class ResurrectRefused extends TesseraError {
  constructor(readonly records: Tombstone[]) {
    super(
      'RESURRECT_REFUSED',
      `the backup holds ${records.length} record(s) deleted after it was taken; nothing was restored. ` +
        `Give --allow-resurrect to bring them back, or --skip-deleted to restore everything else:\n${describeTombstones(records)}`,
    );
    this.name = 'ResurrectRefused';
  }
}

export interface RestoreReport {
  snapshotTime: number;
  restoreTime: number;
  components: Component[];
  settings: number;
  clients: number;
  adminKeys: number;
  groups: number;
  usersCreated: number;
  usersReplaced: number;
  tokensRestored: number;
  tokensSkippedNoUser: number;
  /** Invitation links and users' one-time code records restored (merged: none reopened). */
  invitations: number;
  userCodes: number;
  /** Users of the snapshot with no canonical name, or sharing one with another user of it. */
  usersSkippedName: { username: string; reason: string }[];
  /** Records deleted after the snapshot: brought back (`allow`) or left out (`skip`). */
  resurrected: Tombstone[];
  resurrectSkipped: Tombstone[];
  /** Sync only: what the master no longer has, removed here. */
  removed?: SyncRemovals;
  /** TOTP tokens whose last-used step was raised to the restore floor. */
  totpFloored: number;
  /** HOTP tokens whose live counter was ahead of the snapshot: kept, never rolled back. */
  hotpKeptLive: number;
  /** HOTP tokens with no live state: marked resync required. */
  hotpResyncRequired: string[];
  keys?: string;
  /** Audit events the snapshot holds, by stream: kept in the file, never written back (see formatReport). */
  auditKept: Record<string, number>;
  files?: string[];
}

/**
 * Puts a snapshot's chosen components into a store, through the Store interface only, so it
 * works on both stores. A recovery restore adds and replaces, never deletes what the snapshot
 * lacks, and refuses (by default) to bring back what was deleted after the snapshot; a sync (a
 * standby) mirrors the master, deletions included. Names are made canonical on the way in.
 *
 * Codes stay used: every token's state is max-merged with the live one (never rolled back); a
 * TOTP token's last-used step gets a floor of the restore time's step plus the accept window and
 * the token's forward drift (any code that could have been accepted before the restore); a HOTP
 * token with no live state cannot prove its counter and is marked resync required.
 *
 * The snapshot is read in chunks, twice: a first pass that writes nothing decides everything that
 * can refuse (names, deletions, a wiped master); the second writes chunk by chunk, so a restore of
 * a million users holds one chunk at a time.
 */
export async function restoreSnapshot(
  store: Store,
  snapshot: SnapshotChunks | { manifest: Manifest; payload: SnapshotPayload },
  opts: RestoreOptions,
): Promise<RestoreReport> {
  const source: SnapshotChunks =
    'payload' in snapshot ? { manifest: snapshot.manifest, chunks: () => [snapshot.payload] } : snapshot;
  const { manifest } = source;
  const role = await store.role();
  if (role.role === 'slave') {
    throw new TesseraError(
      'READ_ONLY_REPLICA',
      `this node is a slave; restore on the master at ${role.master}`,
    );
  }
  const now = opts.now ?? Date.now();
  const sync = opts.mode === 'sync';
  const want = new Set(opts.components.filter((c) => manifest.components.includes(c)));

  // Everything that can refuse is decided before the first write.
  const plan = await planRestore(store, source, want, sync);
  if (plan.back.length && !sync && (opts.resurrect ?? 'refuse') === 'refuse')
    throw new ResurrectRefused(plan.back);
  const leaveOut = new Set(opts.resurrect === 'skip' ? plan.back.map((t) => tombstoneKey(t.kind, t.id)) : []);
  const keep = (kind: Tombstone['kind'], id: string) => !leaveOut.has(tombstoneKey(kind, id));

  const report: RestoreReport = {
    snapshotTime: manifest.time,
    restoreTime: now,
    components: [...want],
    settings: 0,
    clients: 0,
    adminKeys: 0,
    groups: 0,
    usersCreated: 0,
    usersReplaced: 0,
    tokensRestored: 0,
    tokensSkippedNoUser: 0,
    invitations: 0,
    userCodes: 0,
    usersSkippedName: plan.names.skipped,
    resurrected: opts.resurrect === 'allow' ? plan.back : [],
    resurrectSkipped: opts.resurrect === 'skip' ? plan.back : [],
    totpFloored: 0,
    hotpKeptLive: 0,
    hotpResyncRequired: [],
    auditKept: {},
  };
  const total = (manifest.counts.users ?? 0) + (manifest.counts.tokens ?? 0);
  let done = 0;
  let settings: Settings | null | undefined;

  for (const chunk of source.chunks()) {
    const d = chunk.dump;
    if (want.has('keys') && chunk.keys && opts.restoreKeys) report.keys = opts.restoreKeys(chunk.keys);
    if (want.has('settings') && d.settings) {
      await store.putSettings(d.settings);
      report.settings = 1;
    }
    if (want.has('clients')) {
      const clients = (d.clients ?? []).filter((c) => keep('client', c.id));
      const adminKeys = (d.adminKeys ?? []).filter((k) => keep('adminKey', k.id));
      for (const c of clients) await store.putClient(c);
      for (const k of adminKeys) await store.putAdminKey(k);
      report.clients += clients.length;
      report.adminKeys += adminKeys.length;
    }
    if (want.has('users')) {
      for (const g of d.groups ?? []) await store.putGroup(g);
      report.groups += d.groups?.length ?? 0;
    }
    const tokens = new Map<string, Token[]>();
    if (want.has('tokens') && d.tokens?.length) {
      settings ??= (await store.getSettings()) ?? plan.settings ?? null;
      for (const t of d.tokens) {
        const named = plan.names.token(t);
        if (!named) report.tokensSkippedNoUser++;
        else if (keep('token', named.serial) && keep('user', named.username))
          tokens.set(named.username, [...(tokens.get(named.username) ?? []), named]);
      }
    }
    // Each user is followed at once by its tokens, in one atomic store step per user: a node
    // serving while it restores (a standby applying a pull) never shows a user without its tokens.
    const users = want.has('users')
      ? (d.users ?? [])
          .map((u) => plan.names.user(u))
          .filter((u): u is User => u !== null && keep('user', u.username))
      : [];
    const entries: { user?: User; tokens: Token[] }[] = users.map((u) => {
      const own = tokens.get(u.username) ?? [];
      tokens.delete(u.username);
      return { user: u, tokens: own };
    });
    for (const own of tokens.values()) entries.push({ tokens: own });
    await restoreEntries(store, entries, {
      states: d.tokenStates ?? {},
      settings: settings ?? null,
      now,
      report,
      sync,
      fresh: plan.fresh,
    });
    if (want.has('users') && chunk.selfService) await restoreSelfService(store, chunk, plan, keep, report);
    done += d.users?.length ?? 0;
    done += d.tokens?.length ?? 0;
    for (const [s, events] of Object.entries(chunk.audit ?? {}))
      report.auditKept[s] = (report.auditKept[s] ?? 0) + events.length;
    if (chunk.files?.length && opts.restoreFiles) {
      const chosen = chunk.files.filter((f) => want.has(f.component));
      if (chosen.length) report.files = [...(report.files ?? []), opts.restoreFiles(chosen)];
    }
    opts.progress?.(done, total);
  }
  if (plan.removals) {
    await applySyncRemovals(store, plan.removals);
    report.removed = plan.removals;
  }
  return report;
}

/**
 * Invitation links and one-time codes of the chunk, after its users: under their canonical names,
 * only for users restored, merged with the live records so nothing spent or revoked reopens.
 */
async function restoreSelfService(
  store: Store,
  chunk: SnapshotPayload,
  plan: RestorePlan,
  keep: (kind: Tombstone['kind'], id: string) => boolean,
  report: RestoreReport,
): Promise<void> {
  const owner = (username: string) => {
    const name = plan.names.nameOf(username);
    return keep('user', name) ? name : null;
  };
  for (const saved of chunk.selfService?.codes ?? []) {
    const username = owner(saved.username);
    if (!username) continue;
    const named = { ...saved, username };
    await store.putUserCodes(mergeCodes(named, await store.getUserCodes(username)));
    report.userCodes++;
  }
  for (const saved of chunk.selfService?.invitations ?? []) {
    const username = owner(saved.username);
    if (!username) continue;
    await store.putInvitation(mergeInvitation({ ...saved, username }, await store.getInvitation(saved.id)));
    report.invitations++;
  }
}

interface RestorePlan {
  /** The store held no user when the restore began. */
  fresh: boolean;
  names: NameResolver;
  back: Tombstone[];
  removals?: SyncRemovals;
  settings?: Settings | null;
}

/**
 * The read-only pass over the snapshot: canonical names, records deleted after the snapshot that
 * it would bring back, and (sync) what the master no longer has. Throws what refuses the restore.
 */
async function planRestore(
  store: Store,
  source: SnapshotChunks,
  want: ReadonlySet<Component>,
  sync: boolean,
): Promise<RestorePlan> {
  const names = new NameResolver();
  const fresh = (await store.countUsers()) === 0;
  const after = sync ? [] : await store.listTombstones(source.manifest.time + 1);
  const deletedAfter = new Map(after.map((t) => [tombstoneKey(t.kind, t.id), t]));
  const back = new Map<string, Tombstone>();
  const hit = (kind: Tombstone['kind'], id: string) => {
    const t = deletedAfter.get(tombstoneKey(kind, id));
    if (t) back.set(tombstoneKey(kind, id), t);
  };
  const ids = {
    users: [] as string[],
    tokens: [] as string[],
    clients: [] as string[],
    adminKeys: [] as string[],
  };
  const master: { groups: { name: string }[]; tombstones: Tombstone[] } = { groups: [], tombstones: [] };
  let settings: Settings | null | undefined;
  for (const chunk of source.chunks()) {
    const d = chunk.dump;
    names.see(d.users);
    if (d.settings !== undefined) settings = d.settings;
    if (deletedAfter.size) {
      if (want.has('users'))
        for (const u of d.users ?? []) hit('user', canonicalUsername(u.username) ?? u.username);
      if (want.has('tokens')) for (const t of d.tokens ?? []) hit('token', t.serial);
      if (want.has('clients')) {
        for (const c of d.clients ?? []) hit('client', c.id);
        for (const k of d.adminKeys ?? []) hit('adminKey', k.id);
      }
    }
    if (sync) {
      for (const u of d.users ?? []) ids.users.push(u.username);
      for (const t of d.tokens ?? []) ids.tokens.push(t.serial);
      for (const c of d.clients ?? []) ids.clients.push(c.id);
      for (const k of d.adminKeys ?? []) ids.adminKeys.push(k.id);
      for (const g of d.groups ?? []) master.groups.push(g);
      for (const t of d.tombstones ?? []) master.tombstones.push(t);
    }
  }
  names.settle();
  const plan: RestorePlan = { fresh, names, back: [...back.values()], settings };
  if (sync)
    plan.removals = planSyncRemovals(
      await store.dump(),
      {
        users: ids.users.map((u) => ({ username: names.nameOf(u) })),
        tokens: ids.tokens.map((serial) => ({ serial })),
        clients: ids.clients.map((id) => ({ id })),
        adminKeys: ids.adminKeys.map((id) => ({ id })),
        groups: master.groups,
        tombstones: master.tombstones,
      },
      want,
    );
  return plan;
}

interface TokenContext {
  states: Record<string, TokenState>;
  settings: Settings | null;
  now: number;
  report: RestoreReport;
  sync: boolean;
  fresh: boolean;
}

/**
 * Writes one chunk's users and tokens with one restoreBatch (src/store/types.ts): three store
 * calls per user cost a million-user restore minutes of CPU. The live token and state are read
 * first (not on a fresh store: it has none); the store max-merges each state, so a counter moved
 * on between the read and the write is still never rolled back.
 */
async function restoreEntries(
  store: Store,
  entries: readonly { user?: User; tokens: Token[] }[],
  ctx: TokenContext,
): Promise<void> {
  const live = new Map<string, { token: Token | null; state: TokenState }>();
  if (!ctx.fresh)
    await eachLimit(
      entries.flatMap((e) => e.tokens),
      async (t) => {
        live.set(t.serial, {
          token: await store.getToken(t.serial),
          state: await store.getTokenState(t.serial),
        });
      },
    );
  const planned = entries.map((e) => ({
    ...(e.user ? { user: e.user } : {}),
    tokens: e.tokens.map((t) =>
      planToken(t, ctx.states[t.serial] ?? EMPTY_TOKEN_STATE, live.get(t.serial), ctx),
    ),
  }));
  const results = await store.restoreBatch(
    planned.map((e) => ({ ...(e.user ? { user: e.user } : {}), tokens: e.tokens.map((p) => p.write) })),
  );
  const { report } = ctx;
  planned.forEach((e, i) => {
    const r = results[i]!;
    if (r.user === 'created') report.usersCreated++;
    else if (r.user === 'replaced') report.usersReplaced++;
    e.tokens.forEach((p, j) => {
      if (!r.tokens[j]) {
        report.tokensSkippedNoUser++;
        return;
      }
      report.tokensRestored++;
      if (p.resyncMarked) report.hotpResyncRequired.push(p.write.token.serial);
      if (p.keptLive) report.hotpKeptLive++;
      if (p.floored) report.totpFloored++;
    });
  });
}

/** What one token's restore writes (token, state floor) and what it counts once written. */
function planToken(
  token: Token,
  saved: TokenState,
  current: { token: Token | null; state: TokenState } | undefined,
  ctx: TokenContext,
): {
  write: { token: Token; state: TokenState };
  resyncMarked: boolean;
  keptLive: boolean;
  floored: boolean;
} {
  const live = current?.token ?? null;
  const liveState = current?.state ?? EMPTY_TOKEN_STATE;
  const hasLiveState = live !== null || !sameState(liveState, EMPTY_TOKEN_STATE);
  let next: Token = { ...token };
  let keptLive = false;
  if (live?.resyncRequired && !ctx.sync) next.resyncRequired = true;
  // A counter the snapshot may hold behind the key (HOTP, YubiKey): without live state to prove it,
  // an OTP used after the snapshot would be accepted again, so the token waits for a resync.
  if (countsForward(token) && !ctx.sync) {
    if (!hasLiveState) next = { ...next, resyncRequired: true };
    else if (liveState.counter > saved.counter) keptLive = true;
  }
  let state = saved;
  let floored = false;
  if (token.type === 'totp' && !ctx.sync) {
    const window = ctx.settings?.totp.window ?? 1;
    const floor = timeStep(ctx.now, token.period) + window + Math.max(0, saved.drift, liveState.drift);
    floored = floor > saved.lastUsedStep;
    state = { ...saved, lastUsedStep: Math.max(saved.lastUsedStep, floor) };
  }
  return {
    write: { token: next, state },
    resyncMarked: next.resyncRequired === true && countsForward(token) && !hasLiveState,
    keptLive,
    floored,
  };
}

function countsForward(token: Token): boolean {
  return token.type === 'hotp' || token.type === 'yubikey';
}

/** Runs fn over items with a bounded number in flight (a chunk's writes pipeline to Redis). */
async function eachLimit<T>(items: readonly T[], fn: (item: T) => Promise<void>, limit = 256): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function sameState(a: TokenState, b: TokenState): boolean {
  return a.counter === b.counter && a.lastUsedStep === b.lastUsedStep && a.drift === b.drift;
}

export function formatReport(r: RestoreReport): string {
  const lines = [
    `restored snapshot of ${new Date(r.snapshotTime).toISOString()} at ${new Date(r.restoreTime).toISOString()}`,
    `components: ${r.components.join(', ') || '(none)'}`,
    `settings: ${r.settings}  clients: ${r.clients}  admin keys: ${r.adminKeys}  groups: ${r.groups}`,
    `users: ${r.usersCreated} created, ${r.usersReplaced} replaced`,
    `tokens: ${r.tokensRestored} restored, ${r.tokensSkippedNoUser} skipped (user missing)`,
    `self-service: ${r.invitations} invitation link(s), ${r.userCodes} user(s) with one-time codes (none spent reopened)`,
    `TOTP tokens floored at the restore time: ${r.totpFloored} (codes from before the restore stay refused; users may wait up to a minute)`,
    `HOTP and YubiKey tokens whose live counter was ahead (kept, never rolled back): ${r.hotpKeptLive}`,
    `HOTP and YubiKey tokens marked "resync required" (no live state; accept after a two-code resync): ${r.hotpResyncRequired.length}`,
  ];
  if (r.hotpResyncRequired.length)
    lines.push(
      `  ${r.hotpResyncRequired.slice(0, 50).join(' ')}${r.hotpResyncRequired.length > 50 ? ' …' : ''}`,
    );
  if (r.usersSkippedName.length)
    lines.push(
      `users left out (no canonical name, or one another user of the backup holds): ${r.usersSkippedName.length}`,
      ...r.usersSkippedName.slice(0, 50).map((s) => `  ${s.username}: ${s.reason}`),
    );
  if (r.resurrected.length)
    lines.push(
      `brought back although deleted after the backup (--allow-resurrect): ${r.resurrected.length}`,
      describeTombstones(r.resurrected),
    );
  if (r.resurrectSkipped.length)
    lines.push(
      `left out because deleted after the backup (--skip-deleted): ${r.resurrectSkipped.length}`,
      describeTombstones(r.resurrectSkipped),
    );
  if (r.keys) lines.push(`keys: ${r.keys}`);
  for (const f of r.files ?? []) lines.push(`files: ${f}`);
  const audit = Object.entries(r.auditKept);
  if (audit.length)
    lines.push(
      `audit trail in the backup: ${audit.map(([s, n]) => `${s}=${n}`).join(' ')} event(s), kept there and not written ` +
        "back: the store's own trail continues its signed chain unbroken (read the backup's with `tessera backup audit`)",
    );
  return `${lines.join('\n')}\n`;
}
