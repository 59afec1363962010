import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, test } from 'vitest';
import { type RedisProcess, startRedis } from '../../test/harness/redis.ts';
import type { AuditEvent } from '../model/index.ts';
import { sampleUser } from '../store/fixtures.ts';
import { openEmbeddedStore } from '../store/index.ts';
import { TRIM_BATCH } from '../store/redis/audit-scripts.ts';
import { openRedisStore } from '../store/redis/index.ts';

// Retention purges in the background in bounded steps: a login's write gets in while a large purge
// runs (embedded: one LMDB writer), and no Redis script drops more than TRIM_BATCH entries.
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
const old = (i: number, now: number): AuditEvent => ({
  time: now - 100 * DAY + i,
  type: 'validate',
  actor: 'client:c',
  username: `u${i % 50}`,
  result: 'reject',
  reason: 'OTP_INVALID',
});

test('embedded: a purge of 20,000 expired entries lets a login commit in before it ends', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-purge-'));
  dirs.push(dir);
  let now = Date.now() - 200 * DAY;
  const store = openEmbeddedStore(dir, { now: () => now });
  try {
    for (let i = 0; i < 20_000; i += 2000)
      await store.appendAudit(
        Array.from({ length: 2000 }, (_, k) => old(i + k, Date.now())),
        'auth',
      );
    await store.createUser(sampleUser('login'));
    now = Date.now();
    let purged = false;
    const purge = store.pruneAudit().then(() => {
      purged = true;
    });
    // a login's writes: reserve an attempt, then accept; each is its own write transaction
    await new Promise((r) => setImmediate(r));
    const accepted = await store.commitAccept('login', 'NONE', { kind: 'hotp', counter: 1 }, now);
    const loginDoneFirst = !purged;
    await purge;
    assert.equal(typeof accepted, 'boolean');
    assert.ok(loginDoneFirst, 'the login waited for the whole purge');
    assert.equal((await store.listAudit(10, 'auth')).length, 0);
    assert.deepEqual(await store.seekAudit!('auth', { where: { field: 'user', value: 'u7' }, limit: 5 }), []);
  } finally {
    await store.close();
  }
});

test('redis: an append drops at most TRIM_BATCH expired entries; a prune drops them all, a script at a time', async () => {
  let now = Date.now() - 200 * DAY;
  const store = await openRedisStore({ url: redis.url, prefix: 'purge:', now: () => now });
  const c = redis.client();
  try {
    const n = 2 * TRIM_BATCH + 500;
    for (let i = 0; i < n; i += 500)
      await store.appendAudit(
        Array.from({ length: 500 }, (_, k) => old(i + k, Date.now())),
        'auth',
      );
    assert.equal(await c.zcard('purge:audit:auth'), n);
    now = Date.now();
    await store.appendAudit([{ ...old(0, now), time: now }], 'auth');
    assert.equal(await c.zcard('purge:audit:auth'), n - TRIM_BATCH + 1);
    await store.pruneAudit();
    assert.equal(await c.zcard('purge:audit:auth'), 1);
    const left = await c.keys('purge:audit:auth:ix:*');
    assert.deepEqual(left.sort(), [
      'purge:audit:auth:ix:client:c',
      'purge:audit:auth:ix:reason:OTP_INVALID',
      'purge:audit:auth:ix:result:reject',
      'purge:audit:auth:ix:user:u0',
    ]);
    for (const k of left) assert.equal(await c.zcard(k), 1, k);
  } finally {
    c.disconnect();
    await store.close();
  }
});
