import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { ValidateOutcome } from '../auth/index.ts';

/** One registry per app, so two apps in one process (tests) never share counters. */
export class Metrics {
  readonly registry = new Registry();
  readonly validateTotal = new Counter({
    name: 'tessera_validate_total',
    help: 'Validation decisions by result and reason',
    labelNames: ['result', 'reason'] as const,
    registers: [this.registry],
  });
  readonly validateSeconds = new Histogram({
    name: 'tessera_validate_duration_seconds',
    help: 'Time to decide a validation',
    labelNames: ['result'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });

  readonly failovers = new Counter({
    name: 'tessera_failover_total',
    help: 'Failover events seen by this node',
    labelNames: ['change'] as const,
    registers: [this.registry],
  });
  readonly replicaAckMissing = new Counter({
    name: 'tessera_replica_ack_missing_total',
    help: 'Writes that no replica acknowledged in time (TESSERA_REPLICA_ACK decides whether they counted)',
    registers: [this.registry],
  });
  readonly snapshots = new Counter({
    name: 'tessera_snapshot_total',
    help: 'Periodic snapshots by result',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly lastSnapshot = new Gauge({
    name: 'tessera_snapshot_last_timestamp_seconds',
    help: 'Time of the last snapshot written',
    registers: [this.registry],
  });
  readonly auditOutDropped = new Counter({
    name: 'tessera_audit_out_dropped_total',
    help: 'Audit events an output (syslog, jsonl) dropped because its queue was full',
    labelNames: ['output'] as const,
    registers: [this.registry],
  });
  readonly codeDelivery = new Counter({
    name: 'tessera_code_delivery_total',
    help: 'Mail and SMS sign-in codes by channel and result (sent, timeout, unreachable, refused, not_configured, rate_limited, no_destination)',
    labelNames: ['channel', 'result'] as const,
    registers: [this.registry],
  });
  readonly role = new Gauge({
    name: 'tessera_node_role',
    help: "This node's role (1 for the current one)",
    labelNames: ['role'] as const,
    registers: [this.registry],
  });

  readonly pushTotal = new Counter({
    name: 'tessera_push_total',
    help: 'Push approvals by event: created, limited (too many pending), approved, denied',
    labelNames: ['event'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'tessera_' });
  }

  observeValidate(outcome: ValidateOutcome, seconds: number): void {
    this.validateTotal.inc({ result: outcome.result, reason: outcome.reason });
    this.validateSeconds.observe({ result: outcome.result }, seconds);
  }

  observeSnapshot(result: { time: number } | Error): void {
    if (result instanceof Error) {
      this.snapshots.inc({ result: 'error' });
      return;
    }
    this.snapshots.inc({ result: 'ok' });
    this.lastSnapshot.set(result.time / 1000);
  }

  observeRole(role: string): void {
    this.role.reset();
    this.role.set({ role }, 1);
  }
}
