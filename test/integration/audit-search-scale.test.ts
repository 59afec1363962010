import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { encodeCursor, searchAudit } from '../../src/audit/search.ts';
import type { AuditEvent } from '../../src/model/index.ts';
import { MAX_SEQ, openEmbeddedStore, type Store } from '../../src/store/index.ts';
import { openRedisStore } from '../../src/store/redis/index.ts';
import { type RedisProcess, startRedis } from '../harness/redis.ts';

// Constant time per page: on a trail of 200,000 authentication entries, a page near the oldest end
// costs about what the first page costs, with no filter, one filter and two combined, on both
// stores. Measured as a ratio of the fastest of each in the same run (a scan would make it ~1000×).
const N = 200_000;
const T0 = Date.now() - N * 10 - 60_000;

let redis: RedisProcess;
const dir = mkdtempSync(join(tmpdir(), 'tessera-scale-'));
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function decision(i: number): AuditEvent {
  return {
    time: T0 + i * 10,
    type: 'validate',
    actor: `client:c${i % 10}`,
    username: `user${i % 1000}`,
    result: i % 4 === 0 ? 'reject' : 'accept',
    reason: i % 4 === 0 ? 'OTP_INVALID' : 'OK',
    detail: { node: `n${i % 3}`, clientName: `C${i % 10}`, latencyMs: 1.5 },
  };
}

/**
 * The cheapest of several measurements of each, taken in turns: noise only ever adds time, so the
 * minimum is the page's own cost (a median still read 11.7× once, on a busy machine, with both
 * pages in memory).
 */
async function fastest(
  a: () => Promise<unknown>,
  b: () => Promise<unknown>,
  runs = 15,
): Promise<[number, number]> {
  const best: [number, number] = [Infinity, Infinity];
  const time = async (fn: () => Promise<unknown>) => {
    const t = process.hrtime.bigint();
    await fn();
    return Number(process.hrtime.bigint() - t) / 1e6;
  };
  for (let i = 0; i < runs; i++) {
    best[0] = Math.min(best[0], await time(a));
    best[1] = Math.min(best[1], await time(b));
  }
  return best;
}

for (const kind of ['embedded', 'redis'] as const) {
  describe(`a deep page costs what the first does (${kind} store, ${N} entries)`, () => {
    let store: Store;
    beforeAll(async () => {
      store =
        kind === 'embedded'
          ? openEmbeddedStore(join(dir, kind))
          : await openRedisStore({ url: redis.url, prefix: 'scale:' });
      const batch = 2000;
      for (let i = 0; i < N; i += batch)
        await store.appendAudit(
          Array.from({ length: batch }, (_, k) => decision(i + k)),
          'auth',
        );
    });
    afterAll(async () => {
      await store?.close();
    });

    const deep = encodeCursor({ time: T0 + 60_000 * 10, seq: MAX_SEQ, stream: '*' });
    for (const [name, filters] of [
      ['no filter', {}],
      ['user', { user: 'user7' }],
      ['client and node', { client: 'c4', node: 'n1' }],
    ] as const)
      test(name, async () => {
        const q = { stream: 'auth' as const, limit: 50, ...filters };
        const first = await searchAudit(store, q);
        const late = await searchAudit(store, { ...q, cursor: deep });
        assert.equal(first.items.length, 50);
        assert.equal(late.items.length, 50, 'the deep page is as full as the first');
        assert.ok(late.items.every((e) => e.time <= T0 + 60_000 * 10));
        const [a, b] = await fastest(
          () => searchAudit(store, q),
          () => searchAudit(store, { ...q, cursor: deep }),
        );
        const ratio = b / a;
        console.log(
          `${kind} ${name}: first page ${a.toFixed(2)} ms, deep page ${b.toFixed(2)} ms, ratio ${ratio.toFixed(2)}`,
        );
        assert.ok(ratio < 3, `deep/first = ${ratio.toFixed(2)}`);
      });
  });
}
