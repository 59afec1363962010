import type { Redis } from 'ioredis';
import type { AuditEvent } from '../../model/index.ts';
import { auditIndexValues, dailyCounts } from '../audit-index.ts';
import { AUDIT_STREAMS, mergeNewestFirst, type OrderedAuditEvent } from '../audit-retention.ts';
import type {
  AuditChainView,
  AuditDailyCount,
  AuditHit,
  AuditIndexField,
  AuditPosition,
  AuditRetention,
  AuditSealer,
  AuditSeek,
  AuditStream,
  ChainedAuditEvent,
} from '../types.ts';
import {
  blocksOf,
  indexMember,
  isBlockIndexed,
  seekBlocks,
  seqText,
  TIME_CAP,
  timeText,
} from './audit-blocks.ts';
import { TRIM_BATCH } from './audit-scripts.ts';
import { parseJson } from './codec.ts';
import { runScript } from './links.ts';

const DAY_MS = 86_400_000;
/** The most entries one append script takes (see append). */
const APPEND_CHUNK = 100;

/** How the store runs a read (on the node's own Redis) and a write (on the master, no WAIT). */
export interface AuditAccess {
  read<T>(fn: (r: Redis) => Promise<T>): Promise<T>;
  write<T>(fn: (w: Redis) => Promise<T>): Promise<T>;
}

/**
 * The audit streams of the Redis store: each append also trims its stream by age (and count), so
 * retention holds without a sweeper on any node. Audit writes skip WAIT: an audit event never holds
 * up a validation.
 */
export class RedisAuditLog {
  private readonly keys: Record<AuditStream, string>;
  private readonly seq: string;
  private readonly legacy: string;
  private sealer: AuditSealer | null = null;

  constructor(
    prefix: string,
    private readonly access: AuditAccess,
    private readonly retention: AuditRetention,
    private readonly now: () => number,
  ) {
    this.keys = { auth: `${prefix}audit:auth`, admin: `${prefix}audit:admin`, event: `${prefix}audit:event` };
    this.seq = `${prefix}audit:seq`;
    this.legacy = `${prefix}audit`;
    this.indexBuilt = `${prefix}audit:ix:built`;
  }

  private readonly indexBuilt: string;

  /**
   * Newest first from `atOrBelow`: ZREVRANGEBYLEX on one index (a block index: its blocks merged,
   * seekBlocks), or ZREVRANGEBYSCORE on the stream (its members carry the event). Each is a
   * skip-list descent to the start and about `limit` steps.
   */
  async seek(stream: AuditStream, q: AuditSeek): Promise<AuditHit[]> {
    const top = q.atOrBelow;
    if (q.where) {
      const key = `${this.keys[stream]}:ix:${q.where.field}:${q.where.value}`;
      if (isBlockIndexed(q.where.field))
        return seekBlocks(
          (max, min, count) => this.access.read((r) => r.zrevrangebylex(key, max, min, 'LIMIT', 0, count)),
          top,
          q.from,
          q.limit,
        );
      const max = top === undefined || top.time > TIME_CAP ? '+' : `[${indexMember(top)}`;
      const min = q.from === undefined ? '-' : `[${timeText(q.from)}`;
      const members = await this.access.read((r) => r.zrevrangebylex(key, max, min, 'LIMIT', 0, q.limit));
      return members.map((m) => ({ time: Number(m.slice(0, 15)), seq: Number(m.slice(16)) }));
    }
    const key = this.keys[stream];
    const max = top === undefined ? '+inf' : String(top.time);
    const min = q.from === undefined ? '-inf' : String(q.from);
    const out: AuditHit[] = [];
    // members of the top millisecond above its sequence are skipped: few, one millisecond's worth
    for (let offset = 0; out.length < q.limit; ) {
      const want = q.limit - out.length + 8;
      const flat = await this.access.read((r) =>
        r.zrevrangebyscore(key, max, min, 'WITHSCORES', 'LIMIT', offset, want),
      );
      for (const m of parseMembers(flat)) {
        const seq = Number(m.order);
        if (top && m.time === top.time && seq > top.seq) continue;
        if (out.length < q.limit) out.push({ time: m.time, seq, event: withoutChain(m.event) });
      }
      if (flat.length < want * 2) break;
      offset += want;
    }
    return out;
  }

