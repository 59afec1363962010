// Directory sources (LDAP, Active Directory): their settings, checks, and the sync of their users.

export * from './bind-pool.ts';
export * from './connect.ts';
export * from './csv.ts';
export * from './csv-columns.ts';
export * from './csv-import.ts';
export * from './fetch.ts';
export * from './mapping.ts';
export * from './password.ts';
export * from './presets.ts';
export * from './probe.ts';
export * from './progress.ts';
export * from './schedule.ts';
export * from './source.ts';
export * from './sources.ts';
export * from './sync.ts';
