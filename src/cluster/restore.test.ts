import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { startRedis } from '../../test/harness/redis.ts';
import { DEFAULT_SETTINGS, TesseraError } from '../model/index.ts';
import { timeStep } from '../otp/index.ts';
import { sampleClient, sampleToken, sampleUser } from '../store/fixtures.ts';
import { openEmbeddedStore, type Store } from '../store/index.ts';
import { openRedisStore } from '../store/redis/index.ts';
import { formatReport, ResurrectRefused, restoreSnapshot } from './restore.ts';
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
      await store.putClient(sampleClient('cl1', { name: 'vpn' }));
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
      const opened = await openSnapshot(bytes, secret);
      // carol and her token were deleted after the snapshot: not brought back without being asked
      await assert.rejects(
        restoreSnapshot(store, opened, { components: all, now }),
        (err: unknown) =>
          err instanceof ResurrectRefused &&
          err.code === 'RESURRECT_REFUSED' &&
          err.records
            .map((t) => `${t.kind}:${t.id}`)
            .sort()
            .join(' ') === 'token:HOTP-C user:carol' &&
          /user\s+carol/.test(err.message),
      );
      assert.equal((await store.getSettings())?.issuer, 'After', 'a refused restore changes nothing');
      assert.equal(await store.getUser('carol'), null);
      const report = await restoreSnapshot(store, opened, { components: all, now, resurrect: 'allow' });
      assert.deepEqual(report.resurrected.map((t) => t.id).sort(), ['HOTP-C', 'carol']);
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

    test('a YubiKey restored without live state waits for a resync; with live state its position is kept', async () => {
      const source = await fx.fresh();
      await source.createUser(sampleUser('dave'));
      await source.putToken(sampleToken('YK-D', 'dave', { type: 'yubikey', publicId: 'vvccccfhcbhk' }));
      await source.commitAccept('dave', 'YK-D', { kind: 'yubikey', counter: 5 * 256 + 3 }, 1);
      const { bytes } = await createSnapshot(source, { secret, components: all, node: 'n1' });
      // OTPs used after the snapshot: only live state can prove them
      await source.commitAccept('dave', 'YK-D', { kind: 'yubikey', counter: 5 * 256 + 9 }, 2);
      const kept = await restoreSnapshot(source, await openSnapshot(bytes, secret), { components: all });
      assert.equal((await source.getToken('YK-D'))?.resyncRequired, undefined);
      assert.equal((await source.getTokenState('YK-D')).counter, 5 * 256 + 10, 'never rolled back');
      assert.equal(kept.hotpKeptLive, 1);
      const empty = await fx.fresh();
      const report = await restoreSnapshot(empty, await openSnapshot(bytes, secret), { components: all });
      assert.equal((await empty.getToken('YK-D'))?.resyncRequired, true);
      assert.deepEqual(report.hotpResyncRequired, ['YK-D']);
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

    test('--skip-deleted restores everything except what was deleted after the snapshot', async () => {
      const live = await fx.fresh();
      await live.createUser(sampleUser('s-keep', { email: 'old@x' }));
      await live.putToken(sampleToken('S-KEEP', 's-keep'));
      await live.createUser(sampleUser('s-gone'));
      await live.putToken(sampleToken('S-GONE', 's-gone'));
      await live.putClient(sampleClient('cl-gone'));
      await live.putAdminKey({ id: 'ak-gone', name: 'old', keyHash: 'h', role: 'superadmin', createdAt: 1 });
      const { bytes } = await createSnapshot(live, { secret, components: all, node: 'n1' });
      await live.deleteUser('s-gone');
      await live.deleteClient('cl-gone');
      await live.deleteAdminKey('ak-gone');
      await live.updateUser(sampleUser('s-keep', { email: 'new@x' }));
      const report = await restoreSnapshot(live, await openSnapshot(bytes, secret), {
        components: all,
        resurrect: 'skip',
      });
      assert.deepEqual(report.resurrectSkipped.map((t) => `${t.kind}:${t.id}`).sort(), [
        'adminKey:ak-gone',
        'client:cl-gone',
        'token:S-GONE',
        'user:s-gone',
      ]);
      assert.equal((await live.getUser('s-keep'))?.email, 'old@x', 'the rest is restored');
      assert.equal(await live.getUser('s-gone'), null);
      assert.equal(await live.getToken('S-GONE'), null);
      assert.equal(await live.getClient('cl-gone'), null);
      assert.equal(await live.getAdminKey('ak-gone'), null);
      // what was deleted before the snapshot and is not in it is no resurrection
      const again = await restoreSnapshot(live, await openSnapshot(bytes, secret), {
        components: ['settings'],
      });
      assert.deepEqual(again.resurrected, []);
    });

    test('names are made canonical on the way in; two that fold together are not merged', async () => {
      const old = await fx.fresh();
      await old.createUser(sampleUser('Dave', { createdAt: 5 }));
      await old.putToken(sampleToken('T-D1', 'Dave'));
      await old.createUser(sampleUser('ｄａｖｅ', { createdAt: 9 }));
      await old.putToken(sampleToken('T-D2', 'ｄａｖｅ'));
      await old.createUser(sampleUser('bad/one'));
      const { bytes } = await createSnapshot(old, { secret, components: all, node: 'n1' });
      const target = await fx.fresh();
      const report = await restoreSnapshot(target, await openSnapshot(bytes, secret), { components: all });
      const dave = await target.loadAuthView('dave');
      assert.deepEqual(
        dave?.tokens.map((t) => [t.serial, t.username]),
        [['T-D1', 'dave']],
      );
      assert.equal(await target.getToken('T-D2'), null, "the second Dave's token is not handed to the first");
      assert.equal(await target.getUser('Dave'), null);
      assert.equal(await target.getUser('bad/one'), null);
      assert.deepEqual(report.usersSkippedName.map((x) => x.username).sort(), ['bad/one', 'ｄａｖｅ']);
      assert.equal(report.usersCreated, 1);
      assert.match(formatReport(report), /users left out .*: 2/);
    });

    test('a sync mirrors the master: what it deleted goes there too, tombstones or not', async () => {
      const master = await fx.fresh();
      const standby = await fx.fresh();
      await standby.putAdminKey({
        id: 'ak-standby',
        name: 'initial',
        keyHash: 'h',
        role: 'superadmin',
        createdAt: 1,
      });
      await master.putGroup({ name: 'default', methods: {}, permanent: true });
      await master.putGroup({ name: 'g-old', methods: {}, permanent: false });
      await master.createUser(sampleUser('s-a'));
      await master.putToken(sampleToken('S-A', 's-a'));
      await master.createUser(sampleUser('s-b'));
      await master.putToken(sampleToken('S-B1', 's-b'));
      await master.putToken(sampleToken('S-B2', 's-b'));
      await master.putClient(sampleClient('cl-s'));
      await master.putAdminKey({ id: 'ak-s', name: 'ops', keyHash: 'h', role: 'superadmin', createdAt: 1 });
      const sync = async () =>
        restoreSnapshot(
          standby,
          await openSnapshot(
            (await createSnapshot(master, { secret, components: all, node: 'm' })).bytes,
            secret,
          ),
          { components: all, mode: 'sync' },
        );
      const first = await sync();
      assert.deepEqual(first.removed?.adminKeys, ['ak-standby'], "the master's keys are the cluster's keys");
      assert.ok(await standby.getToken('S-A'));
      assert.ok(await standby.getClient('cl-s'));

      await master.deleteToken('S-B2');
      await master.deleteUser('s-a');
      await master.deleteClient('cl-s');
      await master.deleteAdminKey('ak-s');
      await master.deleteGroup('g-old');
      await master.pruneTombstones(Date.now() + 1); // the mirror does not depend on them
      const second = await sync();
      assert.deepEqual(second.removed, {
        users: ['s-a'],
        tokens: ['S-B2'],
        clients: ['cl-s'],
        adminKeys: ['ak-s'],
        groups: ['g-old'],
      });
      assert.equal(await standby.getUser('s-a'), null);
      assert.equal(await standby.getToken('S-A'), null);
      assert.equal(await standby.getToken('S-B2'), null);
      assert.equal(await standby.getClient('cl-s'), null);
      assert.equal(await standby.getAdminKey('ak-s'), null);
      assert.equal(await standby.getGroup('g-old'), null);
      assert.ok(await standby.getGroup('default'));
      assert.deepEqual(
        (await standby.listTokens('s-b')).map((t) => t.serial),
        ['S-B1'],
      );
    });

    test('a standby refuses to mirror a wiped master, and applies nothing of it', async () => {
      const master = await fx.fresh();
      const standby = await fx.fresh();
      for (let i = 0; i < 12; i++) await master.createUser(sampleUser(`w-${i}`));
      const snap = async (from: Store) =>
        openSnapshot((await createSnapshot(from, { secret, components: all, node: 'm' })).bytes, secret);
      await restoreSnapshot(standby, await snap(master), { components: all, mode: 'sync' });
      assert.equal(await standby.countUsers(), 12);
      const wiped = await fx.fresh();
      await wiped.putAdminKey({
        id: 'ak-new',
        name: 'initial',
        keyHash: 'h',
        role: 'superadmin',
        createdAt: 1,
      });
      await assert.rejects(
        restoreSnapshot(standby, await snap(wiped), { components: all, mode: 'sync' }),
        (err: unknown) =>
          err instanceof TesseraError && /lacks 12 of this standby's 12 users/.test(err.message),
      );
      assert.equal(await standby.countUsers(), 12);
      assert.equal(await standby.getAdminKey('ak-new'), null, 'nothing of the refused snapshot was applied');
      // a master that really deleted them (tombstones) is mirrored
      for (let i = 0; i < 12; i++) await master.deleteUser(`w-${i}`);
      await restoreSnapshot(standby, await snap(master), { components: all, mode: 'sync' });
      assert.equal(await standby.countUsers(), 0);
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
