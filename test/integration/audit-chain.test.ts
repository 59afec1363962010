import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { open } from 'lmdb';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { AuditKeys, ChainSealer, verifyStream } from '../../src/audit/index.ts';
import type { AuditEvent } from '../../src/model/index.ts';
import { openRedisStore, type RedisStore } from '../../src/store/redis/index.ts';
import { type RedisProcess, startRedis } from '../harness/redis.ts';
import { Api, runCli, startTessera, type TesseraHandle } from '../harness/tessera.ts';

// The hash-chained admin trail on a real Redis, from several connections at once, and
// `tessera audit verify` through the real CLI against both stores.
// recent: the default retention (400 days) trims older events on append
const T0 = Date.now() - 3_600_000;
const ev = (i: number): AuditEvent => ({
  time: T0 + i * 1000,
  type: 'user.update',
  actor: 'admin:k',
  username: `u${i}`,
});
const keys = AuditKeys.fromKeys('t1', { t1: randomBytes(32) });

let redis: RedisProcess;
let c: Redis;
const opened: RedisStore[] = [];

async function storeAt(prefix: string, opts: { now?: () => number; adminDays?: number } = {}) {
  const store = await openRedisStore({
    url: redis.url,
    prefix,
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.adminDays ? { auditRetention: { admin: { maxAgeMs: opts.adminDays * 86_400_000 } } } : {}),
  });
  store.useAuditSealer(new ChainSealer(keys));
  opened.push(store);
  return store;
}

/** The admin stream's members in storage order, with their scores. */
async function members(prefix: string): Promise<{ member: string; score: string }[]> {
  const flat = await c.zrange(`${prefix}audit:admin`, '0', '-1', 'WITHSCORES');
  const out = [];
  for (let i = 0; i < flat.length; i += 2) out.push({ member: flat[i]!, score: flat[i + 1]! });
  return out;
}

beforeAll(async () => {
  redis = await startRedis();
  c = redis.client();
});
afterAll(async () => {
  c?.disconnect();
  for (const s of opened) await s.close();
  await redis?.stop();
});

describe('the chained admin trail on Redis', () => {
  test('two connections appending at once (as two nodes would) never fork the chain', async () => {
    const a = await storeAt('race:');
    const b = await storeAt('race:');
    await Promise.all(
      Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).appendAudit([ev(i), ev(i + 1)], 'admin')),
    );
    assert.deepEqual(await verifyStream(a, keys, 'admin'), {
      ok: true,
      stream: 'admin',
      checked: 60,
      first: 1,
      last: 60,
    });
    assert.equal((await a.listAudit(100, 'admin')).length, 60);
  });

  test('an edited, a deleted and a reordered entry each fail verify at exactly that entry', async () => {
    const s = await storeAt('tamper:');
    for (let i = 1; i <= 6; i++) await s.appendAudit([ev(i)], 'admin');
    assert.equal((await verifyStream(s, keys, 'admin')).ok, true);
    const key = 'tamper:audit:admin';
    const m = await members('tamper:');

    // edit entry 4
    const edited = m[3]!.member.replace('"username":"u4"', '"username":"mallory"');
    assert.notEqual(edited, m[3]!.member);
    await c.multi().zrem(key, m[3]!.member).zadd(key, m[3]!.score, edited).exec();
    let r = await verifyStream(s, keys, 'admin');
    assert.equal(!r.ok && r.seq, 4, JSON.stringify(r));
    assert.match(!r.ok ? r.problem : '', /signature/);
    await c.multi().zrem(key, edited).zadd(key, m[3]!.score, m[3]!.member).exec();
    assert.equal((await verifyStream(s, keys, 'admin')).ok, true, 'restored');

    // delete entry 3
    await c.zrem(key, m[2]!.member);
    r = await verifyStream(s, keys, 'admin');
    assert.equal(!r.ok && r.seq, 3, JSON.stringify(r));
    assert.match(!r.ok ? r.problem : '', /missing/);
    await c.zadd(key, m[2]!.score, m[2]!.member);

    // reorder entries 2 and 3 (swap their scores)
    await c.multi().zadd(key, m[2]!.score, m[1]!.member).zadd(key, m[1]!.score, m[2]!.member).exec();
    r = await verifyStream(s, keys, 'admin');
    assert.equal(!r.ok && r.seq, 2, JSON.stringify(r));
    await c.multi().zadd(key, m[1]!.score, m[1]!.member).zadd(key, m[2]!.score, m[2]!.member).exec();

    // drop the newest entry: the head the script kept names it
    await c.zrem(key, m[5]!.member);
    r = await verifyStream(s, keys, 'admin');
    assert.equal(!r.ok && r.seq, 6, JSON.stringify(r));
  });

  test('retention trims from the front and leaves an anchor: the kept chain verifies, a gap after it does not', async () => {
    let now = T0 + 10_000;
    const s = await storeAt('prune:', { now: () => now, adminDays: 1 });
    for (let i = 1; i <= 10; i++) await s.appendAudit([ev(i)], 'admin');
    now = T0 + 86_400_000 + 5500;
    await s.pruneAudit();
    assert.equal((await members('prune:')).length, 5);
    assert.deepEqual(await verifyStream(s, keys, 'admin'), {
      ok: true,
      stream: 'admin',
      checked: 5,
      first: 6,
      last: 10,
    });
    await c.zrem('prune:audit:admin', (await members('prune:'))[0]!.member);
    const r = await verifyStream(s, keys, 'admin');
    assert.equal(!r.ok && r.seq, 6, JSON.stringify(r));
  });
});

