import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { sampleToken, sampleUser } from '../store/fixtures.ts';
import { openEmbeddedStore, type Store } from '../store/index.ts';
import { restoreSnapshot } from './restore.ts';
import { createSnapshot, USERS_PER_CHUNK } from './snapshot.ts';
import { verifySnapshot } from './snapshot-format.ts';
import { bufferSource } from './snapshot-stream.ts';

// A snapshot larger than one chunk: the decisions that need every user (canonical names) still
// hold across chunks, and every user arrives with its tokens and used-code state.
describe('a restore read in chunks', () => {
  const dirs: string[] = [];
  const stores: Store[] = [];
  const open = () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-chunks-'));
    dirs.push(dir);
    const s = openEmbeddedStore(dir);
    stores.push(s);
    return s;
  };
  let source: Store;
  const n = USERS_PER_CHUNK + 300;

  beforeAll(async () => {
    source = open();
    // "Dave" sorts first and "ｄａｖｅ" (fullwidth) last: more than a chunk of users lies between
    await source.createUser(sampleUser('Dave', { createdAt: 5 }));
    await source.putToken(sampleToken('T-D1', 'Dave'));
    for (let i = 0; i < n; i++) {
      const name = `u${String(i).padStart(5, '0')}`;
      await source.createUser(sampleUser(name));
      await source.putToken(sampleToken(`H-${i}`, name, { type: 'hotp' }));
      await source.advanceTokenState(`H-${i}`, { counter: i, lastUsedStep: 0, drift: 0 });
    }
    await source.createUser(sampleUser('ｄａｖｅ', { createdAt: 9 }));
    await source.putToken(sampleToken('T-D2', 'ｄａｖｅ'));
  });

  afterAll(async () => {
    for (const s of stores) await s.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  test('names fold across chunks, tokens follow their users, states are carried', async () => {
    const secret = { key: Buffer.alloc(32, 9) };
    const { bytes } = await createSnapshot(source, {
      secret,
      components: ['users', 'tokens', 'clients', 'settings'],
      node: 'n',
    });
    const opened = await verifySnapshot(bufferSource(bytes), secret);
    assert.ok([...opened.chunks()].length >= 3, 'the head chunk and at least two chunks of users');
    assert.equal(opened.manifest.counts.users, n + 2);
    const target = open();
    const seen: number[] = [];
    const report = await restoreSnapshot(target, opened, {
      components: ['users', 'tokens', 'clients', 'settings'],
      mode: 'sync',
      progress: (done) => seen.push(done),
    });
    assert.equal(report.usersCreated, n + 1);
    assert.deepEqual(
      report.usersSkippedName.map((s) => s.username),
      ['ｄａｖｅ'],
    );
    assert.equal(report.tokensSkippedNoUser, 1, "the second Dave's token is not handed to the first");
    assert.deepEqual(
      (await target.listTokens('dave')).map((t) => t.serial),
      ['T-D1'],
    );
    assert.equal(await target.getToken('T-D2'), null);
    assert.equal((await target.getTokenState(`H-${n - 1}`)).counter, n - 1);
    assert.ok(
      seen.length >= 3 && seen.every((v, i) => i === 0 || v >= seen[i - 1]!),
      'progress after each chunk',
    );
  });
});
