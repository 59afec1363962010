import type { KeyRing } from '../crypto/index.ts';
import type { Settings } from '../model/index.ts';
import type { Store } from '../store/index.ts';

/** What every admin operation needs: the store, the seed keys, settings and an audit trail. */
export interface AdminContext {
  store: Store;
  keyring: KeyRing;
  settings: () => Promise<Settings>;
  /** Records an admin action; `actor` is filled in by the caller's context. */
  audit: (
    type: string,
    detail: { username?: string; serial?: string; [k: string]: string | undefined },
  ) => void;
}
