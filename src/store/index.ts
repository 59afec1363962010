// Storage: the Store contract and its implementations (embedded LMDB, Redis). Holds no policy.

export { AUDIT_STREAMS, auditRetention, DEFAULT_AUDIT_RETENTION } from './audit-retention.ts';
export { openEmbeddedStore } from './embedded/index.ts';
export * from './types.ts';
