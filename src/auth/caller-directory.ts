import type { AdminKey, Client } from '../model/index.ts';
import type { Store } from '../store/index.ts';

/** How long a found record is reused: a deleted caller stops on other nodes within this. */
const HIT_MS = 5_000;
/**
 * How long "no such key" is believed. A replica may not have a key the master just created, so a
 * miss is kept only long enough to absorb a burst of retries, never for as long as a hit.
 */
const MISS_MS = 250;
/** Store lookups of ids this node has not found before, per second (a flood of bogus ids). */
const UNKNOWN_LOOKUPS_PER_SECOND = 500;
const MAX_ENTRIES = 10_000;

export interface CallerDirectoryOptions {
  now?: () => number;
  missMs?: number;
  unknownLookupsPerSecond?: number;
}

type CallerRecord = AdminKey | Client;

/**
 * Finds the stored record behind a key id. Found records are kept for a few seconds so that a
 * validation costs no store round trip for its caller; a disabled or deleted client stops working
 * on every node within HIT_MS, at once on the node that changed it (forget()). Unknown ids are
 * asked again after MISS_MS, so a key created on the master works here as soon as replication
 * brings it; lookups of ids never found here are budgeted so a flood of bogus ids cannot hammer
 * the store (past the budget an unknown id is refused without a lookup).
 */
export class CallerDirectory {
  private readonly hits = new Map<string, { at: number; record: CallerRecord }>();
  private readonly misses = new Map<string, number>();
  private readonly pending = new Map<string, Promise<CallerRecord | null>>();
  private readonly now: () => number;
  private readonly missMs: number;
  private readonly rate: number;
  private tokens: number;
  private refilledAt: number;

  constructor(
    private readonly store: Pick<Store, 'getAdminKey' | 'getClient'>,
    opts: CallerDirectoryOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
    this.missMs = opts.missMs ?? MISS_MS;
    this.rate = opts.unknownLookupsPerSecond ?? UNKNOWN_LOOKUPS_PER_SECOND;
    this.tokens = this.rate;
    this.refilledAt = this.now();
  }

  async lookup(kind: 'admin' | 'client', id: string): Promise<CallerRecord | null> {
    const key = `${kind}:${id}`;
    const now = this.now();
    const hit = this.hits.get(key);
    if (hit && now - hit.at < HIT_MS) return hit.record;
    const missedAt = this.misses.get(key);
    if (missedAt !== undefined && now - missedAt < this.missMs) return null;
    const running = this.pending.get(key);
    if (running) return running;
    // A known caller whose entry aged out is always asked again; only strangers spend the budget.
    if (!hit && !this.takeToken(now)) return null;
    const asked = this.ask(kind, id, key).finally(() => this.pending.delete(key));
    this.pending.set(key, asked);
    return asked;
  }

  forget(): void {
    this.hits.clear();
    this.misses.clear();
  }

  private async ask(kind: 'admin' | 'client', id: string, key: string): Promise<CallerRecord | null> {
    const record = kind === 'admin' ? await this.store.getAdminKey(id) : await this.store.getClient(id);
    const at = this.now();
    if (record) {
      if (this.hits.size >= MAX_ENTRIES) this.hits.clear();
      this.hits.set(key, { at, record });
      this.misses.delete(key);
    } else {
      this.hits.delete(key);
      if (this.misses.size >= MAX_ENTRIES) this.misses.clear();
      this.misses.set(key, at);
    }
    return record;
  }

  private takeToken(now: number): boolean {
    this.tokens = Math.min(this.rate, this.tokens + ((now - this.refilledAt) / 1000) * this.rate);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
