import { hostname } from 'node:os';
import { join } from 'node:path';
import { TOMBSTONE_RETENTION_MS } from '../model/index.ts';

export interface ClusterConfig {
  nodeId: string;
  /** How other nodes and operators reach this node. */
  url: string;
  dataDir: string;
  snapshotDir: string;
  /** 0 turns periodic snapshots off. */
  snapshotIntervalMs: number;
  snapshotKeep: number;
  snapshotPassphrase?: string;
  snapshotPassphraseFile?: string;
  snapshotKeyFile?: string;
  /** A standby pulls the master's latest snapshot from here (second sync path). */
  pullUrl?: string;
  pullKeyFile?: string;
  pullIntervalMs: number;
  /** A standby without a Redis link applies each pulled snapshot to its own store (sync mode). */
  pullApply: boolean;
  failoverWebhook?: string;
  heartbeatMs: number;
  /** How long tombstones (records of deletions) are kept; older ones are pruned hourly. */
  tombstoneRetentionMs: number;
}

function positive(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number`);
  return n;
}

/** Cluster settings from TESSERA_* variables (see docs/high-availability.md). */
export function loadClusterConfig(
  base: { dataDir: string; host: string; port: number; nodeId?: string; publicUrl?: string },
  env: NodeJS.ProcessEnv = process.env,
): ClusterConfig {
  const optional = (name: string): Record<string, string> =>
    env[name] ? { [name]: env[name] as string } : {};
  const o = {
    ...optional('TESSERA_SNAPSHOT_PASSPHRASE'),
    ...optional('TESSERA_SNAPSHOT_PASSPHRASE_FILE'),
    ...optional('TESSERA_SNAPSHOT_KEY_FILE'),
    ...optional('TESSERA_SNAPSHOT_PULL_URL'),
    ...optional('TESSERA_SNAPSHOT_PULL_KEY_FILE'),
    ...optional('TESSERA_FAILOVER_WEBHOOK'),
  };
  return {
    nodeId: base.nodeId ?? `${hostname()}:${base.port}`,
    url: base.publicUrl ?? `http://${base.host}:${base.port}`,
    dataDir: base.dataDir,
    snapshotDir: env.TESSERA_SNAPSHOT_DIR ?? join(base.dataDir, 'snapshots'),
    snapshotIntervalMs: positive(env, 'TESSERA_SNAPSHOT_INTERVAL_MIN', 15) * 60_000,
    snapshotKeep: Math.max(1, Math.floor(positive(env, 'TESSERA_SNAPSHOT_KEEP', 8))),
    pullIntervalMs: positive(env, 'TESSERA_SNAPSHOT_PULL_INTERVAL_MIN', 15) * 60_000,
    heartbeatMs: positive(env, 'TESSERA_HEARTBEAT_SECONDS', 5) * 1000,
    pullApply: env.TESSERA_SNAPSHOT_PULL_APPLY === 'true',
    tombstoneRetentionMs:
      Math.max(1, positive(env, 'TESSERA_TOMBSTONE_RETENTION_DAYS', TOMBSTONE_RETENTION_MS / 86_400_000)) *
      86_400_000,
    ...(o.TESSERA_SNAPSHOT_PASSPHRASE ? { snapshotPassphrase: o.TESSERA_SNAPSHOT_PASSPHRASE } : {}),
    ...(o.TESSERA_SNAPSHOT_PASSPHRASE_FILE
      ? { snapshotPassphraseFile: o.TESSERA_SNAPSHOT_PASSPHRASE_FILE }
      : {}),
    ...(o.TESSERA_SNAPSHOT_KEY_FILE ? { snapshotKeyFile: o.TESSERA_SNAPSHOT_KEY_FILE } : {}),
    ...(o.TESSERA_SNAPSHOT_PULL_URL ? { pullUrl: o.TESSERA_SNAPSHOT_PULL_URL } : {}),
    ...(o.TESSERA_SNAPSHOT_PULL_KEY_FILE ? { pullKeyFile: o.TESSERA_SNAPSHOT_PULL_KEY_FILE } : {}),
    ...(o.TESSERA_FAILOVER_WEBHOOK ? { failoverWebhook: o.TESSERA_FAILOVER_WEBHOOK } : {}),
  };
}
