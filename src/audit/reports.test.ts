import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { type RedisProcess, startRedis } from '../../test/harness/redis.ts';
import type { AuditEvent } from '../model/index.ts';
import { sampleToken, sampleUser } from '../store/fixtures.ts';
import { openEmbeddedStore, type Store } from '../store/index.ts';
import { openRedisStore, type RedisStore } from '../store/redis/index.ts';
import { loginsPerDay, MAX_REPORT_DAYS, reportSpan, unusedTokens } from './reports.ts';

// Reports on both stores where time matters: counts over several days (kept as the log is
// appended), and "not used for N days" for TOTP (step time) and HOTP (the user's last success).
let redis: RedisProcess;
const dirs: string[] = [];
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const DAY = 86_400_000;
const NOW = Math.floor(Date.now() / DAY) * DAY + 12 * 3_600_000;
const day = (t: number) => new Date(t).toISOString().slice(0, 10);
const decision = (time: number, client: string, result: string): AuditEvent => ({
  time,
  type: 'validate',
  actor: `client:${client}`,
  username: 'u',
  result,
  reason: result === 'accept' ? 'OK' : 'OTP_INVALID',
});

/** A store, and another view of the same data (on Redis: another node's connections). */
const opens: [string, () => Promise<Store>, (store: Store) => Promise<Store>][] = [
  [
    'embedded',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'tessera-reports-'));
      dirs.push(dir);
      return openEmbeddedStore(dir);
    },
    async (store) => store,
  ],
  [
    'redis',
    async () => openRedisStore({ url: redis.url, prefix: `r${Math.random().toString(36).slice(2)}:` }),
    async (store) => openRedisStore({ url: redis.url, prefix: (store as RedisStore).prefix }),
  ],
];

test('reportSpan: the last 30 days by default; a reversed or too long span is refused, naming the parameter', () => {
  const names = { from: '--from', to: '--to' };
  assert.deepEqual(reportSpan({}, NOW, names), { from: NOW - 29 * DAY, to: NOW });
  assert.deepEqual(reportSpan({ to: NOW - DAY }, NOW, names), { from: NOW - 30 * DAY, to: NOW - DAY });
  assert.deepEqual(reportSpan({ from: NOW - DAY }, NOW, names), { from: NOW - DAY, to: NOW });
  assert.equal(reportSpan({ from: NOW + 1 }, NOW, names), '--from is after --to');
  assert.equal(
    reportSpan({ from: NOW - MAX_REPORT_DAYS * DAY - 1, to: NOW }, NOW, names),
    '--from: a report spans at most 731 days',
  );
  assert.deepEqual(reportSpan({ from: NOW - MAX_REPORT_DAYS * DAY, to: NOW }, NOW, names), {
    from: NOW - MAX_REPORT_DAYS * DAY,
    to: NOW,
  });
});

