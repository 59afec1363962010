import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, test } from 'vitest';
import { type RedisProcess, startRedis } from '../../../test/harness/redis.ts';
import type { AuditEvent } from '../../model/index.ts';
import { auditIndexValues } from '../audit-index.ts';
import { openRedisStore, type RedisStore } from './index.ts';
import { runScript } from './links.ts';

// The audit scripts against written-down expectations, on a real Redis.
let redis: RedisProcess;
let store: RedisStore;
let w: Redis;
let c: Redis;
const K = [
  't:auth',
  't:seq',
  't:auth',
  't:admin',
  't:event',
  't:auth:anchor',
  't:admin:anchor',
  't:event:anchor',
];

beforeAll(async () => {
  redis = await startRedis();
  store = await openRedisStore({ url: redis.url, prefix: 'unused:' });
  w = store.links.writer();
  c = redis.client();
});
afterAll(async () => {
  c.disconnect();
  await store.close();
  await redis.stop();
});

test('APPEND_AUDIT: members are "<16-digit sequence>|<json>", scored by time; the cutoff is exclusive', async () => {
  // cutoffs: auth 100 (cap 3), admin 0, event 0; events at times 99, 100, 101
  const size = await runScript(w, 'tsAppendAudit', [
    ...K,
    100,
    3,
    0,
    0,
    0,
    0,
    0,
    3,
    99,
    'a',
    100,
    'b',
    101,
    'c',
    0,
  ]);
  assert.equal(size, 2, 'the event at 99 is older than the cutoff 100; the one at 100 is kept');
  assert.deepEqual(await c.zrange('t:auth', '0', '-1', 'WITHSCORES'), [
    '0000000000000002|b',
    '100',
    '0000000000000003|c',
    '101',
  ]);
  assert.equal(await c.get('t:seq'), '3');
});

test('APPEND_AUDIT: the cap keeps the newest; every stream is trimmed on any append', async () => {
  await c.zadd('t:admin', 5, 'x|old', 50, 'y|new');
  await runScript(w, 'tsAppendAudit', [...K, 100, 3, 10, 0, 0, 0, 0, 2, 102, 'd', 103, 'e', 0]);
  assert.deepEqual(await c.zrange('t:auth', '0', '-1'), [
    '0000000000000003|c',
    '0000000000000004|d',
    '0000000000000005|e',
  ]);
  assert.deepEqual(await c.zrange('t:admin', '0', '-1'), ['y|new'], 'admin trimmed by its own cutoff 10');
});

test('APPEND_AUDIT: daily counts, entries and each index group land in the one step', async () => {
  const keys = K.map((k) => k.replace('t:', 'g:'));
  await runScript(w, 'tsAppendAudit', [
    ...keys,
    ...[0, 0, 0, 0, 0, 0],
    // two counts of one day
    2,
    '2026-11-30',
    'vpn\taccept',
    2,
    9_000_000_000_000,
    '2026-11-30',
    'vpn\treject',
    1,
    9_000_000_000_000,
    // three entries
    3,
    500,
    'x',
    500,
    'y',
    501,
    'z',
    // one per-entry index group, of the second entry alone
    1,
    'user:b',
    1,
    2,
    // blocks: one of all three, newest the third, the others 1 ms and 1 and 2 sequences below it;
    // one of the first alone
    'client:vpn',
    3,
    '1.1,1.2',
    'node:n1',
    1,
    '',
  ]);
  assert.deepEqual(await c.hgetall('g:auth:daily:2026-11-30'), { 'vpn\taccept': '2', 'vpn\treject': '1' });
  assert.equal(await c.pexpiretime('g:auth:daily:2026-11-30'), 9_000_000_000_000);
  assert.deepEqual(await c.zrange('g:auth', '0', '-1'), [
    '0000000000000001|x',
    '0000000000000002|y',
    '0000000000000003|z',
  ]);
  assert.deepEqual(await c.zrange('g:auth:ix:client:vpn', '0', '-1'), [
    '000000000000501.0000000000000003:1.1,1.2',
  ]);
  assert.deepEqual(await c.zrange('g:auth:ix:node:n1', '0', '-1'), ['000000000000500.0000000000000001']);
  assert.deepEqual(await c.zrange('g:auth:ix:user:b', '0', '-1'), ['000000000000500.0000000000000002']);
});

