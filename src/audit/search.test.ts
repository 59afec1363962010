import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'lmdb';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { type RedisProcess, startRedis } from '../../test/harness/redis.ts';
import type { AuditEvent } from '../model/index.ts';
import { type AuditStream, openEmbeddedStore, type Store } from '../store/index.ts';
import { openRedisStore } from '../store/redis/index.ts';
import { type AuditQuery, searchAudit } from './search.ts';

// Search through the stores' indexes: every filter alone and combined, paged by cursor, against
// the same filter applied to the whole trail; index entries leave with their events. Both stores.
let redis: RedisProcess;
const dirs: string[] = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

// within every default retention (a Redis append trims by the real clock)
const T0 = Date.now() - 3_600_000;
const DAY = 86_400_000;

/** Decision i: user u(i%7), client c(i%3), node n(i%2), every fifth refused. */
function decision(i: number): AuditEvent {
  const reject = i % 5 === 0;
  return {
    time: T0 + i * 10,
    type: 'validate',
    actor: `client:c${i % 3}`,
    username: `u${i % 7}`,
    result: reject ? 'reject' : 'accept',
    reason: reject ? (i % 2 ? 'OTP_INVALID' : 'USER_LOCKED') : 'OK',
    detail: { node: `n${i % 2}`, clientName: `C${i % 3}` },
  };
}

const adminEvent = (i: number): AuditEvent => ({
  time: T0 + i * 10 + 5,
  type: 'user.update',
  actor: 'admin:k1',
  username: `u${i % 7}`,
  result: 'ok',
});

async function pages(
  store: Store,
  q: Omit<AuditQuery, 'limit' | 'cursor'>,
  limit: number,
  maxSteps?: number,
) {
  const out: AuditEvent[] = [];
  let cursor: string | null = null;
  let n = 0;
  do {
    const page = await searchAudit(store, { ...q, limit, ...(cursor ? { cursor } : {}) }, maxSteps);
    assert.ok(page.items.length <= limit);
    out.push(...page.items);
    cursor = page.next;
    n++;
  } while (cursor && n < 10_000);
  return { items: out, pages: n };
}

function expected(all: AuditEvent[], q: Omit<AuditQuery, 'limit' | 'cursor'>): AuditEvent[] {
  return all
    .filter(
      (e) =>
        (q.stream === undefined || (q.stream === 'auth') === (e.type === 'validate')) &&
        (q.user === undefined || e.username === q.user) &&
        (q.client === undefined || e.actor === `client:${q.client}`) &&
        (q.result === undefined || e.result === q.result) &&
        (q.reason === undefined || e.reason === q.reason) &&
        (q.node === undefined || e.detail?.node === q.node) &&
        (q.from === undefined || e.time >= q.from) &&
        (q.to === undefined || e.time <= q.to),
    )
    .sort((a, b) => b.time - a.time);
}

const stores: [string, (retention?: { auth: { maxAgeMs: number } }, now?: () => number) => Promise<Store>][] =
  [
    [
      'embedded',
      async (retention, now) => {
        const dir = mkdtempSync(join(tmpdir(), 'tessera-search-'));
        dirs.push(dir);
        return openEmbeddedStore(dir, {
          ...(retention ? { auditRetention: retention } : {}),
          ...(now ? { now } : {}),
        });
      },
    ],
    [
      'redis',
      async (retention, now) =>
        openRedisStore({
          url: redis.url,
          prefix: `s${Math.random().toString(36).slice(2)}:`,
          ...(retention ? { auditRetention: retention } : {}),
          ...(now ? { now } : {}),
        }),
    ],
  ];

