// The validation pipeline and every admin decision; never sees HTTP.

export * from './admin/clients.ts';
export * from './admin/context.ts';
export * from './admin/settings.ts';
export * from './admin/tokens.ts';
export * from './admin/users.ts';
export * from './api-keys.ts';
export * from './cached.ts';
export * from './policy.ts';
export * from './validator.ts';