test('MIGRATE_AUDIT: the old list moves oldest first, validate to auth, the rest to admin; junk is dropped', async () => {
  await c.del('m:auth', 'm:admin', 'm:seq');
  await c.rpush(
    'm:list',
    JSON.stringify({ time: 30, type: 'validate' }),
    'not json',
    JSON.stringify({ time: 20, type: 'user.create' }),
    JSON.stringify({ time: 10, type: 'validate' }),
  );
  assert.equal(await runScript(w, 'tsMigrateAudit', ['m:list', 'm:auth', 'm:admin', 'm:seq']), 3);
  assert.deepEqual(await c.zrange('m:auth', '0', '-1', 'WITHSCORES'), [
    `0000000000000001|${JSON.stringify({ time: 10, type: 'validate' })}`,
    '10',
    `0000000000000003|${JSON.stringify({ time: 30, type: 'validate' })}`,
    '30',
  ]);
  assert.deepEqual(await c.zrange('m:admin', '0', '-1'), [
    `0000000000000002|${JSON.stringify({ time: 20, type: 'user.create' })}`,
  ]);
  assert.equal(await c.exists('m:list'), 0);
});

test('APPEND_CHAINED: appends only onto the head the batch was sealed onto, then moves the head', async () => {
  await c.del('h:admin', 'h:seq', 'h:head', 'h:auth', 'h:event');
  const keys = ['h:admin', 'h:seq', 'h:auth', 'h:admin', 'h:event', 'h:head', 'h:a1', 'h:a2', 'h:a3'];
  const noTrim = [0, 0, 0, 0, 0, 0];
  // the first batch is sealed onto no head
  assert.deepEqual(
    await runScript(w, 'tsAppendChained', [...keys, '', 'H1', ...noTrim, 0, 2, 10, 'e1', 11, 'e2', 0]),
    [1],
  );
  assert.equal(await c.get('h:head'), 'H1');
  assert.deepEqual(await c.zrange('h:admin', '0', '-1'), ['0000000000000001|e1', '0000000000000002|e2']);
  // a batch sealed onto a stale head (another node appended first) changes nothing and learns the head
  assert.deepEqual(await runScript(w, 'tsAppendChained', [...keys, '', 'H9', ...noTrim, 0, 1, 12, 'x', 0]), [
    0,
    'H1',
  ]);
  assert.equal(await c.get('h:head'), 'H1');
  assert.equal(await c.zcard('h:admin'), 2);
  assert.equal(await c.get('h:seq'), '2', 'a refused batch takes no sequence numbers');
  // sealed again onto H1, it goes on
  assert.deepEqual(
    await runScript(w, 'tsAppendChained', [...keys, 'H1', 'H2', ...noTrim, 0, 1, 12, 'e3', 0]),
    [1],
  );
  assert.equal(await c.get('h:head'), 'H2');
  assert.deepEqual(await c.zrange('h:admin', '-1', '-1', 'WITHSCORES'), ['0000000000000003|e3', '12']);
});

test('index_values (Lua) finds an event by the same fields and values as auditIndexValues', async () => {
  const events: AuditEvent[] = [
    {
      time: 1,
      type: 'validate',
      actor: 'client:vpn',
      username: 'müller',
      result: 'reject',
      reason: 'OTP_INVALID',
      detail: { node: 'n1', clientName: 'VPN' },
    },
    { time: 2, type: 'user.update', actor: 'admin:k1', username: 'a:b', result: 'ok' },
    { time: 3, type: 'node.start', actor: 'node:n2', detail: { node: 'n2', pid: 7 } },
    { time: 4, type: 'validate', actor: 'client:', username: '', detail: { node: 5 } },
  ];
  for (const e of events) {
    const lua = (await runScript(w, 'tsAuditIndexProbe', [
      JSON.stringify({ ...e, chain: { seq: 1 } }),
    ])) as string[];
    const pairs: string[][] = [];
    for (let i = 0; i < lua.length; i += 2) pairs.push([lua[i]!, lua[i + 1]!]);
    assert.deepEqual(pairs, auditIndexValues(e), JSON.stringify(e));
  }
});
