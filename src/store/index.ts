// Storage: the Store contract, the replication interface the cluster needs, their implementations. No policy.

export {
  AUDIT_INDEX_FIELDS,
  auditIndexValues,
  below,
  comparePositions,
  dailyCounts,
  dayOf,
  MAX_SEQ,
} from './audit-index.ts';
export { AUDIT_STREAMS, auditRetention, DEFAULT_AUDIT_RETENTION } from './audit-retention.ts';
export { openEmbeddedStore } from './embedded/index.ts';
export * from './push-types.ts';
export * from './types.ts';
