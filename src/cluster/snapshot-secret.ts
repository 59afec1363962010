import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readSeedKeys } from './keys-file.ts';
import { parseBackupKey, type SnapshotSecret } from './snapshot-format.ts';

/**
 * The secret periodic snapshots are sealed with: the configured passphrase or backup key file, or
 * else a key derived from the node's seed key, so any node sharing the seed key (every node of a
 * cluster must) can open them, and no node without it can.
 */
export function snapshotSecret(opts: {
  passphrase?: string;
  passphraseFile?: string;
  keyFile?: string;
  seedKeyFile: string;
  masterKey?: string;
}): SnapshotSecret {
  if (opts.passphrase) return { passphrase: opts.passphrase };
  if (opts.passphraseFile)
    return { passphrase: readFileSync(opts.passphraseFile, 'utf8').replace(/\r?\n$/, '') };
  if (opts.keyFile) return { key: parseBackupKey(readFileSync(opts.keyFile, 'utf8')) };
  return { key: seedDerivedKey(opts.seedKeyFile, opts.masterKey) };
}

export function seedDerivedKey(seedKeyFile: string, masterKey?: string): Buffer {
  const keys = readSeedKeys(seedKeyFile, masterKey);
  const current = keys?.keys[keys.current];
  if (!current) throw new Error('no seed key to derive the snapshot key from');
  return createHmac('sha256', Buffer.from(current, 'base64')).update('tessera snapshot key v1').digest();
}
