import { createHash, randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { deriveKey, type KdfParams, newKdfParams, openBytes, sealBytes } from '../crypto/index.ts';
import { TesseraError } from '../model/index.ts';
import type { StoreDump } from '../store/index.ts';

/**
 * The snapshot file, version 1:
 *
 *   TESSERA-SNAPSHOT 1\n
 *   {"kdf":…,"manifest":…}\n            ← header, readable without the secret
 *   nonce ‖ AES-256-GCM(gzip(payload JSON)) ‖ tag
 *
 * The first two lines, byte for byte, are the associated data: a changed byte anywhere in the
 * file fails authentication, and nothing is read from a file that fails.
 */
export const MAGIC = 'TESSERA-SNAPSHOT 1\n';
export const FORMAT_VERSION = 1;

export type Component = 'users' | 'tokens' | 'clients' | 'settings' | 'keys';
export const COMPONENTS: readonly Component[] = ['users', 'tokens', 'clients', 'settings', 'keys'];

export interface KeyFileContent {
  current: string;
  keys: Record<string, string>;
}

/** What a snapshot holds: a (partial) store cut and, with the `keys` component, the seed keys. */
export interface SnapshotPayload {
  dump: Partial<StoreDump>;
  keys?: KeyFileContent;
}

export interface Manifest {
  format: 'tessera-snapshot';
  version: number;
  time: number;
  node: string;
  appVersion: string;
  components: Component[];
  counts: Record<string, number>;
  /** sha256 of the plaintext payload, checked after decryption. */
  checksum: string;
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

export function countsOf(payload: SnapshotPayload): Record<string, number> {
  const d = payload.dump;
  const counts: Record<string, number> = {};
  if (d.users) counts.users = d.users.length;
  if (d.groups) counts.groups = d.groups.length;
  if (d.tokens) counts.tokens = d.tokens.length;
  if (d.clients) counts.clients = d.clients.length;
  if (d.adminKeys) counts.adminKeys = d.adminKeys.length;
  if (d.settings !== undefined) counts.settings = d.settings ? 1 : 0;
  if (d.tokenStates) counts.tokenStates = Object.keys(d.tokenStates).length;
  if (d.userStates) counts.userStates = Object.keys(d.userStates).length;
  if (d.tombstones) counts.tombstones = d.tombstones.length;
  if (payload.keys) counts.keys = Object.keys(payload.keys.keys).length;
  return counts;
}

export async function sealSnapshot(
  payload: SnapshotPayload,
  secret: SnapshotSecret,
  meta: { time: number; node: string; appVersion: string; components: Component[] },
  kdfParams: KdfParams = newKdfParams(),
): Promise<{ bytes: Buffer; manifest: Manifest }> {
  const plain = Buffer.from(JSON.stringify(payload));
  const manifest: Manifest = {
    format: 'tessera-snapshot',
    version: FORMAT_VERSION,
    ...meta,
    counts: countsOf(payload),
    checksum: `sha256:${createHash('sha256').update(plain).digest('hex')}`,
  };
  const kdf: KdfHeader =
    'passphrase' in secret ? { alg: 'scrypt', ...kdfParams } : { alg: 'key', keyId: keyId(secret.key) };
  const key = await keyFor(secret, kdf);
  const head = Buffer.from(`${MAGIC}${JSON.stringify({ kdf, manifest } satisfies Header)}\n`);
  const body = sealBytes(key, gzipSync(plain), head);
  return { bytes: Buffer.concat([head, body]), manifest };
}

/** The header of a snapshot file, unauthenticated: for listing only, never for restoring. */
export function peekManifest(bytes: Buffer): Manifest {
  return splitHeader(bytes).header.manifest;
}

function splitHeader(bytes: Buffer): { head: Buffer; header: Header; body: Buffer } {
  if (bytes.subarray(0, MAGIC.length).toString('latin1') !== MAGIC) {
    throw refused('not a Tessera snapshot (or an unsupported version)');
  }
  const end = bytes.indexOf(0x0a, MAGIC.length);
  if (end < 0) throw refused('the snapshot header is damaged');
  let header: Header;
  try {
    header = JSON.parse(bytes.subarray(MAGIC.length, end).toString('utf8')) as Header;
  } catch {
    throw refused('the snapshot header is damaged');
  }
  if (!header?.kdf || !header.manifest) throw refused('the snapshot header is damaged');
  return { head: bytes.subarray(0, end + 1), header, body: bytes.subarray(end + 1) };
}

/**
 * Opens and verifies a snapshot. Throws (and reveals nothing) when the secret is wrong or any
 * byte changed; the caller has written nothing by then.
 */
export async function openSnapshot(
  bytes: Buffer,
  secret: SnapshotSecret,
): Promise<{ manifest: Manifest; payload: SnapshotPayload }> {
  const { head, header, body } = splitHeader(bytes);
  if (header.kdf.alg === 'scrypt') {
    const { N, r, p } = header.kdf;
    // Bounds keep a forged header from asking scrypt for gigabytes.
    if (!(N >= 1024 && N <= 2 ** 20 && r >= 1 && r <= 32 && p >= 1 && p <= 16))
      throw refused('the snapshot header is damaged');
  }
  if (header.kdf.alg === 'key' && 'key' in secret && header.kdf.keyId !== keyId(secret.key)) {
    throw refused('wrong backup key, or the snapshot was changed');
  }
  const key = await keyFor(secret, header.kdf);
  const sealed = openBytes(key, body, head);
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
  return { manifest: header.manifest, payload: JSON.parse(plain.toString('utf8')) as SnapshotPayload };
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
