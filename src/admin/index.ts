// Configuration operations (users, tokens, clients, settings, admin keys) for admins and the CLI, each audited.
// No authentication decision lives here.

export * from './admin-keys.ts';
export * from './clients.ts';
export * from './code-tokens.ts';
export * from './context.ts';
export * from './logging.ts';
export * from './settings.ts';
export * from './tokens.ts';
export * from './username-migration.ts';
export * from './users.ts';
export * from './yubikey-import.ts';
export * from './yubikey-tokens.ts';
