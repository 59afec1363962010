import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storeContract } from '../store-contract-suite.ts';
import { openEmbeddedStore } from './index.ts';

storeContract('embedded (LMDB)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-lmdb-'));
  const store = openEmbeddedStore(dir);
  return {
    store,
    async cleanup() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
