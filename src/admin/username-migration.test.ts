import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { startRedis } from '../../test/harness/redis.ts';
import { KeyRing } from '../crypto/index.ts';
import { DEFAULT_SETTINGS, TesseraError } from '../model/index.ts';
import { sampleToken, sampleUser } from '../store/fixtures.ts';
import { openEmbeddedStore, type Store } from '../store/index.ts';
import { openRedisStore } from '../store/redis/index.ts';
import type { AdminContext } from './context.ts';
import { migrateUsernames } from './username-migration.ts';
import { createUser, deleteUser } from './users.ts';

const policy = { lockout: { threshold: 1, baseSeconds: 600, maxSeconds: 600 }, windowMs: 60_000 };

function migrationSuite(name: string, open: () => Promise<{ store: Store; cleanup(): Promise<void> }>): void {
  describe(`username migration: ${name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    let ctx: AdminContext;
    const audit: { type: string; detail: Record<string, string | undefined> }[] = [];
    const errors: string[] = [];
    const log = { info() {}, error: (_o: object, msg: string) => errors.push(msg) };

    beforeAll(async () => {
      ({ store, cleanup } = await open());
      ctx = {
        store,
        keyring: KeyRing.generate(),
        settings: async () => DEFAULT_SETTINGS,
        audit: (type, detail) => audit.push({ type, detail }),
      };
      // Records as an older version stored them: names taken as they came.
      await store.createUser(sampleUser('Dave', { createdAt: 10, email: 'dave@x' }));
      await store.putToken(sampleToken('T-DAVE', 'Dave'));
      await store.commitAccept('Dave', 'T-DAVE', { kind: 'totp', step: 99, drift: 0 }, 1);
      await store.reserveAttempt('Dave', Date.now(), { ...policy, failuresPerWindow: 0 });
      await store.commitFailure('Dave', Date.now(), policy);
      await store.createUser(sampleUser('ｄａｖｅ', { createdAt: 20, email: 'wide@x' }));
      await store.putToken(sampleToken('T-WIDE', 'ｄａｖｅ'));
      await store.createUser(sampleUser('carol', { createdAt: 30 }));
      await store.createUser(sampleUser('Carol', { createdAt: 5 }));
      await store.putToken(sampleToken('T-CAROL-UPPER', 'Carol'));
      await store.createUser(sampleUser('Eve\u200b', { createdAt: 40 }));
      await store.createUser(sampleUser('bad/name', { createdAt: 50 }));
      await store.createUser(sampleUser('lone\ud800', { createdAt: 60 }));
    });
    afterAll(async () => cleanup());

    test('renames with tokens and lock, never merges, and names both sides of a collision', async () => {
      const report = await migrateUsernames(ctx, log);
      assert.deepEqual(report.renamed, [
        { from: 'Dave', to: 'dave' },
        { from: 'Eve\u200b', to: 'eve' },
      ]);
      assert.deepEqual(report.collisions, [
        { left: 'Carol', kept: 'carol' }, // the canonical holder keeps it, though Carol is older
        { left: 'ｄａｖｅ', kept: 'dave' }, // the older of two non-canonical names got it
      ]);
      // a lone surrogate reaches the store mangled into U+FFFD: refused in any form
      assert.deepEqual(report.invalid.map((n) => (n.startsWith('lone') ? 'lone' : n)).sort(), [
        'bad/name',
        'lone',
      ]);

      const dave = await store.loadAuthView('dave');
      assert.ok(dave);
      assert.equal(dave.user.email, 'dave@x', 'the older record, not merged with the full-width one');
      assert.deepEqual(
        dave.tokens.map((t) => [t.serial, t.username]),
        [['T-DAVE', 'dave']],
      );
      assert.equal(dave.tokenStates.get('T-DAVE')?.lastUsedStep, 99, 'the used step moves along');
      assert.ok(dave.userState.lockedUntil > Date.now(), 'a lock survives the rename');
      assert.equal(await store.getUser('Dave'), null);
      // the left-over records are still listed, with their tokens, for an admin to decide
      assert.equal((await store.getUser('ｄａｖｅ'))?.email, 'wide@x');
      assert.deepEqual(
        (await store.listTokens('Carol')).map((t) => t.serial),
        ['T-CAROL-UPPER'],
      );
      assert.deepEqual(
        (await store.listTokens('carol')).map((t) => t.serial),
        [],
      );
      assert.ok(errors.some((e) => e.includes('"carol"') && e.includes('"Carol"')));
      assert.ok(errors.some((e) => e.includes('"dave"') && e.includes('"ｄａｖｅ"')));
      assert.equal(errors.filter((e) => e.includes('no canonical form')).length, 2);
      assert.ok(audit.some((a) => a.type === 'user.rename' && a.detail.from === 'Dave'));
      const tomb = (await store.listTombstones()).map((t) => `${t.kind}:${t.id}`);
      assert.ok(tomb.includes('user:Dave'), 'the old name leaves a tombstone for standbys');
    });

    test('a second run changes nothing', async () => {
      const again = await migrateUsernames(ctx, log);
      assert.deepEqual(again.renamed, []);
      assert.equal(again.collisions.length, 2);
    });

    test('admin operations use the canonical name; a left-over is deletable by its exact name', async () => {
      await assert.rejects(
        createUser(ctx, { username: 'DAVE\u200b' }),
        (e: unknown) => e instanceof TesseraError && e.code === 'CONFLICT',
      );
      const created = await createUser(ctx, { username: 'Ｆｒａｎｋ\u00a0' });
      assert.equal(created.username, 'frank');
      await assert.rejects(
        createUser(ctx, { username: 'x\udc00' }),
        (e: unknown) => e instanceof TesseraError && e.code === 'INVALID_USERNAME' && e.status === 400,
      );
      await deleteUser(ctx, 'ｄａｖｅ');
      assert.equal(await store.getUser('ｄａｖｅ'), null, 'the exact left-over went');
      assert.ok(await store.getUser('dave'), 'the canonical user stays');
      await deleteUser(ctx, 'DAVE');
      assert.equal(await store.getUser('dave'), null);
    });
  });
}

migrationSuite('embedded', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-migrate-'));
  const store = openEmbeddedStore(dir);
  return {
    store,
    async cleanup() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

migrationSuite('redis', async () => {
  const redis = await startRedis();
  const store = await openRedisStore({ url: redis.url });
  return {
    store,
    async cleanup() {
      await store.close();
      await redis.stop();
    },
  };
});
