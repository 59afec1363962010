// Cluster: the node's cluster runtime (heartbeat, failover watch, snapshots), cluster status, backup and restore.
export * from './config.ts';
export * from './failover.ts';
export * from './keys-file.ts';
export * from './puller.ts';
export * from './restore.ts';
export * from './runtime.ts';
export * from './scheduler.ts';
export * from './snapshot.ts';
export * from './snapshot-files.ts';
export * from './snapshot-format.ts';
export * from './snapshot-secret.ts';
export * from './status.ts';
