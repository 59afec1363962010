import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { totpNow } from '../harness/codes.ts';
import { radiusHttp } from '../harness/ha-load.ts';
import { type RedisProcess, type SentinelGroup, startRedis, startSentinels } from '../harness/redis.ts';
import { Api, startTessera, type TesseraHandle } from '../harness/tessera.ts';

const HOLD_MS = 1_500;

// The hold is bounded. A master with no replica dies: Sentinel has nobody to promote, so a login
// waits the node's hold (here 1.5 s) and is then refused with 503 and Retry-After; with the hold
// set to 0 it is refused at once. Neither is ever an accept.
describe('a login is held for at most TESSERA_FAILOVER_HOLD_MS, then refused', () => {
  let master: RedisProcess;
  let sentinels: SentinelGroup;
  let held: TesseraHandle;
  let prompt: TesseraHandle;
  let keys = { api: '', radius: '' };
  let secret = '';

  beforeAll(async () => {
    master = await startRedis();
    sentinels = await startSentinels({ masterPort: master.port, name: 'tessera-hold', downAfterMs: 500 });
    const env = {
      TESSERA_MASTER_KEY: randomBytes(32).toString('base64'),
      TESSERA_SENTINELS: sentinels.sentinels.map((s) => `${s.host}:${s.port}`).join(','),
      TESSERA_SENTINEL_NAME: 'tessera-hold',
      TESSERA_REDIS_URL: master.url,
      TESSERA_REPLICA_ACK: 'accept',
    };
    held = await startTessera({ env: { ...env, TESSERA_FAILOVER_HOLD_MS: String(HOLD_MS) } });
    prompt = await startTessera({ env: { ...env, TESSERA_FAILOVER_HOLD_MS: '0' }, expectAdminKey: false });
    const admin = new Api(held.url, held.adminKey);
    keys = {
      api: await admin.createClient('api'),
      radius: await admin.createClient('radius', { rejectDetail: 'reason' }),
    };
    ({ secret } = await admin.createUserWithTotp('holden'));
    // both nodes answer before the master dies (their caller caches are warm)
    for (const node of [held, prompt])
      assert.equal(
        (await new Api(node.url, keys.api).call('POST', '/v1/validate', { user: 'holden', pass: '000000' }))
          .status,
        200,
      );
  });

  afterAll(async () => {
    await prompt?.stop();
    await held?.stop();
    await sentinels?.stop();
    await master?.stop();
  });

  test('held for the hold time, then 503 STORE_UNAVAILABLE with Retry-After; at once with 0', async () => {
    await master.kill('SIGKILL');
    const timed = async (node: TesseraHandle) => {
      const started = Date.now();
      const res = await fetch(`${node.url}/v1/validate`, {
        method: 'POST',
        headers: { authorization: `Bearer ${keys.api}`, 'content-type': 'application/json' },
        body: JSON.stringify({ user: 'holden', pass: totpNow(secret) }),
      });
      const body = (await res.json()) as { error?: { code?: string } };
      return {
        ms: Date.now() - started,
        status: res.status,
        code: body.error?.code,
        retryAfter: res.headers.get('retry-after'),
      };
    };
    const [h, p] = await Promise.all([timed(held), timed(prompt)]);
    const r = await radiusHttp(held.url, keys.radius, 'holden', totpNow(secret));
    process.stdout.write(
      `# hold ${HOLD_MS} ms: refused after ${h.ms} ms (${h.status} ${h.code}); hold 0: refused after ${p.ms} ms\n`,
    );
    for (const x of [h, p]) {
      assert.equal(x.status, 503);
      assert.equal(x.code, 'STORE_UNAVAILABLE');
      assert.equal(x.retryAfter, '1');
    }
    assert.ok(h.ms >= HOLD_MS - 100, `held for the hold time (${h.ms} ms)`);
    assert.ok(h.ms < HOLD_MS + 3_000, `and not much longer (${h.ms} ms)`);
    assert.ok(p.ms < h.ms, `without a hold the refusal comes sooner (${p.ms} vs ${h.ms} ms)`);
    assert.deepEqual(
      r,
      { result: 'error', reason: '503' },
      'RADIUS: a 5xx, which rlm_rest turns into a reject',
    );
  });
});
