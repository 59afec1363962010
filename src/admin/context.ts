import { auditChanges } from '../audit/diff.ts';
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

/**
 * Records an admin change with the before and after of each changed field (secrets only as
 * `changed`, see auditChanges): the one way every update names what it changed. `before` is null
 * for a create, `after` null for a delete.
 */
export function auditChange(
  ctx: Pick<AdminContext, 'audit'>,
  type: string,
  detail: { username?: string; serial?: string; [k: string]: string | undefined },
  before: object | null,
  after: object | null,
): void {
  ctx.audit(type, { ...auditChanges(before, after), ...detail });
}
