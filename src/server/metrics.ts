import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
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

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'tessera_' });
  }

  observeValidate(outcome: ValidateOutcome, seconds: number): void {
    this.validateTotal.inc({ result: outcome.result, reason: outcome.reason });
    this.validateSeconds.observe({ result: outcome.result }, seconds);
  }
}
