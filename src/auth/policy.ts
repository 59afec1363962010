import type { Client, FirstFactorProof, Group, Method, Settings, Token, User } from '../model/index.ts';

/** User over group over global: the first that is not `inherit` decides. */
export function methodEnabled(method: Method, user: User, group: Group | null, settings: Settings): boolean {
  const own = user.methods[method];
  if (own && own !== 'inherit') return own === 'enabled';
  const fromGroup = group?.methods[method];
  if (fromGroup && fromGroup !== 'inherit') return fromGroup === 'enabled';
  return settings.methods[method] === 'enabled';
}

export function usableTokens(tokens: Token[], user: User, group: Group | null, settings: Settings): Token[] {
  return tokens.filter(
    (t) => t.status === 'active' && !t.resyncRequired && methodEnabled(t.type, user, group, settings),
  );
}

/** New users' MFA flag when the admin does not say. */
export function defaultMfaRequired(settings: Settings): boolean {
  return settings.newUserMode !== 'manual';
}

/**
 * The first factor a login must prove before a challenge can be answered: the client's upstream
 * check, else the user's PIN when there is one, else nothing (the code is the only factor).
 */
export function requiredProof(
  client: Pick<Client, 'firstFactor'>,
  user: Pick<User, 'pinHash'>,
): FirstFactorProof {
  if (client.firstFactor === 'upstream') return 'upstream';
  if (client.firstFactor === 'ldap') return 'ldap';
  return user.pinHash ? 'pin' : 'none';
}

/**
 * Whether a login has proved a first factor before anything acts on the user's behalf (a push to
 * the phone): a PIN, a directory password or an upstream check here, or Keycloak's own password
 * step, which the Tessera step always follows (its flow asks for the code after the password).
 */
export function firstFactorProved(proof: FirstFactorProof, client: Pick<Client, 'kind'>): boolean {
  return proof !== 'none' || client.kind === 'keycloak';
}

/** A proved PIN or directory password also stands in for an upstream check; nothing else stands in for a PIN. */
export function proofSatisfies(have: FirstFactorProof | undefined, need: FirstFactorProof): boolean {
  if (need === 'none') return true;
  if (need === 'upstream') return have === 'upstream' || have === 'pin' || have === 'ldap';
  // only a directory bind proves a directory password
  if (need === 'ldap') return have === 'ldap';
  return have === 'pin';
}
