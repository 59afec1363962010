// Configuration operations for admins, the CLI and restores: create, change and delete users,
// tokens, clients, settings and admin keys, each audited. No authentication decision lives here.

export * from './clients.ts';
export * from './context.ts';
export * from './settings.ts';
export * from './tokens.ts';
export * from './username-migration.ts';
export * from './users.ts';
