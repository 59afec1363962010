import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, test } from 'vitest';
import type { Invitation, UserCodes } from '../model/index.ts';
import type { ContractStoreOptions, StoreFixture } from './store-contract-suite.ts';
import type { Store } from './types.ts';

const T = 1_800_000_000_000;
const lockout = { lockout: { threshold: 2, baseSeconds: 60, maxSeconds: 60 }, windowMs: 60_000 };

function invitation(id: string, extra: Partial<Invitation> = {}): Invitation {
  return {
    id,
    username: 'ss-user',
    userCreatedAt: T,
    createdAt: T,
    expiresAt: T + 3_600_000,
    createdBy: 'admin:k1',
    status: 'open',
    ...extra,
  };
}

/** Invitations and one-time codes: the self-service part of the Store contract. */
export function selfServiceContract(
  name: string,
  make: (opts?: ContractStoreOptions) => Promise<StoreFixture>,
): void {
  describe(`Store contract (self-service): ${name}`, () => {
    let fx: StoreFixture;
    let store: Store;
    beforeAll(async () => {
      fx = await make();
      store = fx.store;
    });
    afterAll(async () => fx.cleanup());

    test('an invitation round-trips and is listed oldest first', async () => {
      await store.putInvitation(
        invitation('b'.repeat(64), { createdAt: T + 1, serial: 'TOTP1', sentTo: 'a@b' }),
      );
      await store.putInvitation(invitation('a'.repeat(64), { createdAt: T + 2 }));
      assert.deepEqual(
        await store.getInvitation('b'.repeat(64)),
        invitation('b'.repeat(64), { createdAt: T + 1, serial: 'TOTP1', sentTo: 'a@b' }),
      );
      assert.equal(await store.getInvitation('c'.repeat(64)), null);
      assert.deepEqual(
        (await store.listInvitations()).map((i) => i.id[0]),
        ['b', 'a'],
      );
    });

    test('of 30 parallel uses of one invitation exactly one wins; expired, revoked and unknown ones never', async () => {
      const id = 'd'.repeat(64);
      await store.putInvitation(invitation(id));
      const wins = await Promise.all(Array.from({ length: 30 }, () => store.useInvitation(id, T + 10)));
      assert.equal(wins.filter(Boolean).length, 1);
      const used = await store.getInvitation(id);
      assert.equal(used?.status, 'used');
      assert.equal(used?.usedAt, T + 10);
      await store.putInvitation(invitation('e'.repeat(64)));
      assert.equal(await store.useInvitation('e'.repeat(64), T + 3_600_000), false, 'expired at its expiry');
      await store.putInvitation(invitation('f'.repeat(64), { status: 'revoked', revokedAt: T }));
      assert.equal(await store.useInvitation('f'.repeat(64), T + 1), false);
      assert.equal(await store.useInvitation('0'.repeat(64), T + 1), false);
      assert.equal(
        (await store.getInvitation('e'.repeat(64)))?.status,
        'open',
        'a refused use changes nothing',
      );
    });

    test('each recovery code redeems once, in parallel too, and the last one leaves an empty set', async () => {
      const codes: UserCodes = {
        username: 'ss-rc',
        userCreatedAt: T,
        salt: '00ff',
        recovery: { createdAt: T, total: 2, hashes: ['h1', 'h2'] },
      };
      await store.putUserCodes(codes);
      assert.deepEqual(await store.getUserCodes('ss-rc'), codes);
      const results = await Promise.all(
        Array.from({ length: 20 }, () => store.redeemUserCode('ss-rc', 'h1', T)),
      );
      assert.equal(results.filter((r) => r === 'recovery').length, 1);
      assert.equal(results.filter((r) => r === 'none').length, 19);
      assert.equal(await store.redeemUserCode('ss-rc', 'h2', T), 'recovery');
      assert.equal(await store.redeemUserCode('ss-rc', 'h2', T), 'none');
      assert.deepEqual((await store.getUserCodes('ss-rc'))?.recovery, { createdAt: T, total: 2, hashes: [] });
      assert.equal(await store.redeemUserCode('nobody', 'h1', T), 'none');
    });

    test('a temporary code: one-time is gone after use, time-limited works until it expires', async () => {
      const temporary = {
        hash: 't1',
        createdAt: T,
        expiresAt: T + 1000,
        oneTime: true,
        createdBy: 'admin:k1',
      };
      await store.putUserCodes({ username: 'ss-tmp', userCreatedAt: T, salt: '01', temporary });
      assert.equal(await store.redeemUserCode('ss-tmp', 't1', T + 1), 'temporary');
      assert.equal(await store.redeemUserCode('ss-tmp', 't1', T + 2), 'none');
      assert.equal((await store.getUserCodes('ss-tmp'))?.temporary, undefined);
      await store.putUserCodes({
        username: 'ss-tmp',
        userCreatedAt: T,
        salt: '01',
        temporary: { ...temporary, oneTime: false },
      });
      assert.equal(await store.redeemUserCode('ss-tmp', 't1', T + 1), 'temporary');
      assert.equal(await store.redeemUserCode('ss-tmp', 't1', T + 999), 'temporary');
      assert.equal(await store.redeemUserCode('ss-tmp', 't1', T + 1000), 'none', 'expired');
    });

    test('a locked user redeems nothing; a redemption resets the failure count like an accept', async () => {
      await store.putUserCodes({
        username: 'ss-lock',
        userCreatedAt: T,
        salt: '02',
        recovery: { createdAt: T, total: 1, hashes: ['x'] },
      });
      const now = Date.now();
      const r = await store.reserveAttempt('ss-lock', now, { ...lockout, failuresPerWindow: 0 });
      assert.ok(r.granted);
      assert.equal(await store.redeemUserCode('ss-lock', 'x', now), 'recovery');
      const state = await store.reserveAttempt('ss-lock', now, { ...lockout, failuresPerWindow: 0 });
      assert.ok(state.granted && state.state.failures === 1, 'the count restarted from the redemption');
      await store.commitFailure('ss-lock', now, lockout);
      await store.reserveAttempt('ss-lock', now, { ...lockout, failuresPerWindow: 0 });
      const locked = await store.commitFailure('ss-lock', now, lockout);
      assert.ok(locked.lockedUntil > now);
      await store.putUserCodes({
        username: 'ss-lock',
        userCreatedAt: T,
        salt: '02',
        recovery: { createdAt: T, total: 1, hashes: ['y'] },
      });
      assert.equal(await store.redeemUserCode('ss-lock', 'y', now), 'locked');
      assert.deepEqual(
        (await store.getUserCodes('ss-lock'))?.recovery?.hashes,
        ['y'],
        'nothing spent while locked',
      );
    });
  });
}
