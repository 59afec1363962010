import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'lmdb';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { type RedisProcess, startRedis, waitForReplicaLink } from '../../test/harness/redis.ts';
import { TesseraError } from '../model/index.ts';
import { openEmbeddedStore } from './embedded/index.ts';
import { checkStoreFormat, STORE_FORMAT_VERSION } from './format-version.ts';
import { openRedisStore } from './redis/index.ts';

/** The marker as a raw LMDB read/write, as another release would see it. */
function withMeta<T>(
  dataDir: string,
  fn: (meta: {
    get(k: string): unknown;
    putSync(k: string, v: unknown): void;
    removeSync(k: string): void;
  }) => T,
): Promise<T> {
  const root = open({
    path: join(dataDir, 'store'),
    maxDbs: 24,
    compression: false,
    useRecords: false,
    mapsAsObjects: true,
  } as never);
  const meta = root.openDB({ name: 'meta' });
  try {
    return Promise.resolve(fn(meta as never));
  } finally {
    void root.close();
  }
}

function refusedNewer(err: unknown, found: number): boolean {
  assert.ok(err instanceof TesseraError);
  assert.equal(err.code, 'STORE_FORMAT_UNSUPPORTED');
  assert.match(err.message, new RegExp(`store format version ${found}, newer than this node's`));
  assert.match(err.message, new RegExp(`reads store formats 1 to ${STORE_FORMAT_VERSION}`));
  assert.match(err.message, /Upgrade this node/);
  assert.match(err.message, /docs\/operations\.md/);
  return true;
}

describe('store format marker: the rules', () => {
  test('unmarked is format 1 and gets marked; current opens as it is; newer and broken refuse', () => {
    assert.deepEqual(
      { found: checkStoreFormat(null, 'x').found, write: checkStoreFormat(null, 'x').write },
      { found: null, write: STORE_FORMAT_VERSION },
    );
    assert.match(checkStoreFormat(null, 'x').note, /no migration needed/);
    assert.equal(checkStoreFormat(STORE_FORMAT_VERSION, 'x').write, undefined);
    assert.throws(
      () => checkStoreFormat(STORE_FORMAT_VERSION + 1, 'x'),
      (e) => refusedNewer(e, STORE_FORMAT_VERSION + 1),
    );
    assert.throws(() => checkStoreFormat(Number.NaN, 'x'), /unreadable store format marker/);
    // a build one format ahead reads this one's stores and migrates them
    const ahead = checkStoreFormat(STORE_FORMAT_VERSION, 'x', STORE_FORMAT_VERSION + 1);
    assert.equal(ahead.write, STORE_FORMAT_VERSION + 1);
    assert.match(ahead.note, /migrated/);
  });
});

describe('store format marker: embedded (LMDB)', () => {
  const dirs: string[] = [];
  const fresh = () => {
    const d = mkdtempSync(join(tmpdir(), 'tessera-fmt-'));
    dirs.push(d);
    return d;
  };
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test('a new store is marked with the current format', async () => {
    const dir = fresh();
    const store = openEmbeddedStore(dir);
    await store.close();
    assert.equal(await withMeta(dir, (m) => m.get('formatVersion')), STORE_FORMAT_VERSION);
  });

  test('a store written before markers opens, keeps its data, and gets marked', async () => {
    const dir = fresh();
    const first = openEmbeddedStore(dir);
    await first.createUser({
      username: 'old',
      group: 'default',
      enabled: true,
      createdAt: 1,
      updatedAt: 1,
    } as never);
    await first.close();
    await withMeta(dir, (m) => m.removeSync('formatVersion'));
    assert.equal(await withMeta(dir, (m) => m.get('formatVersion')), undefined);
    const store = openEmbeddedStore(dir);
    assert.equal(store.format?.found, null);
    assert.match(store.format?.note ?? '', /no store format marker.*marked format 1/);
    assert.equal((await store.getUser('old'))?.username, 'old');
    await store.close();
    assert.equal(await withMeta(dir, (m) => m.get('formatVersion')), STORE_FORMAT_VERSION);
  });

  test('a store marked by a newer release is refused, naming both versions, and left as it was', async () => {
    const dir = fresh();
    await (await Promise.resolve(openEmbeddedStore(dir))).close();
    await withMeta(dir, (m) => m.putSync('formatVersion', STORE_FORMAT_VERSION + 1));
    assert.throws(
      () => openEmbeddedStore(dir),
      (e) => refusedNewer(e, STORE_FORMAT_VERSION + 1),
    );
    assert.equal(await withMeta(dir, (m) => m.get('formatVersion')), STORE_FORMAT_VERSION + 1);
  });
});

describe('store format marker: Redis', () => {
  let master: RedisProcess;
  let replica: RedisProcess;
  beforeAll(async () => {
    master = await startRedis();
    replica = await startRedis({ replicaOf: master.port });
    await waitForReplicaLink(replica);
  });
  afterAll(async () => {
    await replica?.stop();
    await master?.stop();
  });

  test('a new keyspace is marked; an unmarked one with data opens and gets marked', async () => {
    const c = master.client();
    try {
      const store = await openRedisStore({ url: master.url, prefix: 'fmtnew:', replicaAck: 'accept' });
      await store.close();
      assert.equal(await c.get('fmtnew:format'), String(STORE_FORMAT_VERSION));
      await c.hset('fmtold:users', 'old', JSON.stringify({ username: 'old' }));
      const old = await openRedisStore({ url: master.url, prefix: 'fmtold:', replicaAck: 'accept' });
      assert.equal(old.format?.found, null);
      assert.equal((await old.getUser('old'))?.username, 'old');
      await old.close();
      assert.equal(await c.get('fmtold:format'), String(STORE_FORMAT_VERSION));
    } finally {
      c.disconnect();
    }
  });

  test('a keyspace marked by a newer release is refused on the master, and the marker stays', async () => {
    const c = master.client();
    try {
      await c.set('fmtfut:format', String(STORE_FORMAT_VERSION + 1));
      await assert.rejects(
        openRedisStore({ url: master.url, prefix: 'fmtfut:', replicaAck: 'accept' }),
        (e) =>
          refusedNewer(e, STORE_FORMAT_VERSION + 1) && /Redis keyspace "fmtfut:"/.test((e as Error).message),
      );
      assert.equal(await c.get('fmtfut:format'), String(STORE_FORMAT_VERSION + 1));
    } finally {
      c.disconnect();
    }
  });

  test("a replica node refuses when the master's keyspace is newer, even before its own Redis has it", async () => {
    const c = master.client();
    const r = replica.client();
    try {
      await c.set('fmtrep:format', String(STORE_FORMAT_VERSION + 1));
      for (let i = 0; i < 100 && (await r.get('fmtrep:format')) === null; i++)
        await new Promise((f) => setTimeout(f, 50));
      // a replica that has not caught up yet: its own copy has no marker, the master's is newer
      await r.config('SET', 'replica-read-only', 'no');
      await r.del('fmtrep:format');
      assert.equal(await r.get('fmtrep:format'), null);
      await assert.rejects(
        openRedisStore({ url: replica.url, prefix: 'fmtrep:', replicaAck: 'accept' }),
        (e) => refusedNewer(e, STORE_FORMAT_VERSION + 1) && /on the master/.test((e as Error).message),
      );
      // and a replica never writes a marker of its own
      assert.equal(await r.get('fmtrep:format'), null);
    } finally {
      await r.config('SET', 'replica-read-only', 'yes');
      c.disconnect();
      r.disconnect();
    }
  });
});
