import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { auditKeyPath } from '../../audit/index.ts';
import type { Config } from '../../server/config.ts';
import { keyFilePath } from '../../server/services.ts';

const MASK = '********';

function fileText(path: string | undefined): string | undefined {
  if (!path || !existsSync(path)) return undefined;
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Every string in a JSON text, nested (key files hold their keys as JSON values). */
function jsonStrings(text: string | undefined): string[] {
  if (!text) return [];
  try {
    const out: string[] = [];
    const walk = (v: unknown) => {
      if (typeof v === 'string') out.push(v);
      else if (v && typeof v === 'object') for (const x of Object.values(v)) walk(x);
    };
    walk(JSON.parse(text));
    return out;
  } catch {
    return [];
  }
}

/**
 * The node's secrets as they could appear in text: the seed keys, the admin key file, the audit
 * signing key, snapshot passphrases and keys, the Sentinel password, the Redis URL's password.
 * The bundle never reads them into an entry; this list is the second line of defence, masking
 * any that a log line or a listing might carry anyway. Short strings (ids) are not secrets.
 */
export function knownSecrets(config: Config): string[] {
  const found = new Set<string>();
  const add = (s: string | undefined) => {
    const t = s?.trim();
    if (t && t.length >= 12) found.add(t);
  };
  add(config.masterKey);
  for (const s of jsonStrings(fileText(keyFilePath(config.dataDir)))) add(s);
  add(fileText(join(config.dataDir, 'admin.key')));
  const audit = fileText(auditKeyPath(config.dataDir, config.auditKeyFile));
  add(audit);
  for (const s of jsonStrings(audit)) add(s);
  add(config.cluster.snapshotPassphrase);
  add(fileText(config.cluster.snapshotPassphraseFile));
  add(fileText(config.cluster.snapshotKeyFile));
  add(fileText(config.cluster.pullKeyFile));
  add(config.redis.sentinelPassword);
  if (config.redisUrl) {
    try {
      add(decodeURIComponent(new URL(config.redisUrl).password));
    } catch {
      // not a URL: nothing to take from it
    }
  }
  // longest first, so a secret that contains another is masked whole
  return [...found].sort((a, b) => b.length - a.length);
}

/** The text with every known secret masked; returns how many were masked. */
export function scrub(text: string, secrets: readonly string[]): { text: string; masked: number } {
  let masked = 0;
  let out = text;
  for (const s of secrets) {
    const parts = out.split(s);
    masked += parts.length - 1;
    out = parts.join(MASK);
  }
  return { text: out, masked };
}
