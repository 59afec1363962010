import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { hotpAt } from '../harness/codes.ts';
import { waitFor } from '../harness/ports.ts';
import { type RedisProcess, type SentinelGroup, startRedis, startSentinels } from '../harness/redis.ts';
import { Api, randomBase32, runCli, startTessera, type TesseraHandle } from '../harness/tessera.ts';

const USERS = 16;
const RECOVERY_BOUND_MS = 30_000;

interface Attempt {
  user: string;
  counter: number;
  node: 'A' | 'B';
  result: 'accept' | 'reject' | 'error';
  reason?: string;
  at: number;
}

async function validate(
  url: string,
  key: string,
  user: string,
  pass: string,
): Promise<{ result: Attempt['result']; reason?: string }> {
  try {
    const res = await fetch(`${url}/v1/validate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ user, pass }),
      signal: AbortSignal.timeout(6_000),
    });
    if (res.status !== 200) return { result: 'error', reason: String(res.status) };
    const body = (await res.json()) as { result: 'accept' | 'reject'; reason?: string };
    return body.reason ? { result: body.result, reason: body.reason } : { result: body.result };
  } catch {
    return { result: 'error', reason: 'network' };
  }
}

// Two nodes, Redis master + replica, three Sentinels. A stream of HOTP logins hits both nodes with
// every code sent to both at once, and a stream of enrolments runs, while the master Redis is
// killed with SIGKILL. Sentinel promotes the replica and both nodes follow it by themselves.
describe('Sentinel failover under load (SIGKILL of the master Redis)', () => {
  let master: RedisProcess;
  let replica: RedisProcess;
  let sentinels: SentinelGroup;
  let nodeA: TesseraHandle;
  let nodeB: TesseraHandle;
  let admin: Api;
  let clientKey = '';
  const secrets = new Map<string, string>();

  beforeAll(async () => {
    master = await startRedis();
    replica = await startRedis({ replicaOf: master.port });
    sentinels = await startSentinels({
      masterPort: master.port,
      name: 'tessera-ha',
      downAfterMs: 1000,
      failoverTimeoutMs: 5000,
    });
    const shared = {
      TESSERA_MASTER_KEY: randomBytes(32).toString('base64'),
      TESSERA_SENTINELS: sentinels.sentinels.map((s) => `${s.host}:${s.port}`).join(','),
      TESSERA_SENTINEL_NAME: 'tessera-ha',
      // Two data nodes: after the kill the survivor has no replica to acknowledge, so the strict
      // default would refuse every accept until the old master rejoins. This test measures the
      // explicit availability-first choice.
      TESSERA_REPLICA_ACK: 'accept',
    };
    nodeA = await startTessera({
      env: { ...shared, TESSERA_REDIS_URL: master.url, TESSERA_NODE_ID: 'node-a' },
    });
    nodeB = await startTessera({
      env: { ...shared, TESSERA_REDIS_URL: replica.url, TESSERA_NODE_ID: 'node-b' },
      expectAdminKey: false,
    });
    admin = new Api(nodeA.url, nodeA.adminKey);
    clientKey = await admin.createClient('api');
    for (let i = 0; i < USERS; i++) {
      const secret = randomBase32();
      const username = `ha-${i}`;
      await admin.ok('POST', '/v1/admin/users', { username });
      await admin.ok('POST', `/v1/admin/users/${username}/tokens`, { type: 'hotp', secret, counter: 0 });
      secrets.set(username, secret);
    }
  });

  afterAll(async () => {
    await nodeB?.stop();
    await nodeA?.stop();
    await sentinels?.stop();
    await replica?.stop();
    await master?.stop();
  });

  test('no code is accepted twice, no acknowledged enrolment is lost, logins resume on the survivor', async () => {
    const attempts: Attempt[] = [];
    const enrolled: string[] = [];
    let killAt = 0;
    let stop = false;
    let firstAcceptAfterKillOnB = 0;
    let firstAcceptAfterKillOnA = 0;

    const loginLoop = async (user: string) => {
      const secret = secrets.get(user)!;
      let counter = 0;
      while (!stop) {
        const code = hotpAt(secret, counter);
        const started = Date.now();
        const [a, b] = await Promise.all([
          validate(nodeA.url, clientKey, user, code),
          validate(nodeB.url, clientKey, user, code),
        ]);
        const at = Date.now();
        attempts.push({ user, counter, node: 'A', ...a, at }, { user, counter, node: 'B', ...b, at });
        // measured on requests sent after the master process had exited
        if (killAt && started > killAt && b.result === 'accept' && !firstAcceptAfterKillOnB)
          firstAcceptAfterKillOnB = at;
        if (killAt && started > killAt && a.result === 'accept' && !firstAcceptAfterKillOnA)
          firstAcceptAfterKillOnA = at;
        // A code whose outcome is unknown (error) is retried after a short pause (load pacing,
        // not a wait for anything); once used, move on.
        if (
          a.result === 'accept' ||
          b.result === 'accept' ||
          a.reason === 'OTP_REUSED' ||
          b.reason === 'OTP_REUSED'
        )
          counter++;
        else await new Promise((r) => setTimeout(r, 50));
      }
    };

    const enrolLoop = async () => {
      let n = 0;
      while (!stop) {
        const username = `enr-${n++}`;
        // enrol on whichever node is master now; the slave answers 409
        for (const node of [nodeA, nodeB]) {
          const api = new Api(node.url, nodeA.adminKey);
          try {
            const u = await api.call('POST', '/v1/admin/users', { username });
            if (u.status !== 201 && u.status !== 409) continue;
            if (u.status === 409 && u.body?.error?.code === 'READ_ONLY_REPLICA') continue;
            const t = await api.call('POST', `/v1/admin/users/${username}/tokens`, { type: 'totp' });
            if (t.status === 201) {
              enrolled.push(username);
              break;
            }
          } catch {
            // node unreachable: try the other
          }
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    };

    const loops = [...[...secrets.keys()].map(loginLoop), enrolLoop()];
    const acceptsSince = (t: number) => attempts.filter((a) => a.result === 'accept' && a.at > t).length;
    // A bound that runs out is not an error here: the assertions below say what was missing.
    const until = (what: string, cond: () => boolean, ms: number) =>
      waitFor(what, async () => cond(), ms, 20).catch(() => false);
    let acceptedBefore = 0;
    try {
      // every user has logged in at least twice before the master dies
      await until('logins before the failover', () => acceptsSince(0) >= 2 * USERS, 30_000);
      acceptedBefore = acceptsSince(0);
      assert.ok(acceptedBefore > 0, 'logins succeed before the failover');
      await master.kill('SIGKILL');
      killAt = Date.now();
      const bound = RECOVERY_BOUND_MS + 10_000;
      await until('an accept on the survivor', () => firstAcceptAfterKillOnB > 0, bound);
      // the node whose own Redis died gets the same bound to come back through Sentinel
      await until('an accept on node A', () => firstAcceptAfterKillOnA > 0, killAt + bound - Date.now());
      // and logins keep flowing after both recovered, before the load stops
      const recovered = Math.max(firstAcceptAfterKillOnA, firstAcceptAfterKillOnB);
      if (recovered) await until('logins after the recovery', () => acceptsSince(recovered) >= USERS, 10_000);
    } finally {
      stop = true;
      await Promise.all(loops);
    }

    const recoveryMs = firstAcceptAfterKillOnB - killAt;
    const errors = attempts.filter((a) => a.result === 'error' && a.at >= killAt).length;
    const lastError = Math.max(0, ...attempts.filter((a) => a.result === 'error').map((a) => a.at - killAt));
    const accepts = attempts.filter((a) => a.result === 'accept');
    process.stdout.write(
      `# failover: ${accepts.length} accepts (${acceptedBefore} before the kill), ${errors} errors after the kill, ` +
        `${enrolled.length} acknowledged enrolments; logins accepted on the survivor ${recoveryMs} ms after SIGKILL, ` +
        `last error ${lastError} ms after it; node A (its own Redis dead, working through Sentinel) accepted again ` +
        `${firstAcceptAfterKillOnA ? `${firstAcceptAfterKillOnA - killAt} ms` : 'not yet'} after it ` +
        `(new master port ${await sentinels.masterPort()}, replica was ${replica.port})\n`,
    );
    assert.ok(firstAcceptAfterKillOnB > 0, 'logins succeed again on the survivor');
    assert.ok(
      recoveryMs < RECOVERY_BOUND_MS,
      `recovered within ${RECOVERY_BOUND_MS} ms (took ${recoveryMs})`,
    );
    assert.equal(await sentinels.masterPort(), replica.port, 'Sentinel promoted the replica');

    // no (user, counter) accepted twice, across both nodes and the failover
    const seen = new Set<string>();
    for (const a of accepts) {
      const key = `${a.user}#${a.counter}`;
      assert.ok(!seen.has(key), `code ${key} was accepted twice`);
      seen.add(key);
    }
    // each user's last accepted code is refused now on both nodes as used, not throttled or locked
    const lastOfEach = [...new Map(accepts.map((a) => [a.user, a])).values()];
    const lastReplays = await Promise.all(
      lastOfEach.flatMap((a) =>
        [nodeB.url, nodeA.url].map((url) =>
          validate(url, clientKey, a.user, hotpAt(secrets.get(a.user)!, a.counter)),
        ),
      ),
    );
    assert.deepEqual([...new Set(lastReplays.map((r) => r.reason))], ['OTP_REUSED']);
    // every code that was accepted is refused now, on both nodes
    const replays = await Promise.all(
      accepts
        .slice(-200)
        .flatMap((a) => [
          validate(nodeB.url, clientKey, a.user, hotpAt(secrets.get(a.user)!, a.counter)),
          validate(nodeA.url, clientKey, a.user, hotpAt(secrets.get(a.user)!, a.counter)),
        ]),
    );
    assert.equal(replays.filter((r) => r.result === 'accept').length, 0, 'a replayed code was accepted');

    // every acknowledged enrolment survived
    const survivor = new Api(nodeB.url, nodeA.adminKey);
    for (const username of enrolled) {
      const r = await survivor.call('GET', `/v1/admin/users/${username}`);
      assert.equal(r.status, 200, `enrolment ${username} was acknowledged and lost`);
      assert.equal(r.body.tokens.length, 1, `the token of ${username} was lost`);
    }
    // the promoted node is the master now and takes configuration writes
    await survivor.ok('POST', '/v1/admin/users', { username: 'after-failover' });
    // the failover raised its event, and accepts without a replica raised the alarm metric
    const metrics = String((await new Api(nodeB.url, '').call('GET', '/metrics')).body);
    assert.match(metrics, /tessera_failover_total\{change="role"\} 1/);
    assert.match(metrics, /tessera_replica_ack_missing_total [1-9]/);
    assert.match(nodeB.output(), /failover: this node's Redis role changed from slave to master/);
  });
});

