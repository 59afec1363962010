import assert from 'node:assert/strict';
import { afterAll, beforeAll, test } from 'vitest';
import { type RedisProcess, startRedis } from '../../../test/harness/redis.ts';
import {
  advances,
  applyAdvance,
  applyFailure,
  applySuccess,
  EMPTY_TOKEN_STATE,
  EMPTY_USER_STATE,
  mergeTokenState,
  type TokenAdvance,
  type TokenState,
  type UserAuthState,
} from '../../model/index.ts';
import { sampleUser } from '../fixtures.ts';
import { openRedisStore, type RedisStore } from './index.ts';

// The Lua scripts must mean exactly what src/model/state.ts means: replay random sequences
// through both and compare every intermediate state.

let redis: RedisProcess;
let store: RedisStore;

beforeAll(async () => {
  redis = await startRedis();
  store = await openRedisStore({ url: redis.url });
  await store.createUser(sampleUser('u'));
});
afterAll(async () => {
  await store.close();
  await redis.stop();
});

function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
}

test('commitAccept and advanceTokenState follow advances/applyAdvance/mergeTokenState', async () => {
  const rand = rng(7);
  let model: TokenState = { ...EMPTY_TOKEN_STATE };
  let userModel: UserAuthState = { ...EMPTY_USER_STATE };
  for (let i = 0; i < 400; i++) {
    const now = 1_700_000_000_000 + i;
    const r = rand();
    if (r < 0.4) {
      const adv: TokenAdvance = {
        kind: 'totp',
        step: Math.floor(rand() * 60) - 5,
        drift: Math.floor(rand() * 7) - 3,
      };
      const expect = advances(model, adv);
      assert.equal(await store.commitAccept('u', 'S', adv, now), expect, `step ${i}`);
      if (expect) {
        model = applyAdvance(model, adv);
        userModel = applySuccess(userModel, now);
      }
    } else if (r < 0.8) {
      const adv: TokenAdvance = { kind: 'hotp', counter: Math.floor(rand() * 60) };
      const expect = advances(model, adv);
      assert.equal(await store.commitAccept('u', 'S', adv, now), expect, `step ${i}`);
      if (expect) {
        model = applyAdvance(model, adv);
        userModel = applySuccess(userModel, now);
      }
    } else {
      const other = {
        counter: Math.floor(rand() * 60),
        lastUsedStep: Math.floor(rand() * 60) - 1,
        drift: Math.floor(rand() * 7) - 3,
      };
      model = mergeTokenState(model, other);
      assert.deepEqual(await store.advanceTokenState('S', other), model, `step ${i}`);
    }
    assert.deepEqual(await store.getTokenState('S'), model, `step ${i}`);
  }
  assert.deepEqual((await store.loadAuthView('u'))?.userState, userModel);
});

test('commitFailure follows applyFailure (windows, locks, doubling, cap)', async () => {
  const rand = rng(11);
  const lockout = { threshold: 4, baseSeconds: 30, maxSeconds: 200 };
  const windowMs = 5_000;
  await store.createUser(sampleUser('v'));
  let model: UserAuthState = { ...EMPTY_USER_STATE };
  let now = 1_700_000_000_000;
  for (let i = 0; i < 300; i++) {
    now += Math.floor(rand() * 4_000);
    if (rand() < 0.1) {
      await store.commitAccept('v', `F${i}`, { kind: 'hotp', counter: 0 }, now);
      model = applySuccess(model, now);
    } else {
      model = applyFailure(model, now, lockout, windowMs);
      assert.deepEqual(await store.commitFailure('v', now, { lockout, windowMs }), model, `step ${i}`);
    }
  }
  assert.deepEqual((await store.loadAuthView('v'))?.userState, model);
});