test('the event log bounded by count: the trimmed chain verifies from its anchor', async () => {
  const s = await openRedisStore({
    url: redis.url,
    prefix: 'cap:',
    auditRetention: { event: { maxAgeMs: 86_400_000, maxEvents: 3 } },
  });
  opened.push(s);
  s.useAuditSealer(new ChainSealer(keys));
  for (let i = 1; i <= 6; i++) await s.appendAudit([{ ...ev(i), type: 'node.snapshot' }], 'event');
  assert.deepEqual(await verifyStream(s, keys, 'event'), {
    ok: true,
    stream: 'event',
    checked: 3,
    first: 4,
    last: 6,
  });
});

describe('tessera audit verify (the real CLI)', () => {
  let node: TesseraHandle | undefined;
  afterAll(async () => {
    await node?.stop();
  });

  test('on Redis: 0 on an untouched trail, 1 naming the entry after one is edited', async () => {
    const env = { TESSERA_REDIS_URL: redis.url, TESSERA_REDIS_PREFIX: 'cli:' };
    node = await startTessera({ env });
    const admin = new Api(node.url, node.adminKey);
    await admin.createUserWithTotp('chain-alice');
    await admin.createUserWithTotp('chain-bob');
    await admin.ok('GET', '/v1/admin/audit?stream=admin'); // flushes the buffered events
    const cliEnv = { ...env, TESSERA_DATA_DIR: node.dataDir };
    const good = await runCli(['audit', 'verify', '--stream', 'admin'], cliEnv);
    assert.equal(good.code, 0, good.out + good.err);
    assert.match(good.out, /admin: ok, \d+ entries \(1\.\.\d+\)/);

    const m = await members('cli:');
    const victim = m.findIndex((x) => x.member.includes('chain-bob'));
    assert.ok(victim > 0);
    const seq = (JSON.parse(m[victim]!.member.slice(17)) as { chain: { seq: number } }).chain.seq;
    await c
      .multi()
      .zrem('cli:audit:admin', m[victim]!.member)
      .zadd('cli:audit:admin', m[victim]!.score, m[victim]!.member.replace('chain-bob', 'chain-eve'))
      .exec();
    const bad = await runCli(['audit', 'verify'], cliEnv);
    assert.equal(bad.code, 1, bad.out + bad.err);
    assert.match(bad.out, new RegExp(`admin: BROKEN at entry ${seq}: signature`));
    const usage = await runCli(['audit', 'verify', '--from', '2026-01-02', '--to', '2026-01-01'], cliEnv);
    assert.equal(usage.code, 2);
  });

  test('on the embedded store: 0, then 1 naming the deleted entry', async () => {
    const embedded = await startTessera();
    const admin = new Api(embedded.url, embedded.adminKey);
    await admin.createUserWithTotp('emb-alice');
    await admin.ok('GET', '/v1/admin/audit?stream=admin');
    const env = { TESSERA_DATA_DIR: embedded.dataDir };
    await embedded.stop({ keepData: true });
    const good = await runCli(['audit', 'verify'], env);
    assert.equal(good.code, 0, good.out + good.err);
    assert.match(good.out, /admin: ok/);
    assert.match(good.out, /event: ok/);

    // the store's own msgpack settings (useRecords off), which lmdb's types do not list
    const options = {
      path: join(embedded.dataDir, 'store'),
      maxDbs: 24,
      compression: false,
      useRecords: false,
    };
    const root = open(options);
    const db = root.openDB<{ chain?: { seq: number } }, string>({ name: 'audit' });
    const entries = [...db.getRange({ start: 'admin:', end: 'admin;' })];
    assert.ok(entries.length >= 2);
    const gone = entries[0]!;
    await db.remove(gone.key);
    await root.close();
    const bad = await runCli(['audit', 'verify', '--stream', 'admin'], env);
    assert.equal(bad.code, 1, bad.out + bad.err);
    assert.match(bad.out, new RegExp(`admin: BROKEN at entry ${gone.value.chain!.seq}: missing`));
  });
});
