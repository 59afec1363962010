import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { type RedisProcess, startRedis } from '../../../test/harness/redis.ts';
import { AUDIT_FILTERS, type AuditQuery, searchAudit } from '../../audit/search.ts';
import type { AuditEvent } from '../../model/index.ts';
import { auditIndexValues, comparePositions, MAX_SEQ } from '../audit-index.ts';
import type { AuditIndexField, AuditPosition } from '../types.ts';
import {
  AUDIT_BLOCK_FIELDS,
  BLOCK_CAP,
  BLOCK_SPAN_MS,
  blocksOf,
  indexMember,
  positionsOf,
  seqText,
} from './audit-blocks.ts';
import { openRedisStore, type RedisStore } from './index.ts';
import { runScript } from './links.ts';

test('blocksOf: newest first, each block within BLOCK_CAP positions and BLOCK_SPAN_MS of its newest', () => {
  const random = rng(7);
  for (let round = 0; round < 300; round++) {
    const n = 1 + Math.floor(random() * 400);
    let t = 1_000_000;
    const times = Array.from({ length: n }, () => {
      t += Math.floor(random() * 4);
      // now and then one that waited: older than what came before it
      return random() < 0.05 ? t - Math.floor(random() * 3 * BLOCK_SPAN_MS) : t;
    });
    const entries = Array.from({ length: n }, (_, i) => i + 1).filter(() => random() < 0.7);
    const seqBase = 5000;
    const got: AuditPosition[] = [];
    for (const [newest, body] of blocksOf(times, entries)) {
      const member =
        indexMember({ time: times[newest - 1]!, seq: seqBase + newest }) + (body === '' ? '' : `:${body}`);
      const positions = positionsOf(member);
      assert.ok(positions.length <= BLOCK_CAP);
      positions.forEach((p, i) => {
        assert.ok(positions[0]!.time - p.time <= BLOCK_SPAN_MS, member);
        if (i > 0) assert.ok(comparePositions(positions[i - 1]!, p) > 0, member);
      });
      got.push(...positions);
    }
    const want = entries.map((e) => ({ time: times[e - 1]!, seq: seqBase + e }));
    const byPosition = (a: AuditPosition, b: AuditPosition) => comparePositions(a, b);
    assert.deepEqual(got.sort(byPosition), want.sort(byPosition));
  }
});

test('positionsOf reads a per-entry member as a block of one', () => {
  assert.deepEqual(positionsOf('000000000000500.0000000000000002'), [{ time: 500, seq: 2 }]);
  assert.deepEqual(positionsOf('000000000000501.0000000000000009:0.1,1.7'), [
    { time: 501, seq: 9 },
    { time: 501, seq: 8 },
    { time: 500, seq: 2 },
  ]);
});

