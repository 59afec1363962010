import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { awaitFreshStep, hotpAt, totpNow } from '../harness/codes.ts';
import { waitFor } from '../harness/ports.ts';
import { type RedisProcess, startRedis } from '../harness/redis.ts';
import { Api, randomBase32, runCli, startTessera, type TesseraHandle } from '../harness/tessera.ts';

// Cluster operations over real nodes and Redis without Sentinel: status, periodic snapshots and
// the pull path, seeding a new node, a planned failover with its event, and a partitioned Redis
// rejoining without a replay window.
/** Times of the snapshots a standby says it applied (its info log, one JSON object a line). */
function appliedSnapshotTimes(log: string): number[] {
  const times: number[] = [];
  for (const line of log.split('\n')) {
    if (!line.includes('applied the master snapshot')) continue;
    try {
      const t = Number(JSON.parse(line).snapshotTime);
      if (Number.isFinite(t)) times.push(t);
    } catch {
      // not a JSON log line
    }
  }
  return times;
}

describe('cluster status, snapshots, failover and rejoin (real nodes)', () => {
  let m: RedisProcess;
  let r: RedisProcess;
  let nodeA: TesseraHandle;
  let nodeB: TesseraHandle;
  let admin: Api;
  let clientA: Api;
  let clientB: Api;
  let work: string;
  let hook: Server;
  const hookEvents: { node: string; change: string; to: string }[] = [];
  const masterKey = randomBytes(32).toString('base64');
  const hotpSecret = randomBase32();
  const totpSecret = randomBase32();

  const envFor = (redis: RedisProcess, id: string, extra: Record<string, string> = {}) => ({
    TESSERA_REDIS_URL: redis.url,
    TESSERA_MASTER_KEY: masterKey,
    TESSERA_NODE_ID: id,
    TESSERA_HEARTBEAT_SECONDS: '0.5',
    TESSERA_SNAPSHOT_INTERVAL_MIN: '0.02',
    TESSERA_SNAPSHOT_KEEP: '3',
    // The split-brain test below needs both sides to accept while apart: the explicit
    // availability-first choice (the strict default refuses there, see cluster-traps.test.ts).
    TESSERA_REPLICA_ACK: 'accept',
    TESSERA_FAILOVER_WEBHOOK: `http://127.0.0.1:${(hook.address() as { port: number }).port}/hook`,
    ...extra,
  });

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'tessera-cluster-'));
    hook = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => {
        body += d;
      });
      req.on('end', () => {
        hookEvents.push(JSON.parse(body));
        res.end();
      });
    });
    await new Promise<void>((ok) => hook.listen(0, '127.0.0.1', ok));
    m = await startRedis();
    r = await startRedis({ replicaOf: m.port });
    nodeA = await startTessera({ env: envFor(m, 'node-a') });
    admin = new Api(nodeA.url, nodeA.adminKey);
    writeFileSync(join(work, 'client.key'), `${await admin.createClient('node')}\n`, { mode: 0o600 });
    const key = await admin.createClient('api');
    nodeB = await startTessera({
      env: envFor(r, 'node-b', {
        TESSERA_SNAPSHOT_PULL_URL: nodeA.url,
        TESSERA_SNAPSHOT_PULL_KEY_FILE: join(work, 'client.key'),
        TESSERA_SNAPSHOT_PULL_INTERVAL_MIN: '0.02',
      }),
      expectAdminKey: false,
    });
    clientA = new Api(nodeA.url, key);
    clientB = new Api(nodeB.url, key);
    await admin.createUserWithTotp('k-totp', { secret: totpSecret });
    await admin.ok('POST', '/v1/admin/users', { username: 'k-hotp' });
    await admin.ok('POST', '/v1/admin/users/k-hotp/tokens', { type: 'hotp', secret: hotpSecret, counter: 0 });
  });

  afterAll(async () => {
    await nodeB?.stop();
    await nodeA?.stop();
    await r?.stop();
    await m?.stop();
    hook?.close();
    rmSync(work, { recursive: true, force: true });
  });

  test('GET /v1/admin/cluster and `tessera cluster status` show both nodes', async () => {
    const status = await waitFor('both nodes in the registry', async () => {
      const s = await admin.ok('GET', '/v1/admin/cluster');
      return s.nodes.length === 2 && s.nodes.every((n: { lastSnapshot: number | null }) => n.lastSnapshot)
        ? s
        : null;
    });
    assert.equal(status.role, 'master');
    const [a, b] = status.nodes;
    assert.equal(a.id, 'node-a');
    assert.equal(a.redisRole, 'master');
    assert.equal(b.id, 'node-b');
    assert.equal(b.role, 'slave');
    assert.equal(b.redisRole, 'slave');
    assert.equal(typeof b.replicationOffset, 'number');
    assert.equal(typeof b.lag, 'number');
    assert.equal(b.versionMismatch, false);
    assert.equal(b.health, 'ok');
    const onSlave = await new Api(nodeB.url, nodeA.adminKey).ok('GET', '/v1/admin/cluster');
    assert.equal(onSlave.role, 'slave');
    const out = await runCli(['cluster', 'status'], {
      TESSERA_REDIS_URL: m.url,
      TESSERA_DATA_DIR: nodeA.dataDir,
      TESSERA_MASTER_KEY: masterKey,
    });
    assert.equal(out.code, 0, out.err);
    assert.match(out.out, /node-a\s+master\s+master/);
    assert.match(out.out, /node-b\s+slave\s+slave/);
  });

  test('the master writes periodic snapshots, keeps the last K, and the slave pulls them with its client key', async () => {
    const dirA = join(nodeA.dataDir, 'snapshots');
    const dirB = join(nodeB.dataDir, 'snapshots');
    await waitFor(
      '3 snapshots on the master',
      async () => existsSync(dirA) && readdirSync(dirA).length >= 3,
      20_000,
    );
    // one more snapshot after the third: the oldest must go, not pile up
    const snapshots = () => readdirSync(dirA).filter((f) => f.endsWith('.tsnap'));
    const third = snapshots().sort().at(-1);
    await waitFor('a fourth snapshot on the master', async () => snapshots().sort().at(-1) !== third, 20_000);
    assert.equal(snapshots().length, 3, 'keeps the last 3');
    await waitFor(
      'a pulled snapshot on the slave',
      async () => existsSync(dirB) && readdirSync(dirB).length > 0,
      20_000,
    );
    const anon = await new Api(nodeA.url, '').call('GET', '/v1/cluster/snapshot/latest');
    assert.equal(anon.status, 401);
    const asAdmin = await admin.call('GET', '/v1/cluster/snapshot/latest');
    assert.equal(asAdmin.status, 200, 'a superadmin key may pull');
    for (const kind of ['radius', 'api'] as const) {
      const other = await new Api(nodeA.url, await admin.createClient(kind)).call(
        'GET',
        '/v1/cluster/snapshot/latest',
      );
      assert.equal(other.status, 403, `a relying system key (${kind}) gets no snapshot`);
    }
    const metrics = String((await new Api(nodeA.url, '').call('GET', '/metrics')).body);
    assert.match(metrics, /tessera_snapshot_total\{result="ok"\} [1-9]/);
  });

  test('a new node is seeded from the master snapshot over HTTP', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tessera-seeded-'));
    try {
      const env = { TESSERA_DATA_DIR: dataDir, TESSERA_MASTER_KEY: masterKey };
      const out = await runCli(
        ['cluster', 'seed', '--from', nodeA.url, '--client-key-file', join(work, 'client.key')],
        env,
      );
      assert.equal(out.code, 0, out.err);
      assert.match(out.out, /users: 2 created/);
      const list = await runCli(['user', 'list'], env);
      assert.match(list.out, /k-hotp/);
      assert.match(list.out, /k-totp/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('a standby without a Redis link applies the pulled snapshots to its own store', async () => {
    const secret = randomBase32();
    await admin.ok('POST', '/v1/admin/users', { username: 'k-standby' });
    await admin.ok('POST', '/v1/admin/users/k-standby/tokens', { type: 'hotp', secret, counter: 0 });
    const standby = await startTessera({
      env: {
        TESSERA_MASTER_KEY: masterKey,
        TESSERA_NODE_ID: 'standby',
        TESSERA_SNAPSHOT_PULL_URL: nodeA.url,
        TESSERA_SNAPSHOT_PULL_KEY_FILE: join(work, 'client.key'),
        TESSERA_SNAPSHOT_PULL_INTERVAL_MIN: '0.02',
        TESSERA_SNAPSHOT_PULL_APPLY: 'true',
        TESSERA_LOG_LEVEL: 'info',
      },
    });
    try {
      // the standby mirrors the master's admin keys (its own first key goes with the first pull)
      const standbyAdmin = new Api(standby.url, nodeA.adminKey);
      await waitFor(
        'the standby to hold k-standby',
        async () => (await standbyAdmin.call('GET', '/v1/admin/users/k-standby')).status === 200,
        20_000,
      );
      // the master's client key works there too: clients are part of the snapshot
      const onStandby = new Api(standby.url, clientA.key);
      assert.equal(
        (await onStandby.ok('POST', '/v1/validate', { user: 'k-standby', pass: hotpAt(secret, 0) })).result,
        'accept',
      );
      assert.equal(
        (await clientA.ok('POST', '/v1/validate', { user: 'k-standby', pass: hotpAt(secret, 3) })).result,
        'accept',
      );
      const acceptedAt = Date.now();
      // once a snapshot taken after that accept is applied there, the master's counter is
      // max-merged: a code below it (that the standby alone would still accept) is refused there
      await waitFor(
        'the standby to apply a snapshot taken after the accept on the master',
        async () => appliedSnapshotTimes(standby.output()).some((t) => t > acceptedAt),
        20_000,
      );
      const below = await onStandby.ok('POST', '/v1/validate', {
        user: 'k-standby',
        pass: hotpAt(secret, 2),
      });
      assert.equal(below.reason, 'OTP_REUSED');
      assert.equal(
        (await onStandby.ok('POST', '/v1/validate', { user: 'k-standby', pass: hotpAt(secret, 4) })).result,
        'accept',
      );
    } finally {
      await standby.stop();
    }
  });

  test('a token, user, client and admin key deleted on the master stop working on every node, the standby included', async () => {
    const keepSecret = randomBase32();
    const stolenSecret = randomBase32();
    const goneSecret = randomBase32();
    await admin.ok('POST', '/v1/admin/users', { username: 'k-rev-phone' });
    await admin.ok('POST', '/v1/admin/users/k-rev-phone/tokens', {
      type: 'hotp',
      secret: keepSecret,
      counter: 0,
    });
    const stolen = await admin.ok('POST', '/v1/admin/users/k-rev-phone/tokens', {
      type: 'hotp',
      secret: stolenSecret,
      counter: 0,
    });
    await admin.ok('POST', '/v1/admin/users', { username: 'k-rev-gone' });
    await admin.ok('POST', '/v1/admin/users/k-rev-gone/tokens', {
      type: 'hotp',
      secret: goneSecret,
      counter: 0,
    });
    const extra = await admin.ok('POST', '/v1/admin/clients', { name: 'k-rev-client', kind: 'api' });
    const extraKey = await admin.ok('POST', '/v1/admin/admin-keys', { name: 'k-rev-admin', role: 'auditor' });
    const standby = await startTessera({
      env: {
        TESSERA_MASTER_KEY: masterKey,
        TESSERA_NODE_ID: 'standby-rev',
        TESSERA_SNAPSHOT_PULL_URL: nodeA.url,
        TESSERA_SNAPSHOT_PULL_KEY_FILE: join(work, 'client.key'),
        TESSERA_SNAPSHOT_PULL_INTERVAL_MIN: '0.02',
        TESSERA_SNAPSHOT_PULL_APPLY: 'true',
      },
    });
    try {
      const onStandby = (key: string) => new Api(standby.url, key);
      const validateOn = (url: string, key: string, user: string, pass: string) =>
        new Api(url, key).call('POST', '/v1/validate', { user, pass });
      // everything reached the standby: the extra admin key reads there, the extra client validates
      await waitFor(
        'the standby to hold the extra admin key and k-rev-gone',
        async () =>
          (await onStandby(extraKey.apiKey).call('GET', '/v1/admin/users/k-rev-gone')).status === 200,
        30_000,
      );
      const before = await validateOn(standby.url, extra.apiKey, 'k-rev-phone', hotpAt(stolenSecret, 0));
      assert.equal(before.body.result, 'accept', 'the stolen phone works on the standby before the delete');
      assert.equal(
        (await validateOn(standby.url, clientA.key, 'k-rev-gone', hotpAt(goneSecret, 0))).body.result,
        'accept',
      );

      await admin.ok('DELETE', `/v1/admin/users/k-rev-phone/tokens/${stolen.serial}`);
      await admin.ok('DELETE', '/v1/admin/users/k-rev-gone');
      await admin.ok('DELETE', `/v1/admin/clients/${extra.id}`);
      await admin.ok('DELETE', `/v1/admin/admin-keys/${extraKey.id}`);

      // The admin key was deleted last: once the standby refuses it, a snapshot holding all four
      // deletions has been applied there.
      await waitFor(
        'the standby to refuse the deleted admin key',
        async () => (await onStandby(extraKey.apiKey).call('GET', '/v1/admin/cluster')).status === 401,
        30_000,
      );
      const stolenThere = await validateOn(standby.url, clientA.key, 'k-rev-phone', hotpAt(stolenSecret, 1));
      assert.equal(stolenThere.body.result, 'reject', "the stolen phone's token is revoked on the standby");
      assert.equal(stolenThere.body.reason, 'OTP_INVALID');
      assert.equal(
        (await validateOn(standby.url, clientA.key, 'k-rev-phone', hotpAt(keepSecret, 0))).body.result,
        'accept',
        "the user's other token still works",
      );
      const goneThere = await validateOn(standby.url, clientA.key, 'k-rev-gone', hotpAt(goneSecret, 1));
      assert.equal(goneThere.body.reason, 'USER_UNKNOWN', 'the deleted user is gone from the standby');
      assert.equal(
        (await validateOn(standby.url, extra.apiKey, 'k-rev-phone', hotpAt(keepSecret, 1))).status,
        401,
        'the deleted client key is refused on the standby',
      );
      assert.equal((await onStandby(nodeA.adminKey).call('GET', '/v1/admin/users/k-rev-gone')).status, 404);
      // and on the Redis replica node (its caller cache lets a key live a few seconds at most)
      await waitFor(
        'node B to refuse the deleted client key',
        async () => (await validateOn(nodeB.url, extra.apiKey, 'k-rev-phone', '000000')).status === 401,
        10_000,
      );
      await waitFor(
        'node B to refuse the deleted admin key',
        async () =>
          (await new Api(nodeB.url, extraKey.apiKey).call('GET', '/v1/admin/cluster')).status === 401,
        10_000,
      );
      assert.equal(
        (await validateOn(nodeB.url, clientA.key, 'k-rev-phone', hotpAt(stolenSecret, 2))).body.reason,
        'OTP_INVALID',
      );
    } finally {
      await standby.stop();
    }
  });

  test('`tessera cluster failover --to node-b` promotes on purpose, raises the event, and does not fail back', async () => {
    await awaitFreshStep();
    const usedTotp = totpNow(totpSecret);
    assert.equal(
      (await clientA.ok('POST', '/v1/validate', { user: 'k-totp', pass: usedTotp })).result,
      'accept',
    );
    assert.equal(
      (await clientB.ok('POST', '/v1/validate', { user: 'k-hotp', pass: hotpAt(hotpSecret, 0) })).result,
      'accept',
    );
    const out = await runCli(['cluster', 'failover', '--to', 'node-b'], {
      TESSERA_REDIS_URL: m.url,
      TESSERA_DATA_DIR: nodeA.dataDir,
      TESSERA_MASTER_KEY: masterKey,
    });
    assert.equal(out.code, 0, out.err);
    assert.match(out.out, new RegExp(`master is now 127\\.0\\.0\\.1:${r.port}`));
    await waitFor(
      'node B to be master',
      async () => (await new Api(nodeB.url, '').call('GET', '/readyz')).body.role === 'master',
    );
    await waitFor(
      'node A to be slave',
      async () => (await new Api(nodeA.url, '').call('GET', '/readyz')).body.role === 'slave',
    );
    const adminB = new Api(nodeB.url, nodeA.adminKey);
    await adminB.ok('POST', '/v1/admin/users', { username: 'k-after' });
    const refused = await admin.call('POST', '/v1/admin/users', { username: 'k-on-a' });
    assert.equal(refused.status, 409);
    assert.match(refused.body.error.message, new RegExp(`127\\.0\\.0\\.1:${r.port}`));
    assert.equal(
      (await clientB.ok('POST', '/v1/validate', { user: 'k-totp', pass: usedTotp })).reason,
      'OTP_REUSED',
    );
    assert.equal(
      (await clientA.ok('POST', '/v1/validate', { user: 'k-hotp', pass: hotpAt(hotpSecret, 0) })).reason,
      'OTP_REUSED',
    );
    await waitFor('the failover webhook from both nodes', async () => hookEvents.length >= 2, 10_000);
    assert.ok(hookEvents.some((e) => e.node === 'node-b' && e.to === 'master'));
    assert.ok(hookEvents.some((e) => e.node === 'node-a' && e.to === 'slave'));
    const metricsB = String((await new Api(nodeB.url, '').call('GET', '/metrics')).body);
    assert.match(metricsB, /tessera_failover_total\{change="role"\} 1/);
    // an absence, not an event: give a failback the time it would take, then check it did not happen
    await new Promise((res) => setTimeout(res, 2_000));
    assert.equal(
      (await new Api(nodeB.url, '').call('GET', '/readyz')).body.role,
      'master',
      'no automatic failback',
    );
  });

  test('a Redis split off from the master rejoins with counters max-merged and no replay window', async () => {
    // Partition: A's Redis stops replicating and takes writes on its own (split brain).
    const c = m.client();
    await c.call('REPLICAOF', 'NO', 'ONE');
    c.disconnect();
    await waitFor('node A to see itself as master', async () => {
      const role = (await new Api(nodeA.url, '').call('GET', '/readyz')).body.role;
      return role === 'master' || role === 'standalone';
    });
    // Both sides accept different codes while apart.
    assert.equal(
      (await clientB.ok('POST', '/v1/validate', { user: 'k-hotp', pass: hotpAt(hotpSecret, 1) })).result,
      'accept',
    );
    assert.equal(
      (await clientA.ok('POST', '/v1/validate', { user: 'k-hotp', pass: hotpAt(hotpSecret, 6) })).result,
      'accept',
    );
    // Rejoin through Tessera: A's writes pause, its states are max-merged into B's Redis, then it replicates.
    const out = await runCli(['cluster', 'rejoin', '--master', `127.0.0.1:${r.port}`], {
      TESSERA_REDIS_URL: m.url,
      TESSERA_DATA_DIR: nodeA.dataDir,
      TESSERA_MASTER_KEY: masterKey,
    });
    assert.equal(out.code, 0, out.err);
    // No replay window: right after the command, the code used on the split-off side is refused everywhere.
    const replays = await Promise.all([
      clientA.ok('POST', '/v1/validate', { user: 'k-hotp', pass: hotpAt(hotpSecret, 6) }),
      clientB.ok('POST', '/v1/validate', { user: 'k-hotp', pass: hotpAt(hotpSecret, 6) }),
    ]);
    assert.deepEqual(
      replays.map((x) => x.reason),
      ['OTP_REUSED', 'OTP_REUSED'],
    );
    await waitFor(
      'node A to be slave again',
      async () => (await new Api(nodeA.url, '').call('GET', '/readyz')).body.role === 'slave',
    );
    assert.equal(
      (await clientA.ok('POST', '/v1/validate', { user: 'k-hotp', pass: hotpAt(hotpSecret, 1) })).reason,
      'OTP_REUSED',
    );
    const next = await Promise.all([
      clientA.ok('POST', '/v1/validate', { user: 'k-hotp', pass: hotpAt(hotpSecret, 7) }),
      clientB.ok('POST', '/v1/validate', { user: 'k-hotp', pass: hotpAt(hotpSecret, 7) }),
    ]);
    assert.equal(
      next.filter((x) => x.result === 'accept').length,
      1,
      'the next code is accepted exactly once',
    );
    assert.equal(next.find((x) => x.result !== 'accept')?.reason, 'OTP_REUSED');
  });
});
