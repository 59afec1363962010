import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { KeyFileContent } from './snapshot-format.ts';

/** The node's seed keys as a snapshot carries them (the `keys` component). */
export function readSeedKeys(keyFile: string, envKey?: string): KeyFileContent | undefined {
  if (envKey) return { current: 'env', keys: { env: envKey } };
  if (!existsSync(keyFile)) return undefined;
  return JSON.parse(readFileSync(keyFile, 'utf8')) as KeyFileContent;
}

/**
 * Adds the snapshot's seed keys to the node's key file. Keys the node has are kept; a key id
 * that exists with other material is reported, never overwritten (that would orphan seeds).
 */
export function mergeSeedKeys(keyFile: string, keys: KeyFileContent, envKey?: string): string {
  if (envKey) {
    const same = keys.keys.env === envKey || Object.values(keys.keys).includes(envKey);
    return same
      ? 'this node uses TESSERA_MASTER_KEY, which matches the snapshot'
      : 'this node uses TESSERA_MASTER_KEY, which is NOT in the snapshot: restored tokens cannot be opened here';
  }
  const file: KeyFileContent = existsSync(keyFile)
    ? (JSON.parse(readFileSync(keyFile, 'utf8')) as KeyFileContent)
    : { current: keys.current, keys: {} };
  let added = 0;
  const conflicts: string[] = [];
  for (const [id, material] of Object.entries(keys.keys)) {
    if (file.keys[id] === undefined) {
      file.keys[id] = material;
      added++;
    } else if (file.keys[id] !== material) conflicts.push(id);
  }
  writeFileSync(keyFile, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  chmodSync(keyFile, 0o600);
  return `${added} seed key(s) added to ${keyFile}${conflicts.length ? `; conflicting key ids left alone: ${conflicts.join(', ')}` : ''}`;
}
