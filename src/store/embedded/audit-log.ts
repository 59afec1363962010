import type { Database, RootDatabase } from 'lmdb';
import type { AuditEvent } from '../../model/index.ts';
import { auditIndexValues, dailyCounts, dayOf, MAX_SEQ } from '../audit-index.ts';
import { AUDIT_STREAMS, mergeNewestFirst, type OrderedAuditEvent } from '../audit-retention.ts';
import type {
  AuditChainView,
  AuditDailyCount,
  AuditHit,
  AuditPosition,
  AuditRetention,
  AuditSealer,
  AuditSeek,
  AuditStream,
  ChainedAuditEvent,
} from '../types.ts';

const TIME_DIGITS = 15;
const SEQ_LIMIT = 1_000_000;

/** A prune removes at most this many entries per write transaction: logins' writes get in between. */
export const PRUNE_BATCH = 1000;

/**
 * An authentication-log append encodes at most this many entries per event-loop turn. Encoding is
 * main-thread work (about 10 µs an entry with its index entries): the sink's batch of 1,000 in one
 * turn held every login behind it for 10-15 ms, four times a second (bench/validate.ts,
 * serverLoopDelayMaxMs at half of peak).
 */
export const APPEND_CHUNK = 100;

type IndexKey = (string | number)[];

/** `[stream, field, value, time, seq]`: one index's entries sort by time, then append order. */
function indexKey(stream: AuditStream, field: string, value: string, time: number, seq: number): IndexKey {
  // an LMDB key holds at most 511 bytes; a longer value is cut, and the search checks the event itself
  return [stream, field, value.slice(0, 96), time, seq];
}

/** Where each stream's entry count lives in the index database (appends and prunes keep it). */
const countKey = (stream: AuditStream): IndexKey => ['#count', stream];
/** `['#daily', day, client, result]` → how many authentication entries (see Store.auditDailyCounts). */
const dailyKey = (day: string, client: string, result: string): IndexKey => ['#daily', day, client, result];

/** Set once every stored entry has its index entries (older versions wrote none). */
const BUILT_KEY: IndexKey = ['#built', 1];

