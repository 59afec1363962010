import type { AdminContext } from '../admin/context.ts';
import { TesseraError } from '../model/index.ts';
import type { ReplicationControl, Store } from '../store/index.ts';
import { listSources } from './sources.ts';
import { type Inviter, type SyncReport, syncSource } from './sync.ts';

/** The lease that says which node runs the directory schedule. */
export const SCHEDULE_LEASE = 'directory-schedule';

export type ScheduleEvent =
  | { type: 'takeover'; previous: string | null }
  | { type: 'handback'; holder: string }
  | { type: 'reclaim'; previous: string }
  | { type: 'run'; source: string; ms: number; report: SyncReport; role: string }
  | { type: 'run-failed'; source: string; ms: number; code: string; role: string };

export interface ScheduleOptions {
  store: Store;
  /** Null on a one-node store: that node is the master and runs the schedule alone. */
  replication: ReplicationControl | null;
  nodeId: string;
  /** How long the master may be silent before a replica takes the schedule over. */
  takeoverMs: number;
  /** The admin context a scheduled sync runs with (audited as the schedule), on a given store. */
  admin: (store: Store) => AdminContext;
  /** How a sync of a source with inviteNewUsers invites, on a given store; none: nobody is. */
  invite?: (store: Store) => Inviter;
  onEvent: (e: ScheduleEvent) => void;
  now?: () => number;
}

/**
 * Runs each source's sync every `syncIntervalSeconds`, on one node at a time. The master holds a
 * lease in the store and renews it on every tick (a quarter of the takeover time); a replica claims
 * it only when it lapsed, i.e. the master was silent for the takeover time, and then syncs in its
 * place, writing through to the master. The master takes the lease back when it returns, and the
 * replica sees that on its next tick and stops. A one-node store needs no lease.
 */
export class DirectorySchedule {
  private timer: NodeJS.Timeout | null = null;
  private holding = false;
  private ticking: Promise<void> | null = null;
  private readonly running = new Map<string, Promise<void>>();
  /** When each source last started a sync on this node (a new holder syncs at once). */
  private readonly lastRun = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly opts: ScheduleOptions) {
    this.now = opts.now ?? Date.now;
  }

  get tickMs(): number {
    return Math.min(5_000, Math.max(250, Math.floor(this.opts.takeoverMs / 4)));
  }

  start(): void {
    this.timer = setInterval(() => void this.tick(), this.tickMs);
    this.timer.unref();
    void this.tick();
  }

  /** Whether this node runs the schedule now. */
  get holder(): boolean {
    return this.holding;
  }

  async tick(): Promise<void> {
    if (this.ticking) return this.ticking;
    this.ticking = this.step()
      .catch(() => {
        // the store is away: nobody can sync now; the next tick tries again
      })
      .finally(() => {
        this.ticking = null;
      });
    return this.ticking;
  }

  private async step(): Promise<void> {
    const role = (await this.opts.store.role()).role;
    const holds = await this.decide(role);
    if (!holds) {
      this.lastRun.clear();
      return;
    }
    const writer =
      role === 'slave' ? (this.opts.replication?.masterWrites?.() ?? this.opts.store) : this.opts.store;
    for (const source of await listSources(this.opts.store)) {
      const every = (source.syncIntervalSeconds ?? 0) * 1000;
      if (every <= 0 || this.running.has(source.name)) continue;
      const last = this.lastRun.get(source.name);
      if (last !== undefined && this.now() - last < every) continue;
      this.lastRun.set(source.name, this.now());
      const run = this.runOne(source.name, writer, role).finally(() => this.running.delete(source.name));
      this.running.set(source.name, run);
    }
  }

  /** Renews, takes or claims the lease, and reports a change of holder. */
  private async decide(role: string): Promise<boolean> {
    const lease = this.opts.replication?.lease?.bind(this.opts.replication);
    if (!lease) return this.set(role !== 'slave');
    const me = this.opts.nodeId;
    if (role !== 'slave') {
      const previous = await lease(SCHEDULE_LEASE, me, this.opts.takeoverMs, 'take');
      if (previous !== null && previous !== me) this.opts.onEvent({ type: 'reclaim', previous });
      return this.set(true);
    }
    const previous = await lease(SCHEDULE_LEASE, me, this.opts.takeoverMs, 'claim');
    const mine = previous === null || previous === me;
    if (mine && !this.holding) this.opts.onEvent({ type: 'takeover', previous });
    if (!mine && this.holding && previous) this.opts.onEvent({ type: 'handback', holder: previous });
    return this.set(mine);
  }

  private set(holds: boolean): boolean {
    this.holding = holds;
    return holds;
  }

  private async runOne(name: string, store: Store, role: string): Promise<void> {
    const started = this.now();
    const ctx = this.opts.admin(store);
    try {
      // read again: the source may have changed or gone since the tick listed it
      const source = (await listSources(store)).find((s) => s.name === name);
      if (!source) return;
      const invite = this.opts.invite?.(store);
      const report = await syncSource(ctx, source, invite ? { invite } : {});
      this.opts.onEvent({ type: 'run', source: name, ms: this.now() - started, report, role });
    } catch (e) {
      const code = e instanceof TesseraError ? e.code : 'INTERNAL';
      this.opts.onEvent({ type: 'run-failed', source: name, ms: this.now() - started, code, role });
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.ticking;
    await Promise.allSettled([...this.running.values()]);
  }
}

/** A schedule event as the event log keeps it (`directory.schedule.*`, the node as actor). */
export function scheduleAuditEvent(
  e: ScheduleEvent,
  nodeId: string,
  time: number,
): {
  time: number;
  type: string;
  actor: string;
  result: string;
  reason?: string;
  detail: Record<string, string>;
} {
  const base = { time, actor: `node:${nodeId}`, result: 'ok' };
  const node = { node: nodeId };
  switch (e.type) {
    case 'takeover':
      return {
        ...base,
        type: 'directory.schedule.takeover',
        detail: { ...node, from: e.previous ?? 'nobody' },
      };
    case 'handback':
      return { ...base, type: 'directory.schedule.handback', detail: { ...node, to: e.holder } };
    case 'reclaim':
      return { ...base, type: 'directory.schedule.reclaim', detail: { ...node, from: e.previous } };
    case 'run': {
      const r = e.report;
      return {
        ...base,
        type: 'directory.schedule.run',
        detail: {
          ...node,
          source: e.source,
          role: e.role,
          ms: String(Math.round(e.ms)),
          result: `created=${r.created} updated=${r.updated} disabled=${r.disabled} skipped=${r.skipped} invited=${r.invited}`,
        },
      };
    }
    case 'run-failed':
      return {
        ...base,
        type: 'directory.schedule.run',
        result: 'error',
        reason: e.code,
        detail: { ...node, source: e.source, role: e.role, ms: String(Math.round(e.ms)) },
      };
  }
}
