import type { AdminContext } from '../admin/context.ts';
import { defaultMfaRequired } from '../auth/index.ts';
import { DEFAULT_GROUP, type StoredDirectorySource, TesseraError, type User } from '../model/index.ts';
import { withServiceBind } from './connect.ts';
import { groupMembers, userEntries } from './fetch.ts';
import { type DirectoryUser, mapEntry, tesseraGroupFor } from './mapping.ts';
import type { SyncProgress } from './progress.ts';
import { openBindPassword } from './source.ts';

export interface SyncCounts {
  created: number;
  updated: number;
  disabled: number;
  deleted: number;
  skipped: number;
  /** Invitations mailed to users this sync created (the source's inviteNewUsers). */
  invited: number;
}

/** Mails one user a portal invitation (src/portal inviteUser); whether a mail was queued. */
export type Inviter = (username: string) => Promise<boolean>;

export interface SyncOptions {
  dryRun?: boolean;
  /** Lets a sync disable more than the source's maxDisableFraction. */
  force?: boolean;
  /** Called per directory entry read and per change written, for a progress line on a terminal. */
  onProgress?: (p: SyncProgress) => void;
  /** How a source with inviteNewUsers invites; without it nobody is invited. */
  invite?: Inviter;
}

/** One planned change; a dry run returns the plan without applying it. */
export type SyncChange =
  | { kind: 'create'; user: User }
  | { kind: 'update'; from: string; user: User; fields: string[] }
  | { kind: 'disable'; user: User }
  | { kind: 'skip'; name: string; reason: string };

export interface SyncReport extends SyncCounts {
  changes: SyncChange[];
}

async function linkedUsers(ctx: AdminContext, source: string): Promise<Map<string, User>> {
  const byId = new Map<string, User>();
  let after: string | undefined;
  do {
    const page = await ctx.store.listUsers({ limit: 1000, ...(after ? { after } : {}) });
    for (const u of page.items) if (u.directory?.source === source) byId.set(u.directory.id, u);
    after = page.next;
  } while (after);
  return byId;
}

function changedFields(current: User, next: User): string[] {
  const keys = ['username', 'displayName', 'email', 'phone', 'group', 'enabled'] as const;
  const out: string[] = keys.filter((k) => current[k] !== next[k]);
  if (current.directory?.dn !== next.directory?.dn) out.push('dn');
  return out;
}

/** The user as the directory says it should be, keeping what the directory does not own. */
function merged(current: User, d: DirectoryUser, group: string, source: string, now: number): User {
  const next: User = { ...current, username: d.username, group, updatedAt: now };
  for (const k of ['displayName', 'email', 'phone'] as const) {
    if (d[k] === undefined) delete next[k];
    else next[k] = d[k];
  }
  next.directory = { source, id: d.id, dn: d.dn };
  // back in the directory: undo what a sync did, but not an admin's own disable
  if (current.directory?.disabledBySync) next.enabled = true;
  return next;
}

/**
 * Brings one source's users into the store: creates new ones, follows renames by directory id,
 * updates attributes and group, and disables (never deletes) users gone or disabled in the
 * directory. Refuses with DIRECTORY_SYNC_LIMIT, before changing anything, when that would
 * disable more than the source's fraction of its users, unless forced.
 */
export async function syncSource(
  ctx: AdminContext,
  source: StoredDirectorySource,
  opts: SyncOptions = {},
): Promise<SyncReport> {
  const password = openBindPassword(source, ctx.keyring);
  if (password === null) {
    throw new TesseraError(
      'DIRECTORY_BAD_CREDENTIALS',
      'this node cannot open the bind password (another key ring)',
    );
  }
  const seen: DirectoryUser[] = [];
  const changes: SyncChange[] = [];
  await withServiceBind(source, password, async (client) => {
    const groups = await groupMembers(client, source);
    const memberships = new Map<string, string[]>();
    for (const [group, members] of groups) {
      for (const dn of members) memberships.set(dn, [...(memberships.get(dn) ?? []), group]);
    }
    for await (const entry of userEntries(client, source)) {
      const m = mapEntry(source, entry, memberships);
      if (m.ok) seen.push(m.user);
      else changes.push({ kind: 'skip', name: m.dn, reason: m.reason });
      opts.onProgress?.({ phase: 'read', done: seen.length + changes.length });
    }
  });

  const now = Date.now();
  const settings = await ctx.settings();
  const tesseraGroups = new Set((await ctx.store.listGroups()).map((g) => g.name));
  const linked = await linkedUsers(ctx, source.name);
  const present = new Set<string>();
  const claimed = new Set<string>();
  for (const d of seen) {
    if (claimed.has(d.username)) {
      changes.push({ kind: 'skip', name: d.username, reason: 'two directory entries map to this username' });
      continue;
    }
    claimed.add(d.username);
    if (d.disabled) {
      // a linked user is disabled with the gone ones below; an unknown one is not brought in
      if (!linked.has(d.id))
        changes.push({ kind: 'skip', name: d.username, reason: 'disabled in the directory' });
      continue;
    }
    present.add(d.id);
    const group = tesseraGroupFor(d.groups, tesseraGroups, DEFAULT_GROUP);
    const current = linked.get(d.id);
    if (current) {
      if (current.username !== d.username && (await ctx.store.getUser(d.username))) {
        changes.push({
          kind: 'skip',
          name: d.username,
          reason: `renamed from "${current.username}", but the name is taken`,
        });
        continue;
      }
      const next = merged(current, d, group, source.name, now);
      const fields = changedFields(current, next);
      if (fields.length > 0) changes.push({ kind: 'update', from: current.username, user: next, fields });
      continue;
    }
    // A real run learns that a name is taken from createUser itself (one store call per new user,
    // not two); a dry run must ask.
    const holder = opts.dryRun ? await ctx.store.getUser(d.username) : null;
    if (holder) {
      changes.push({
        kind: 'skip',
        name: d.username,
        reason: holder.directory
          ? `linked to directory source "${holder.directory.source}"`
          : 'a local user has this name',
      });
      continue;
    }
    changes.push({
      kind: 'create',
      user: {
        username: d.username,
        group,
        enabled: true,
        mfaRequired: defaultMfaRequired(settings),
        methods: {},
        directory: { source: source.name, id: d.id, dn: d.dn },
        createdAt: now,
        updatedAt: now,
        ...(d.displayName ? { displayName: d.displayName } : {}),
        ...(d.email ? { email: d.email } : {}),
        ...(d.phone ? { phone: d.phone } : {}),
      },
    });
  }
  for (const [id, user] of linked) {
    if (present.has(id) || !user.enabled) continue;
    const link = user.directory ?? { source: source.name, id, dn: '' };
    changes.push({
      kind: 'disable',
      user: { ...user, enabled: false, updatedAt: now, directory: { ...link, disabledBySync: true } },
    });
  }

  const disables = changes.filter((c) => c.kind === 'disable').length;
  const allowed = Math.max(1, Math.floor(source.maxDisableFraction * linked.size));
  if (disables > allowed && !opts.force) {
    throw new TesseraError(
      'DIRECTORY_SYNC_LIMIT',
      `the sync would disable ${disables} of ${linked.size} users (limit ${allowed}); check the filter or force it`,
    );
  }
  if (opts.dryRun) return { ...count(changes), invited: 0, changes };
  await apply(ctx, source.name, changes, opts.onProgress);
  const invited =
    source.inviteNewUsers && opts.invite ? await inviteCreated(ctx, source.name, changes, opts.invite) : 0;
  return { ...count(changes), invited, changes };
}

