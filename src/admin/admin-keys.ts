import { adminKeyUsable, adoptKey, mintKey } from '../auth/index.ts';
import { type AdminKey, type AdminRole, TesseraError } from '../model/index.ts';
import type { AdminContext } from './context.ts';

export interface AdminKeyInput {
  name: string;
  role?: AdminRole;
  /** Milliseconds since the epoch; must lie in the future. */
  expiresAt?: number;
  /** The operator's own key (first start with TESSERA_ADMIN_KEY) instead of a new one; never from the API. */
  presetKey?: string;
}

/** The key as the API and the CLI show it: never its hash; times as ISO 8601, as they are given. */
export interface PublicAdminKey {
  id: string;
  name: string;
  role: AdminRole;
  createdAt: string;
  expiresAt?: string;
  expired: boolean;
}

export function publicAdminKey(key: AdminKey, now = Date.now()): PublicAdminKey {
  return {
    id: key.id,
    name: key.name,
    role: key.role,
    createdAt: new Date(key.createdAt).toISOString(),
    ...(key.expiresAt !== undefined ? { expiresAt: new Date(key.expiresAt).toISOString() } : {}),
    expired: !adminKeyUsable(key, now),
  };
}

/**
 * An expiry as an operator writes it: `2027-01-31` (midnight UTC) or a full ISO 8601 time with its
 * zone (`2027-01-31T18:00:00Z`, `...+02:00`). A time without a zone is refused rather than guessed.
 */
export function parseExpiry(text: string): number | null {
  const m = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/.exec(text);
  if (!m) return null;
  const [y, mo, d] = text.slice(0, 10).split('-').map(Number) as [number, number, number];
  if (new Date(Date.UTC(y, mo - 1, d)).getUTCDate() !== d) return null;
  const at = Date.parse(text);
  return Number.isFinite(at) ? at : null;
}

/** Creates an admin key (superadmin unless a role is given); the key is returned here and never again. */
export async function createAdminKey(
  ctx: AdminContext,
  input: AdminKeyInput,
  now = Date.now(),
): Promise<{ key: AdminKey; apiKey: string }> {
  if (input.expiresAt !== undefined && !(Number.isFinite(input.expiresAt) && input.expiresAt > now)) {
    throw new TesseraError('BAD_REQUEST', 'expiresAt must be a time in the future');
  }
  const minted = input.presetKey === undefined ? mintKey('admin') : adoptKey('admin', input.presetKey);
  if (!minted) throw new TesseraError('BAD_REQUEST', 'the preset admin key is not a well-formed admin key');
  const key: AdminKey = {
    id: minted.id,
    name: input.name,
    role: input.role ?? 'superadmin',
    keyHash: minted.hash,
    createdAt: now,
    ...(input.expiresAt !== undefined ? { expiresAt: input.expiresAt } : {}),
  };
  await ctx.store.putAdminKey(key);
  ctx.audit('admin-key.create', { keyId: key.id, keyRole: key.role });
  return { key, apiKey: minted.key };
}

export async function listAdminKeys(ctx: AdminContext): Promise<PublicAdminKey[]> {
  const now = Date.now();
  return (await ctx.store.listAdminKeys()).map((k) => publicAdminKey(k, now));
}

/**
 * Deletes the key; every node refuses it once its caller cache lets go (at once on this one). The
 * last usable superadmin key stays: without it nobody could manage keys over the API again.
 */
export async function revokeAdminKey(ctx: AdminContext, id: string, now = Date.now()): Promise<void> {
  const keys = await ctx.store.listAdminKeys();
  const target = keys.find((k) => k.id === id);
  const isRoot = (k: AdminKey) => k.role === 'superadmin' && adminKeyUsable(k, now);
  if (target && isRoot(target) && !keys.some((k) => k.id !== id && isRoot(k))) {
    throw new TesseraError('CONFLICT', 'this is the last superadmin key; create another before revoking it');
  }
  if (!(await ctx.store.deleteAdminKey(id))) {
    throw new TesseraError('NOT_FOUND', `admin key "${id}" does not exist`);
  }
  ctx.audit('admin-key.revoke', { keyId: id });
}
