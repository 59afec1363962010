import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Database, open } from 'lmdb';
import { afterAll, beforeAll, test } from 'vitest';
import { keysBetween } from './range-keys.ts';

const dir = mkdtempSync(join(tmpdir(), 'tessera-lmdb-range-'));
const root = open({ path: dir, maxDbs: 4, compression: false });
const db: Database<string, string> = root.openDB({ name: 'index' });

beforeAll(async () => {
  await root.transaction(() => {
    for (const key of ['al\0T-2', 'al\0T-1', 'al\0T-10', 'alice\0T-9', 'ak\0T-0', 'al']) db.putSync(key, '');
  });
});
afterAll(async () => {
  await root.close();
  rmSync(dir, { recursive: true, force: true });
});

test('keysBetween gives the keys from start to just before end, in key order, as for...of does', () => {
  const got = keysBetween(db, 'al\0', 'al\u0001');
  assert.deepEqual(got, ['al\0T-1', 'al\0T-10', 'al\0T-2']);
  assert.deepEqual(got, [...db.getKeys({ start: 'al\0', end: 'al\u0001' })]);
  assert.deepEqual(keysBetween(db, 'bob\0', 'bob\u0001'), [], 'an empty range is an empty list');
});

test('keysBetween still answers when the range has no iterate() (another lmdb release)', () => {
  const plain = {
    getKeys: (range: { start: string; end: string }) => [...db.getKeys(range)],
  } as unknown as Database<string, string>;
  assert.deepEqual(keysBetween(plain, 'al\0', 'al\u0001'), ['al\0T-1', 'al\0T-10', 'al\0T-2']);
});
