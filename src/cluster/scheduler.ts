import type { Store } from '../store/index.ts';
import { createSnapshot } from './snapshot.ts';
import { storeSnapshotFile } from './snapshot-files.ts';
import type { Manifest, SnapshotSecret } from './snapshot-format.ts';

export interface SnapshotResult {
  time: number;
  path: string;
  manifest: Manifest;
  ms: number;
}

/**
 * Writes a snapshot every interval while this node is the master (or alone), keeping the last K.
 * A slave writes none: the master's snapshots already cover the cluster.
 */
export class SnapshotScheduler {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  last: SnapshotResult | null = null;
  lastError: string | null = null;

  constructor(
    private readonly opts: {
      store: Store;
      dir: string;
      intervalMs: number;
      keep: number;
      node: string;
      secret: () => SnapshotSecret;
      onResult?: (r: SnapshotResult | Error) => void;
    },
  ) {}

  start(): void {
    if (this.opts.intervalMs <= 0) return;
    this.timer = setInterval(() => void this.tick(), this.opts.intervalMs);
    this.timer.unref();
  }

  async tick(): Promise<SnapshotResult | null> {
    if (this.running) return null;
    const run = (async () => {
      if ((await this.opts.store.role()).role === 'slave') return null;
      return this.snapshotNow();
    })();
    this.running = run;
    try {
      return await run;
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      this.lastError = e.message;
      this.opts.onResult?.(e);
      return null;
    } finally {
      this.running = null;
    }
  }

  async snapshotNow(): Promise<SnapshotResult> {
    const started = Date.now();
    const { bytes, manifest } = await createSnapshot(this.opts.store, {
      secret: this.opts.secret(),
      components: ['users', 'tokens', 'clients', 'settings'],
      node: this.opts.node,
      now: started,
    });
    const path = storeSnapshotFile(this.opts.dir, bytes, manifest.time, this.opts.keep);
    this.last = { time: manifest.time, path, manifest, ms: Date.now() - started };
    this.lastError = null;
    this.opts.onResult?.(this.last);
    return this.last;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running?.catch(() => {});
  }
}
