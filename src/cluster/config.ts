/** A node's cluster settings (src/server/config.ts reads them from TESSERA_* variables). */
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
