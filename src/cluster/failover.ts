import type { ReplicatedStore } from './replicated.ts';

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
export function watchFailover(store: ReplicatedStore, node: string, sinks: FailoverSinks): () => void {
  const emit = (change: FailoverEvent['change'], from: string, to: string, master: string) => {
    const event: FailoverEvent = { type: 'failover', node, change, from, to, master, time: Date.now() };
    sinks.log.warn(
      event,
      `failover: this node's ${change === 'role' ? 'Redis role' : 'master'} changed from ${from} to ${to}`,
    );
    sinks.onEvent?.(event);
    if (sinks.webhook) void postWebhook(sinks.webhook, event, sinks.log);
  };
  const onRole = (e: { from: string; to: string; master: string }) => emit('role', e.from, e.to, e.master);
  const onMaster = (e: { from: string; to: string }) => emit('master', e.from, e.to, e.to);
  const onAck = () => sinks.onReplicaAckMissing?.();
  store.links.on('role-change', onRole);
  store.links.on('master-change', onMaster);
  store.links.on('replica-ack-missing', onAck);
  return () => {
    store.links.off('role-change', onRole);
    store.links.off('master-change', onMaster);
    store.links.off('replica-ack-missing', onAck);
  };
}
