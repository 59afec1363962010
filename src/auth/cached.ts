/**
 * A value read through to the store at most once per `ttlMs`. Configuration changes rarely and
 * is written on the master only; a few seconds of staleness keeps a store round trip off every
 * validation. Local writes call invalidate() so the writing node sees them at once.
 */
export class Cached<T> {
  private value: T | undefined;
  private loadedAt = 0;
  private pending: Promise<T> | null = null;

  constructor(
    private readonly load: () => Promise<T>,
    private readonly ttlMs: number,
  ) {}

  async get(): Promise<T> {
    if (this.value !== undefined && Date.now() - this.loadedAt < this.ttlMs) return this.value;
    if (!this.pending) {
      this.pending = this.load().then(
        (v) => {
          this.value = v;
          this.loadedAt = Date.now();
          this.pending = null;
          return v;
        },
        (err: unknown) => {
          this.pending = null;
          throw err;
        },
      );
    }
    return this.pending;
  }

  invalidate(): void {
    this.value = undefined;
    this.loadedAt = 0;
  }
}
