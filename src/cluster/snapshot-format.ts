import { createHash, randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { deriveKey, type KdfParams, newKdfParams, openBytes } from '../crypto/index.ts';
import { TesseraError } from '../model/index.ts';
import type { AuditStream, ChainedAuditEvent, StoreDump } from '../store/index.ts';
import { VERSION } from '../version.ts';
import type { SelfServiceCut } from './restore-self-service.ts';
import { type ByteSource, bufferSource, FrameWriter, readFrames } from './snapshot-stream.ts';

/**
 * The snapshot file. Every version starts with `TESSERA-SNAPSHOT <version>\n` and a JSON header
 * line (`{"kdf":…,"manifest":…}`) readable without the secret; the header lines, byte for byte,
 * are authenticated with the content.
 *
 * - Version 1: one sealed blob, nonce ‖ AES-256-GCM(gzip(payload JSON)) ‖ tag. Read, never written.
 * - Version 2 (written now): sealed frames of record chunks, then a trailer frame with the counts
 *   and checksum (src/cluster/snapshot-stream.ts), so a million users stream in bounded memory. It
 *   also carries the audit trail and file components (FreeRADIUS, Keycloak settings).
 *
 * A node reads every version up to FORMAT_VERSION and refuses a newer one, naming both: during a
 * rolling upgrade an upgraded master writes files an old node cannot read (docs/upgrades.md).
 */
export const FORMAT_VERSION = 2;
export const OLDEST_FORMAT_VERSION = 1;
export const MAGIC = `TESSERA-SNAPSHOT ${FORMAT_VERSION}\n`;
const MAGIC_PREFIX = 'TESSERA-SNAPSHOT ';

export type Component =
  | 'users'
  | 'tokens'
  | 'clients'
  | 'settings'
  | 'keys'
  | 'audit'
  | 'freeradius'
  | 'keycloak';
export const COMPONENTS: readonly Component[] = [
  'users',
  'tokens',
  'clients',
  'settings',
  'keys',
  'audit',
  'freeradius',
  'keycloak',
];
/** Components held as files rather than store records. */
export const FILE_COMPONENTS: readonly Component[] = ['freeradius', 'keycloak'];

export interface KeyFileContent {
  current: string;
  keys: Record<string, string>;
}

/** A file of a file component, by its path relative to the component's root. */
export interface SnapshotFile {
  component: 'freeradius' | 'keycloak';
  path: string;
  mode: number;
  /** base64 */
  content: string;
}

/**
 * What a snapshot holds: a (partial) store cut, with the `keys` component the seed keys, with
 * `audit` the audit streams as stored (chain links included), and files. A version 2 file holds
 * it as a series of such chunks; `openSnapshot` merges them.
 */
export interface SnapshotPayload {
  dump: Partial<StoreDump>;
  keys?: KeyFileContent;
  audit?: Partial<Record<AuditStream, ChainedAuditEvent[]>>;
  files?: SnapshotFile[];
  /** With `users`: invitation links and one-time codes, hashed as stored (absent in older files). */
  selfService?: SelfServiceCut;
}

export interface Manifest {
  format: 'tessera-snapshot';
  version: number;
  time: number;
  node: string;
  appVersion: string;
  components: Component[];
  /** Filled from the trailer once a version 2 file was read through (empty when only peeked). */
  counts: Record<string, number>;
  /** sha256 of the plaintext payload (v1) or of the chunks in order (v2), checked after decryption. */
  checksum: string;
  /** What this snapshot leaves out on purpose, and why (version 2). */
  excluded?: Record<string, string>;
}

export type KdfHeader = ({ alg: 'scrypt' } & KdfParams) | { alg: 'key'; keyId: string };

interface Header {
  kdf: KdfHeader;
  manifest: Manifest;
}

/** The secret that opens a snapshot: a passphrase (scrypt) or a 32-byte backup key. */
export type SnapshotSecret = { passphrase: string } | { key: Buffer };

function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

async function keyFor(secret: SnapshotSecret, kdf: KdfHeader): Promise<Buffer> {
  if (kdf.alg === 'scrypt') {
    if (!('passphrase' in secret))
      throw refused('this snapshot was sealed with a passphrase; give --passphrase-file');
    return deriveKey(secret.passphrase, kdf);
  }
  if (!('key' in secret)) throw refused('this snapshot was sealed with a backup key file; give --key-file');
  return secret.key;
}

function refused(message: string): TesseraError {
  return new TesseraError('BAD_REQUEST', message);
}

/** Adds a chunk's record counts to `into`. */
export function addCounts(into: Record<string, number>, payload: SnapshotPayload): Record<string, number> {
  const d = payload.dump;
  const add = (k: string, n: number) => {
    into[k] = (into[k] ?? 0) + n;
  };
  if (d.users) add('users', d.users.length);
  if (d.groups) add('groups', d.groups.length);
  if (d.tokens) add('tokens', d.tokens.length);
  if (d.clients) add('clients', d.clients.length);
  if (d.adminKeys) add('adminKeys', d.adminKeys.length);
  if (d.settings !== undefined) add('settings', d.settings ? 1 : 0);
  if (d.tokenStates) add('tokenStates', Object.keys(d.tokenStates).length);
  if (d.userStates) add('userStates', Object.keys(d.userStates).length);
  if (d.tombstones) add('tombstones', d.tombstones.length);
  if (payload.keys) add('keys', Object.keys(payload.keys.keys).length);
  for (const [stream, events] of Object.entries(payload.audit ?? {})) add(`audit.${stream}`, events.length);
  for (const f of payload.files ?? []) add(`files.${f.component}`, 1);
  if (payload.selfService?.invitations) add('invitations', payload.selfService.invitations.length);
  if (payload.selfService?.codes) add('userCodes', payload.selfService.codes.length);
  return into;
}

export function countsOf(payload: SnapshotPayload): Record<string, number> {
  return addCounts({}, payload);
}

export interface SnapshotMeta {
  time: number;
  node: string;
  appVersion?: string;
  components: Component[];
  excluded?: Record<string, string>;
}

/**
 * Writes a version 2 snapshot chunk by chunk into `sink`: `begin` writes the header, `add` seals a
 * chunk, `finish` seals the trailer and returns the manifest with the counts.
 */
export class SnapshotSealer {
  private readonly counts: Record<string, number> = {};
  private records = 0;

  private constructor(
    private readonly writer: FrameWriter,
    private readonly manifest: Manifest,
  ) {}

  static async begin(
    secret: SnapshotSecret,
    meta: SnapshotMeta,
    sink: (bytes: Buffer) => void,
    kdfParams: KdfParams = newKdfParams(),
  ): Promise<SnapshotSealer> {
    const manifest: Manifest = {
      format: 'tessera-snapshot',
      version: FORMAT_VERSION,
      time: meta.time,
      node: meta.node,
      appVersion: meta.appVersion ?? VERSION,
      components: meta.components,
      counts: {},
      checksum: '',
      ...(meta.excluded ? { excluded: meta.excluded } : {}),
    };
    const kdf: KdfHeader =
      'passphrase' in secret ? { alg: 'scrypt', ...kdfParams } : { alg: 'key', keyId: keyId(secret.key) };
    const key = await keyFor(secret, kdf);
    const head = Buffer.from(`${MAGIC}${JSON.stringify({ kdf, manifest } satisfies Header)}\n`);
    return new SnapshotSealer(new FrameWriter(key, head, sink), manifest);
  }

  /** Seals one chunk; returns how many records it held (users, tokens, events, files…). */
  add(chunk: SnapshotPayload): number {
    const before = recordsOf(this.counts);
    addCounts(this.counts, chunk);
    this.writer.write(chunk);
    const n = recordsOf(this.counts) - before;
    this.records += n;
    return n;
  }

  finish(): Manifest {
    let checksum = '';
    this.writer.end((sum) => {
      checksum = sum;
      return { end: true, counts: this.counts, checksum: sum };
    });
    return { ...this.manifest, counts: { ...this.counts }, checksum };
  }
}

/** Records of a count table, for progress: users, tokens, clients, audit events and files. */
export function recordsOf(counts: Record<string, number>): number {
  let n = 0;
  for (const [k, v] of Object.entries(counts))
    if (k !== 'tokenStates' && k !== 'userStates' && k !== 'settings') n += v;
  return n;
}

/** Seals a whole payload in memory, as one chunk per record kind (small snapshots, tests). */
export async function sealSnapshot(
  payload: SnapshotPayload,
  secret: SnapshotSecret,
  meta: SnapshotMeta,
  kdfParams: KdfParams = newKdfParams(),
): Promise<{ bytes: Buffer; manifest: Manifest }> {
  const parts: Buffer[] = [];
  const sealer = await SnapshotSealer.begin(secret, meta, (b) => parts.push(b), kdfParams);
  sealer.add(payload);
  const manifest = sealer.finish();
  return { bytes: Buffer.concat(parts), manifest };
}

interface SplitHeader {
  version: number;
  head: Buffer;
  header: Header;
  bodyStart: number;
}

const HEADER_MAX = 64 * 1024;

function splitHeader(source: ByteSource): SplitHeader {
  const start = source.read(0, HEADER_MAX);
  const first = start.indexOf(0x0a);
  const magic = start.subarray(0, first < 0 ? 32 : first + 1).toString('latin1');
  const m = /^TESSERA-SNAPSHOT (\d{1,6})\n$/.exec(magic);
  if (!magic.startsWith(MAGIC_PREFIX) || !m) throw refused('not a Tessera snapshot');
  const version = Number(m[1]);
  if (version > FORMAT_VERSION)
    throw new TesseraError(
      'BAD_REQUEST',
      `this snapshot is format version ${version}, newer than this node reads (Tessera ${VERSION} reads ` +
        `snapshot formats ${OLDEST_FORMAT_VERSION} to ${FORMAT_VERSION}): upgrade this node to the release ` +
        'that wrote it (or newer) and open it there; nothing was read or restored',
    );
  if (version < OLDEST_FORMAT_VERSION) throw refused(`snapshot format version ${version} is not known`);
  const end = start.indexOf(0x0a, first + 1);
  if (end < 0) throw refused('the snapshot header is damaged');
  let header: Header;
  try {
    header = JSON.parse(start.subarray(first + 1, end).toString('utf8')) as Header;
  } catch {
    throw refused('the snapshot header is damaged');
  }
  if (!header?.kdf || !header.manifest || header.manifest.version !== version)
    throw refused('the snapshot header is damaged');
  return { version, head: Buffer.from(start.subarray(0, end + 1)), header, bodyStart: end + 1 };
}

/** The header of a snapshot file, unauthenticated: for listing only, never for restoring. */
export function peekManifest(bytes: Buffer): Manifest {
  return splitHeader(bufferSource(bytes)).header.manifest;
}

/** The header of a snapshot held in a file (reads only its first bytes). */
export function peekManifestOf(source: ByteSource): Manifest {
  return splitHeader(source).header.manifest;
}

async function keyOf(header: Header, secret: SnapshotSecret): Promise<Buffer> {
  if (header.kdf.alg === 'scrypt') {
    const { N, r, p } = header.kdf;
    // Bounds keep a forged header from asking scrypt for gigabytes.
    if (!(N >= 1024 && N <= 2 ** 20 && r >= 1 && r <= 32 && p >= 1 && p <= 16))
      throw refused('the snapshot header is damaged');
  }
  if (header.kdf.alg === 'key' && 'key' in secret && header.kdf.keyId !== keyId(secret.key)) {
    throw refused('wrong backup key, or the snapshot was changed');
  }
  return keyFor(secret, header.kdf);
}

/**
 * An opened, verified snapshot whose chunks can be read (again) one at a time: what a restore
 * of any size works from. `manifest` carries the counts and checksum from the verified trailer.
 */
export interface SnapshotChunks {
  manifest: Manifest;
  /** Reads the chunks in order; throws (before yielding it) at a chunk that fails to open. */
  chunks(): Iterable<SnapshotPayload>;
}

export type OpenProgress = (bytesRead: number, bytesTotal: number) => void;

/**
 * Opens a snapshot and reads it through once to verify every byte (and learn its counts) before
 * anything acts on it. Throws (and reveals nothing) when the secret is wrong, any byte changed,
 * or the format is newer than this node reads.
 */
export async function verifySnapshot(
  source: ByteSource,
  secret: SnapshotSecret,
  progress?: OpenProgress,
): Promise<SnapshotChunks> {
  const { version, head, header, bodyStart } = splitHeader(source);
  const key = await keyOf(header, secret);
  if (version === 1) {
    const opened = openV1(source, key, head, header, bodyStart);
    progress?.(source.size, source.size);
    return { manifest: header.manifest, chunks: () => [opened] };
  }
  const frames = readFrames<SnapshotPayload>(source, key, head, bodyStart, (pos) =>
    progress?.(pos, source.size),
  );
  let step = frames.next();
  while (!step.done) step = frames.next();
  const { trailer, checksum } = step.value;
  const t = trailer as { end?: boolean; counts?: Record<string, number>; checksum?: string };
  if (!t?.end || t.checksum !== checksum || typeof t.counts !== 'object')
    throw refused('the snapshot checksum does not match: refused, nothing restored');
  const manifest: Manifest = { ...header.manifest, counts: t.counts, checksum };
  return {
    manifest,
    *chunks() {
      const again = readFrames<SnapshotPayload>(source, key, head, bodyStart);
      let s = again.next();
      while (!s.done) {
        yield s.value.chunk;
        s = again.next();
      }
    },
  };
}

function openV1(
  source: ByteSource,
  key: Buffer,
  head: Buffer,
  header: Header,
  start: number,
): SnapshotPayload {
  const sealed = openBytes(key, source.read(start, source.size - start), head);
  if (!sealed)
    throw refused('wrong passphrase or key, or the snapshot was changed: refused, nothing restored');
  let plain: Buffer;
  try {
    plain = gunzipSync(sealed);
  } catch {
    throw refused('the snapshot content is damaged');
  }
  const sum = `sha256:${createHash('sha256').update(plain).digest('hex')}`;
  if (sum !== header.manifest.checksum)
    throw refused('the snapshot checksum does not match: refused, nothing restored');
  return JSON.parse(plain.toString('utf8')) as SnapshotPayload;
}

/** Merges chunks into one payload (for snapshots small enough to hold whole). */
export function mergeChunks(chunks: Iterable<SnapshotPayload>): SnapshotPayload {
  const out: SnapshotPayload = { dump: {} };
  const d = out.dump;
  const list = <K extends 'users' | 'groups' | 'tokens' | 'clients' | 'adminKeys' | 'tombstones'>(
    k: K,
    more: StoreDump[K] | undefined,
  ) => {
    if (!more) return;
    const into = (d[k] ?? []) as unknown[];
    for (const x of more) into.push(x);
    d[k] = into as StoreDump[K];
  };
  for (const c of chunks) {
    const x = c.dump;
    list('users', x.users);
    list('groups', x.groups);
    list('tokens', x.tokens);
    list('clients', x.clients);
    list('adminKeys', x.adminKeys);
    list('tombstones', x.tombstones);
    if (x.settings !== undefined) d.settings = x.settings;
    if (x.tokenStates) d.tokenStates = { ...d.tokenStates, ...x.tokenStates };
    if (x.userStates) d.userStates = { ...d.userStates, ...x.userStates };
    if (c.keys) out.keys = c.keys;
    for (const [s, events] of Object.entries(c.audit ?? {}) as [AuditStream, ChainedAuditEvent[]][]) {
      out.audit ??= {};
      const into = out.audit[s] ?? [];
      for (const e of events) into.push(e);
      out.audit[s] = into;
    }
    if (c.files) out.files = [...(out.files ?? []), ...c.files];
    if (c.selfService) {
      out.selfService ??= {};
      const into = out.selfService;
      if (c.selfService.invitations)
        into.invitations = [...(into.invitations ?? []), ...c.selfService.invitations];
      if (c.selfService.codes) into.codes = [...(into.codes ?? []), ...c.selfService.codes];
    }
  }
  return out;
}

/**
 * Opens and verifies a snapshot held in memory, and merges it whole. Throws (and reveals nothing)
 * when the secret is wrong or any byte changed; the caller has written nothing by then.
 */
export async function openSnapshot(
  bytes: Buffer,
  secret: SnapshotSecret,
): Promise<{ manifest: Manifest; payload: SnapshotPayload }> {
  const opened = await verifySnapshot(bufferSource(bytes), secret);
  return { manifest: opened.manifest, payload: mergeChunks(opened.chunks()) };
}

/** A fresh random backup key, base64, for `--key-file`. */
export function newBackupKey(): string {
  return randomBytes(32).toString('base64');
}

/** A backup key file holds the base64 of 32 bytes. */
export function parseBackupKey(text: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== 32) throw new Error('a backup key file must hold the base64 of 32 bytes');
  return key;
}
