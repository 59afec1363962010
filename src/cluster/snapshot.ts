import {
  closeSync,
  fsyncSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { canScanAudit, scanAudit } from '../audit/scan.ts';
import type { AuditEvent } from '../model/index.ts';
import type { AuditStream, ChainedAuditEvent, Store, StoreDump } from '../store/index.ts';
import { VERSION } from '../version.ts';
import {
  type Component,
  type KeyFileContent,
  type Manifest,
  type SnapshotFile,
  type SnapshotPayload,
  SnapshotSealer,
  type SnapshotSecret,
} from './snapshot-format.ts';

/** Picks the parts of a store cut that belong to the chosen components. */
export function selectComponents(
  dump: Partial<StoreDump>,
  components: readonly Component[],
): Partial<StoreDump> {
  const want = new Set(components);
  const out: Partial<StoreDump> = {};
  const put = <K extends keyof StoreDump>(k: K) => {
    if (dump[k] !== undefined) out[k] = dump[k];
  };
  if (want.has('users')) {
    put('users');
    put('groups');
    put('userStates');
  }
  if (want.has('tokens')) {
    put('tokens');
    put('tokenStates');
  }
  if (want.has('clients')) {
    put('clients');
    put('adminKeys');
  }
  if (want.has('settings')) put('settings');
  // Deletions travel with every cut: a standby tells a master's deletion from a wiped master by
  // them (sync-removals.ts), and they name what a restore must not silently bring back.
  if (want.size > 0) put('tombstones');
  return out;
}

/** Users per chunk: a chunk holds them with their tokens and states (about 1.5 MB of JSON). */
export const USERS_PER_CHUNK = 2000;
const AUDIT_PER_CHUNK = 5000;

export interface CreateOptions {
  secret: SnapshotSecret;
  components: readonly Component[];
  node: string;
  /** The seed key ring, for the `keys` component (kept apart by default: see docs). */
  keys?: KeyFileContent;
  /** Roots of the file components (`freeradius`: a directory; `keycloak`: a file or directory). */
  files?: Partial<Record<'freeradius' | 'keycloak', string>>;
  now?: number;
  /** Called after each chunk with the records written so far and the users expected. */
  progress?: (done: number, total: number) => void;
}

const AUDIT_STREAMS: AuditStream[] = ['admin', 'event', 'auth'];

/** Why a component is not in a snapshot, for its manifest. */
function exclusions(
  components: readonly Component[],
  opts: CreateOptions,
  store: Store,
): Record<string, string> {
  const out: Record<string, string> = {};
  if (!components.includes('keys'))
    out.keys =
      'the seed keys are kept apart by default: whoever holds the backup and its passphrase should not also hold every seed (add --components ...,keys to include them)';
  if (!components.includes('audit'))
    out.audit = canScanAudit(store)
      ? 'not in this cut (periodic snapshots, or --components without audit): the trail is evidence a restore never writes back; `tessera backup create` includes it by default'
      : `the ${store.kind} store cannot read its audit trail in order`;
  for (const c of ['freeradius', 'keycloak'] as const)
    if (!components.includes(c) || !opts.files?.[c]) out[c] = 'not chosen (an optional component)';
  out.userStates = 'failure counters and locks are never restored, so they are not kept';
  return out;
}

/**
 * A cut of the store, chunk by chunk: settings, groups, clients, admin keys and deletions first,
 * then users page by page, each with its tokens and their states (one read per user), then the
 * audit trail and files. Pages are read one after another, so a record changed during the cut
 * lands on either side of it; token states only move forward and a restore floors TOTP anyway.
 */
async function* cutStore(
  store: Store,
  components: readonly Component[],
  opts: CreateOptions,
): AsyncGenerator<SnapshotPayload> {
  const want = new Set(components);
  const head: Partial<StoreDump> = { tombstones: await store.listTombstones() };
  if (want.has('settings')) head.settings = await store.getSettings();
  if (want.has('users')) head.groups = await store.listGroups();
  if (want.has('clients')) {
    head.clients = await store.listClients();
    head.adminKeys = await store.listAdminKeys();
  }
  yield {
    dump: head,
    ...(want.has('keys') && opts.keys ? { keys: opts.keys } : {}),
    ...(want.has('users') ? { selfService: { invitations: await store.listInvitations() } } : {}),
  };
  if (want.has('users') || want.has('tokens')) {
    let after: string | undefined;
    let batch: StoreDump['users'] = [];
    const flush = async (): Promise<SnapshotPayload> => {
      const views = await Promise.all(batch.map((u) => store.loadAuthView(u.username)));
      const dump: Partial<StoreDump> = {};
      if (want.has('users')) dump.users = batch;
      if (want.has('tokens')) {
        dump.tokens = [];
        dump.tokenStates = {};
        for (const v of views) {
          if (!v) continue;
          dump.tokens.push(...v.tokens);
          for (const [serial, state] of v.tokenStates) dump.tokenStates[serial] = state;
        }
      }
      // each user's one-time codes travel with the user, hashed as stored
      const codes = want.has('users')
        ? (await Promise.all(batch.map((u) => store.getUserCodes(u.username)))).filter((c) => c !== null)
        : [];
      batch = [];
      return { dump, ...(codes.length ? { selfService: { codes } } : {}) };
    };
    do {
      const page = await store.listUsers({ limit: 1000, ...(after !== undefined ? { after } : {}) });
      batch.push(...page.items);
      after = page.next;
      if (batch.length >= USERS_PER_CHUNK || (after === undefined && batch.length)) yield await flush();
    } while (after !== undefined);
  }
  if (want.has('audit') && canScanAudit(store)) {
    for (const stream of AUDIT_STREAMS) {
      let events: ChainedAuditEvent[] = [];
      for await (const item of scanAudit(store, stream)) {
        events.push(item.event as AuditEvent as ChainedAuditEvent);
        if (events.length >= AUDIT_PER_CHUNK) {
          yield { dump: {}, audit: { [stream]: events } };
          events = [];
        }
      }
      if (events.length) yield { dump: {}, audit: { [stream]: events } };
    }
  }
  for (const c of ['freeradius', 'keycloak'] as const) {
    const root = opts.files?.[c];
    if (want.has(c) && root) yield { dump: {}, files: readFiles(c, root) };
  }
}

/** The files under `root` (or `root` itself), with paths relative to it; no symlinks followed. */
export function readFiles(component: SnapshotFile['component'], root: string): SnapshotFile[] {
  const out: SnapshotFile[] = [];
  const top = statSync(root);
  const walk = (path: string) => {
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st) return;
    if (st.isDirectory()) {
      for (const name of readdirSync(path).sort()) walk(join(path, name));
    } else if (st.isFile()) {
      const rel = top.isDirectory() ? relative(root, path) : (path.split('/').pop() ?? 'file');
      out.push({
        component,
        path: rel,
        mode: st.mode & 0o777,
        content: readFileSync(path).toString('base64'),
      });
    }
  };
  walk(root);
  if (out.length === 0) throw new Error(`${component}: no files under ${root}`);
  return out;
}

