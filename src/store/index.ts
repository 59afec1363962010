// Storage: the Store contract, the replication interface the cluster needs, their implementations. No policy.

export { openEmbeddedStore } from './embedded/index.ts';
export * from './types.ts';
