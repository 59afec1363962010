// A node given a store written by a newer release (a later store format) does not start: `tessera`
// exits non-zero and says which versions and what to do (docs/operations.md, rolling upgrade).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open } from 'lmdb';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { STORE_FORMAT_VERSION } from '../../src/store/format-version.ts';
import { openEmbeddedStore } from '../../src/store/index.ts';
import { type RedisProcess, startRedis } from '../harness/redis.ts';
import { runCli } from '../harness/tessera.ts';

const NEWER = STORE_FORMAT_VERSION + 1;

function assertRefused(r: { code: number; err: string }): void {
  assert.notEqual(r.code, 0, r.err);
  assert.match(r.err, new RegExp(`store format version ${NEWER}, newer than this node's`));
  assert.match(r.err, new RegExp(`reads store formats 1 to ${STORE_FORMAT_VERSION}`));
  assert.match(r.err, /Upgrade this node.*docs\/operations\.md/s);
}

describe('tessera refuses a store of a newer format', () => {
  let redis: RedisProcess;
  const dirs: string[] = [];
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test('embedded: serve and a CLI command exit non-zero with the message', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-fmt-cli-'));
    dirs.push(dir);
    await openEmbeddedStore(dir).close();
    const root = open({
      path: join(dir, 'store'),
      maxDbs: 24,
      compression: false,
      useRecords: false,
      mapsAsObjects: true,
    } as never);
    const meta = root.openDB<number, string>({ name: 'meta' });
    await meta.put('formatVersion', NEWER);
    await root.close();
    assertRefused(await runCli(['serve'], { TESSERA_DATA_DIR: dir, TESSERA_PORT: '0' }));
    assertRefused(await runCli(['user', 'list'], { TESSERA_DATA_DIR: dir }));
  });

  test('Redis: serve exits non-zero with the message', async () => {
    const c = redis.client();
    try {
      await c.set('newer:format', String(NEWER));
    } finally {
      c.disconnect();
    }
    const dir = mkdtempSync(join(tmpdir(), 'tessera-fmt-cli-'));
    dirs.push(dir);
    const r = await runCli(['serve'], {
      TESSERA_DATA_DIR: dir,
      TESSERA_PORT: '0',
      TESSERA_REDIS_URL: redis.url,
      TESSERA_REDIS_PREFIX: 'newer:',
    });
    assertRefused(r);
    assert.match(r.err, /Redis keyspace "newer:"/);
  });
});