  /** Each position's millisecond of the stream, in one round trip, and the member of its sequence. */
  async read(stream: AuditStream, positions: AuditPosition[]): Promise<(AuditEvent | null)[]> {
    if (positions.length === 0) return [];
    const key = this.keys[stream];
    const replies = await this.access.read(async (r) => {
      const tx = r.pipeline();
      for (const p of positions) tx.zrangebyscore(key, p.time, p.time);
      return (await tx.exec()) ?? [];
    });
    return positions.map((p, i) => {
      const [err, members] = replies[i] ?? [null, []];
      if (err) throw err;
      const prefix = `${seqText(p.seq)}|`;
      const m = (members as string[]).find((x) => x.startsWith(prefix));
      return m ? withoutChain(parseJson<ChainedAuditEvent>(m.slice(prefix.length))) : null;
    });
  }

  /** Gives entries stored by versions without indexes their index entries (on the master, once). */
  async buildIndex(): Promise<void> {
    await this.access.write(async (w) => {
      if (await w.exists(this.indexBuilt)) return;
      for (const s of AUDIT_STREAMS)
        for (let rank = 0; ; rank += TRIM_BATCH)
          if (Number(await runScript(w, 'tsIndexAudit', [this.keys[s], rank, TRIM_BATCH])) < TRIM_BATCH)
            break;
      await w.set(this.indexBuilt, '1');
    });
  }

  private headKey(stream: AuditStream): string {
    return `${this.keys[stream]}:head`;
  }

  private anchorKeys(): string[] {
    return AUDIT_STREAMS.map((s) => `${this.keys[s]}:anchor`);
  }

  private trimArgs(): number[] {
    const now = this.now();
    return AUDIT_STREAMS.flatMap((s) => {
      const r = this.retention[s];
      return [Math.trunc(now - r.maxAgeMs), r.maxEvents ?? 0];
    });
  }

  /** The keys and trim arguments of APPEND_AUDIT for an append to `stream` (no payload yet). */
  private appendArgs(stream: AuditStream): (string | number)[] {
    const streams = AUDIT_STREAMS.map((s) => this.keys[s]);
    return [this.keys[stream], this.seq, ...streams, ...this.anchorKeys(), ...this.trimArgs()];
  }

  useSealer(sealer: AuditSealer): void {
    this.sealer = sealer;
  }

  /**
   * In scripts of at most APPEND_CHUNK entries: each entry adds six sorted-set members, and Redis
   * runs nothing else while a script runs, so a large batch must not hold up logins' scripts. Each
   * script adds its own entries to the daily counts, in the same step.
   */
  async append(events: AuditEvent[], stream: AuditStream): Promise<void> {
    if (events.length === 0) return this.appendChunk([], stream);
    for (let i = 0; i < events.length; i += APPEND_CHUNK)
      await this.appendChunk(events.slice(i, i + APPEND_CHUNK), stream);
  }

  /** The daily counts an append of these entries to `stream` adds (only the authentication log is counted). */
  private countArgs(events: AuditEvent[], stream: AuditStream): (string | number)[] {
    if (stream !== 'auth') return [0];
    const keep = this.retention.auth.maxAgeMs;
    const counts = dailyCounts(events);
    return [
      counts.length,
      ...counts.flatMap((c) => [
        c.day,
        `${c.client}\t${c.result}`,
        c.count,
        Date.parse(c.day) + DAY_MS + keep,
      ]),
    ];
  }

  private dailyKey(day: string): string {
    return `${this.keys.auth}:daily:${day}`;
  }

