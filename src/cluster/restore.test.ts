import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { startRedis } from '../../test/harness/redis.ts';
import { DEFAULT_SETTINGS } from '../model/index.ts';
import { timeStep } from '../otp/index.ts';
import { sampleToken, sampleUser } from '../store/fixtures.ts';
import { openEmbeddedStore, type Store } from '../store/index.ts';
import { openRedisStore } from '../store/redis/index.ts';
import { restoreSnapshot } from './restore.ts';
import { createSnapshot } from './snapshot.ts';
import { openSnapshot } from './snapshot-format.ts';

const secret = { passphrase: 'correct horse battery staple' };
const all = ['users', 'tokens', 'clients', 'settings'] as const;

function restoreSuite(
  name: string,
  make: () => Promise<{ store: Store; fresh(): Promise<Store>; cleanup(): Promise<void> }>,
): void {
  describe(`restore safety: ${name}`, () => {
    let fx: Awaited<ReturnType<typeof make>>;
    let store: Store;
    beforeAll(async () => {
      fx = await make();
      store = fx.store;
      await store.putSettings({ ...DEFAULT_SETTINGS, issuer: 'Before' });
      await store.putGroup({ name: 'default', methods: {}, permanent: true });
      await store.putClient({
        id: 'cl1',
        name: 'vpn',
        kind: 'radius',
        keyHash: 'h',
        allowedCidrs: [],
        challengeText: 'code?',
        enabled: true,
        rejectDetail: 'generic',
        firstFactor: 'pin',
        createdAt: 1,
      });
      for (const u of ['alice', 'bob', 'carol']) await store.createUser(sampleUser(u));
      await store.putToken(sampleToken('TOTP-A', 'alice'));
      await store.putToken(sampleToken('HOTP-B', 'bob', { type: 'hotp' }));
      await store.putToken(sampleToken('HOTP-C', 'carol', { type: 'hotp' }));
      await store.commitAccept(
        'alice',
        'TOTP-A',
        { kind: 'totp', step: timeStep(Date.now(), 30) - 100, drift: 0 },
        1,
      );
      await store.commitAccept('bob', 'HOTP-B', { kind: 'hotp', counter: 4 }, 1);
      await store.commitAccept('carol', 'HOTP-C', { kind: 'hotp', counter: 2 }, 1);
    });
    afterAll(async () => fx.cleanup());

    test('an older snapshot never rolls live counters back and floors TOTP at the restore time', async () => {
      const { bytes } = await createSnapshot(store, { secret, components: all, node: 'n1' });
      // life goes on after the snapshot: codes are used
      await store.commitAccept('bob', 'HOTP-B', { kind: 'hotp', counter: 9 }, 2);
      const usedStep = timeStep(Date.now(), 30);
      await store.commitAccept('alice', 'TOTP-A', { kind: 'totp', step: usedStep, drift: 0 }, 2);
      await store.deleteUser('carol');
      await store.putSettings({ ...DEFAULT_SETTINGS, issuer: 'After' });

      const now = Date.now();
      const report = await restoreSnapshot(store, await openSnapshot(bytes, secret), {
        components: all,
        now,
      });
      assert.equal((await store.getTokenState('HOTP-B')).counter, 10, 'the live HOTP counter is kept');
      assert.equal(report.hotpKeptLive, 1);
      const totp = await store.getTokenState('TOTP-A');
      assert.ok(
        totp.lastUsedStep >= timeStep(now, 30) + DEFAULT_SETTINGS.totp.window,
        'TOTP floor covers the window',
      );
      assert.ok(totp.lastUsedStep >= usedStep);
      // carol's token had no live state left: its counter cannot be proven
      assert.equal((await store.getToken('HOTP-C'))?.resyncRequired, true);
      assert.deepEqual(report.hotpResyncRequired, ['HOTP-C']);
      assert.equal((await store.getTokenState('HOTP-C')).counter, 3);
      assert.equal((await store.getToken('HOTP-B'))?.resyncRequired, undefined);
      assert.equal((await store.getSettings())?.issuer, 'Before');
      assert.equal((await store.getUser('carol'))?.username, 'carol');
    });

    test('restoring into an empty store brings everything back', async () => {
      const { bytes, manifest } = await createSnapshot(store, { secret, components: all, node: 'n1' });
      assert.equal(manifest.counts.users, 3);
      const empty = await fx.fresh();
      const report = await restoreSnapshot(empty, await openSnapshot(bytes, secret), { components: all });
      assert.equal(report.usersCreated, 3);
      assert.equal(report.tokensRestored, 3);
      assert.equal(await empty.countUsers(), 3);
      assert.equal((await empty.getClient('cl1'))?.name, 'vpn');
      assert.equal((await empty.getToken('HOTP-B'))?.resyncRequired, true);
      assert.equal((await empty.getToken('TOTP-A'))?.resyncRequired, undefined);
    });

    test('the keys component travels only when asked for', async () => {
      const keys = { current: 'k1', keys: { k1: Buffer.alloc(32, 7).toString('base64') } };
      const without = await createSnapshot(store, { secret, components: all, node: 'n1', keys });
      assert.equal((await openSnapshot(without.bytes, secret)).payload.keys, undefined);
      const withKeys = await createSnapshot(store, {
        secret,
        components: [...all, 'keys'],
        node: 'n1',
        keys,
      });
      const opened = await openSnapshot(withKeys.bytes, secret);
      assert.deepEqual(opened.payload.keys, keys);
      let written: unknown = null;
      const report = await restoreSnapshot(await fx.fresh(), opened, {
        components: ['keys'],
        restoreKeys: (k) => {
          written = k;
          return 'added';
        },
      });
      assert.deepEqual(written, keys);
      assert.equal(report.keys, 'added');
      assert.equal(report.usersCreated, 0);
    });

    test('component choice restores only what was asked', async () => {
      const { bytes } = await createSnapshot(store, { secret, components: all, node: 'n1' });
      const empty = await fx.fresh();
      await restoreSnapshot(empty, await openSnapshot(bytes, secret), {
        components: ['settings', 'clients'],
      });
      assert.equal(await empty.countUsers(), 0);
      assert.equal((await empty.getSettings())?.issuer, 'Before');
      assert.equal((await empty.listClients()).length, 1);
    });
  });
}

restoreSuite('embedded', async () => {
  const dirs: string[] = [];
  const stores: Store[] = [];
  const open = () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-restore-'));
    dirs.push(dir);
    const s = openEmbeddedStore(dir);
    stores.push(s);
    return s;
  };
  return {
    store: open(),
    fresh: async () => open(),
    async cleanup() {
      for (const s of stores) await s.close();
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    },
  };
});

restoreSuite('redis', async () => {
  const redis = await startRedis();
  const stores: Store[] = [];
  let n = 0;
  const open = async () => {
    const s = await openRedisStore({ url: redis.url, prefix: `r${n++}:` });
    stores.push(s);
    return s;
  };
  return {
    store: await open(),
    fresh: open,
    async cleanup() {
      for (const s of stores) await s.close();
      await redis.stop();
    },
  };
});
