import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { waitFor } from '../harness/ports.ts';
import { type RedisProcess, startRedis } from '../harness/redis.ts';
import { Api, type Json, startTessera, type TesseraHandle } from '../harness/tessera.ts';

/** The whole answer a caller gets when the store fails: nothing of Redis's own words. */
const STORE_DOWN = {
  error: { code: 'STORE_UNAVAILABLE', message: 'the store is unavailable; try again later' },
};

/** Words of Redis's or ioredis's error texts that must never reach a caller. */
const REDIS_WORDS = /OOM|maxmemory|ECONNREFUSED|timed out|Connection is closed|max retries|script|Redis/i;

function attr(value: string) {
  return { type: 'string', value: [value] };
}

async function radiusAuth(url: string, key: string, user: string, pass: string) {
  const res = await fetch(`${url}/radius/auth`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ 'User-Name': attr(user), 'User-Password': attr(pass) }),
  });
  const text = await res.text();
  return { status: res.status, text, body: text ? (JSON.parse(text) as Json) : undefined };
}

// A real node on a real Redis that first answers errors (out of memory), then stops answering
// (SIGSTOP), then is gone (SIGKILL). Every face answers 503 STORE_UNAVAILABLE with one generic
// message; the reason is in the node's log only.
describe('a failing Redis never shows its error text to a caller', () => {
  let redis: RedisProcess;
  let node: TesseraHandle;
  let admin: Api;
  let client: Api;
  let clientKey: string;
  let radiusKey: string;

  beforeAll(async () => {
    redis = await startRedis();
    node = await startTessera({
      env: {
        TESSERA_REDIS_URL: redis.url,
        TESSERA_MASTER_KEY: randomBytes(32).toString('base64'),
        TESSERA_REPLICA_WAIT_MS: '500',
      },
    });
    admin = new Api(node.url, node.adminKey);
    clientKey = await admin.createClient('api');
    radiusKey = await admin.createClient('radius');
    client = new Api(node.url, clientKey);
    await admin.createUserWithTotp('su-alice');
  });

  afterAll(async () => {
    redis?.proc.kill('SIGCONT');
    await node?.stop();
    await redis?.stop();
  });

  /** Every face, with a request that must write to (or read from) the store. */
  async function everyFaceAnswersStoreDown(tag: string): Promise<void> {
    const v = await client.call('POST', '/v1/validate', { user: 'su-alice', pass: '000000' });
    assert.equal(v.status, 503, `${tag}: validate ${JSON.stringify(v.body)}`);
    assert.deepEqual(v.body, STORE_DOWN, `${tag}: validate`);
    const r = await radiusAuth(node.url, radiusKey, 'su-alice', '000000');
    assert.equal(r.status, 503, `${tag}: radius ${r.text}`);
    assert.deepEqual(r.body, STORE_DOWN, `${tag}: radius`);
    const a = await admin.call('POST', '/v1/admin/users', { username: `su-${tag}` });
    assert.equal(a.status, 503, `${tag}: admin ${JSON.stringify(a.body)}`);
    assert.deepEqual(a.body, STORE_DOWN, `${tag}: admin`);
    for (const text of [JSON.stringify(v.body), r.text, JSON.stringify(a.body)])
      assert.doesNotMatch(text, REDIS_WORDS);
  }

  test('Redis answering errors (out of memory): 503 with the generic message, the reason logged', async () => {
    const c = redis.client();
    try {
      await c.config('SET', 'maxmemory-policy', 'noeviction');
      await c.config('SET', 'maxmemory', '1');
      await everyFaceAnswersStoreDown('oom');
    } finally {
      await c.config('SET', 'maxmemory', '0');
      c.disconnect();
    }
    // the node's log has the reason, for the operator
    await waitFor('the reason in the log', async () =>
      /STORE_UNAVAILABLE[^\n]*OOM command not allowed/.test(node.output()),
    );
    // and the node works again once Redis does
    const ok = await client.call('POST', '/v1/validate', { user: 'su-alice', pass: '000000' });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.reason, 'OTP_INVALID');
  });

  test('Redis not answering (SIGSTOP): 503 with the generic message, in bounded time', async () => {
    redis.proc.kill('SIGSTOP');
    try {
      const started = Date.now();
      await everyFaceAnswersStoreDown('stopped');
      assert.ok(Date.now() - started < 30_000, 'three requests answered within 30 s');
    } finally {
      redis.proc.kill('SIGCONT');
    }
    await waitFor('the reason in the log', async () =>
      /STORE_UNAVAILABLE[^\n]*timed out/i.test(node.output()),
    );
  });

  test('Redis gone (SIGKILL): 503 with the generic message; readyz says so too', async () => {
    await redis.kill('SIGKILL');
    await everyFaceAnswersStoreDown('killed');
    const ready = await new Api(node.url, '').call('GET', '/readyz');
    assert.equal(ready.status, 503);
    assert.equal(ready.body.error.code, 'STORE_UNAVAILABLE');
    assert.doesNotMatch(JSON.stringify(ready.body), REDIS_WORDS);
  });
});