  async dailyCounts(fromDay: string, toDay: string): Promise<AuditDailyCount[]> {
    const days: string[] = [];
    for (let t = Date.parse(fromDay); t <= Date.parse(toDay) && days.length < 1000; t += DAY_MS)
      days.push(new Date(t).toISOString().slice(0, 10));
    const replies = await this.access.read(async (r) => {
      const tx = r.pipeline();
      for (const d of days) tx.hgetall(this.dailyKey(d));
      return (await tx.exec()) ?? [];
    });
    return days.flatMap((day, i) => {
      const [err, hash] = replies[i] ?? [null, {}];
      if (err) throw err;
      return Object.entries(hash as Record<string, string>).map(([field, n]) => {
        const tab = field.lastIndexOf('\t');
        return { day, client: field.slice(0, tab), result: field.slice(tab + 1), count: Number(n) };
      });
    });
  }

  private async appendChunk(events: AuditEvent[], stream: AuditStream): Promise<void> {
    if (this.sealer?.streams.includes(stream) && events.length > 0)
      return this.appendChained(this.sealer, events, stream);
    const payload = appendPayload(
      events.map((e) => Math.trunc(e.time)),
      events.map((e) => JSON.stringify(e)),
      events,
      this.countArgs(events, stream),
    );
    await this.access.write((w) => runScript(w, 'tsAppendAudit', [...this.appendArgs(stream), ...payload]));
  }

  /**
   * Seals the batch onto the head this node last saw and appends it only if that is still the
   * head (APPEND_CHAINED compares and appends in one step); another node's append in between
   * answers the new head, and the batch is sealed again onto it.
   */
  private async appendChained(sealer: AuditSealer, events: AuditEvent[], stream: AuditStream): Promise<void> {
    const streams = AUDIT_STREAMS.map((s) => this.keys[s]);
    const keys = [this.keys[stream], this.seq, ...streams, this.headKey(stream), ...this.anchorKeys()];
    const counts = this.countArgs(events, stream);
    await this.access.write(async (w) => {
      let head = (await w.get(this.headKey(stream))) ?? '';
      for (let attempt = 0; attempt < 50; attempt++) {
        const sealed = sealer.seal(stream, head ? parseJson<ChainedAuditEvent>(head) : null, events);
        const json = sealed.map((e) => JSON.stringify(e));
        const payload = appendPayload(
          sealed.map((e) => e.chain!.at),
          json,
          sealed,
          counts,
        );
        const answer = (await runScript(w, 'tsAppendChained', [
          ...keys,
          head,
          json[json.length - 1]!,
          ...this.trimArgs(),
          ...payload,
        ])) as [number, string?];
        if (Number(answer[0]) === 1) return;
        head = answer[1] ?? '';
      }
      throw new Error(`the ${stream} audit chain is too busy to append to`);
    });
  }

  async readChain(stream: AuditStream, range: { from?: number; to?: number } = {}): Promise<AuditChainView> {
    const key = this.keys[stream];
    return this.access.read(async (r) => {
      const min = range.from === undefined ? '-inf' : String(range.from);
      const max = range.to === undefined ? '+inf' : String(range.to);
      const below = range.from === undefined ? '-inf' : `(${range.from}`;
      const tx = r
        .multi()
        .zrangebyscore(key, min, max, 'WITHSCORES')
        .get(`${key}:anchor`)
        .get(this.headKey(stream))
        .zrevrangebyscore(key, below, '-inf', 'WITHSCORES', 'LIMIT', 0, 1);
      const replies = ((await tx.exec()) ?? []).map(([err, value]) => {
        if (err) throw err;
        return value;
      });
      const [flat, anchor, head, prior] = replies as [string[], string | null, string | null, string[]];
      const entries = parseMembers(flat).map((m) => ({
        position: m.time,
        event: m.event as ChainedAuditEvent,
      }));
      const before = range.from === undefined ? null : (parseMembers(prior)[0]?.event ?? null);
      return {
        anchor: anchor ? (parseMembers([anchor, '0'])[0]!.event as ChainedAuditEvent) : null,
        head: head ? parseJson<ChainedAuditEvent>(head) : null,
        before,
        entries,
      };
    });
  }

