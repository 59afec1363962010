import type { Database, RootDatabase } from 'lmdb';
import type { AuditEvent } from '../../model/index.ts';
import { AUDIT_STREAMS, mergeNewestFirst, type OrderedAuditEvent } from '../audit-retention.ts';
import type { AuditRetention, AuditStream } from '../types.ts';

const TIME_DIGITS = 15;

/** `<stream>:<time, 15 digits>.<sequence>`: one stream's keys sort by time and sit together. */
function keyOf(stream: AuditStream, time: number, seq: number): string {
  return `${stream}:${String(Math.max(0, Math.trunc(time))).padStart(TIME_DIGITS, '0')}.${String(seq).padStart(6, '0')}`;
}

/** The key range of one stream (':' + 1 is ';'), up to `before` (a time) when given. */
function rangeOf(stream: AuditStream, before?: number): { start: string; end: string } {
  const end =
    before === undefined
      ? `${stream};`
      : `${stream}:${String(Math.max(0, Math.trunc(before))).padStart(TIME_DIGITS, '0')}`;
  return { start: `${stream}:`, end };
}

/**
 * The audit streams in the `audit` database. Keys written before streams existed are a bare
 * `<time>.<seq>` (they sort before every stream); `migrate` moves them into their stream.
 */
export class EmbeddedAuditLog {
  // Several processes (server, CLI) append to one file: start each at a random sequence so that
  // two events of the same millisecond do not take the same key.
  private seq = Math.floor(Math.random() * 1_000_000);

  constructor(
    private readonly root: RootDatabase,
    private readonly db: Database<AuditEvent, string>,
    private readonly retention: AuditRetention,
    private readonly now: () => number,
  ) {}

  async append(events: AuditEvent[], stream: AuditStream): Promise<void> {
    if (events.length === 0) return;
    await this.root.transaction(() => {
      for (const e of events) {
        this.seq = (this.seq + 1) % 1_000_000;
        this.db.putSync(keyOf(stream, e.time, this.seq), e);
      }
    });
  }

  async list(limit: number, stream?: AuditStream): Promise<AuditEvent[]> {
    const streams = stream ? [stream] : AUDIT_STREAMS;
    const lists = streams.map((s) => {
      const { start, end } = rangeOf(s);
      const out: OrderedAuditEvent[] = [];
      // reverse ranges run from `start` down to `end`
      for (const { key, value } of this.db.getRange({ start: end, end: start, reverse: true, limit }))
        out.push({ time: value.time, order: key, event: value });
      return out;
    });
    return mergeNewestFirst(lists, limit);
  }

  /** Drops what is older than each stream's retention, then what is beyond its maxEvents. */
  async prune(): Promise<void> {
    const now = this.now();
    await this.root.transaction(() => {
      for (const s of AUDIT_STREAMS) {
        const r = this.retention[s];
        for (const key of [...this.db.getKeys(rangeOf(s, now - r.maxAgeMs))]) this.db.removeSync(key);
        if (r.maxEvents === undefined) continue;
        const excess = this.db.getCount(rangeOf(s)) - r.maxEvents;
        if (excess > 0)
          for (const key of [...this.db.getKeys({ ...rangeOf(s), limit: excess })]) this.db.removeSync(key);
      }
    });
  }

  /** Moves events stored before streams existed: validate decisions to `auth`, the rest to `admin`. */
  migrate(): number {
    // lmdb marks a range object it counted (onlyCount): each call gets its own
    const legacy = () => ({ start: '0', end: ':' });
    if (this.db.getKeysCount(legacy()) === 0) return 0;
    return this.root.transactionSync(() => {
      let moved = 0;
      for (const { key, value } of [...this.db.getRange(legacy())]) {
        const seq = Number(key.split('.')[1] ?? 0);
        this.db.putSync(keyOf(value.type === 'validate' ? 'auth' : 'admin', value.time, seq), value);
        this.db.removeSync(key);
        moved++;
      }
      return moved;
    });
  }
}
