import assert from 'node:assert/strict';
import { describe, test } from 'vitest';
import type { AuditEvent } from '../model/index.ts';
import { auditIndexValues, dailyCounts, dayOf } from './audit-index.ts';

const DAY = 86_400_000;
const T0 = Date.parse('2026-03-01T23:59:59.000Z');

/** The counts taken the plain way: one key per entry. */
function bruteCounts(events: AuditEvent[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const e of events) {
    const client = e.actor.startsWith('client:') ? e.actor.slice(7) : '';
    const key = `${dayOf(e.time)}|${client}|${e.result ?? ''}`;
    out.set(key, (out.get(key) ?? 0) + 1);
  }
  return out;
}

describe('dailyCounts', () => {
  test('equals one count per entry over runs of alike entries, days, clients and results', () => {
    let seed = 7;
    const random = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return Math.floor(seed / 65_536) % n;
    };
    const actors = ['client:c1', 'client:c12', 'client:c2', 'client:', 'admin:k', 'node:a'];
    const results = ['accept', 'reject', 'challenge', undefined];
    const events: AuditEvent[] = [];
    let actor = actors[0]!;
    let result = results[0];
    for (let i = 0; i < 3_000; i++) {
      // runs of the same client and result, as a busy node's batch has them
      if (random(10) === 0) actor = actors[random(actors.length)]!;
      if (random(8) === 0) result = results[random(results.length)];
      const e: AuditEvent = { time: T0 + i * 97 + random(2) * DAY, type: 'validate', actor };
      if (result !== undefined) e.result = result;
      events.push(e);
    }
    const got = new Map(dailyCounts(events).map((c) => [`${c.day}|${c.client}|${c.result}`, c.count]));
    assert.deepEqual(got, bruteCounts(events));
    assert.ok(got.size > 20, `a mixed batch (${got.size} counts)`);
  });

  test('a client id that only ends like the previous one is counted apart', () => {
    const e = (actor: string): AuditEvent => ({ time: T0, type: 'validate', actor, result: 'accept' });
    const counts = dailyCounts([e('client:c2'), e('client:c12'), e('client:c12'), e('node:c2')]);
    assert.deepEqual(
      counts.map((c) => [c.client, c.count]),
      [
        ['c2', 1],
        ['c12', 2],
        ['', 1],
      ],
    );
  });
});

describe('auditIndexValues', () => {
  test('every field with a value, none without', () => {
    assert.deepEqual(
      auditIndexValues({
        time: 1,
        type: 'validate',
        actor: 'client:c1',
        username: 'u',
        result: 'accept',
        reason: 'OK',
        detail: { node: 'n1' },
      }),
      [
        ['user', 'u'],
        ['client', 'c1'],
        ['result', 'accept'],
        ['reason', 'OK'],
        ['node', 'n1'],
      ],
    );
    assert.deepEqual(
      auditIndexValues({ time: 1, type: 'x', actor: 'client:', username: '', detail: { node: 3 } }),
      [],
    );
    assert.deepEqual(auditIndexValues({ time: 1, type: 'x', actor: 'admin:k', result: 'ok' }), [
      ['result', 'ok'],
    ]);
  });
});
