// Storage: the Store contract and its implementations (embedded LMDB, Redis). Holds no policy.
export * from './types.ts';
export { openEmbeddedStore } from './embedded/index.ts';
