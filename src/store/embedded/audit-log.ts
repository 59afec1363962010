import type { Database, RootDatabase } from 'lmdb';
import type { AuditEvent } from '../../model/index.ts';
import { AUDIT_STREAMS, mergeNewestFirst, type OrderedAuditEvent } from '../audit-retention.ts';
import type {
  AuditChainView,
  AuditRetention,
  AuditScanItem,
  AuditScanRange,
  AuditSealer,
  AuditStream,
  ChainedAuditEvent,
} from '../types.ts';

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

/** Where a chained stream keeps its last appended entry and retention's anchor ('~' sorts last). */
const headKey = (stream: AuditStream) => `~chain:${stream}:head`;
const anchorKey = (stream: AuditStream) => `~chain:${stream}:anchor`;

/** The time part of a stream key. */
function timeOfKey(key: string): number {
  return Number(key.slice(key.indexOf(':') + 1, key.indexOf('.')));
}

function withoutChain(e: ChainedAuditEvent): AuditEvent {
  const { chain: _chain, ...event } = e;
  return event;
}

/**
 * The audit streams in the `audit` database. Keys written before streams existed are a bare
 * `<time>.<seq>` (they sort before every stream); `migrate` moves them into their stream.
 */
export class EmbeddedAuditLog {
  // Several processes (server, CLI) append to one file: start each at a random sequence so that
  // two events of the same millisecond do not take the same key.
  private seq = Math.floor(Math.random() * 1_000_000);
  private sealer: AuditSealer | null = null;

  constructor(
    private readonly root: RootDatabase,
    private readonly db: Database<AuditEvent, string>,
    private readonly retention: AuditRetention,
    private readonly now: () => number,
  ) {}

  useSealer(sealer: AuditSealer): void {
    this.sealer = sealer;
  }

  /** The chained stream's head is read and moved in the same write transaction: LMDB has one
   * writer at a time, across processes too, so two appends can never take the same sequence. */
  async append(events: AuditEvent[], stream: AuditStream): Promise<void> {
    if (events.length === 0) return;
    const sealer = this.sealer?.streams.includes(stream) ? this.sealer : null;
    await this.root.transaction(() => {
      const chained = sealer
        ? sealer.seal(stream, (this.db.get(headKey(stream)) as ChainedAuditEvent | undefined) ?? null, events)
        : events;
      for (const e of chained) {
        this.seq = (this.seq + 1) % 1_000_000;
        this.db.putSync(keyOf(stream, (e as ChainedAuditEvent).chain?.at ?? e.time, this.seq), e);
      }
      if (sealer) this.db.putSync(headKey(stream), chained[chained.length - 1]!);
    });
  }

  async readChain(stream: AuditStream, range: { from?: number; to?: number } = {}): Promise<AuditChainView> {
    const all = rangeOf(stream);
    const start = range.from === undefined ? all.start : rangeOf(stream, range.from).end;
    const end = range.to === undefined ? all.end : rangeOf(stream, range.to + 1).end;
    const entries: AuditChainView['entries'] = [];
    for (const { key, value } of this.db.getRange({ start, end }))
      entries.push({ position: timeOfKey(key), event: value as ChainedAuditEvent });
    let before: ChainedAuditEvent | null = null;
    if (range.from !== undefined)
      for (const { value } of this.db.getRange({ start, end: all.start, reverse: true, limit: 1 }))
        before = value as ChainedAuditEvent;
    return {
      anchor: (this.db.get(anchorKey(stream)) as ChainedAuditEvent | undefined) ?? null,
      head: (this.db.get(headKey(stream)) as ChainedAuditEvent | undefined) ?? null,
      before,
      entries,
    };
  }

  async list(limit: number, stream?: AuditStream): Promise<AuditEvent[]> {
    const streams = stream ? [stream] : AUDIT_STREAMS;
    const lists = streams.map((s) => {
      const { start, end } = rangeOf(s);
      const out: OrderedAuditEvent[] = [];
      // reverse ranges run from `start` down to `end`
      for (const { key, value } of this.db.getRange({ start: end, end: start, reverse: true, limit }))
        out.push({ time: value.time, order: key, event: withoutChain(value) });
      return out;
    });
    return mergeNewestFirst(lists, limit);
  }

  /**
   * Newest first by key (time, then append order), from `to` down to `from`. `after` is a place
   * in the merged listing (its order may be another stream's key): what sorts at or above it is
   * skipped, by time, then by key.
   */
  async *scan(stream: AuditStream, range: AuditScanRange): AsyncIterable<AuditScanItem> {
    const all = rangeOf(stream);
    const a = range.after;
    const topTime = a && (range.to === undefined || a.time < range.to) ? a.time : range.to;
    const top = topTime === undefined ? all.end : rangeOf(stream, topTime + 1).end;
    const bottom = range.from === undefined ? all.start : rangeOf(stream, range.from).end;
    for (const { key, value } of this.db.getRange({ start: top, end: bottom, reverse: true })) {
      const time = timeOfKey(key);
      if (a && time === a.time && key >= a.order) continue;
      yield { time, order: key, event: withoutChain(value) };
    }
  }

  /**
   * Drops what is older than each stream's retention, then what is beyond its maxEvents. The last
   * entry dropped from a stream stays as its anchor: the kept chain is verified from there.
   */
  async prune(): Promise<void> {
    const now = this.now();
    await this.root.transaction(() => {
      for (const s of AUDIT_STREAMS) {
        const r = this.retention[s];
        const drop = (keys: string[]) => {
          const last = keys.length ? this.db.get(keys[keys.length - 1]!) : undefined;
          if (last && (last as ChainedAuditEvent).chain) this.db.putSync(anchorKey(s), last);
          for (const key of keys) this.db.removeSync(key);
        };
        drop([...this.db.getKeys(rangeOf(s, now - r.maxAgeMs))]);
        if (r.maxEvents === undefined) continue;
        const excess = this.db.getCount(rangeOf(s)) - r.maxEvents;
        if (excess > 0) drop([...this.db.getKeys({ ...rangeOf(s), limit: excess })]);
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