for (const [kind, open, openBeside] of opens)
  describe(`reports (${kind} store)`, () => {
    test('logins and failures per day per relying system over several days, summed across batches', async () => {
      const store = await open();
      try {
        await store.appendAudit(
          [
            decision(NOW - 2 * DAY, 'a', 'accept'),
            decision(NOW - 2 * DAY, 'a', 'reject'),
            decision(NOW, 'b', 'challenge'),
          ],
          'auth',
        );
        await store.appendAudit(
          [decision(NOW - 2 * DAY + 1, 'a', 'accept'), decision(NOW - DAY, 'b', 'reject')],
          'auth',
        );
        await store.appendAudit([{ time: NOW, type: 'user.create', actor: 'admin:k' }], 'admin');
        const rows = await loginsPerDay(store, NOW - 3 * DAY, NOW);
        assert.deepEqual(
          rows.map((r) => [r.day, r.client, r.logins, r.failures, r.challenges, r.total]),
          [
            [day(NOW - 2 * DAY), 'a', 2, 1, 0, 3],
            [day(NOW - DAY), 'b', 0, 1, 0, 1],
            [day(NOW), 'b', 0, 0, 1, 1],
          ],
        );
        assert.deepEqual(
          (await loginsPerDay(store, NOW - DAY, NOW - DAY)).map((r) => r.client),
          ['b'],
        );
      } finally {
        await store.close();
      }
    });

    test('the daily counts land with their entries: a reader never sees an entry its count lacks', async () => {
      const store = await open();
      const reader = await openBeside(store);
      try {
        const batches = 40;
        let appended = 0;
        const writers = Array.from({ length: 4 }, async (_, w) => {
          for (let b = w; b < batches; b += 4) {
            await store.appendAudit(
              Array.from({ length: 25 }, (_, i) =>
                decision(NOW, `c${(b + i) % 3}`, i % 4 ? 'accept' : 'reject'),
              ),
              'auth',
            );
            appended += 25;
          }
        });
        let checks = 0;
        const check = async () => {
          // the entries first, the counts after: counts written with their entries can only be ahead
          const stored = (await reader.listAudit(batches * 25, 'auth')).length;
          const counted = (await reader.auditDailyCounts!(day(NOW), day(NOW))).reduce(
            (n, c) => n + c.count,
            0,
          );
          assert.ok(counted >= stored, `${stored} entries stored but ${counted} counted`);
          checks++;
        };
        const checking = (async () => {
          while (appended < batches * 25) {
            await check();
            // the embedded store answers from memory: let its commits in between
            await new Promise((r) => setImmediate(r));
          }
        })();
        await Promise.all([...writers, checking]);
        await check();
        assert.ok(checks > 1);
        const rows = await loginsPerDay(reader, NOW, NOW);
        assert.equal(
          rows.reduce((n, r) => n + r.total, 0),
          batches * 25,
        );
        assert.equal(
          rows.reduce((n, r) => n + r.failures, 0),
          batches * 7,
        );
      } finally {
        if (reader !== store) await reader.close();
        await store.close();
      }
    });

    test("unused tokens: never used, and not used for N days (TOTP by its step, HOTP by its user's last success)", async () => {
      const store = await open();
      try {
        for (const u of ['t-old', 't-new', 't-never', 'h-old', 'h-never'])
          await store.createUser(sampleUser(u));
        await store.putToken(sampleToken('TOLD', 't-old'));
        await store.putToken(sampleToken('TNEW', 't-new'));
        await store.putToken(sampleToken('TNEVER', 't-never'));
        await store.putToken(sampleToken('HOLD', 'h-old', { type: 'hotp' }));
        await store.putToken(sampleToken('HNEVER', 'h-never', { type: 'hotp' }));
        const step = (t: number) => Math.floor(t / 30_000);
        await store.commitAccept(
          't-old',
          'TOLD',
          { kind: 'totp', step: step(NOW - 40 * DAY), drift: 0 },
          NOW - 40 * DAY,
        );
        await store.commitAccept(
          't-new',
          'TNEW',
          { kind: 'totp', step: step(NOW - DAY), drift: 0 },
          NOW - DAY,
        );
        await store.commitAccept('h-old', 'HOLD', { kind: 'hotp', counter: 1 }, NOW - 40 * DAY);
        const never = await unusedTokens(store, NOW, undefined, 100);
        assert.deepEqual(
          never.items.map((t) => t.serial),
          ['HNEVER', 'TNEVER'],
        );
        const month = await unusedTokens(store, NOW, 30, 100);
        assert.deepEqual(
          month.items.map((t) => [t.serial, t.neverUsed]),
          [
            ['HNEVER', true],
            ['HOLD', false],
            ['TNEVER', true],
            ['TOLD', false],
          ],
        );
        const told = month.items.find((t) => t.serial === 'TOLD')!;
        assert.ok(Math.abs(told.lastUsedAt! - (NOW - 40 * DAY)) < 30_000);
        const paged = await unusedTokens(store, NOW, 30, 3);
        assert.equal(paged.items.length, 3);
        assert.equal(paged.next, 't-never');
        const rest = await unusedTokens(store, NOW, 30, 3, paged.next!);
        assert.deepEqual(
          rest.items.map((t) => t.serial),
          ['TOLD'],
        );
        assert.equal(rest.next, null);
      } finally {
        await store.close();
      }
    });
  });
