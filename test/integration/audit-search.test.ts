import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { totpNow } from '../harness/codes.ts';
import { type RedisProcess, startRedis } from '../harness/redis.ts';
import { Api, type Json, startTessera, type TesseraHandle } from '../harness/tessera.ts';

// GET /v1/admin/audit as a search: filters, time range, page cursor; bad queries are a 400 naming
// the parameter. On both stores.
let redis: RedisProcess;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

for (const kind of ['embedded', 'redis'] as const) {
  describe(`audit search (${kind} store)`, () => {
    let node: TesseraHandle;
    let admin: Api;
    let middle: number;
    let clientId: string;

    beforeAll(async () => {
      node = await startTessera(kind === 'redis' ? { env: { TESSERA_REDIS_URL: redis.url } } : {});
      admin = new Api(node.url, node.adminKey);
      const clientKey = await admin.createClient('api');
      clientId = clientKey.split('.')[1]!;
      const client = new Api(node.url, clientKey);
      const { secret } = await admin.createUserWithTotp('sr-alice');
      await admin.createUserWithTotp('sr-bob');
      for (let i = 0; i < 3; i++) await client.ok('POST', '/v1/validate', { user: 'sr-bob', pass: '000000' });
      await admin.ok('GET', '/v1/admin/audit'); // flush
      await new Promise((r) => setTimeout(r, 20));
      middle = Date.now();
      await new Promise((r) => setTimeout(r, 20));
      const ok = await client.ok('POST', '/v1/validate', { user: 'sr-alice', pass: totpNow(secret) });
      assert.equal(ok.result, 'accept');
      for (let i = 0; i < 4; i++) await admin.ok('POST', '/v1/admin/users', { username: `sr-later-${i}` });
    });
    afterAll(async () => {
      await node?.stop();
    });

    const get = async (query: string): Promise<Json> => admin.ok('GET', `/v1/admin/audit?${query}`);

    test('user, result and reason filters', async () => {
      const bob = (await get('stream=auth&user=sr-bob')).items;
      assert.equal(bob.length, 3);
      assert.ok(bob.every((e: Json) => e.username === 'sr-bob' && e.result === 'reject'));
      const accepts = (await get('result=accept')).items;
      assert.deepEqual(
        accepts.map((e: Json) => e.username),
        ['sr-alice'],
      );
      const reason = bob[0].reason as string;
      const byReason = (await get(`stream=auth&reason=${reason}`)).items;
      assert.ok(byReason.length >= 3 && byReason.every((e: Json) => e.reason === reason));
      assert.deepEqual((await get('user=nobody-at-all')).items, []);
    });

    test('relying system (client) and node filters', async () => {
      const mine = (await get(`client=${clientId}`)).items;
      assert.equal(mine.length, 4);
      assert.ok(mine.every((e: Json) => e.actor === `client:${clientId}`));
      assert.deepEqual((await get('client=no-such-client')).items, []);
      const nodeId = mine[0].detail.node as string;
      const onNode = (await get(`node=${nodeId}&stream=auth`)).items;
      assert.equal(onNode.length, 4);
      const both = (await get(`node=${nodeId}&client=${clientId}&user=sr-bob&result=reject`)).items;
      assert.equal(both.length, 3);
    });

    test('a time range: from and to, inclusive, ISO or milliseconds', async () => {
      const after = (await get(`from=${middle}`)).items;
      assert.ok(after.length >= 5);
      assert.ok(after.every((e: Json) => e.time >= middle));
      assert.ok(after.some((e: Json) => e.type === 'validate' && e.result === 'accept'));
      const before = (await get(`to=${new Date(middle).toISOString()}&limit=1000`)).items;
      assert.ok(before.length > 0 && before.every((e: Json) => e.time <= middle));
      assert.ok(!before.some((e: Json) => e.result === 'accept'));
    });

    test('a cursor pages through all of it: no repeat, no gap, newest first', async () => {
      const all = (await get('limit=1000')).items as Json[];
      assert.ok(all.length >= 12, String(all.length));
      const paged: Json[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: Json = await get(`limit=5${cursor ? `&cursor=${cursor}` : ''}`);
        assert.ok(page.items.length <= 5);
        paged.push(...page.items);
        cursor = page.next;
        pages++;
      } while (cursor && pages < 100);
      assert.deepEqual(paged, all);
      assert.equal(pages, Math.ceil(all.length / 5));
      const admins = (await get('stream=admin&limit=2')) as Json;
      const next = (await get(`stream=admin&limit=2&cursor=${admins.next}`)).items;
      assert.notDeepEqual(next, admins.items);
    });

    test('bad queries are a 400 naming the parameter', async () => {
      const cases: [string, RegExp][] = [
        ['usr=sr-bob', /usr is not a filter/],
        [`from=${middle}&to=${middle - 1}`, /querystring\/to is before/],
        ['limit=1001', /querystring\/limit must be at most 1000/],
        ['limit=0', /querystring\/limit/],
        ['from=yesterday', /querystring\/from/],
        ['to=2026-13-45', /querystring\/to/],
        ['stream=logins', /querystring\/stream/],
        ['cursor=bm90LWEtY3Vyc29y', /querystring\/cursor/],
      ];
      for (const [q, message] of cases) {
        const r = await admin.call('GET', `/v1/admin/audit?${q}`);
        assert.equal(r.status, 400, `${q} → ${r.status}`);
        assert.equal(r.body.error.code, 'BAD_REQUEST');
        assert.match(r.body.error.message, message, q);
      }
    });
  });
}
