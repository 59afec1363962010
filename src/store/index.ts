// Storage: the Store contract and its implementations (embedded LMDB, Redis). Holds no policy.

export { openEmbeddedStore } from './embedded/index.ts';
export * from './types.ts';
