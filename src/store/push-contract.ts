import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, test } from 'vitest';
import type { PushChallenge } from '../model/index.ts';
import type { ContractStoreOptions, StoreFixture } from './store-contract-suite.ts';
import type { Store } from './types.ts';

function push(id: string, username: string, now: number, extra: Partial<PushChallenge> = {}): PushChallenge {
  return {
    id,
    serial: `PUSH-${username}`,
    username,
    clientId: 'c1',
    context: { client: 'vpn', system: 'VPN', sourceIp: '192.0.2.7', time: now },
    createdAt: now,
    expiresAt: now + 60_000,
    state: 'pending',
    numbers: [12, 47, 83],
    number: 47,
    userVerification: false,
    ...extra,
  };
}

/** Pairing tokens, nonces, push challenges and device state: the push part of the Store contract. */
export function pushContract(
  name: string,
  make: (opts?: ContractStoreOptions) => Promise<StoreFixture>,
): void {
  describe(`Store contract (push): ${name}`, () => {
    let fx: StoreFixture;
    let store: Store;
    beforeAll(async () => {
      fx = await make();
      store = fx.store;
    });
    afterAll(async () => fx.cleanup());

    test('a pairing token is taken once, by one of 20 parallel takes; an expired one never', async () => {
      const now = Date.now();
      const rec = { hash: 'h1', serial: 'PUSH1', username: 'pu', createdAt: now, expiresAt: now + 60_000 };
      await store.push.putPairing(rec);
      const takes = await Promise.all(Array.from({ length: 20 }, () => store.push.takePairing('h1', now)));
      assert.deepEqual(
        takes.filter((t) => t !== null),
        [rec],
      );
      await store.push.putPairing({ ...rec, hash: 'h2', expiresAt: now + 60_000 });
      assert.equal(await store.push.takePairing('h2', now + 60_000), null);
      assert.equal(await store.push.takePairing('nope', now), null);
      await store.push.putPairing({ ...rec, hash: 'h3' });
      await store.push.dropPairings('PUSH1');
      assert.equal(await store.push.takePairing('h3', now), null);
    });

    test('a nonce is claimed once, by one of 20 parallel claims, and again after its time', async () => {
      const claims = await Promise.all(
        Array.from({ length: 20 }, () => store.push.claimNonce('dev:n1', 200)),
      );
      assert.equal(claims.filter(Boolean).length, 1);
      assert.equal(await store.push.claimNonce('dev:n2', 200), true);
      await new Promise((r) => setTimeout(r, 350));
      assert.equal(await store.push.claimNonce('dev:n1', 200), true);
    });

    test('at most maxPending pending pushes per user; expired and answered ones free a place', async () => {
      const now = Date.now();
      assert.equal(await store.push.createPush(push('p1', 'pa', now), 2, now, 60_000), true);
      assert.equal(await store.push.createPush(push('p2', 'pa', now + 1), 2, now, 60_000), true);
      assert.equal(await store.push.createPush(push('p3', 'pa', now + 2), 2, now, 60_000), false);
      assert.equal(await store.push.getPush('p3'), null);
      assert.equal(await store.push.createPush(push('q1', 'pb', now), 2, now, 60_000), true);
      assert.deepEqual(
        (await store.push.pendingPushes('pa', now)).map((p) => p.id),
        ['p1', 'p2'],
      );
      assert.equal((await store.push.answerPush('p1', 'denied', now + 5)).kind, 'answered');
      assert.equal(await store.push.createPush(push('p3', 'pa', now + 2), 2, now, 60_000), true);
      // past p2's and p3's expiry, both free their places
      const later = now + 60_010;
      assert.deepEqual(await store.push.pendingPushes('pa', later), []);
      assert.equal(await store.push.createPush(push('p4', 'pa', later, {}), 1, later, 60_000), true);
      const got = await store.push.getPush('p4');
      assert.deepEqual(got, push('p4', 'pa', later));
    });

    test('of 20 parallel answers one wins; an expired or answered push is not pending', async () => {
      const now = Date.now();
      await store.push.createPush(push('a1', 'pc', now), 3, now, 60_000);
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          store.push.answerPush('a1', i % 2 ? 'approved' : 'denied', now + 1),
        ),
      );
      const won = answers.filter((a) => a.kind === 'answered');
      assert.equal(won.length, 1);
      const stored = await store.push.getPush('a1');
      assert.equal(stored?.state, won[0]?.push?.state);
      assert.equal(stored?.answeredAt, now + 1);
      await store.push.createPush(push('a2', 'pc', now), 3, now, 60_000);
      const late = await store.push.answerPush('a2', 'approved', now + 60_000);
      assert.equal(late.kind, 'not-pending');
      assert.equal(late.push?.state, 'pending');
      assert.equal((await store.push.answerPush('unknown', 'approved', now)).kind, 'not-pending');
    });

    test('an approved push is consumed exactly once, of 20 parallel consumes; pending and denied never', async () => {
      const now = Date.now();
      await store.push.createPush(push('c1', 'pd', now), 3, now, 60_000);
      assert.equal(await store.push.consumePush('c1'), false);
      await store.push.answerPush('c1', 'approved', now + 1);
      const wins = await Promise.all(Array.from({ length: 20 }, () => store.push.consumePush('c1')));
      assert.equal(wins.filter(Boolean).length, 1);
      assert.equal((await store.push.getPush('c1'))?.consumed, true);
      await store.push.createPush(push('c2', 'pd', now), 3, now, 60_000);
      await store.push.answerPush('c2', 'denied', now + 1);
      assert.equal(await store.push.consumePush('c2'), false);
      assert.equal(await store.push.consumePush('nope'), false);
    });

    test('device state round-trips', async () => {
      assert.equal(await store.push.getDeviceState('D1'), null);
      const state = {
        serial: 'D1',
        lastSyncAt: 1_800_000_000_000,
        webPush: { endpoint: 'http://127.0.0.1:1/x', keys: { p256dh: 'k', auth: 'a' } },
      };
      await store.push.putDeviceState(state);
      assert.deepEqual(await store.push.getDeviceState('D1'), state);
    });
  });
}
