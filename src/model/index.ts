// Domain types and their schemas: users, groups, tokens, clients, settings, challenges, state.

export * from './cidr.ts';
export * from './code-delivery.ts';
export * from './entities.ts';
export * from './errors.ts';
export * from './push.ts';
export * from './self-service.ts';
export * from './settings.ts';
export * from './state.ts';
export * from './tombstone.ts';
export * from './username.ts';