// `tessera cluster failover --to` with Sentinel: Sentinel is steered to the chosen replica and
// every node follows the new master.
describe('manual failover through Sentinel to a chosen replica', () => {
  let m: RedisProcess;
  let r1: RedisProcess;
  let r2: RedisProcess;
  let sentinels: SentinelGroup;
  let nodeA: TesseraHandle;
  let nodeB: TesseraHandle;
  let env: Record<string, string>;

  beforeAll(async () => {
    m = await startRedis();
    r1 = await startRedis({ replicaOf: m.port });
    r2 = await startRedis({ replicaOf: m.port });
    sentinels = await startSentinels({
      masterPort: m.port,
      name: 'tessera-manual',
      downAfterMs: 1000,
      failoverTimeoutMs: 5000,
    });
    env = {
      TESSERA_MASTER_KEY: randomBytes(32).toString('base64'),
      TESSERA_SENTINELS: sentinels.sentinels.map((s) => `${s.host}:${s.port}`).join(','),
      TESSERA_SENTINEL_NAME: 'tessera-manual',
    };
    nodeA = await startTessera({ env: { ...env, TESSERA_REDIS_URL: m.url, TESSERA_NODE_ID: 'm-a' } });
    nodeB = await startTessera({
      env: { ...env, TESSERA_REDIS_URL: r1.url, TESSERA_NODE_ID: 'm-b' },
      expectAdminKey: false,
    });
  });

  afterAll(async () => {
    await nodeB?.stop();
    await nodeA?.stop();
    await sentinels?.stop();
    await r2?.stop();
    await r1?.stop();
    await m?.stop();
  });

  test('the chosen replica becomes master; both nodes follow it', async () => {
    const admin = new Api(nodeA.url, nodeA.adminKey);
    const client = await admin.createClient('api');
    const secret = randomBase32();
    await admin.ok('POST', '/v1/admin/users', { username: 'mf' });
    await admin.ok('POST', '/v1/admin/users/mf/tokens', { type: 'hotp', secret, counter: 0 });
    assert.equal((await validate(nodeB.url, client, 'mf', hotpAt(secret, 0))).result, 'accept');
    await waitFor('Sentinel to know both replicas', async () => {
      const c = new Redis({ port: sentinels.ports[0]!, host: '127.0.0.1' });
      try {
        return ((await c.call('SENTINEL', 'replicas', 'tessera-manual')) as unknown[]).length === 2;
      } finally {
        c.disconnect();
      }
    });
    const out = await runCli(['cluster', 'failover', '--to', `127.0.0.1:${r2.port}`], {
      ...env,
      TESSERA_REDIS_URL: m.url,
      TESSERA_DATA_DIR: nodeA.dataDir,
    });
    assert.equal(out.code, 0, out.err);
    assert.match(out.out, new RegExp(`master is now 127\\.0\\.0\\.1:${r2.port}`));
    assert.equal(await sentinels.masterPort(), r2.port);
    await waitFor(
      'node A to follow as a slave',
      async () => (await new Api(nodeA.url, '').call('GET', '/readyz')).body.role === 'slave',
      30_000,
    );
    const refused = await admin.call('POST', '/v1/admin/users', { username: 'mf2' });
    assert.equal(refused.status, 409);
    assert.match(refused.body.error.message, new RegExp(`:${r2.port}`));
    const again = await waitFor(
      'logins through the new master',
      async () => {
        const r = await validate(nodeA.url, client, 'mf', hotpAt(secret, 1));
        return r.result === 'error' ? null : r;
      },
      30_000,
      200,
    );
    assert.equal(again.result, 'accept');
    assert.equal((await validate(nodeB.url, client, 'mf', hotpAt(secret, 0))).reason, 'OTP_REUSED');
    assert.equal((await validate(nodeB.url, client, 'mf', hotpAt(secret, 1))).reason, 'OTP_REUSED');
  });
});