/**
 * Writes a snapshot of the store chunk by chunk into `sink`; memory stays bounded by one chunk.
 * Uses only the Store interface.
 */
export async function streamSnapshot(
  store: Store,
  opts: CreateOptions,
  sink: (bytes: Buffer) => void,
): Promise<Manifest> {
  const time = opts.now ?? Date.now();
  const components = opts.components.filter(
    (c) =>
      (c !== 'keys' || opts.keys) &&
      (c !== 'audit' || canScanAudit(store)) &&
      ((c !== 'freeradius' && c !== 'keycloak') || opts.files?.[c]),
  );
  const sealer = await SnapshotSealer.begin(
    opts.secret,
    { time, node: opts.node, appVersion: VERSION, components, excluded: exclusions(components, opts, store) },
    sink,
  );
  const total = opts.progress ? await store.countUsers() : 0;
  let users = 0;
  for await (const chunk of cutStore(store, components, opts)) {
    sealer.add(chunk);
    users += chunk.dump.users?.length ?? 0;
    opts.progress?.(users, total);
  }
  return sealer.finish();
}

/** One cut of the store, sealed, in memory (periodic snapshots, tests). */
export async function createSnapshot(
  store: Store,
  opts: CreateOptions,
): Promise<{ bytes: Buffer; manifest: Manifest }> {
  const parts: Buffer[] = [];
  const manifest = await streamSnapshot(store, opts, (b) => parts.push(b));
  return { bytes: Buffer.concat(parts), manifest };
}

/** One cut of the store, sealed straight into a file (tmp + fsync + rename, mode 0600). */
export async function writeSnapshotFile(store: Store, path: string, opts: CreateOptions): Promise<Manifest> {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  let manifest: Manifest;
  try {
    manifest = await streamSnapshot(store, opts, (b) => {
      writeSync(fd, b);
    });
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw err;
  }
  closeSync(fd);
  renameSync(tmp, path);
  return manifest;
}
