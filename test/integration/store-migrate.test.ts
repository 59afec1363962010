import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { awaitFreshStep, hotpAt, totpNow } from '../harness/codes.ts';
import { type RedisProcess, startRedis } from '../harness/redis.ts';
import { Api, randomBase32, runCli, startTessera, type TesseraHandle } from '../harness/tessera.ts';

// A running single node on the embedded store moves into Redis with `tessera store migrate`:
// every token comes along with its used-code state, so no code it accepted works again, and its
// callers' keys keep working on the Redis-backed node.
describe('tessera store migrate: one node on LMDB into Redis', () => {
  let redis: RedisProcess;
  let busy: RedisProcess;
  let single: TesseraHandle;
  let clustered: TesseraHandle | undefined;
  let clientKey = '';
  const totpSecret = randomBase32();
  const hotpSecret = randomBase32();
  let usedTotp = '';

  beforeAll(async () => {
    redis = await startRedis();
    busy = await startRedis();
    single = await startTessera();
    const admin = new Api(single.url, single.adminKey);
    clientKey = await admin.createClient('api');
    await admin.createUserWithTotp('m-alice', { secret: totpSecret });
    await admin.ok('POST', '/v1/admin/users', { username: 'm-bob' });
    await admin.ok('POST', '/v1/admin/users/m-bob/tokens', { type: 'hotp', secret: hotpSecret, counter: 0 });
    for (let i = 0; i < 40; i++) await admin.ok('POST', '/v1/admin/users', { username: `m-user-${i}` });
    const client = new Api(single.url, clientKey);
    for (const c of [0, 1, 2])
      assert.equal(
        (await client.ok('POST', '/v1/validate', { user: 'm-bob', pass: hotpAt(hotpSecret, c) })).result,
        'accept',
      );
    await awaitFreshStep(20_000);
    usedTotp = totpNow(totpSecret);
    assert.equal(
      (await client.ok('POST', '/v1/validate', { user: 'm-alice', pass: usedTotp })).result,
      'accept',
    );
  });

  afterAll(async () => {
    await clustered?.stop();
    await single?.stop();
    await redis?.stop();
    await busy?.stop();
  });

  test('a Redis that already holds users is refused, and nothing in it changes', async () => {
    const other = await startTessera({ env: { TESSERA_REDIS_URL: busy.url } });
    const admin = new Api(other.url, other.adminKey);
    await admin.ok('POST', '/v1/admin/users', { username: 'someone-else' });
    await other.stop();
    const r = await runCli(['store', 'migrate', '--to', busy.url], { TESSERA_DATA_DIR: single.dataDir });
    assert.notEqual(r.code, 0);
    assert.match(r.err, /already holds 1 user\(s\): refused, nothing changed/);
    const raw = new Redis(busy.url);
    try {
      assert.deepEqual(await raw.hkeys('tessera:users'), ['someone-else']);
    } finally {
      raw.disconnect();
    }
  });

  test('migrate copies users, tokens, used-code state and callers while the node runs', async () => {
    const r = await runCli(['store', 'migrate', '--to', redis.url], { TESSERA_DATA_DIR: single.dataDir });
    assert.equal(r.code, 0, r.err + r.out);
    console.log(`store migrate:\n${r.err}${r.out}`.replace(/^/gm, '  '));
    assert.match(r.out, /users: 42 created/);
    assert.match(r.out, /tokens: 2 restored/);
    assert.match(r.out, /tokens marked "resync required" .*: 0/);
    assert.match(r.out, /seed key: every node of the cluster must hold/);
    assert.match(
      r.err,
      /migrate: write: 42 users and 2 tokens written in [\d.]+ s/,
      'a summary line without a terminal',
    );
    assert.ok(
      !r.err.includes('\r') && !r.err.includes(String.fromCharCode(27)),
      'no progress redraws when stderr is not a terminal',
    );
  });

  test('the node on Redis refuses every code used before, accepts the next ones, and knows the old keys', async () => {
    await single.stop({ keepData: true });
    clustered = await startTessera({ dataDir: single.dataDir, env: { TESSERA_REDIS_URL: redis.url } });
    const client = new Api(clustered.url, clientKey);
    const validate = async (user: string, pass: string) => client.ok('POST', '/v1/validate', { user, pass });
    const reused = await validate('m-alice', usedTotp);
    assert.equal(reused.result, 'reject');
    assert.equal(reused.reason, 'OTP_REUSED');
    for (const c of [0, 1, 2])
      assert.equal((await validate('m-bob', hotpAt(hotpSecret, c))).result, 'reject', `HOTP ${c}`);
    assert.equal((await validate('m-bob', hotpAt(hotpSecret, 3))).result, 'accept');
    assert.equal((await validate('m-alice', totpNow(totpSecret, { offsetSteps: 1 }))).result, 'accept');
    const admin = new Api(clustered.url, single.adminKey);
    const users = await admin.ok('GET', '/v1/admin/users/m-user-39');
    assert.equal(users.username, 'm-user-39');
  });

  test('a second migrate (after the node stopped) mirrors again and keeps states max-merged', async () => {
    const refused = await runCli(['store', 'migrate', '--to', redis.url], {
      TESSERA_DATA_DIR: single.dataDir,
    });
    assert.notEqual(refused.code, 0, 'a Redis holding users needs --again');
    const again = await runCli(['store', 'migrate', '--to', redis.url, '--again'], {
      TESSERA_DATA_DIR: single.dataDir,
    });
    assert.equal(again.code, 0, again.err);
    const client = new Api(clustered!.url, clientKey);
    const r = await client.ok('POST', '/v1/validate', { user: 'm-bob', pass: hotpAt(hotpSecret, 3) });
    assert.equal(r.result, 'reject', 'the counter the cluster advanced is not rolled back by the older copy');
  });
});