  async list(limit: number, stream?: AuditStream): Promise<AuditEvent[]> {
    const streams = stream ? [stream] : AUDIT_STREAMS;
    const n = Math.max(1, Math.trunc(limit));
    const lists = await this.access.read(async (r) => {
      const tx = r.multi();
      for (const s of streams) tx.zrevrange(this.keys[s], 0, n - 1, 'WITHSCORES');
      return ((await tx.exec()) ?? []).map(([err, flat]) => {
        if (err) throw err;
        return parseMembers(flat as string[]);
      });
    });
    return mergeNewestFirst(
      lists.map((l) => l.map((m) => ({ ...m, event: withoutChain(m.event) }))),
      n,
    );
  }

  /**
   * Trims every stream (appends trim too, TRIM_BATCH entries a stream at a time); repeats while a
   * stream still holds what it should not, each script short, so logins' scripts run in between.
   */
  async prune(): Promise<void> {
    for (let round = 0; round < 10_000; round++) {
      await this.access.write((w) => runScript(w, 'tsAppendAudit', [...this.appendArgs('admin'), 0, 0]));
      const left = await this.access.write(async (w) => {
        const tx = w.multi();
        const cut = this.trimArgs();
        AUDIT_STREAMS.forEach((s, i) => {
          tx.zcount(this.keys[s], '-inf', `(${cut[2 * i]}`);
          tx.zcard(this.keys[s]);
        });
        return ((await tx.exec()) ?? []).map(([err, n]) => {
          if (err) throw err;
          return Number(n);
        });
      });
      const over = AUDIT_STREAMS.some((s, i) => {
        const cap = this.retention[s].maxEvents;
        return left[2 * i]! > 0 || (cap !== undefined && left[2 * i + 1]! > cap);
      });
      if (!over) return;
      await new Promise((r) => setImmediate(r));
    }
  }

  /** Moves the single list of earlier versions into the streams (on the master, once). */
  async migrate(): Promise<number> {
    const moved = Number(
      await this.access.write((w) =>
        runScript(w, 'tsMigrateAudit', [this.legacy, this.keys.auth, this.keys.admin, this.seq]),
      ),
    );
    await this.buildIndex();
    return moved;
  }
}

/**
 * The append scripts' payload (append_entries in audit-scripts.ts): the counts, each entry's time
 * and JSON, then its index entries grouped by index, so that one ZADD writes an index's share of
 * the batch: the per-entry indexes' groups, then the block indexes' blocks (audit-blocks.ts).
 */
function appendPayload(
  times: number[],
  json: string[],
  events: AuditEvent[],
  counts: (string | number)[],
): (string | number)[] {
  const out: (string | number)[] = [...counts, events.length];
  for (let i = 0; i < events.length; i++) out.push(times[i]!, json[i]!);
  const groups = new Map<string, { field: AuditIndexField; entries: number[] }>();
  events.forEach((e, i) => {
    for (const [field, value] of auditIndexValues(e)) {
      const name = `${field}:${value}`;
      const group = groups.get(name);
      if (group) group.entries.push(i + 1);
      else groups.set(name, { field, entries: [i + 1] });
    }
  });
  const perEntry: (string | number)[] = [];
  const blocks: (string | number)[] = [];
  let count = 0;
  for (const [name, { field, entries }] of groups)
    if (isBlockIndexed(field))
      for (const [newest, body] of blocksOf(times, entries)) blocks.push(name, newest, body);
    else {
      perEntry.push(name, entries.length, ...entries);
      count++;
    }
  out.push(count, ...perEntry, ...blocks);
  return out;
}

/** ZREVRANGE … WITHSCORES: member, score, member, score; a member is "<sequence>|<event JSON>". */
function parseMembers(items: string[]): OrderedAuditEvent[] {
  const out: OrderedAuditEvent[] = [];
  for (let i = 0; i + 1 < items.length; i += 2) {
    const member = items[i]!;
    const bar = member.indexOf('|');
    out.push({
      time: Number(items[i + 1]),
      order: member.slice(0, bar),
      event: parseJson<AuditEvent>(member.slice(bar + 1)),
    });
  }
  return out;
}

function withoutChain(e: ChainedAuditEvent): AuditEvent {
  const { chain: _chain, ...event } = e;
  return event;
}
