import type { AdminKey, Client } from '../model/index.ts';
import type { Store } from '../store/index.ts';

const CACHE_MS = 5_000;

/**
 * Finds the stored record behind a key id. Records are kept for a few seconds so that a validation
 * costs no store round trip for its caller; a disabled or deleted client stops working on every
 * node within CACHE_MS, at once on the node that changed it (forget()).
 */
export class CallerDirectory {
  private readonly cache = new Map<string, { at: number; record: AdminKey | Client | null }>();

  constructor(private readonly store: Pick<Store, 'getAdminKey' | 'getClient'>) {}

  async lookup(kind: 'admin' | 'client', id: string): Promise<AdminKey | Client | null> {
    const key = `${kind}:${id}`;
    const hit = this.cache.get(key);
    if (hit && Date.now() - hit.at < CACHE_MS) return hit.record;
    const record = kind === 'admin' ? await this.store.getAdminKey(id) : await this.store.getClient(id);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(key, { at: Date.now(), record });
    return record;
  }

  forget(): void {
    this.cache.clear();
  }
}
