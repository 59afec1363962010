import assert from 'node:assert/strict';
import { connect as plainConnect } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { sentinelFailover } from '../../src/cluster/switchover.ts';
import { sampleUser } from '../../src/store/fixtures.ts';
import { openRedisStore, type RedisStore } from '../../src/store/redis/index.ts';
import { waitFor } from '../harness/ports.ts';
import { type RedisProcess, type SentinelGroup, startRedis, startSentinels } from '../harness/redis.ts';
import { makeTlsMaterial, type TlsMaterial } from '../harness/tls.ts';

const NAME = 'tls-ha';
const policy = { lockout: { threshold: 1000, baseSeconds: 60, maxSeconds: 60 }, windowMs: 60_000 };

/** One failed attempt as the validator makes it: reserved (counted) first, then settled. */
async function failOnce(store: RedisStore, username: string) {
  const reserved = await store.reserveAttempt(username, Date.now(), { ...policy, failuresPerWindow: 0 });
  assert.ok(reserved.granted, `an attempt for ${username} is reserved`);
  return store.commitFailure(username, Date.now(), policy);
}

/** The connection's socket, once it answers: TLS, its certificate verified, to the port we expect. */
async function assertVerifiedTls(conn: Redis, port: number, what: string): Promise<void> {
  assert.equal(await conn.ping(), 'PONG');
  const sock = conn.stream;
  assert.ok(sock instanceof TLSSocket, `${what} is a TLS connection`);
  assert.equal(sock.authorized, true, `${what}: the server's certificate was verified`);
  assert.equal(sock.remotePort, port, `${what} reaches port ${port}`);
}

/** Sends a plaintext PING to a port and reports whether a Redis answer came back. */
function plaintextPing(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = plainConnect({ host: '127.0.0.1', port });
    let got = '';
    const done = (why: string) => {
      s.destroy();
      resolve(got.includes('PONG') ? 'PONG' : why);
    };
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => {
      got += d.toString('latin1');
    });
    s.on('close', () => done('closed'));
    s.on('error', (e) => done(e.message));
    s.setTimeout(3_000, () => done('no answer'));
  });
}