/** A small seeded generator: a failure shows its seed and repeats. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let x = Math.imul(s ^ (s >>> 15), 1 | s);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

// The block index against a plain filter over every entry, on a real Redis: batches from several
// nodes with overlapping, repeated and straggling times, entries written the per-entry way (as an
// earlier version did) mixed in, cut by age and by count in between; every seek and every page
// must be what the per-entry index gave.
describe('redis block index, brute force', () => {
  const DAY = 86_400_000;
  const T0 = 1_780_000_000_000;
  const SEED = Number(process.env.AUDIT_BLOCK_SEED ?? 20261130);
  const random = rng(SEED);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const prefix = 'blk:';
  let redis: RedisProcess;
  let c: Redis;
  let store: RedisStore;
  let clock = T0;
  /** Every entry the stream should hold, by its id (detail.id). */
  const model = new Map<number, AuditEvent>();
  let nextId = 0;
  /** Each node's clock: the nodes' batches overlap in time. */
  const nodeTime: Record<string, number> = { n1: T0, n2: T0 + 40, n3: T0 - 30 };

  function event(node: string, time: number): AuditEvent {
    const id = nextId++;
    const client = random() < 0.1 ? undefined : pick(['vpn', 'mail', 'wifi', 'ssh']);
    const reason = pick(['OK', 'OTP_INVALID', 'LOCKED', undefined]);
    return {
      time,
      type: 'validate',
      actor: client ? `client:${client}` : 'admin:k1',
      username: `u${Math.floor(random() * 25)}`,
      result: pick(['accept', 'reject', 'challenge']),
      ...(reason ? { reason } : {}),
      detail: { node, id },
    };
  }

  function batch(): AuditEvent[] {
    const node = pick(Object.keys(nodeTime));
    const n = 1 + Math.floor(random() * (random() < 0.2 ? 260 : 40));
    const out: AuditEvent[] = [];
    for (let i = 0; i < n; i++) {
      nodeTime[node]! += random() < 0.4 ? 0 : Math.floor(random() * 4);
      const late = random() < 0.04 ? Math.floor(random() * 2.5 * BLOCK_SPAN_MS) : 0;
      out.push(event(node, nodeTime[node]! - late));
    }
    // now and then a node falls behind, so its batches land amid the others' times
    if (random() < 0.2) nodeTime[node]! -= Math.floor(random() * 300);
    return out;
  }

  /** What an earlier version wrote: the entry, then one member per index, each on its own. */
  async function appendPerEntry(events: AuditEvent[]): Promise<void> {
    for (const e of events) {
      const seq = await c.incr(`${prefix}audit:seq`);
      await c.zadd(`${prefix}audit:auth`, e.time, `${seqText(seq)}|${JSON.stringify(e)}`);
      for (const [field, value] of auditIndexValues(e))
        await c.zadd(`${prefix}audit:auth:ix:${field}:${value}`, 0, indexMember({ time: e.time, seq }));
    }
  }

  async function appendSome(batches: number): Promise<void> {
    for (let b = 0; b < batches; b++) {
      const events = batch();
      for (const e of events) model.set(e.detail!.id as number, e);
      if (random() < 0.2) await appendPerEntry(events);
      else await store.appendAudit(events, 'auth');
    }
  }

  type Entry = AuditPosition & { event: AuditEvent };

  /** The stream as stored, newest first; its size must be the model's (nothing lost or left over). */
  async function entries(): Promise<Entry[]> {
    const flat = await c.zrange(`${prefix}audit:auth`, '0', '-1', 'WITHSCORES');
    const out: Entry[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      const m = flat[i]!;
      const bar = m.indexOf('|');
      const event = JSON.parse(m.slice(bar + 1)) as AuditEvent;
      out.push({ time: Number(flat[i + 1]), seq: Number(m.slice(0, bar)), event });
    }
    assert.deepEqual(out.map((e) => e.event.detail!.id).sort(), [...model.keys()].sort());
    return out.sort((a, b) => comparePositions(b, a));
  }

  const fieldOf = (e: AuditEvent, field: AuditIndexField) =>
    auditIndexValues(e).find(([f]) => f === field)?.[1];

  /** Every block index seeks like a per-entry one: random tops (on, between and above entries). */
  async function checkSeeks(all: Entry[]): Promise<void> {
    for (const field of AUDIT_BLOCK_FIELDS) {
      const values = new Set(all.flatMap((e) => fieldOf(e.event, field) ?? []));
      for (const value of [...values, 'none']) {
        const matching = all.filter((e) => fieldOf(e.event, field) === value);
        for (let k = 0; k < 25; k++) {
          const at = all.length ? pick(all) : undefined;
          const tops: (AuditPosition | undefined)[] = [
            undefined,
            at,
            at && { time: at.time, seq: at.seq - 1 },
            at && { time: at.time, seq: MAX_SEQ },
            at && { time: at.time - 1, seq: MAX_SEQ },
            at && { time: at.time + Math.floor(random() * BLOCK_SPAN_MS), seq: 0 },
          ];
          const top = pick(tops);
          const from = random() < 0.3 && at ? at.time - Math.floor(random() * 400) : undefined;
          const limit = pick([1, 2, 5, 64, 300, 2000]);
          const want = matching
            .filter((e) => (!top || comparePositions(e, top) <= 0) && (from === undefined || e.time >= from))
            .slice(0, limit)
            .map(({ time, seq }) => ({ time, seq }));
          const got = await store.seekAudit!('auth', {
            where: { field, value },
            ...(top ? { atOrBelow: top } : {}),
            ...(from !== undefined ? { from } : {}),
            limit,
          });
          assert.deepEqual(got, want, JSON.stringify({ SEED, field, value, top, from, limit }));
        }
      }
    }
  }

  /** Every combination of filters, paged through with the cursor, against a plain filter. */
  async function checkPages(all: Entry[], sizes: number[]): Promise<void> {
    for (let mask = 0; mask < 1 << AUDIT_FILTERS.length; mask++) {
      const sample = all.length ? pick(all).event : undefined;
      const q: Omit<AuditQuery, 'limit'> = { stream: 'auth' };
      for (const [i, field] of AUDIT_FILTERS.entries())
        if (mask & (1 << i)) q[field] = (sample && fieldOf(sample, field)) ?? pick(['vpn', 'OK', 'n2']);
      if (random() < 0.25 && sample) {
        q.from = sample.time - 500;
        q.to = sample.time + 200;
      }
      const want = all
        .filter(
          (e) =>
            AUDIT_FILTERS.every((f) => q[f] === undefined || fieldOf(e.event, f) === q[f]) &&
            (q.from === undefined || e.time >= q.from) &&
            (q.to === undefined || e.time <= q.to),
        )
        .map((e) => e.event.detail!.id);
      for (const limit of sizes) {
        // a small step budget now and then: pages that run out of steps resume where they stopped
        const maxSteps = random() < 0.3 ? 30 : undefined;
        const got: unknown[] = [];
        let cursor: string | undefined;
        for (let page = 0; ; page++) {
          assert.ok(page < 10 * all.length + 100, 'paging ends');
          const r = await searchAudit(store, { ...q, limit, ...(cursor ? { cursor } : {}) }, maxSteps);
          assert.ok(r.items.length <= limit);
          got.push(...r.items.map((e) => e.detail!.id));
          if (!r.next) break;
          cursor = r.next;
        }
        assert.deepEqual(got, want, JSON.stringify({ SEED, q, limit, maxSteps }));
      }
    }
  }

  async function check(sizes: number[]): Promise<void> {
    const all = await entries();
    await checkSeeks(all);
    await checkPages(all, sizes);
  }

  /** Cuts by age at `cutoff` (older entries go) through the store's own retention. */
  async function cutByAge(cutoff: number): Promise<void> {
    clock = cutoff + DAY;
    await store.pruneAudit();
    for (const [id, e] of model) if (e.time < cutoff) model.delete(id);
    // what comes next is newer than the cut (an entry older would be dropped as it is appended)
    for (const node of Object.keys(nodeTime)) nodeTime[node] = Math.max(nodeTime[node]!, cutoff + 10_000);
  }

  /** Keeps the newest `keep` entries, through a store whose retention caps the stream there. */
  async function cutByCount(keep: number): Promise<void> {
    const all = await entries();
    const capped = await openRedisStore({
      url: redis.url,
      prefix,
      now: () => clock,
      auditRetention: { auth: { maxAgeMs: DAY, maxEvents: keep } },
    });
    try {
      await capped.pruneAudit();
    } finally {
      await capped.close();
    }
    for (const e of all.slice(keep)) model.delete(e.event.detail!.id as number);
  }

  beforeAll(async () => {
    redis = await startRedis();
    c = redis.client();
    // a store of an earlier version: entries without any index, indexed when the store opens
    const earlier = batch();
    for (const [i, e] of earlier.entries()) {
      model.set(e.detail!.id as number, e);
      await c.zadd(`${prefix}audit:auth`, e.time, `${seqText(i + 1)}|${JSON.stringify(e)}`);
    }
    await c.set(`${prefix}audit:seq`, earlier.length);
    store = await openRedisStore({
      url: redis.url,
      prefix,
      now: () => clock,
      auditRetention: { auth: { maxAgeMs: DAY } },
    });
    assert.equal(await c.get(`${prefix}audit:ix:built`), '1');
  });
  afterAll(async () => {
    c?.disconnect();
    await store?.close();
    await redis?.stop();
  });

  test('appended in blocks and per entry, mixed', async () => {
    await appendSome(30);
    const blocks = await c.zrange(`${prefix}audit:auth:ix:result:accept`, '0', '-1');
    assert.ok(
      blocks.some((m) => m.includes(':')),
      'the result index holds blocks',
    );
    assert.ok(
      blocks.some((m) => m.length === 32),
      'and per-entry members',
    );
    // an index rebuilt over entries already in blocks (a node that opened amid another's appends)
    await runScript(store.links.writer(), 'tsIndexAudit', [`${prefix}audit:auth`, 100, 300]);
    await check([1, 4, 25]);
  });

  test('after a cut by age through the middle of blocks', async () => {
    const all = await entries();
    await cutByAge(all[Math.floor(all.length / 2)]!.time);
    await check([3, 25]);
    await appendSome(15);
    await check([7]);
  });

  test('after a cut by count, which splits a millisecond', async () => {
    const all = await entries();
    let keep = Math.floor(all.length * 0.6);
    while (keep < all.length - 1 && all[keep]!.time !== all[keep - 1]!.time) keep++;
    await cutByCount(keep);
    await check([2, 25]);
    await appendSome(10);
    await check([1, 9]);
  });

  test('the cut leaves no member of a dropped entry in any index', async () => {
    const all = await entries();
    await cutByAge(all[Math.floor(all.length * 0.7)]!.time + 1);
    const live = new Set((await entries()).map((e) => indexMember(e)));
    for (const key of await c.keys(`${prefix}audit:auth:ix:*`))
      for (const m of await c.zrange(key, '0', '-1'))
        for (const p of positionsOf(m)) assert.ok(live.has(indexMember(p)), `${key} ${m}`);
    await check([5]);
  });
});