/** New users are written this many at a time: each is its own store transaction. */
const CREATE_CONCURRENCY = 32;

async function apply(
  ctx: AdminContext,
  source: string,
  changes: SyncChange[],
  onProgress?: (p: SyncProgress) => void,
): Promise<void> {
  const total = changes.filter((c) => c.kind !== 'skip').length;
  let written = 0;
  const wrote = () => onProgress?.({ phase: 'write', done: ++written, total });
  // Creates touch distinct names (two entries never claim one), so they can overlap; renames and
  // disables run after them, one at a time, in plan order.
  const creates = [...changes.keys()].filter((i) => changes[i]?.kind === 'create');
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < creates.length) {
      const i = creates[next++]!;
      const c = changes[i];
      if (c?.kind === 'create') changes[i] = await create(ctx, source, c.user);
      wrote();
    }
  };
  await Promise.all(Array.from({ length: CREATE_CONCURRENCY }, worker));
  for (const c of changes) {
    if (c.kind === 'update') {
      if (c.from !== c.user.username && !(await ctx.store.renameUser(c.from, c.user.username))) {
        throw new TesseraError('CONFLICT', `could not rename "${c.from}": the new name is taken`);
      }
      await ctx.store.updateUser(c.user);
      ctx.audit('directory.user.update', { username: c.user.username, source, fields: c.fields.join(',') });
      wrote();
    } else if (c.kind === 'disable') {
      await ctx.store.updateUser(c.user);
      ctx.audit('directory.user.disable', { username: c.user.username, source });
      wrote();
    }
  }
}

/**
 * Invites each user this sync created that has a mail address and still no token (an admin may
 * have enrolled one while the sync ran). Created users are new, so a later sync never invites them
 * again. A failed invitation is audited and does not undo the sync.
 */
async function inviteCreated(
  ctx: AdminContext,
  source: string,
  changes: SyncChange[],
  invite: Inviter,
): Promise<number> {
  let invited = 0;
  for (const c of changes) {
    if (c.kind !== 'create' || !c.user.email) continue;
    const username = c.user.username;
    if ((await ctx.store.listTokens(username)).length > 0) continue;
    try {
      if (await invite(username)) invited++;
    } catch (e) {
      ctx.audit('directory.user.invite', {
        username,
        source,
        result: 'failed',
        reason: e instanceof TesseraError ? e.code : 'INTERNAL',
      });
    }
  }
  return invited;
}

/** A name taken (by a local user, or another source's) is never taken over: a skip. */
async function create(ctx: AdminContext, source: string, user: User): Promise<SyncChange> {
  if (await ctx.store.createUser(user)) {
    ctx.audit('directory.user.create', { username: user.username, source });
    return { kind: 'create', user };
  }
  const holder = await ctx.store.getUser(user.username);
  return {
    kind: 'skip',
    name: user.username,
    reason: holder?.directory
      ? `linked to directory source "${holder.directory.source}"`
      : 'a local user has this name',
  };
}

function count(changes: SyncChange[]): Omit<SyncCounts, 'invited'> {
  const n = (k: SyncChange['kind']) => changes.filter((c) => c.kind === k).length;
  return {
    created: n('create'),
    updated: n('update'),
    disabled: n('disable'),
    deleted: 0,
    skipped: n('skip'),
  };
}
