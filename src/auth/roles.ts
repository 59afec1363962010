import type { AdminKey, AdminRole } from '../model/index.ts';

/**
 * What an admin call needs. Every admin route declares one; a route without one is refused when it
 * is registered, so a new route can never be open to every role by omission.
 */
export const PERMISSIONS = [
  'users:read',
  'users:write',
  'tokens:read',
  'tokens:write',
  'groups:read',
  'groups:write',
  'clients:read',
  'clients:write',
  'settings:read',
  'settings:write',
  'audit:read',
  /**
   * One user's last logins (time, result, reason, source) on their page: what a helpdesk needs to
   * help that user, without the audit trail (every event, every actor) that `audit:read` opens.
   */
  'logins:read',
  'cluster:read',
  'cluster:write',
  'admin-keys:read',
  'admin-keys:write',
  /** The master's sealed snapshot: the whole configuration, for another node. */
  'cluster:snapshot',
  /** Directory sources: add, remove, test (superadmin); the list shows no secret (every read role). */
  'directory:read',
  'directory:write',
  /** Running a sync creates, changes and disables users in bulk: superadmin only. */
  'directory:sync',
  /** A CSV import creates and changes users (and their token seeds) in bulk: superadmin only. */
  'users:import',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

export function isPermission(value: unknown): value is Permission {
  return typeof value === 'string' && (PERMISSIONS as readonly string[]).includes(value);
}

const READ_ONLY = PERMISSIONS.filter((p) => p.endsWith(':read'));

/**
 * superadmin: everything. helpdesk: the people side (users and their tokens, unlock, resync) and
 * what it needs to see to do that (groups, settings, cluster health); no clients, no settings or
 * group changes, no keys, no audit trail (only
 * the last logins of a user it looks at). auditor: every read, including the audit trail and the
 * key list (never a secret); no write of any kind.
 */
const GRANTS: Record<AdminRole, ReadonlySet<Permission>> = {
  superadmin: new Set(PERMISSIONS),
  helpdesk: new Set<Permission>([
    'users:read',
    'users:write',
    'tokens:read',
    'tokens:write',
    'groups:read',
    'settings:read',
    'cluster:read',
    'logins:read',
  ]),
  auditor: new Set<Permission>(READ_ONLY),
};

export function roleAllows(role: AdminRole, permission: Permission): boolean {
  return GRANTS[role].has(permission);
}

/** Whether the key may be used at `now`: an expired key is refused like a wrong one. */
export function adminKeyUsable(key: AdminKey, now: number): boolean {
  return key.expiresAt === undefined || now < key.expiresAt;
}
