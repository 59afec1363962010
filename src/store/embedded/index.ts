// The one-node store on LMDB: every check-and-advance in one write transaction.

export { EmbeddedStore, openEmbeddedStore } from './embedded-store.ts';
