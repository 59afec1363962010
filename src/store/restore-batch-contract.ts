import assert from 'node:assert/strict';
import { afterAll, beforeAll, describe, test } from 'vitest';
import { sampleToken, sampleUser } from './fixtures.ts';
import type { ContractStoreOptions, StoreFixture } from './store-contract-suite.ts';
import type { Store } from './types.ts';

/** restoreBatch (a restore's chunk in one step), on every store. */
export function restoreBatchContract(
  name: string,
  make: (opts?: ContractStoreOptions) => Promise<StoreFixture>,
): void {
  describe(`Store contract: ${name}: restoreBatch`, () => {
    let fx: StoreFixture;
    let store: Store;
    beforeAll(async () => {
      fx = await make();
      store = fx.store;
    });
    afterAll(async () => {
      await fx.cleanup();
    });

    test('creates and replaces users, puts their tokens and states, skips tokens of a missing user', async () => {
      await store.createUser(sampleUser('rb-old', { email: 'old@x' }));
      const res = await store.restoreBatch([
        {
          user: sampleUser('rb-new'),
          tokens: [
            { token: sampleToken('RB1', 'rb-new'), state: { counter: 3, lastUsedStep: 10, drift: 1 } },
          ],
        },
        { user: sampleUser('rb-old', { email: 'new@x' }), tokens: [] },
        {
          tokens: [
            { token: sampleToken('RB2', 'rb-ghost'), state: { counter: 1, lastUsedStep: 1, drift: 0 } },
          ],
        },
        {
          tokens: [{ token: sampleToken('RB3', 'rb-old'), state: { counter: 0, lastUsedStep: 5, drift: 0 } }],
        },
      ]);
      assert.deepEqual(res, [
        { user: 'created', tokens: [true] },
        { user: 'replaced', tokens: [] },
        { user: 'none', tokens: [false] },
        { user: 'none', tokens: [true] },
      ]);
      assert.equal((await store.getUser('rb-old'))?.email, 'new@x');
      assert.deepEqual(
        (await store.listTokens('rb-new')).map((t) => t.serial),
        ['RB1'],
      );
      assert.deepEqual(
        (await store.listTokens('rb-old')).map((t) => t.serial),
        ['RB3'],
      );
      assert.equal(await store.getToken('RB2'), null);
      assert.deepEqual(await store.getTokenState('RB1'), { counter: 3, lastUsedStep: 10, drift: 1 });
      assert.deepEqual(await store.getTokenState('RB2'), { counter: 0, lastUsedStep: -1, drift: 0 });
      const view = await store.loadAuthView('rb-new');
      assert.deepEqual(
        view?.tokens.map((t) => t.serial),
        ['RB1'],
      );
    });

    test('never rolls a counter or a used step back', async () => {
      await store.restoreBatch([
        {
          user: sampleUser('rb-live'),
          tokens: [
            { token: sampleToken('RB4', 'rb-live'), state: { counter: 0, lastUsedStep: 0, drift: 0 } },
          ],
        },
      ]);
      await store.advanceTokenState('RB4', { counter: 40, lastUsedStep: 900, drift: 2 });
      await store.restoreBatch([
        {
          user: sampleUser('rb-live'),
          tokens: [
            { token: sampleToken('RB4', 'rb-live'), state: { counter: 7, lastUsedStep: 100, drift: 0 } },
          ],
        },
      ]);
      assert.deepEqual(await store.getTokenState('RB4'), { counter: 40, lastUsedStep: 900, drift: 2 });
      await store.restoreBatch([
        {
          tokens: [
            { token: sampleToken('RB4', 'rb-live'), state: { counter: 41, lastUsedStep: 950, drift: -1 } },
          ],
        },
      ]);
      assert.deepEqual(await store.getTokenState('RB4'), { counter: 41, lastUsedStep: 950, drift: -1 });
    });

    test('clears the tombstones of a user and a token it brings back; moves a token between users', async () => {
      await store.restoreBatch([
        {
          user: sampleUser('rb-a'),
          tokens: [{ token: sampleToken('RB5', 'rb-a'), state: { counter: 0, lastUsedStep: -1, drift: 0 } }],
        },
        { user: sampleUser('rb-b'), tokens: [] },
      ]);
      assert.equal(await store.deleteUser('rb-a'), true);
      const dead = (await store.listTombstones()).map((t) => `${t.kind}:${t.id}`);
      assert.ok(dead.includes('user:rb-a') && dead.includes('token:RB5'));
      await store.restoreBatch([
        {
          user: sampleUser('rb-a'),
          tokens: [{ token: sampleToken('RB5', 'rb-a'), state: { counter: 0, lastUsedStep: -1, drift: 0 } }],
        },
      ]);
      const after = (await store.listTombstones()).map((t) => `${t.kind}:${t.id}`);
      assert.ok(!after.includes('user:rb-a') && !after.includes('token:RB5'));
      await store.restoreBatch([
        {
          tokens: [{ token: sampleToken('RB5', 'rb-b'), state: { counter: 0, lastUsedStep: -1, drift: 0 } }],
        },
      ]);
      assert.deepEqual(
        (await store.listTokens('rb-a')).map((t) => t.serial),
        [],
      );
      assert.deepEqual(
        (await store.listTokens('rb-b')).map((t) => t.serial),
        ['RB5'],
      );
    });

    test('a chunk larger than one round trip keeps every entry in order', async () => {
      const entries = Array.from({ length: 450 }, (_, i) => ({
        user: sampleUser(`rb-many${String(i).padStart(3, '0')}`),
        tokens: [
          {
            token: sampleToken(`RBM${i}`, `rb-many${String(i).padStart(3, '0')}`),
            state: { counter: i, lastUsedStep: i, drift: 0 },
          },
        ],
      }));
      const res = await store.restoreBatch(entries);
      assert.equal(res.length, 450);
      assert.ok(res.every((r) => r.user === 'created' && r.tokens[0] === true));
      assert.deepEqual(await store.getTokenState('RBM449'), { counter: 449, lastUsedStep: 449, drift: 0 });
      assert.equal((await store.getToken('RBM300'))?.username, 'rb-many300');
    });
  });
}
