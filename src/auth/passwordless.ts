import type { Client, Settings } from '../model/index.ts';

/** The ways a login can be accepted without any PIN, password or code being checked by Tessera. */
export type PasswordlessPath =
  | 'MFA_NOT_REQUIRED'
  | 'NOT_ENROLLED_YET'
  | 'UNKNOWN_USER_PASSTHROUGH'
  | 'UPSTREAM_FIRST_FACTOR';

export interface PasswordlessFinding {
  path: PasswordlessPath;
  /** `global`: a setting that reaches every client; `client`: one client's own setting. */
  scope: 'global' | 'client';
  client?: { id: string; name: string; kind: Client['kind'] };
  message: string;
}

/**
 * Which settings let a login through without a password check. FreeRADIUS's shipped site checks
 * no password itself, so for a RADIUS client each of these is a login with no password at all;
 * for Keycloak it is a login with the directory password only. Only enabled clients count.
 */
export function passwordlessPaths(settings: Settings, clients: Client[]): PasswordlessFinding[] {
  const enabled = clients.filter((c) => c.enabled);
  const radius = enabled.filter((c) => c.kind === 'radius').map((c) => c.name);
  const reach = radius.length
    ? ` For the RADIUS clients (${radius.join(', ')}) nothing else checks a password.`
    : '';
  const out: PasswordlessFinding[] = [];
  if (settings.newUserMode === 'manual') {
    out.push({
      path: 'MFA_NOT_REQUIRED',
      scope: 'global',
      message: `newUserMode "manual": new users have MFA off and are accepted with no PIN and no code (MFA_NOT_REQUIRED) until an admin turns it on.${reach}`,
    });
  }
  if (settings.newUserMode === 'after-first-token') {
    out.push({
      path: 'NOT_ENROLLED_YET',
      scope: 'global',
      message: `newUserMode "after-first-token": a user without a token is accepted with no PIN and no code (NOT_ENROLLED_YET).${reach}`,
    });
  }
  for (const c of enabled) {
    const client = { id: c.id, name: c.name, kind: c.kind };
    const viaRadius = c.kind === 'radius' ? ' (a RADIUS client: nothing else checks a password)' : '';
    if ((c.unknownUserPolicy ?? settings.unknownUserPolicy) === 'passthrough') {
      out.push({
        path: 'UNKNOWN_USER_PASSTHROUGH',
        scope: c.unknownUserPolicy ? 'client' : 'global',
        client,
        message: `client "${c.name}": a user Tessera does not know is accepted with any password (UNKNOWN_USER_PASSTHROUGH)${viaRadius}.`,
      });
    }
    if (c.firstFactor === 'upstream') {
      out.push({
        path: 'UPSTREAM_FIRST_FACTOR',
        scope: 'client',
        client,
        message: `client "${c.name}": first factor "upstream", so Tessera checks no PIN or password and any password gets a challenge; the caller must check the password itself${viaRadius}.`,
      });
    }
  }
  return out;
}
