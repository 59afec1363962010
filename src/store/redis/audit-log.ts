import type { Redis } from 'ioredis';
import type { AuditEvent } from '../../model/index.ts';
import { AUDIT_STREAMS, mergeNewestFirst, type OrderedAuditEvent } from '../audit-retention.ts';
import type { AuditRetention, AuditStream } from '../types.ts';
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

  /** The keys and trim arguments of APPEND_AUDIT for an append to `stream` (no events yet). */
  private appendArgs(stream: AuditStream): (string | number)[] {
    const now = this.now();
    const trims = AUDIT_STREAMS.flatMap((s) => {
      const r = this.retention[s];
      return [Math.trunc(now - r.maxAgeMs), r.maxEvents ?? 0];
    });
    return [this.keys[stream], this.seq, ...AUDIT_STREAMS.map((s) => this.keys[s]), ...trims];
  }

  async append(events: AuditEvent[], stream: AuditStream): Promise<void> {
    const pairs = events.flatMap((e) => [Math.trunc(e.time), JSON.stringify(e)]);
    await this.access.write((w) => runScript(w, 'tsAppendAudit', [...this.appendArgs(stream), ...pairs]));
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
    return mergeNewestFirst(lists, n);
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
