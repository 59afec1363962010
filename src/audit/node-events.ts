import type { AuditSink } from '../auth/index.ts';

/** A snapshot or backup run as the event log needs it: where, how long, or why it failed. */
export type RunResult = { path: string; ms: number } | Error;

/**
 * What a node did, for the `event` stream: start and stop, role changes, failovers, snapshot and
 * backup runs. The role is polled on every heartbeat; only a change is an event.
 */
export class NodeEvents {
  private role: string | null = null;

  constructor(
    private readonly sink: AuditSink,
    private readonly node: string,
    private readonly now: () => number = Date.now,
  ) {}

  private record(type: string, detail: Record<string, string | number | boolean>, result = 'ok'): void {
    this.sink.record({
      time: this.now(),
      type,
      actor: `node:${this.node}`,
      result,
      detail: { node: this.node, ...detail },
    });
  }

  started(detail: Record<string, string | number | boolean> = {}): void {
    this.record('node.start', detail);
  }

  stopped(): void {
    this.record('node.stop', {});
  }

  roleSeen(role: string): void {
    if (role === this.role) return;
    const from = this.role;
    this.role = role;
    this.record('node.role', { ...(from === null ? {} : { from }), to: role });
  }

  failover(e: { change: string; from: string; to: string; master: string }): void {
    this.record('failover', { change: e.change, from: e.from, to: e.to, master: e.master });
  }

  run(kind: 'snapshot' | 'backup', r: RunResult): void {
    if (r instanceof Error) this.record(`${kind}.run`, { error: r.message.slice(0, 200) }, 'error');
    else this.record(`${kind}.run`, { path: r.path, ms: Math.round(r.ms) });
  }
}