/** The position of a stream key: its time and sequence parts. */
function positionOfKey(key: string): AuditPosition {
  const dot = key.indexOf('.');
  return { time: Number(key.slice(key.indexOf(':') + 1, dot)), seq: Number(key.slice(dot + 1)) };
}

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
  /** `[stream, field, value, time, seq]` → 1, and each stream's count (see indexKey, countKey). */
  private readonly index: Database<number, IndexKey>;

  constructor(
    private readonly root: RootDatabase,
    private readonly db: Database<AuditEvent, string>,
    private readonly retention: AuditRetention,
    private readonly now: () => number,
  ) {
    this.index = root.openDB<number, IndexKey>({ name: 'audit-index' });
  }

  /** Index entries of one stored entry: put on append, removed with it. */
  private indexKeys(stream: AuditStream, key: string, e: AuditEvent): IndexKey[] {
    const { time, seq } = positionOfKey(key);
    return this.indexKeysAt(stream, time, seq, e);
  }

  private indexKeysAt(stream: AuditStream, time: number, seq: number, e: AuditEvent): IndexKey[] {
    return auditIndexValues(e).map(([f, v]) => indexKey(stream, f, v, time, seq));
  }

  private count(stream: AuditStream): number {
    return this.index.get(countKey(stream)) ?? 0;
  }

  useSealer(sealer: AuditSealer): void {
    this.sealer = sealer;
  }

  /**
   * A chained stream's head is read and moved in the same write transaction: LMDB has one writer
   * at a time, across processes too, so two appends can never take the same sequence.
   *
   * An unchained stream (the authentication log) has no head to read: its entries and index entries
   * go as writes queued in this turn, which LMDB's writer thread applies, off the event loop; only
   * the counts, which are read and moved, run in the transaction callback queued behind them.
   * Everything queued in one turn commits in one transaction, so a chunk's entries and their counts
   * land together. Chunks of APPEND_CHUNK, one per turn, so that logins are served in between.
   */
  async append(events: AuditEvent[], stream: AuditStream): Promise<void> {
    if (events.length === 0) return;
    const sealer = this.sealer?.streams.includes(stream) ? this.sealer : null;
    if (!sealer) {
      const queued: Promise<unknown>[] = [];
      for (let at = 0; at < events.length; at += APPEND_CHUNK) {
        if (at > 0) await new Promise((turn) => setImmediate(turn));
        const chunk = events.slice(at, at + APPEND_CHUNK);
        this.writeEntries(stream, chunk, queued);
        queued.push(this.root.transaction(() => this.countEntries(stream, chunk)));
      }
      await Promise.all(queued);
      return;
    }
    await this.root.transaction(() => {
      const head = (this.db.get(headKey(stream)) as ChainedAuditEvent | undefined) ?? null;
      const chained = sealer.seal(stream, head, events);
      this.writeEntries(stream, chained);
      this.countEntries(stream, events);
      this.db.putSync(headKey(stream), chained[chained.length - 1]!);
    });
  }

  /** Each entry under its key and in its indexes: written now (in a transaction), or `queued`. */
  private writeEntries(stream: AuditStream, events: AuditEvent[], queued?: Promise<unknown>[]): void {
    for (const e of events) {
      this.seq = (this.seq + 1) % SEQ_LIMIT;
      // the key's time, as keyOf writes it (and positionOfKey reads it back)
      const time = Math.max(0, Math.trunc((e as ChainedAuditEvent).chain?.at ?? e.time));
      const key = keyOf(stream, time, this.seq);
      const indexKeys = this.indexKeysAt(stream, time, this.seq, e);
      if (queued) {
        queued.push(this.db.put(key, e));
        for (const ix of indexKeys) queued.push(this.index.put(ix, 1));
      } else {
        this.db.putSync(key, e);
        for (const ix of indexKeys) this.index.putSync(ix, 1);
      }
    }
  }

  /** The stream's count, and the authentication log's daily counts; inside a write transaction. */
  private countEntries(stream: AuditStream, events: AuditEvent[]): void {
    this.index.putSync(countKey(stream), this.count(stream) + events.length);
    if (stream === 'auth')
      for (const c of dailyCounts(events)) {
        const key = dailyKey(c.day, c.client, c.result);
        this.index.putSync(key, (this.index.get(key) ?? 0) + c.count);
      }
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
   * Newest first from `atOrBelow`: the stream's own keys, or one index's keys. Either way one
   * B-tree descent to the starting key and then `limit` steps, wherever in the trail it starts.
   */
  async seek(stream: AuditStream, q: AuditSeek): Promise<AuditHit[]> {
    const top = q.atOrBelow ?? { time: MAX_SEQ, seq: MAX_SEQ };
    const floor = Math.max(0, q.from ?? 0);
    const out: AuditHit[] = [];
    if (q.where) {
      const { field, value } = q.where;
      for (const key of this.index.getKeys({
        start: indexKey(stream, field, value, top.time, top.seq),
        end: indexKey(stream, field, value, floor, -1),
        reverse: true,
        limit: q.limit,
      }))
        out.push({ time: key[3] as number, seq: key[4] as number });
      return out;
    }
    const start =
      q.atOrBelow === undefined || top.time > 10 ** TIME_DIGITS - 1
        ? rangeOf(stream).end
        : keyOf(stream, top.time, Math.min(top.seq, SEQ_LIMIT - 1));
    for (const { key, value } of this.db.getRange({
      start,
      end: rangeOf(stream, floor).end,
      reverse: true,
      limit: q.limit,
    }))
      out.push({ ...positionOfKey(key), event: withoutChain(value) });
    return out;
  }

  async dailyCounts(fromDay: string, toDay: string): Promise<AuditDailyCount[]> {
    const out: AuditDailyCount[] = [];
    for (const { key, value } of this.index.getRange({
      start: ['#daily', fromDay],
      end: ['#daily', `${toDay}~`],
    }))
      out.push({ day: key[1] as string, client: key[2] as string, result: key[3] as string, count: value });
    return out;
  }

  async read(stream: AuditStream, positions: AuditPosition[]): Promise<(AuditEvent | null)[]> {
    return positions.map((p) => {
      const e = this.db.get(keyOf(stream, p.time, p.seq));
      return e ? withoutChain(e) : null;
    });
  }

  /**
   * Drops what is older than each stream's retention, then what is beyond its maxEvents, in
   * transactions of at most `batch` entries (LMDB has one writer: a login's commit waits for at
   * most one batch, never for a whole purge). The last entry dropped from a stream stays as its
   * anchor: the kept chain is verified from there. → how many entries were dropped.
   */
  async prune(batch = PRUNE_BATCH): Promise<number> {
    const oldest = dayOf(this.now() - this.retention.auth.maxAgeMs);
    await this.root.transaction(() => {
      for (const key of this.index.getKeys({ start: ['#daily', ''], end: ['#daily', oldest], limit: batch }))
        this.index.removeSync(key);
    });
    let dropped = 0;
    for (const s of AUDIT_STREAMS) {
      for (;;) {
        const n = await this.root.transaction(() => this.pruneSome(s, batch));
        dropped += n;
        if (n < batch) break;
        await new Promise((r) => setImmediate(r));
      }
    }
    return dropped;
  }

  private pruneSome(s: AuditStream, batch: number): number {
    const r = this.retention[s];
    const keys = [...this.db.getKeys({ ...rangeOf(s, this.now() - r.maxAgeMs), limit: batch })];
    const excess = r.maxEvents === undefined ? 0 : this.count(s) - keys.length - r.maxEvents;
    if (excess > 0 && keys.length < batch) {
      const more = { start: keys.length ? `${keys[keys.length - 1]}\u0000` : `${s}:`, end: `${s};` };
      keys.push(...this.db.getKeys({ ...more, limit: Math.min(excess, batch - keys.length) }));
    }
    if (keys.length === 0) return 0;
    let last: AuditEvent | undefined;
    for (const key of keys) {
      last = this.db.get(key);
      if (last) for (const ix of this.indexKeys(s, key, last)) this.index.removeSync(ix);
      this.db.removeSync(key);
    }
    if (last && (last as ChainedAuditEvent).chain) this.db.putSync(anchorKey(s), last);
    this.index.putSync(countKey(s), Math.max(0, this.count(s) - keys.length));
    return keys.length;
  }

  /** Moves events stored before streams existed: validate decisions to `auth`, the rest to `admin`. */
  migrate(): number {
    const moved = this.migrateLegacy();
    this.buildIndex();
    return moved;
  }

  /** Gives entries stored by versions without indexes their index entries and counts (once). */
  private buildIndex(): void {
    if (this.index.get(BUILT_KEY)) return;
    this.root.transactionSync(() => {
      for (const s of AUDIT_STREAMS) {
        let n = 0;
        for (const { key, value } of this.db.getRange(rangeOf(s))) {
          for (const ix of this.indexKeys(s, key, value)) this.index.putSync(ix, 1);
          n++;
        }
        this.index.putSync(countKey(s), n);
      }
      this.index.putSync(BUILT_KEY, 1);
    });
  }

  private migrateLegacy(): number {
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
