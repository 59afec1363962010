import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { hotpAt } from '../harness/codes.ts';
import { ensureDebianPackages } from '../harness/debian.ts';
import { EnrolLoad, LoginLoad, validateHttp } from '../harness/ha-load.ts';
import { makePartitionable, namespacesAvailable, type Partitionable, type Side } from '../harness/netns.ts';
import { waitFor } from '../harness/ports.ts';
import { Api, baseEnv, REPO_ROOT, randomBase32 } from '../harness/tessera.ts';

const NAME = 'tessera-part';
// Not 500 ms: with two replicas on the near side, a starved Sentinel can take the new master for
// dead and fail over a second time (see ha-three-nodes.test.ts).
const DOWN_AFTER_MS = 1_000;

interface Service {
  side: Side;
  port: number;
  /** The loopback port of the test process that reaches it. */
  reach: number;
  proc: ChildProcess;
  dir: string;
}

function client(s: Service): Redis {
  const c = new Redis({
    host: '127.0.0.1',
    port: s.reach,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  c.on('error', () => {});
  return c;
}

async function ask<T>(s: Service, fn: (c: Redis) => Promise<T>): Promise<T> {
  const c = client(s);
  try {
    return await fn(c);
  } finally {
    c.disconnect();
  }
}

// A partition rather than a crash. The master's Redis, one Sentinel and one Tessera node (A) are
// on the far side of a link the test takes down: two network namespaces joined by a veth pair,
// with 10.x addresses that exist only inside them. The near side (two replicas, two Sentinels, two
// nodes) keeps the Sentinel majority and promotes a replica. The clients (this test) reach both
// sides throughout, as a VPN concentrator might. Strict replica acknowledgement (the default) and
// min-replicas-to-write on the data nodes keep the cut-off master from acknowledging anything.
describe('partition: the master cut off, Sentinel promotes on the majority side, then the link heals', () => {
  let net: Partitionable;
  const redis: Service[] = [];
  const sentinels: Service[] = [];
  const nodes: (Service & { url: string; name: string })[] = [];
  let adminKey = '';
  let keys = { api: '', radius: '' };
  const masterKey = randomBytes(32).toString('base64');

  async function startRedisIn(side: Side, port: number, replicaOf?: Service): Promise<Service> {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-part-redis-'));
    const proc = net.spawnIn(side, '/usr/bin/redis-server', [
      '--port',
      String(port),
      '--bind',
      side.address,
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
      '--repl-diskless-sync-delay',
      '0',
      '--logfile',
      join(dir, 'redis.log'),
      // a master that has not heard from a replica for 2 s refuses writes (NOREPLICAS)
      // only this namespace's addresses exist: no password needed to accept them
      '--protected-mode',
      'no',
      '--min-replicas-to-write',
      '1',
      '--min-replicas-max-lag',
      '2',
      ...(replicaOf ? ['--replicaof', replicaOf.side.address, String(replicaOf.port)] : []),
    ]);
    const s: Service = { side, port, proc, dir, reach: await net.reach(side, port) };
    await waitFor(
      `redis ${side.address}:${port}`,
      () => ask(s, async (c) => (await c.ping()) === 'PONG'),
      15_000,
      50,
    );
    if (replicaOf)
      await waitFor(`replica ${port} to sync`, () =>
        ask(s, async (c) => (await c.info('replication')).includes('master_link_status:up')),
      );
    return s;
  }

  async function startSentinelIn(side: Side, port: number, master: Service): Promise<Service> {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-part-sentinel-'));
    const conf = join(dir, 'sentinel.conf');
    writeFileSync(
      conf,
      [
        `port ${port}`,
        `bind ${side.address}`,
        'protected-mode no',
        `dir ${dir}`,
        `sentinel monitor ${NAME} ${master.side.address} ${master.port} 2`,
        `sentinel down-after-milliseconds ${NAME} ${DOWN_AFTER_MS}`,
        `sentinel failover-timeout ${NAME} 5000`,
        '',
      ].join('\n'),
    );
    const proc = net.spawnIn(side, '/usr/bin/redis-sentinel', [conf, '--logfile', join(dir, 'sentinel.log')]);
    const s: Service = { side, port, proc, dir, reach: await net.reach(side, port) };
    await waitFor(`sentinel ${side.address}:${port}`, () => ask(s, async (c) => (await c.ping()) === 'PONG'));
    return s;
  }

  async function startNodeIn(side: Side, port: number, local: Service, name: string) {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-part-node-'));
    const env = {
      ...baseEnv(),
      TESSERA_HOST: side.address,
      TESSERA_PORT: String(port),
      TESSERA_DATA_DIR: dir,
      TESSERA_LOG_LEVEL: 'warn',
      TESSERA_MASTER_KEY: masterKey,
      TESSERA_NODE_ID: `node-${name}`,
      TESSERA_REDIS_URL: `redis://${local.side.address}:${local.port}`,
      TESSERA_SENTINELS: sentinels.map((s) => `${s.side.address}:${s.port}`).join(','),
      TESSERA_SENTINEL_NAME: NAME,
    };
    const proc = net.spawnIn(side, process.execPath, [join(REPO_ROOT, 'bin/tessera.mjs'), 'serve'], env);
    let out = '';
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    proc.stderr?.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const reach = await net.reach(side, port);
    const url = `http://127.0.0.1:${reach}`;
    // 60 s: a first start in a namespace, on two cores shared with the rest of the suite
    await waitFor(
      `node ${name}`,
      async () => {
        if (proc.exitCode !== null) throw new Error(`node ${name} exited: ${out.slice(-2000)}`);
        return (await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5_000) })).ok;
      },
      60_000,
    ).catch((err: unknown) => {
      throw new Error(
        `${err instanceof Error ? err.message : String(err)}; node ${name} printed: ${out.slice(-2000)}`,
      );
    });
    const node = { side, port, proc, dir, reach, url, name };
    nodes.push(node);
    return node;
  }

  beforeAll(async () => {
    ensureDebianPackages(['redis-server', 'redis-sentinel']);
    assert.ok(namespacesAvailable(), 'this test needs network namespaces (root and `ip netns`)');
    net = makePartitionable();
    const m = await startRedisIn(net.far, 6379);
    redis.push(m, await startRedisIn(net.near, 6379, m), await startRedisIn(net.near, 6380, m));
    sentinels.push(
      await startSentinelIn(net.near, 26379, m),
      await startSentinelIn(net.near, 26380, m),
      await startSentinelIn(net.far, 26379, m),
    );
    await waitFor('the Sentinels to know the replicas and each other', () =>
      ask(sentinels[0]!, async (c) => {
        const replicas = (await c.call('SENTINEL', 'replicas', NAME)) as unknown[];
        const others = (await c.call('SENTINEL', 'sentinels', NAME)) as unknown[];
        return replicas.length === 2 && others.length === 2;
      }),
    );
    const a = await startNodeIn(net.far, 8080, m, 'A');
    await waitFor('admin.key', async () => existsSync(join(a.dir, 'admin.key')));
    adminKey = readFileSync(join(a.dir, 'admin.key'), 'utf8').trim();
    await startNodeIn(net.near, 8080, redis[1]!, 'B');
    await startNodeIn(net.near, 8081, redis[2]!, 'C');
    const admin = new Api(a.url, adminKey);
    keys = {
      api: await admin.createClient('api'),
      radius: await admin.createClient('radius', { rejectDetail: 'reason' }),
    };
    // every step above has its own deadline; this one only catches what none of them foresaw
  }, 300_000);

  afterAll(async () => {
    await net?.close();
    for (const s of [...redis, ...sentinels, ...nodes]) rmSync(s.dir, { recursive: true, force: true });
  });

  test('the old master acknowledges nothing while cut off, rejoins as a replica, and nothing is lost', async () => {
    const [a, b, c] = nodes as [(typeof nodes)[0], (typeof nodes)[0], (typeof nodes)[0]];
    const adminA = new Api(a.url, adminKey);
    const near = [
      { name: 'B', url: b.url },
      { name: 'C', url: c.url },
    ];
    const load = new LoginLoad(near, keys);
    await load.enrol(adminA, 'part', 8);
    // a user whose next code is tried on the far side while it is cut off
    const farSecret = randomBase32();
    await adminA.ok('POST', '/v1/admin/users', { username: 'far-user' });
    const farToken = await adminA.ok('POST', '/v1/admin/users/far-user/tokens', {
      type: 'hotp',
      secret: farSecret,
      counter: 0,
    });
    const enrol = new EnrolLoad([...near, { name: 'A', url: a.url }], adminKey, 'enrp');
    const until = (what: string, cond: () => boolean, ms: number) =>
      waitFor(what, async () => cond(), ms, 20).catch(() => false);

    load.start();
    enrol.start();
    let cutAt = 0;
    let farWrite: { status: number; retryAfter: string | null; code?: string } = {
      status: 0,
      retryAfter: null,
    };
    let farLogin = { result: '', reason: '' as string | undefined };
    let healAt = 0;
    try {
      await until('logins before the cut', () => load.acceptsSince(0) >= 16, 30_000);
      net.cut();
      cutAt = Date.now();
      // the far side, at once: a login (its accept runs on the cut-off master, which still counts
      // its replicas for 2 s, but no replica acknowledges it), then a configuration write
      const fl = await validateHttp(a.url, keys.api, 'far-user', hotpAt(farSecret, 0));
      farLogin = { result: fl.result, reason: fl.reason };
      const wr = await fetch(`${a.url}/v1/admin/users`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'written-while-cut-off' }),
      });
      const wbody = (await wr.json()) as { error?: { code?: string } };
      farWrite = {
        status: wr.status,
        retryAfter: wr.headers.get('retry-after'),
        ...(wbody.error?.code ? { code: wbody.error.code } : {}),
      };
      // the near side promotes and goes on
      await until('an accept on the near side', () => load.firstAcceptAfter(cutAt, 'B') > 0, 30_000);
      await until('more logins on the near side', () => load.acceptsSince(Date.now()) >= 16, 15_000);
      net.heal();
      healAt = Date.now();
      await waitFor(
        'the old master to rejoin as a replica',
        () =>
          ask(redis[0]!, async (conn) => {
            const info = await conn.info('replication');
            return info.includes('role:slave') && info.includes('master_link_status:up');
          }),
        60_000,
        100,
      );
      await until('logins after the heal', () => load.acceptsSince(Date.now()) >= 16, 15_000);
    } finally {
      await load.stop();
      await enrol.stop();
    }
    const newMasterPort = Number(
      (
        (await ask(sentinels[0]!, (conn) =>
          conn.call('SENTINEL', 'get-master-addr-by-name', NAME),
        )) as string[]
      )[1],
    );
    const newMaster = redis.find((r) => r.side === net.near && r.port === newMasterPort);
    assert.ok(newMaster, 'Sentinel promoted a replica on the near side');
    const promotedNode = nodes.find(
      (n) => n.side === net.near && n.port === (newMasterPort === 6379 ? 8080 : 8081),
    )!;
    const figures = load.figures(cutAt);
    const firstNear = Math.min(
      ...['B', 'C'].map((n) => load.firstAcceptAfter(cutAt, n) - cutAt).filter((ms) => ms >= 0),
    );
    process.stdout.write(
      `# partition (namespaces ${net.far.ns}/${net.near.ns}, down-after ${DOWN_AFTER_MS} ms): near side ` +
        `${figures.sent} requests after the cut, ${figures.failed.length} failed, first accept ${firstNear} ms ` +
        `after the cut, slowest ${figures.slowestMs} ms; far side: admin write ${farWrite.status} ` +
        `(${farWrite.code}, Retry-After ${farWrite.retryAfter}), login ${farLogin.result} ${farLogin.reason ?? ''}; ` +
        `old master rejoined as a replica ${Date.now() - healAt} ms after the heal (at most); ` +
        `${enrol.acknowledged.length} acknowledged enrolments, ${enrol.unavailable} admin 503s\n`,
    );
    // the cut-off master acknowledged no configuration write and accepted no login
    assert.equal(farWrite.status, 503, 'a configuration write on the cut-off master is refused');
    assert.equal(farWrite.code, 'STORE_UNAVAILABLE');
    assert.equal(farWrite.retryAfter, '1');
    assert.notEqual(farLogin.result, 'accept', 'no login is accepted without a replica');
    const onMaster = new Api(promotedNode.url, adminKey);
    assert.equal((await onMaster.call('GET', '/v1/admin/users/written-while-cut-off')).status, 404);
    // the near side served through the failover
    assert.deepEqual(
      figures.failed.map((f) => `${f.node} ${f.face} ${f.reason} at +${f.started - cutAt} ms`),
      [],
      'no request failed on the majority side',
    );
    // codes used on either side stay used: the far side's attempt (its accept ran on the old master
    // before the missing acknowledgement refused it) was carried over when it rejoined
    await waitFor('the far side to push what it used to the new master', () =>
      ask(newMaster!, async (conn) => {
        const raw = await conn.hget('tessera:tstates', farToken.serial as string);
        return raw !== null && Number(raw.split(',')[0]) >= 1;
      }),
    );
    for (const n of nodes) {
      const r = await validateHttp(n.url, keys.api, 'far-user', hotpAt(farSecret, 0));
      assert.equal(r.reason, 'OTP_REUSED', `the far side's code on node ${n.name}`);
    }
    load.assertNoDoubleAccept();
    await load.assertAcceptedStayUsed();
    await enrol.assertNoneLost({ name: promotedNode.name, url: promotedNode.url });
  });
});
