import type { ReplicationControl, Store } from '../store/index.ts';

export type NodeRole = 'standalone' | 'master' | 'slave';

export interface NodeStatus {
  id: string;
  url: string | null;
  role: NodeRole;
  redisRole: 'master' | 'slave' | null;
  redisAddr: string | null;
  /** The node's Redis replication offset (bytes). */
  replicationOffset: number | null;
  /** How far the node's Redis is behind the master, in bytes of replication stream. */
  lag: number | null;
  lastSnapshot: number | null;
  version: string;
  versionMismatch: boolean;
  health: 'ok' | 'stale' | 'down' | 'redis-down';
  lastSeen: number;
}

export interface ClusterStatus {
  role: NodeRole;
  nodes: NodeStatus[];
}

/** What a node writes into the registry on each heartbeat. */
export interface NodeRecord {
  id: string;
  url: string;
  version: string;
  role: NodeRole;
  redisRole: 'master' | 'slave' | null;
  /** host:port of the node's own Redis (for `tessera cluster failover --to`). */
  redisAddr: string | null;
  offset: number | null;
  masterOffset: number | null;
  linkUp: boolean;
  lastSnapshot: number | null;
  lastSeen: number;
}

export interface ClusterDeps {
  store: Pick<Store, 'role'>;
  /** The node registry and replication view; null for a one-node store. */
  replication: ReplicationControl | null;
  /** This node's live record; absent when asked from outside a node (the CLI). */
  self?: () => Promise<NodeRecord>;
  heartbeatMs: number;
  now?: () => number;
}

/** The node's own record, from its store's live view. */
export async function selfRecord(
  store: Pick<Store, 'role'>,
  replication: ReplicationControl | null,
  base: { id: string; url: string; version: string; lastSnapshot: number | null },
  now = Date.now(),
): Promise<NodeRecord> {
  const role = (await store.role()).role;
  const view = replication?.replication() ?? null;
  return {
    ...base,
    role,
    redisRole: view?.redisRole ?? null,
    redisAddr: view?.self ?? null,
    offset: view?.offset ?? null,
    masterOffset: view?.masterOffset ?? null,
    linkUp: view?.linkUp ?? true,
    lastSeen: now,
  };
}

function toStatus(r: NodeRecord, now: number, heartbeatMs: number, reference: string): NodeStatus {
  const age = now - r.lastSeen;
  const health: NodeStatus['health'] =
    age > 6 * heartbeatMs ? 'down' : age > 3 * heartbeatMs ? 'stale' : r.linkUp ? 'ok' : 'redis-down';
  return {
    id: r.id,
    url: r.url ?? null,
    role: r.role,
    redisRole: r.redisRole,
    redisAddr: r.redisAddr ?? null,
    replicationOffset: r.offset,
    lag: r.offset !== null && r.masterOffset !== null ? Math.max(0, r.masterOffset - r.offset) : null,
    lastSnapshot: r.lastSnapshot,
    version: r.version,
    versionMismatch: r.version !== reference,
    health,
    lastSeen: r.lastSeen,
  };
}

/**
 * Every node of the cluster as the registry knows it (heartbeats in Redis), with this node's
 * entry always fresh. Versions are compared with the master's.
 */
export async function clusterStatus(deps: ClusterDeps): Promise<ClusterStatus> {
  const now = deps.now?.() ?? Date.now();
  const self = deps.self ? await deps.self() : null;
  const records = new Map<string, NodeRecord>();
  if (deps.replication) {
    try {
      for (const r of (await deps.replication.nodeRecords()) as unknown as NodeRecord[]) records.set(r.id, r);
    } catch {
      // the registry is unreachable: show what this node knows
    }
  }
  if (self) records.set(self.id, self);
  const list = [...records.values()].sort((a, b) => a.id.localeCompare(b.id));
  const master = list.find((r) => r.role === 'master' && now - r.lastSeen <= 3 * deps.heartbeatMs);
  const reference = master?.version ?? self?.version ?? list[0]?.version ?? '';
  const role = self?.role ?? (await deps.store.role()).role;
  return { role, nodes: list.map((r) => toStatus(r, now, deps.heartbeatMs, reference)) };
}