// A TLS-only Redis master and replica (plaintext port 0, client certificates required) and three
// TLS-only Sentinels, with a CA made for this run. The store must reach all of them over verified
// TLS, directly and through Sentinel, and refuse a server its CA does not vouch for.
describe('Redis and Sentinel over TLS only', () => {
  let tls: TlsMaterial;
  let master: RedisProcess;
  let replica: RedisProcess;
  let sentinels: SentinelGroup;
  let files: { caFile: string; certFile: string; keyFile: string };
  const open: RedisStore[] = [];
  /** Sentinel lists one replica, and one it would promote: linked to its master, not down. */
  const sentinelKnowsOneReplica = (what: string) =>
    waitFor(what, async () => {
      const c = sentinels.client();
      try {
        const replicas = (await c.call('SENTINEL', 'replicas', NAME)) as string[][];
        if (replicas.length !== 1) return false;
        const fields = replicas[0] ?? [];
        const rec: Record<string, string> = {};
        for (let i = 0; i + 1 < fields.length; i += 2) rec[fields[i]!] = fields[i + 1]!;
        return rec.flags === 'slave' && rec['master-link-status'] === 'ok';
      } finally {
        c.disconnect();
      }
    });
  const track = (s: RedisStore) => {
    open.push(s);
    return s;
  };

  beforeAll(async () => {
    tls = makeTlsMaterial();
    files = { caFile: tls.caFile, certFile: tls.clientCertFile, keyFile: tls.clientKeyFile };
    master = await startRedis({ tls });
    replica = await startRedis({ tls, replicaOf: master.port });
    sentinels = await startSentinels({
      masterPort: master.port,
      name: NAME,
      downAfterMs: 1000,
      failoverTimeoutMs: 5000,
      tls,
    });
  });

  afterAll(async () => {
    for (const s of open) await s.close().catch(() => {});
    await sentinels?.stop();
    await replica?.stop();
    await master?.stop();
    tls?.remove();
  });

  test('no server has a plaintext port: plaintext gets no answer anywhere', async () => {
    const c = master.client();
    try {
      assert.deepEqual(await c.config('GET', 'port'), ['port', '0']);
    } finally {
      c.disconnect();
    }
    for (const port of [master.port, replica.port, ...sentinels.ports])
      assert.notEqual(await plaintextPing(port), 'PONG', `port ${port} answered plaintext`);
    await assert.rejects(
      openRedisStore({ url: `redis://127.0.0.1:${master.port}`, waitTimeoutMs: 500 }),
      new RegExp(`cannot reach Redis at 127\\.0\\.0\\.1:${master.port}`),
    );
  });

  test('the store connects directly over verified TLS, reads and writes', async () => {
    const store = track(await openRedisStore({ url: master.url, tls: files, prefix: 'direct:' }));
    assert.equal(store.links.usesTls, true);
    assert.equal(await store.createUser(sampleUser('tls-direct')), true);
    assert.equal((await store.getUser('tls-direct'))?.username, 'tls-direct');
    assert.deepEqual(await store.role(), { role: 'master' });
    await assertVerifiedTls(store.links.local, master.port, 'the local connection');
    await assertVerifiedTls(store.links.writer(), master.port, 'a writer');
    // a node on the replica follows ROLE to the master, also over TLS
    const onReplica = track(await openRedisStore({ url: replica.url, tls: files, prefix: 'direct:' }));
    assert.equal((await onReplica.role()).role, 'slave');
    await assertVerifiedTls(onReplica.links.writer(), master.port, "the replica node's writer");
    assert.equal((await failOnce(onReplica, 'tls-direct')).failures, 1);
  });

  test('a server certificate from another CA is refused with a clear error and no password', async () => {
    const password = 'pw-that-must-not-leak-7Qz';
    const url = `rediss://default:${password}@127.0.0.1:${master.port}`;
    for (const caFile of [tls.otherCaFile, undefined]) {
      const t0 = Date.now();
      await assert.rejects(
        openRedisStore({
          url,
          tls: { certFile: files.certFile, keyFile: files.keyFile, ...(caFile ? { caFile } : {}) },
          waitTimeoutMs: 500,
        }),
        (err: Error) => {
          assert.match(
            err.message,
            new RegExp(`^cannot reach Redis at 127\\.0\\.0\\.1:${master.port} over TLS: `),
          );
          assert.match(err.message, /TLS certificate was refused \(.*(issuer|self-signed|verify).*\)/);
          assert.ok(!err.message.includes(password), 'the password is not in the error');
          assert.ok(!JSON.stringify(err).includes(password), 'nor in any field of it');
          return true;
        },
      );
      assert.ok(Date.now() - t0 < 10_000, 'refused promptly');
    }
  });

  test('TLS files next to a redis:// URL are refused rather than ignored', async () => {
    await assert.rejects(
      openRedisStore({ url: `redis://127.0.0.1:${master.port}`, tls: files }),
      /Redis TLS files are set but the Redis URL is redis:\/\/ \(plaintext\); use rediss:\/\//,
    );
  });

  test('through Sentinel, the discovered master and the Sentinels are reached over verified TLS', async () => {
    const viaSentinel = track(
      await openRedisStore({
        url: replica.url,
        sentinels: sentinels.sentinels,
        sentinelName: NAME,
        tls: files,
        prefix: 'sent:',
      }),
    );
    assert.equal((await viaSentinel.role()).role, 'slave');
    await assertVerifiedTls(viaSentinel.links.local, replica.port, 'the local connection');
    // writes go to the master Sentinel named, over TLS
    const w = viaSentinel.links.writer();
    assert.equal((await failOnce(viaSentinel, 'tls-sent')).failures, 1);
    await assertVerifiedTls(w, master.port, 'the Sentinel-resolved writer');
    const c = master.client();
    try {
      assert.ok(await c.hget('sent:ustates', 'tls-sent'), 'the write reached the master');
    } finally {
      c.disconnect();
    }
    // Sentinel alone (no URL): the local connection itself is Sentinel-resolved
    const sentinelOnly = track(
      await openRedisStore({
        sentinels: sentinels.sentinels,
        sentinelName: NAME,
        tls: files,
        prefix: 'sent:',
      }),
    );
    await assertVerifiedTls(sentinelOnly.links.local, master.port, 'the Sentinel-only connection');
    assert.equal((await failOnce(sentinelOnly, 'tls-sent')).failures, 2);
  });

  test('a Sentinel connection that ioredis ended for good is replaced, not kept', async () => {
    // ioredis ends a Sentinel client when a failover message lands while it asks Sentinel for the
    // master; disconnect() puts a connection in that same 'end' state
    const store = track(
      await openRedisStore({
        sentinels: sentinels.sentinels,
        sentinelName: NAME,
        tls: files,
        prefix: 'end:',
      }),
    );
    const ended = [store.links.local, ...Array.from({ length: 4 }, () => store.links.writer())];
    await Promise.all(ended.map((c) => c.ping()));
    for (const c of ended) c.disconnect();
    await waitFor('the connections to end', async () => ended.every((c) => c.status === 'end'));
    assert.equal((await failOnce(store, 'end-user')).failures, 1);
    assert.equal(await store.getUser('nobody'), null);
    for (let i = 0; i < 4; i++) assert.ok(!ended.includes(store.links.writer()), 'every writer was replaced');
    assert.ok(!ended.includes(store.links.local));
    await assertVerifiedTls(store.links.local, master.port, 'the replaced connection');
  });

  test('through Sentinel, a master certificate from another CA is refused clearly', async () => {
    await assert.rejects(
      openRedisStore({
        sentinels: sentinels.sentinels,
        sentinelName: NAME,
        tls: { ...files, caFile: tls.otherCaFile },
        waitTimeoutMs: 500,
      }),
      (err: Error) => {
        assert.match(err.message, /^cannot reach Redis at Sentinels 127\.0\.0\.1:\d+.* over TLS: /);
        assert.match(err.message, /TLS certificate was refused/);
        return true;
      },
    );
  });

  test('the operator failover (`tessera cluster failover`) reaches the TLS-only Sentinels and Redis', async () => {
    const access = { url: master.url, tls: files, sentinels: sentinels.sentinels, name: NAME };
    await sentinelKnowsOneReplica('Sentinel to know the replica');
    const there = await sentinelFailover({ ...access, target: `127.0.0.1:${replica.port}` });
    assert.equal(there.to, `127.0.0.1:${replica.port}`);
    assert.equal(await sentinels.masterPort(), replica.port);
    // and back, so the crash test below starts from the same cluster
    await sentinelKnowsOneReplica('Sentinel to know the old master as a replica');
    const back = await sentinelFailover({ ...access, target: `127.0.0.1:${master.port}` });
    assert.equal(back.to, `127.0.0.1:${master.port}`);
    assert.equal(await sentinels.masterPort(), master.port);
  });

  test('after Sentinel promotes the replica, the store follows it over TLS', async () => {
    const node = track(
      await openRedisStore({
        url: replica.url,
        sentinels: sentinels.sentinels,
        sentinelName: NAME,
        tls: files,
        prefix: 'fo:',
        rolePollMs: 100,
        // two data nodes: the promoted master has no replica left to acknowledge the lock below
        replicaAck: 'accept',
      }),
    );
    await sentinelKnowsOneReplica('Sentinel to know the replica');
    await master.kill('SIGKILL');
    await waitFor(
      'Sentinel to promote the replica',
      async () => (await sentinels.masterPort()) === replica.port,
    );
    await waitFor('the store to see its Redis as master', async () => (await node.role()).role !== 'slave');
    // waitFor keeps the last error, so a timeout says why the writes failed
    const state = await waitFor('a write through the new master', () =>
      failOnce(node, 'after-failover').catch((err: Error) => {
        throw new Error(`${err.message} (${String(err.cause)})`);
      }),
    );
    assert.equal(state.failures, 1);
    for (let i = 0; i < 4; i++)
      await assertVerifiedTls(node.links.writer(), replica.port, `writer ${i} after the failover`);
  });
});