for (const [kind, open] of stores) {
  describe(`audit search through indexes (${kind} store)`, () => {
    let store: Store;
    const auth = Array.from({ length: 600 }, (_, i) => decision(i));
    const admin = Array.from({ length: 60 }, (_, i) => adminEvent(i * 10));
    const all = [...auth, ...admin];

    beforeAll(async () => {
      store = await open();
      for (let i = 0; i < auth.length; i += 100) await store.appendAudit(auth.slice(i, i + 100), 'auth');
      await store.appendAudit(admin, 'admin');
    });
    afterAll(async () => {
      await store?.close();
    });

    const cases: Omit<AuditQuery, 'limit' | 'cursor'>[] = [
      {},
      { stream: 'auth' as AuditStream },
      { user: 'u3' },
      { client: 'c1' },
      { node: 'n0', stream: 'auth' as AuditStream },
      { result: 'reject' },
      { reason: 'USER_LOCKED' },
      { user: 'u3', client: 'c2' },
      { user: 'u3', client: 'c2', node: 'n1', result: 'accept' },
      { client: 'c0', reason: 'OTP_INVALID', from: T0 + 1000, to: T0 + 4000 },
      { user: 'u5', from: T0 + 2000 },
      { user: 'nobody' },
      { user: 'u1', client: 'c9' },
    ];
    for (const q of cases)
      test(`${JSON.stringify(q)}: every page together is the filtered trail, newest first, no repeat, no gap`, async () => {
        const want = expected(all, q);
        for (const limit of [7, 50, 1000]) {
          const { items, pages: n } = await pages(store, q, limit);
          assert.deepEqual(
            items.map((e) => `${e.time}/${e.type}`),
            want.map((e) => `${e.time}/${e.type}`),
          );
          assert.equal(n, Math.max(1, Math.ceil(want.length / limit)));
        }
      });

    test('a page that runs out of steps still hands on a cursor, and the pages together miss nothing', async () => {
      const q = { user: 'u3', client: 'c2', result: 'reject' };
      const want = expected(all, q);
      assert.ok(want.length > 3);
      const { items, pages: n } = await pages(store, q, 10, 12);
      assert.deepEqual(
        items.map((e) => e.time),
        want.map((e) => e.time),
      );
      assert.ok(n > 1, 'a budget of 12 steps cannot finish in one page');
    });
  });

  test(`retention takes the index entries with the events (${kind} store)`, async () => {
    let now = T0 + 3 * DAY;
    const store = await open({ auth: { maxAgeMs: DAY } }, () => now);
    try {
      await store.appendAudit(
        [0, 1, 2, 3].map((i) => ({ ...decision(i), time: T0 + i * DAY })),
        'auth',
      );
      now = T0 + 3 * DAY + 1000;
      await store.pruneAudit();
      const left = await searchAudit(store, { user: 'u0', limit: 10 });
      assert.deepEqual(left.items, []);
      assert.deepEqual(
        await store.seekAudit!('auth', { where: { field: 'user', value: 'u1' }, limit: 10 }),
        [],
      );
      const kept = await store.seekAudit!('auth', { where: { field: 'user', value: 'u3' }, limit: 10 });
      assert.equal(kept.length, 1);
    } finally {
      await store.close();
    }
  });
}

describe('entries stored before indexes existed are indexed once, on upgrade', () => {
  const ev = (i: number): AuditEvent => ({ ...decision(i), username: 'legacy-user' });

  test('embedded: a trail without index entries is indexed when the store opens', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-upgrade-'));
    dirs.push(dir);
    const root = open({ path: join(dir, 'store'), maxDbs: 24, compression: false });
    const raw = root.openDB<AuditEvent, string>({ name: 'audit' });
    // what an earlier version wrote: stream keys only
    await raw.put(`auth:${String(ev(1).time).padStart(15, '0')}.000001`, ev(1));
    await raw.put(`auth:${String(ev(2).time).padStart(15, '0')}.000002`, ev(2));
    await root.close();
    const store = openEmbeddedStore(dir);
    try {
      const found = await searchAudit(store, { user: 'legacy-user', limit: 10 });
      assert.deepEqual(
        found.items.map((e) => e.time),
        [ev(2).time, ev(1).time],
      );
    } finally {
      await store.close();
    }
  });

  test('redis: members without index entries are indexed when the store opens', async () => {
    const prefix = `up${Math.random().toString(36).slice(2)}:`;
    const c = redis.client();
    try {
      for (const i of [1, 2])
        await c.zadd(
          `${prefix}audit:auth`,
          ev(i).time,
          `${String(i).padStart(16, '0')}|${JSON.stringify(ev(i))}`,
        );
      const store = await openRedisStore({ url: redis.url, prefix });
      try {
        const found = await searchAudit(store, { user: 'legacy-user', client: 'c1', limit: 10 });
        assert.deepEqual(
          found.items.map((e) => e.time),
          [ev(1).time],
        );
        assert.equal(await c.get(`${prefix}audit:ix:built`), '1');
      } finally {
        await store.close();
      }
    } finally {
      c.disconnect();
    }
  });
});
