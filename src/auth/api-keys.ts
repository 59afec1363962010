import { randomBytes } from 'node:crypto';
import { apiSecretMatches, hashApiSecret } from '../crypto/index.ts';

export type KeyKind = 'admin' | 'client';

const PREFIX: Record<KeyKind, string> = { admin: 'tessera-admin', client: 'tessera-client' };

export interface MintedKey {
  id: string;
  /** The whole key, shown once. */
  key: string;
  /** What the store keeps. */
  hash: string;
}

/** `tessera-<kind>.<id>.<secret>`: the id finds the record, the secret is checked against its hash. */
export function mintKey(kind: KeyKind): MintedKey {
  const id = randomBytes(9).toString('base64url');
  const secret = randomBytes(32).toString('base64url');
  return { id, key: `${PREFIX[kind]}.${id}.${secret}`, hash: hashApiSecret(secret) };
}

/**
 * A key the operator made (TESSERA_ADMIN_KEY) taken as if minted here: the same shape is required,
 * and only its hash is kept. Null when the text is not a well-formed key of that kind.
 */
export function adoptKey(kind: KeyKind, text: string): MintedKey | null {
  const parsed = parseKey(text);
  if (!parsed || parsed.kind !== kind) return null;
  return { id: parsed.id, key: text, hash: hashApiSecret(parsed.secret) };
}

export interface ParsedKey {
  kind: KeyKind;
  id: string;
  secret: string;
}

/** `<PREFIX of the kind>.<12 id characters>.<43 secret characters>`, both base64url. */
const KEY_SHAPE = new RegExp(
  `^(${PREFIX.admin}|${PREFIX.client})\\.([A-Za-z0-9_-]{12})\\.([A-Za-z0-9_-]{43})$`,
);

export function parseKey(key: string): ParsedKey | null {
  // one pattern, not a split and two: every call of every caller parses its key
  const m = KEY_SHAPE.exec(key);
  if (!m) return null;
  return { kind: m[1] === PREFIX.admin ? 'admin' : 'client', id: m[2]!, secret: m[3]! };
}

export function keyMatches(parsed: ParsedKey, storedHash: string): boolean {
  return apiSecretMatches(parsed.secret, storedHash);
}
