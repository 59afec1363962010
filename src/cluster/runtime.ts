import { readFileSync } from 'node:fs';
import type { ReplicationControl, Store } from '../store/index.ts';
import { VERSION } from '../version.ts';
import type { ClusterConfig } from './config.ts';
import { type FailoverEvent, watchFailover } from './failover.ts';
import { pullLatestSnapshot } from './puller.ts';
import { type RestoreReport, restoreSnapshot } from './restore.ts';
import { type SnapshotResult, SnapshotScheduler } from './scheduler.ts';
import { latestSnapshotFile } from './snapshot-files.ts';
import { verifySnapshot } from './snapshot-format.ts';
import { snapshotSecret } from './snapshot-secret.ts';
import { bufferSource } from './snapshot-stream.ts';
import { type ClusterStatus, clusterStatus, selfRecord } from './status.ts';

export interface RuntimeHooks {
  log: {
    info(obj: object, msg: string): void;
    warn(obj: object, msg: string): void;
    error(obj: object, msg: string): void;
  };
  onFailover?: (e: FailoverEvent) => void;
  onReplicaAckMissing?: () => void;
  onSnapshot?: (r: SnapshotResult | Error) => void;
  onRole?: (role: string) => void;
  /** A pulled snapshot was applied to this standby: cached callers and settings are stale. */
  onApplied?: (r: RestoreReport) => void;
}

/**
 * The node's cluster duties: heartbeat into the registry, failover events, periodic snapshots
 * (master), snapshot pulls (standby). One per node, started with the server and stopped with it.
 */
export class ClusterRuntime {
  readonly scheduler: SnapshotScheduler;
  private timers: NodeJS.Timeout[] = [];
  private unwatch: (() => void) | null = null;
  lastPull: { time: number; path: string } | null = null;
  private lastApplied = 0;
  private pulling = false;

  constructor(
    readonly store: Store,
    /** The replicated store's control (Redis); null for a one-node store. */
    private readonly replication: ReplicationControl | null,
    readonly config: ClusterConfig,
    private readonly seed: { keyFile: string; masterKey?: string },
    private readonly hooks: RuntimeHooks,
  ) {
    this.scheduler = new SnapshotScheduler({
      store,
      dir: config.snapshotDir,
      intervalMs: config.snapshotIntervalMs,
      keep: config.snapshotKeep,
      node: config.nodeId,
      secret: () => this.secret(),
      onResult: (r) => {
        if (r instanceof Error) hooks.log.error({ err: r.message }, 'snapshot failed');
        else hooks.log.info({ path: r.path, ms: r.ms, counts: r.manifest.counts }, 'snapshot written');
        hooks.onSnapshot?.(r);
      },
    });
  }

  secret() {
    return snapshotSecret({
      ...(this.config.snapshotPassphrase ? { passphrase: this.config.snapshotPassphrase } : {}),
      ...(this.config.snapshotPassphraseFile ? { passphraseFile: this.config.snapshotPassphraseFile } : {}),
      ...(this.config.snapshotKeyFile ? { keyFile: this.config.snapshotKeyFile } : {}),
      seedKeyFile: this.seed.keyFile,
      ...(this.seed.masterKey ? { masterKey: this.seed.masterKey } : {}),
    });
  }

  /** The newest snapshot file in this node's snapshot directory (written or pulled), if any. */
  latestSnapshotFile(): string | null {
    return latestSnapshotFile(this.config.snapshotDir);
  }

  lastSnapshot(): number | null {
    return this.scheduler.last?.time ?? this.lastPull?.time ?? null;
  }

  async start(): Promise<void> {
    if (this.replication) {
      this.unwatch = watchFailover(this.replication, this.config.nodeId, {
        log: this.hooks.log,
        ...(this.hooks.onFailover ? { onEvent: this.hooks.onFailover } : {}),
        ...(this.hooks.onReplicaAckMissing ? { onReplicaAckMissing: this.hooks.onReplicaAckMissing } : {}),
        ...(this.config.failoverWebhook ? { webhook: this.config.failoverWebhook } : {}),
      });
      await this.beat();
      this.every(this.config.heartbeatMs, () => this.beat());
    } else {
      this.every(this.config.heartbeatMs, async () => this.hooks.onRole?.((await this.store.role()).role));
    }
    this.scheduler.start();
    void this.pruneTombstones();
    this.every(3_600_000, () => this.pruneTombstones());
    if (this.config.pullUrl && this.config.pullKeyFile)
      this.every(this.config.pullIntervalMs, () => this.pull());
  }

  /** Keeps tombstones for the retention and no longer (a re-created record clears its own). */
  private async pruneTombstones(): Promise<void> {
    if ((await this.store.role()).role === 'slave') return;
    try {
      const n = await this.store.pruneTombstones(Date.now() - this.config.tombstoneRetentionMs);
      if (n > 0) this.hooks.log.info({ pruned: n }, 'pruned tombstones past their retention');
    } catch (err) {
      this.hooks.log.warn(
        { err: err instanceof Error ? err.message : String(err) },
        'tombstone pruning failed',
      );
    }
  }

  private every(ms: number, fn: () => Promise<unknown>): void {
    if (ms <= 0) return;
    const t = setInterval(() => void fn().catch(() => {}), ms);
    t.unref();
    this.timers.push(t);
  }

  private async beat(): Promise<void> {
    const record = await this.self();
    this.hooks.onRole?.(record.role);
    await this.replication?.heartbeat(record.id, record).catch(() => {});
  }

  self() {
    return selfRecord(this.store, this.replication, {
      id: this.config.nodeId,
      url: this.config.url,
      version: VERSION,
      lastSnapshot: this.lastSnapshot(),
    });
  }

  status(): Promise<ClusterStatus> {
    return clusterStatus({
      store: this.store,
      replication: this.replication,
      self: () => this.self(),
      heartbeatMs: this.config.heartbeatMs,
    });
  }

  async pull(): Promise<void> {
    if (!this.config.pullUrl || !this.config.pullKeyFile || this.pulling) return;
    this.pulling = true;
    try {
      const clientKey = readFileSync(this.config.pullKeyFile, 'utf8').trim();
      const r = await pullLatestSnapshot({
        masterUrl: this.config.pullUrl,
        clientKey,
        dir: this.config.snapshotDir,
        keep: this.config.snapshotKeep,
      });
      this.lastPull = { time: r.time, path: r.path };
      this.hooks.log.info({ path: r.path, snapshotTime: r.time }, 'pulled the master snapshot');
      if (this.config.pullApply && r.time > this.lastApplied) {
        const report = await restoreSnapshot(
          this.store,
          await verifySnapshot(bufferSource(r.bytes), this.secret()),
          {
            components: ['users', 'tokens', 'clients', 'settings'],
            mode: 'sync',
          },
        );
        this.lastApplied = r.time;
        this.hooks.onApplied?.(report);
        const removed = report.removed;
        this.hooks.log.info(
          {
            snapshotTime: r.time,
            users: report.usersCreated + report.usersReplaced,
            tokens: report.tokensRestored,
            ...(removed
              ? {
                  removedUsers: removed.users.length,
                  removedTokens: removed.tokens.length,
                  removedClients: removed.clients.length,
                  removedAdminKeys: removed.adminKeys.length,
                }
              : {}),
          },
          'applied the master snapshot to this standby',
        );
      }
    } catch (err) {
      this.hooks.log.error({ err: err instanceof Error ? err.message : String(err) }, 'snapshot pull failed');
    } finally {
      this.pulling = false;
    }
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.unwatch?.();
    await this.scheduler.stop();
  }
}
