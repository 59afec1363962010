// A validator on a fresh embedded store with a settable clock and settings, for the method tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AdminContext } from '../../admin/context.ts';
import { KeyRing } from '../../crypto/index.ts';
import { DEFAULT_SETTINGS, type Settings } from '../../model/index.ts';
import { openEmbeddedStore, type Store } from '../../store/index.ts';
import { Validator } from '../validator.ts';
import type { MethodRegistry } from './types.ts';

export interface ValidatorBench {
  store: Store;
  keyring: KeyRing;
  admin: AdminContext;
  validator: Validator;
  /** Read on every decision: tests change them between steps. */
  settings: Settings;
  clock: number;
  close(): Promise<void>;
}

export function validatorBench(name: string, methods?: MethodRegistry): ValidatorBench {
  const dir = mkdtempSync(join(tmpdir(), `tessera-${name}-`));
  const store = openEmbeddedStore(dir);
  const keyring = KeyRing.generate();
  const settings = async () => bench.settings;
  const bench: ValidatorBench = {
    store,
    keyring,
    settings: DEFAULT_SETTINGS,
    clock: 1_700_000_000_000,
    admin: { store, keyring, settings, audit: () => {} },
    validator: new Validator({
      store,
      keyring,
      settings,
      audit: { record() {} },
      now: () => bench.clock,
      ...(methods ? { methods } : {}),
    }),
    close: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return bench;
}
