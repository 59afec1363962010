import type { ReplicationControl } from '../store/index.ts';

export interface FailoverEvent {
  type: 'failover';
  node: string;
  /** What changed: this node's Redis role, or the master it follows. */
  change: 'role' | 'master';
  from: string;
  to: string;
  master: string;
  time: number;
}

export interface FailoverSinks {
  log: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  onEvent?: (e: FailoverEvent) => void;
  onReplicaAckMissing?: () => void;
  webhook?: string;
}

async function postWebhook(url: string, event: FailoverEvent, log: FailoverSinks['log']): Promise<void> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(event),
      signal: AbortSignal.timeout(5_000),
    });
    if (!res.ok) log.error({ status: res.status }, 'failover webhook answered with an error');
  } catch (err) {
    log.error(
      { err: err instanceof Error ? err.message : String(err) },
      'failover webhook could not be reached',
    );
  }
}

/** Turns the store's role changes into failover events: a log line, a metric, a webhook. */
export function watchFailover(
  replication: ReplicationControl,
  node: string,
  sinks: FailoverSinks,
): () => void {
  const emit = (change: FailoverEvent['change'], from: string, to: string, master: string) => {
    const event: FailoverEvent = { type: 'failover', node, change, from, to, master, time: Date.now() };
    sinks.log.warn(
      event,
      `failover: this node's ${change === 'role' ? 'Redis role' : 'master'} changed from ${from} to ${to}`,
    );
    sinks.onEvent?.(event);
    if (sinks.webhook) void postWebhook(sinks.webhook, event, sinks.log);
  };
  const stops = [
    replication.onReplication('role-change', (e) => emit('role', e.from, e.to, e.master)),
    replication.onReplication('master-change', (e) => emit('master', e.from, e.to, e.to)),
    replication.onReplication('replica-ack-missing', () => sinks.onReplicaAckMissing?.()),
  ];
  return () => {
    for (const stop of stops) stop();
  };
}
