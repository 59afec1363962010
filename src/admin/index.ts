// Configuration operations (users, tokens, clients, settings, admin keys) for admins and the CLI, each audited.
// No authentication decision lives here.

export * from './clients.ts';
export * from './context.ts';
export * from './settings.ts';
export * from './tokens.ts';
export * from './users.ts';
