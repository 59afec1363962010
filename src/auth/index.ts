// The validation pipeline: every authentication decision (and the caller-key format). Never sees HTTP.

export * from './api-keys.ts';
export * from './cached.ts';
export * from './caller-directory.ts';
export * from './methods/index.ts';
export * from './passwordless.ts';
export * from './policy.ts';
export * from './roles.ts';
export * from './validator.ts';
