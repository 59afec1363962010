import type { Group, Method, Settings, Token, User } from '../model/index.ts';

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
