import type { Redis } from 'ioredis';
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
import { parseJson } from './codec.ts';
import { runScript } from './links.ts';

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

  /** The keys and trim arguments of APPEND_AUDIT for an append to `stream` (no events yet). */
  private appendArgs(stream: AuditStream): (string | number)[] {
    const streams = AUDIT_STREAMS.map((s) => this.keys[s]);
    return [this.keys[stream], this.seq, ...streams, ...this.anchorKeys(), ...this.trimArgs()];
  }

  useSealer(sealer: AuditSealer): void {
    this.sealer = sealer;
  }

  async append(events: AuditEvent[], stream: AuditStream): Promise<void> {
    if (this.sealer?.streams.includes(stream) && events.length > 0)
      return this.appendChained(this.sealer, events, stream);
    const pairs = events.flatMap((e) => [Math.trunc(e.time), JSON.stringify(e)]);
    await this.access.write((w) => runScript(w, 'tsAppendAudit', [...this.appendArgs(stream), ...pairs]));
  }

  /**
   * Seals the batch onto the head this node last saw and appends it only if that is still the
   * head (APPEND_CHAINED compares and appends in one step); another node's append in between
   * answers the new head, and the batch is sealed again onto it.
   */
  private async appendChained(sealer: AuditSealer, events: AuditEvent[], stream: AuditStream): Promise<void> {
    const streams = AUDIT_STREAMS.map((s) => this.keys[s]);
    const keys = [this.keys[stream], this.seq, ...streams, this.headKey(stream), ...this.anchorKeys()];
    await this.access.write(async (w) => {
      let head = (await w.get(this.headKey(stream))) ?? '';
      for (let attempt = 0; attempt < 50; attempt++) {
        const sealed = sealer.seal(stream, head ? parseJson<ChainedAuditEvent>(head) : null, events);
        const json = sealed.map((e) => JSON.stringify(e));
        const pairs = sealed.flatMap((e, i) => [e.chain!.at, json[i]!]);
        const answer = (await runScript(w, 'tsAppendChained', [
          ...keys,
          head,
          json[json.length - 1]!,
          ...this.trimArgs(),
          ...pairs,
        ])) as [number, string?];
        if (Number(answer[0]) === 1) return;
        head = answer[1] ?? '';
      }
      throw new Error(`the ${stream} audit chain is too busy to append to`);
    });
  }

  /** Newest first in pages of ZREVRANGEBYSCORE; members of the `after` time at or above it are skipped. */
  async *scan(stream: AuditStream, range: AuditScanRange): AsyncIterable<AuditScanItem> {
    const key = this.keys[stream];
    let max = range.to;
    if (range.after && (max === undefined || range.after.time < max)) max = range.after.time;
    const top = max === undefined ? '+inf' : String(max);
    const bottom = range.from === undefined ? '-inf' : String(range.from);
    const batch = 500;
    for (let offset = 0; ; offset += batch) {
      const flat = await this.access.read((r) =>
        r.zrevrangebyscore(key, top, bottom, 'WITHSCORES', 'LIMIT', offset, batch),
      );
      for (const m of parseMembers(flat)) {
        const a = range.after;
        if (a && m.time === a.time && m.order >= a.order) continue;
        yield { ...m, event: withoutChain(m.event) };
      }
      if (flat.length < batch * 2) return;
    }
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

  async prune(): Promise<void> {
    await this.access.write((w) => runScript(w, 'tsAppendAudit', this.appendArgs('admin')));
  }

  /** Moves the single list of earlier versions into the streams (on the master, once). */
  async migrate(): Promise<number> {
    return Number(
      await this.access.write((w) =>
        runScript(w, 'tsMigrateAudit', [this.legacy, this.keys.auth, this.keys.admin, this.seq]),
      ),
    );
  }
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
