import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, test } from 'vitest';
import { type RedisProcess, startRedis } from '../../../test/harness/redis.ts';
import {
  type AttemptPolicy,
  type AttemptTicket,
  acceptAllowed,
  advances,
  applyAdvance,
  applySuccess,
  EMPTY_TOKEN_STATE,
  EMPTY_USER_STATE,
  mergeTokenState,
  refundAttempt,
  reserveAttempt,
  settleFailure,
  type TokenAdvance,
  type TokenState,
  type UserAuthState,
} from '../../model/index.ts';
import { sampleUser } from '../fixtures.ts';
import type { AttemptVerdict } from '../types.ts';
import { encodeUserState } from './codec.ts';
import { openRedisStore, type RedisStore } from './index.ts';
import * as lua from './scripts.ts';

// Every script is checked twice: against tables written down by hand here (what the lock, the
// throttle window and a refund must do), and the state scripts also against src/model/state.ts by
// replaying random sequences through both. The tables do not come from either implementation.

let redis: RedisProcess;
let raw: Redis;

beforeAll(async () => {
  redis = await startRedis();
  raw = redis.client();
});
afterAll(async () => {
  raw.disconnect();
  await redis.stop();
});

const K = {
  users: 't:users',
  usernames: 't:usernames',
  groups: 't:groups',
  tokens: 't:tokens',
  tstates: 't:tstates',
  ustates: 't:ustates',
  tombstones: 't:tombstones',
  clients: 't:clients',
};

function run(script: string, keys: string[], args: (string | number)[]): Promise<unknown> {
  return raw.eval(script, keys.length, ...keys, ...args);
}

const NOW = 1_000_000;
// threshold 3, first lock 60 s doubling up to an hour, 60 s throttle window of 5 attempts.
const RESERVE_ARGS = [NOW, 3, 60, 3600, 60_000, 5];

describe('Lua scripts against written-down expectations', () => {
  beforeEach(async () => {
    await raw.flushall();
  });

  describe('RESERVE_ATTEMPT (status 1 granted, 2 locked, 3 throttled; then the six fields)', () => {
    // [what, stored state or null, ARGV after the username, reply, stored state afterwards]
    const cases: Array<[string, string | null, (number | string)[], number[], string | null]> = [
      ['a first attempt opens a window', null, RESERVE_ARGS, [1, 1, 0, 0, NOW, 1, 0], '1,0,0,1000000,1,0'],
      [
        'an attempt inside the window counts in it',
        '2,0,0,990000,2,0',
        RESERVE_ARGS,
        [1, 3, 0, 0, 990000, 3, 0],
        '3,0,0,990000,3,0',
      ],
      [
        'a locked user is refused and nothing is written',
        '0,1060000,1,900000,3,0',
        RESERVE_ARGS,
        [2, 0, 1060000, 1, 900000, 3, 0],
        '0,1060000,1,900000,3,0',
      ],
      [
        'a lock ending now lets the attempt in, in a new window',
        '0,1000000,1,900000,3,0',
        RESERVE_ARGS,
        [1, 1, 1000000, 1, NOW, 1, 0],
        '1,1000000,1,1000000,1,0',
      ],
      [
        'a full window is refused as throttled and nothing is written',
        '2,0,0,990000,5,0',
        RESERVE_ARGS,
        [3, 2, 0, 0, 990000, 5, 0],
        '2,0,0,990000,5,0',
      ],
      [
        'a full window that has just ended opens a new one',
        '2,0,0,940000,5,0',
        RESERVE_ARGS,
        [1, 3, 0, 0, NOW, 1, 0],
        '3,0,0,1000000,1,0',
      ],
      [
        'the throttle is checked before the threshold (no lock from a throttled request)',
        '3,0,0,990000,5,0',
        RESERVE_ARGS,
        [3, 3, 0, 0, 990000, 5, 0],
        '3,0,0,990000,5,0',
      ],
      [
        'attempts already counted up to the threshold lock at once (first lock: 60 s)',
        '3,0,0,990000,3,0',
        RESERVE_ARGS,
        [2, 0, 1060000, 1, 990000, 3, 0],
        '0,1060000,1,990000,3,0',
      ],
      [
        'the third lock lasts four times as long',
        '3,0,2,990000,3,0',
        RESERVE_ARGS,
        [2, 0, 1240000, 3, 990000, 3, 0],
        '0,1240000,3,990000,3,0',
      ],
      [
        'a lock never lasts longer than the cap',
        '3,0,10,990000,3,0',
        RESERVE_ARGS,
        [2, 0, NOW + 3_600_000, 11, 990000, 3, 0],
        '0,4600000,11,990000,3,0',
      ],
      [
        'throttle 0 is off',
        '1,0,0,990000,50,0',
        [NOW, 3, 60, 3600, 60_000, 0],
        [1, 2, 0, 0, 990000, 51, 0],
        '2,0,0,990000,51,0',
      ],
      [
        'threshold 0 is off',
        '50,0,0,990000,1,0',
        [NOW, 0, 60, 3600, 60_000, 5],
        [1, 51, 0, 0, 990000, 2, 0],
        '51,0,0,990000,2,0',
      ],
      [
        'lastSuccess is kept',
        '0,0,0,0,0,777',
        RESERVE_ARGS,
        [1, 1, 0, 0, NOW, 1, 777],
        '1,0,0,1000000,1,777',
      ],
    ];
    for (const [what, before, args, reply, after] of cases) {
      test(what, async () => {
        if (before !== null) await raw.hset(K.ustates, 'u', before);
        assert.deepEqual(await run(lua.RESERVE_ATTEMPT, [K.ustates], ['u', ...args]), reply);
        assert.equal(await raw.hget(K.ustates, 'u'), after);
      });
    }
  });

  describe('COMMIT_FAILURE settles a counted attempt: it only decides the lock', () => {
    const args = [NOW, 3, 60, 3600];
    const cases: Array<[string, string | null, (number | string)[], number[], string | null]> = [
      [
        'below the threshold nothing changes',
        '1,0,0,990000,1,0',
        args,
        [1, 0, 0, 990000, 1, 0],
        '1,0,0,990000,1,0',
      ],
      [
        'at the threshold the user locks and the count restarts',
        '3,0,0,990000,3,7',
        args,
        [0, 1060000, 1, 990000, 3, 7],
        '0,1060000,1,990000,3,7',
      ],
      [
        'the second lock lasts twice as long',
        '3,0,1,990000,3,7',
        args,
        [0, 1120000, 2, 990000, 3, 7],
        '0,1120000,2,990000,3,7',
      ],
      [
        'an already locked user is not locked again',
        '3,1050000,1,990000,3,0',
        args,
        [3, 1050000, 1, 990000, 3, 0],
        '3,1050000,1,990000,3,0',
      ],
      [
        'threshold 0 never locks',
        '99,0,0,990000,3,0',
        [NOW, 0, 60, 3600],
        [99, 0, 0, 990000, 3, 0],
        '99,0,0,990000,3,0',
      ],
      ['no state: nothing is written', null, args, [0, 0, 0, 0, 0, 0], null],
    ];
    for (const [what, before, a, reply, after] of cases) {
      test(what, async () => {
        if (before !== null) await raw.hset(K.ustates, 'u', before);
        assert.deepEqual(await run(lua.COMMIT_FAILURE, [K.ustates], ['u', ...a]), reply);
        assert.equal(await raw.hget(K.ustates, 'u'), after);
      });
    }
  });

  describe('REFUND_ATTEMPT gives back only what its reservation added (ticket: windowStart, lockCount, lastSuccess)', () => {
    const cases: Array<[string, string, (number | string)[], number[], string]> = [
      [
        'same window: one failure and one window slot',
        '2,0,0,990000,2,5',
        [990000, 0, 5],
        [1, 0, 0, 990000, 1, 5],
        '1,0,0,990000,1,5',
      ],
      [
        'the window moved on: the new window keeps its count',
        '2,0,0,995000,1,5',
        [990000, 0, 5],
        [1, 0, 0, 995000, 1, 5],
        '1,0,0,995000,1,5',
      ],
      [
        'a lock since the reservation: nothing',
        '0,1060000,1,990000,3,5',
        [990000, 0, 5],
        [0, 1060000, 1, 990000, 3, 5],
        '0,1060000,1,990000,3,5',
      ],
      [
        'a success since the reservation: nothing',
        '1,0,0,990000,1,8',
        [990000, 0, 5],
        [1, 0, 0, 990000, 1, 8],
        '1,0,0,990000,1,8',
      ],
      ['never below zero', '0,0,0,990000,0,5', [990000, 0, 5], [0, 0, 0, 990000, 0, 5], '0,0,0,990000,0,5'],
    ];
    for (const [what, before, a, reply, after] of cases) {
      test(what, async () => {
        await raw.hset(K.ustates, 'u', before);
        assert.deepEqual(await run(lua.REFUND_ATTEMPT, [K.ustates], ['u', ...a]), reply);
        assert.equal(await raw.hget(K.ustates, 'u'), after);
      });
    }
  });

  describe('COMMIT_ACCEPT (1 accepted, 0 used already, 2 locked)', () => {
    // [what, token state, user state, kind, value, drift, reply, token state after, user state after]
    const cases: Array<
      [string, string | null, string | null, string, number, number, number[], string | null, string | null]
    > = [
      [
        'a newer TOTP step is accepted, the drift kept and the counters reset',
        '0,10,0',
        '2,0,1,990000,2,0',
        'totp',
        11,
        1,
        [1, 0, 11, 1],
        '0,11,1',
        '0,0,0,990000,0,1000000',
      ],
      [
        'the same TOTP step is used already',
        '0,10,0',
        '2,0,0,990000,2,0',
        'totp',
        10,
        0,
        [0],
        '0,10,0',
        '2,0,0,990000,2,0',
      ],
      ['an older TOTP step is used already', '0,10,0', null, 'totp', 9, 0, [0], '0,10,0', null],
      [
        'a HOTP counter at or after the next one is accepted',
        '5,-1,0',
        null,
        'hotp',
        7,
        0,
        [1, 8, -1, 0],
        '8,-1,0',
        '0,0,0,0,0,1000000',
      ],
      ['an older HOTP counter is used already', '5,-1,0', null, 'hotp', 4, 0, [0], '5,-1,0', null],
      [
        'a locked user is refused and the token does not move',
        '0,10,0',
        '0,1000001,1,990000,3,0',
        'totp',
        11,
        0,
        [2],
        '0,10,0',
        '0,1000001,1,990000,3,0',
      ],
      [
        'a lock that ends now no longer refuses',
        '0,10,0',
        '0,1000000,1,990000,3,0',
        'totp',
        11,
        0,
        [1, 0, 11, 0],
        '0,11,0',
        '0,0,0,990000,0,1000000',
      ],
      [
        'a token never used accepts step 0',
        null,
        null,
        'totp',
        0,
        -2,
        [1, 0, 0, -2],
        '0,0,-2',
        '0,0,0,0,0,1000000',
      ],
    ];
    for (const [what, ts, us, kind, value, drift, reply, tsAfter, usAfter] of cases) {
      test(what, async () => {
        if (ts !== null) await raw.hset(K.tstates, 'S', ts);
        if (us !== null) await raw.hset(K.ustates, 'u', us);
        assert.deepEqual(
          await run(lua.COMMIT_ACCEPT, [K.tstates, K.ustates], ['S', 'u', kind, value, drift, NOW]),
          reply,
        );
        assert.equal(await raw.hget(K.tstates, 'S'), tsAfter);
        assert.equal(await raw.hget(K.ustates, 'u'), usAfter);
      });
    }
  });

  describe("COMMIT_ACCEPT's receipt: the same attempt sent again after a failover", () => {
    test('answers as first answered; another attempt with the same code is used already', async () => {
      await raw.hset(K.tstates, 'S', '0,10,0');
      const args = ['S', 'u', 'totp', 11, 1, NOW];
      const first = await run(lua.COMMIT_ACCEPT, [K.tstates, K.ustates, 't:receipt:a'], args);
      assert.deepEqual(first, [1, 0, 11, 1]);
      const ttl = await raw.pttl('t:receipt:a');
      assert.ok(ttl > 100_000 && ttl <= 120_000, `the receipt is kept two minutes (${ttl} ms)`);
      // the same attempt again (its first reply was lost with the old master): accepted, unchanged
      assert.deepEqual(await run(lua.COMMIT_ACCEPT, [K.tstates, K.ustates, 't:receipt:a'], args), first);
      assert.equal(await raw.hget(K.tstates, 'S'), '0,11,1');
      // any other attempt with that code: used already, and it leaves no receipt
      assert.deepEqual(await run(lua.COMMIT_ACCEPT, [K.tstates, K.ustates, 't:receipt:b'], args), [0]);
      assert.equal(await raw.exists('t:receipt:b'), 0);
      // a refused attempt (locked) leaves no receipt either
      await raw.hset(K.ustates, 'u', '0,1000001,1,990000,3,0');
      const locked = await run(
        lua.COMMIT_ACCEPT,
        [K.tstates, K.ustates, 't:receipt:c'],
        ['S', 'u', 'totp', 12, 0, NOW],
      );
      assert.deepEqual(locked, [2]);
      assert.equal(await raw.exists('t:receipt:c'), 0);
    });
  });

  describe('SETTLE_ATTEMPT reserves first, then commits the verdict (1 accepted, 2 locked, 3 throttled, 4 refunded, 5 failed, 6 stale)', () => {
    // threshold 3, lock 60 s doubling up to an hour, 60 s throttle window of 5 attempts (RESERVE_ARGS)
    const settle = (verdict: string[], receipt = 't:receipt:x') =>
      run(lua.SETTLE_ATTEMPT, [K.tstates, K.ustates, receipt], ['u', ...RESERVE_ARGS, ...verdict]);
    const accept = (value: number, kind = 'totp', drift = 0) => [
      'accept',
      'S',
      kind,
      String(value),
      String(drift),
    ];
    // [what, token state, user state, verdict, reply, token state after, user state after]
    const cases: Array<
      [string, string | null, string | null, string[], number[], string | null, string | null]
    > = [
      [
        'an accept that still advances: token moved, counters reset (as reserve then COMMIT_ACCEPT)',
        '0,10,0',
        '2,0,1,990000,2,0',
        accept(11, 'totp', 1),
        [1, 0, 11, 1],
        '0,11,1',
        '0,0,0,990000,0,1000000',
      ],
      [
        'an accept of a step used meanwhile is stale: counted as a failure, token unchanged',
        '0,11,0',
        '1,0,0,990000,1,0',
        accept(11),
        [6, 2, 0, 0, 990000, 2, 0],
        '0,11,0',
        '2,0,0,990000,2,0',
      ],
      [
        'a HOTP accept at or after the next counter moves the counter past it',
        '5,-1,0',
        null,
        accept(7, 'hotp'),
        [1, 8, -1, 0],
        '8,-1,0',
        '0,0,0,1000000,0,1000000',
      ],
      [
        'a fail is counted in a new window',
        null,
        null,
        ['fail'],
        [5, 1, 0, 0, NOW, 1, 0],
        null,
        '1,0,0,1000000,1,0',
      ],
      [
        'the failure that reaches the threshold locks (as COMMIT_FAILURE)',
        '0,10,0',
        '2,0,0,990000,2,0',
        ['fail'],
        [5, 0, 1060000, 1, 990000, 3, 0],
        '0,10,0',
        '0,1060000,1,990000,3,0',
      ],
      [
        'a stale accept that reaches the threshold locks too',
        '0,11,0',
        '2,0,0,990000,2,0',
        accept(11),
        [6, 0, 1060000, 1, 990000, 3, 0],
        '0,11,0',
        '0,1060000,1,990000,3,0',
      ],
      [
        'a locked user is refused whatever the verdict: nothing moves',
        '0,10,0',
        '0,1060000,1,900000,3,0',
        accept(11),
        [2, 0, 1060000, 1, 900000, 3, 0],
        '0,10,0',
        '0,1060000,1,900000,3,0',
      ],
      [
        'a full window is refused as throttled: a right code is not spent',
        '0,10,0',
        '2,0,0,990000,5,0',
        accept(11),
        [3, 2, 0, 0, 990000, 5, 0],
        '0,10,0',
        '2,0,0,990000,5,0',
      ],
      [
        'attempts counted up to the threshold lock before the verdict is looked at',
        '0,10,0',
        '3,0,0,990000,3,0',
        accept(11),
        [2, 0, 1060000, 1, 990000, 3, 0],
        '0,10,0',
        '0,1060000,1,990000,3,0',
      ],
      [
        'a refund counts nothing and writes nothing',
        null,
        '1,0,0,990000,1,0',
        ['refund'],
        [4],
        null,
        '1,0,0,990000,1,0',
      ],
      [
        'a refund for a locked user is still a refusal',
        null,
        '0,1060000,1,900000,3,0',
        ['refund'],
        [2, 0, 1060000, 1, 900000, 3, 0],
        null,
        '0,1060000,1,900000,3,0',
      ],
    ];
    for (const [what, ts, us, verdict, reply, tsAfter, usAfter] of cases) {
      test(what, async () => {
        if (ts !== null) await raw.hset(K.tstates, 'S', ts);
        if (us !== null) await raw.hset(K.ustates, 'u', us);
        assert.deepEqual(await settle(verdict), reply);
        assert.equal(await raw.hget(K.tstates, 'S'), tsAfter);
        assert.equal(await raw.hget(K.ustates, 'u'), usAfter);
        assert.equal(
          await raw.exists('t:receipt:x'),
          [1, 5, 6].includes(reply[0]!) ? 1 : 0,
          'a receipt for what this attempt wrote: an accept or a counted failure',
        );
      });
    }

    test('the same accepting attempt sent again (failover) answers accepted and counts nothing twice', async () => {
      await raw.hset(K.tstates, 'S', '0,10,0');
      const first = await settle(accept(11, 'totp', 1), 't:receipt:a');
      assert.deepEqual(first, [1, 0, 11, 1]);
      const ttl = await raw.pttl('t:receipt:a');
      assert.ok(ttl > 100_000 && ttl <= 120_000, `the receipt is kept two minutes (${ttl} ms)`);
      assert.deepEqual(await settle(accept(11, 'totp', 1), 't:receipt:a'), first);
      assert.equal(await raw.hget(K.ustates, 'u'), '0,0,0,1000000,0,1000000');
      // another attempt with the same code: stale, counted
      assert.deepEqual(await settle(accept(11), 't:receipt:b'), [6, 1, 0, 0, NOW, 1, 1_000_000]);
    });

    test('the same failing attempt sent again (a lost acknowledgement) answers as before and counts once', async () => {
      await raw.hset(K.ustates, 'u', '2,0,0,990000,2,0');
      const first = await settle(['fail'], 't:receipt:f');
      // the third failure reaches the threshold: locked
      assert.deepEqual(first, [5, 0, 1060000, 1, 990000, 3, 0]);
      assert.deepEqual(await settle(['fail'], 't:receipt:f'), first);
      assert.equal(await raw.hget(K.ustates, 'u'), '0,1060000,1,990000,3,0', 'counted once, locked once');
      const ttl = await raw.pttl('t:receipt:f');
      assert.ok(ttl > 100_000 && ttl <= 120_000, `kept two minutes (${ttl} ms)`);
      // a stale accept is a counted failure too
      await raw.hset(K.ustates, 'u', '0,0,0,990000,0,0');
      await raw.hset(K.tstates, 'S', '0,11,0');
      const stale = await settle(accept(11), 't:receipt:g');
      assert.deepEqual(stale, [6, 1, 0, 0, 990000, 1, 0]);
      assert.deepEqual(await settle(accept(11), 't:receipt:g'), stale);
      assert.equal(await raw.hget(K.ustates, 'u'), '1,0,0,990000,1,0');
      // another attempt is counted
      assert.deepEqual(await settle(['fail'], 't:receipt:h'), [5, 2, 0, 0, 990000, 2, 0]);
    });
  });

  describe('ADVANCE_STATE max-merges counter and step; the drift follows the larger step', () => {
    const cases: Array<[string, string | null, [number, number, number], number[]]> = [
      ['from nothing', null, [10, 5, 2], [10, 5, 2]],
      ['a later step brings its drift', '10,5,2', [7, 9, -1], [10, 9, -1]],
      ['an earlier step changes neither step nor drift', '10,9,-1', [12, 3, 4], [12, 9, -1]],
      ['an equal step keeps the stored drift', '10,9,-1', [1, 9, 3], [10, 9, -1]],
    ];
    for (const [what, before, args, reply] of cases) {
      test(what, async () => {
        if (before !== null) await raw.hset(K.tstates, 'S', before);
        assert.deepEqual(await run(lua.ADVANCE_STATE, [K.tstates], ['S', ...args]), reply);
        assert.equal(await raw.hget(K.tstates, 'S'), reply.join(','));
      });
    }
  });

  test('UNLOCK_USER clears lock and counters, keeps windowStart and lastSuccess', async () => {
    await raw.hset(K.ustates, 'u', '3,1060000,2,990000,4,7');
    assert.equal(await run(lua.UNLOCK_USER, [K.ustates], ['u']), 1);
    assert.equal(await raw.hget(K.ustates, 'u'), '0,0,0,990000,0,7');
    assert.equal(await run(lua.UNLOCK_USER, [K.ustates], ['nobody']), 1);
    assert.equal(await raw.hget(K.ustates, 'nobody'), '0,0,0,0,0,0');
  });

  test('CREATE_USER creates once, lists the name and clears its tombstone; UPDATE_USER replaces only existing users', async () => {
    await raw.zadd(K.tombstones, '500', 'user:ann', '600', 'user:bob');
    const keys = [K.users, K.usernames, K.tombstones];
    assert.equal(await run(lua.CREATE_USER, keys, ['ann', '{"v":1}']), 1);
    assert.equal(await run(lua.CREATE_USER, keys, ['ann', '{"v":2}']), 0);
    assert.equal(await raw.hget(K.users, 'ann'), '{"v":1}');
    assert.equal(await raw.zscore(K.usernames, 'ann'), '0');
    assert.deepEqual(await raw.zrange(K.tombstones, '0', '-1'), ['user:bob'], 're-created: no tombstone');
    assert.equal(await run(lua.UPDATE_USER, [K.users], ['bob', '{"v":3}']), 0);
    assert.equal(await raw.hexists(K.users, 'bob'), 0);
    assert.equal(await run(lua.UPDATE_USER, [K.users], ['ann', '{"v":4}']), 1);
    assert.equal(await raw.hget(K.users, 'ann'), '{"v":4}');
  });

  test('PUT_TOKEN needs the user, clears the token tombstone, and moving a token takes it from its old owner', async () => {
    await raw.hset(K.users, 'ann', '{}', 'bob', '{}');
    await raw.zadd(K.tombstones, '500', 'token:T1');
    const keys = [K.users, K.tokens, K.tombstones];
    assert.equal(await run(lua.PUT_TOKEN, keys, ['t:', 'T1', 'eve', '{"username":"eve"}']), 0);
    assert.equal(await raw.hexists(K.tokens, 'T1'), 0);
    assert.equal(await raw.zscore(K.tombstones, 'token:T1'), '500', 'a refused put changes nothing');
    assert.equal(await run(lua.PUT_TOKEN, keys, ['t:', 'T1', 'ann', '{"username":"ann"}']), 1);
    assert.deepEqual(await raw.smembers('t:ut:ann'), ['T1']);
    assert.equal(await raw.zcard(K.tombstones), 0);
    assert.equal(await run(lua.PUT_TOKEN, keys, ['t:', 'T1', 'bob', '{"username":"bob"}']), 1);
    assert.deepEqual(await raw.smembers('t:ut:ann'), []);
    assert.deepEqual(await raw.smembers('t:ut:bob'), ['T1']);
    assert.equal(await raw.hget(K.tokens, 'T1'), '{"username":"bob"}');
  });

  test('WRITE_USER_TOKENS writes the user and every token, or nothing (1 exists, 2 missing, 3 serial taken)', async () => {
    await raw.zadd(K.tombstones, '500', 'user:ann', '500', 'token:T2');
    await raw.hset(K.tokens, 'OLD', '{"username":"bob"}');
    const keys = [K.users, K.usernames, K.tokens, K.tombstones];
    const pairs = ['T1', '{"serial":"T1"}', 'T2', '{"serial":"T2"}'];
    assert.equal(await run(lua.WRITE_USER_TOKENS, keys, ['t:', 'update', 'ann', '{}', ...pairs]), 2);
    assert.equal(
      await run(lua.WRITE_USER_TOKENS, keys, ['t:', 'create', 'ann', '{}', 'T1', '{}', 'OLD', '{}']),
      3,
    );
    assert.equal(await raw.hexists(K.users, 'ann'), 0, 'a refused write leaves no user');
    assert.equal(await raw.hexists(K.tokens, 'T1'), 0, 'nor any of its tokens');
    assert.equal(await raw.zcard(K.tombstones), 2);
    assert.equal(await run(lua.WRITE_USER_TOKENS, keys, ['t:', 'create', 'ann', '{"v":1}', ...pairs]), 0);
    assert.equal(await raw.hget(K.users, 'ann'), '{"v":1}');
    assert.equal(await raw.zscore(K.usernames, 'ann'), '0');
    assert.deepEqual((await raw.smembers('t:ut:ann')).sort(), ['T1', 'T2']);
    assert.equal(await raw.hget(K.tokens, 'T2'), '{"serial":"T2"}');
    assert.equal(await raw.zcard(K.tombstones), 0);
    assert.equal(await run(lua.WRITE_USER_TOKENS, keys, ['t:', 'create', 'ann', '{"v":2}']), 1);
    assert.equal(await run(lua.WRITE_USER_TOKENS, keys, ['t:', 'update', 'ann', '{"v":3}']), 0);
    assert.equal(await raw.hget(K.users, 'ann'), '{"v":3}');
  });

  test("LEASE: claim takes a free lease or renews its own, never another's; take takes it from anyone", async () => {
    const key = 't:lease:x';
    assert.equal(await run(lua.LEASE, [key], ['a', 60_000, 'claim']), null);
    assert.equal(await raw.get(key), 'a');
    assert.equal(await run(lua.LEASE, [key], ['b', 60_000, 'claim']), 'a');
    assert.equal(await raw.get(key), 'a', 'a claim does not take a held lease');
    await raw.pexpire(key, 10);
    assert.equal(await run(lua.LEASE, [key], ['a', 60_000, 'claim']), 'a');
    assert.ok((await raw.pttl(key)) > 50_000, 'the holder renews');
    assert.equal(await run(lua.LEASE, [key], ['b', 60_000, 'take']), 'a');
    assert.equal(await raw.get(key), 'b');
    await raw.pexpire(key, 1);
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(await run(lua.LEASE, [key], ['a', 60_000, 'claim']), null, 'a lapsed lease is free');
    assert.equal(await raw.get(key), 'a');
  });

  test('DELETE_TOKEN removes the token, its state and its set entry, and leaves a tombstone at now', async () => {
    await raw.hset(K.tokens, 'T1', '{"username":"ann"}', 'T2', '{"username":"ann"}');
    await raw.hset(K.tstates, 'T1', '1,2,3', 'T2', '4,5,6');
    await raw.sadd('t:ut:ann', 'T1', 'T2');
    const keys = [K.tokens, K.tstates, K.tombstones];
    assert.equal(await run(lua.DELETE_TOKEN, keys, ['t:', 'T1', 777]), 1);
    assert.equal(await run(lua.DELETE_TOKEN, keys, ['t:', 'T1', 888]), 0);
    assert.deepEqual(await raw.smembers('t:ut:ann'), ['T2']);
    assert.equal(await raw.hexists(K.tokens, 'T1'), 0);
    assert.equal(await raw.hexists(K.tstates, 'T1'), 0);
    assert.equal(await raw.hget(K.tstates, 'T2'), '4,5,6');
    assert.deepEqual(await raw.zrange(K.tombstones, '0', '-1', 'WITHSCORES'), ['token:T1', '777']);
  });

  test('PUT_RECORD writes and clears the tombstone; DELETE_RECORD removes once and leaves one', async () => {
    await raw.zadd(K.tombstones, '500', 'client:c1');
    assert.equal(await run(lua.PUT_RECORD, [K.clients, K.tombstones], ['c1', 'client', '{"v":1}']), 1);
    assert.equal(await raw.hget(K.clients, 'c1'), '{"v":1}');
    assert.equal(await raw.zcard(K.tombstones), 0);
    assert.equal(await run(lua.DELETE_RECORD, [K.clients, K.tombstones], ['c1', 'client', 900]), 1);
    assert.equal(await run(lua.DELETE_RECORD, [K.clients, K.tombstones], ['c1', 'client', 950]), 0);
    assert.equal(await raw.hexists(K.clients, 'c1'), 0);
    assert.deepEqual(await raw.zrange(K.tombstones, '0', '-1', 'WITHSCORES'), ['client:c1', '900']);
  });

  test('RENAME_USER moves the user, its tokens and its state; never onto an existing name', async () => {
    await raw.hset(K.users, 'Ann', '{"username":"Ann"}', 'bob', '{"username":"bob"}');
    await raw.zadd(K.usernames, '0', 'Ann', '0', 'bob');
    await raw.hset(K.tokens, 'A1', '{"username":"Ann","serial":"A1"}');
    await raw.sadd('t:ut:Ann', 'A1');
    await raw.hset(K.ustates, 'Ann', '0,5000,1,0,0,0');
    await raw.zadd(K.tombstones, '100', 'user:ann');
    const keys = [K.users, K.usernames, K.tokens, K.ustates, K.tombstones];
    assert.equal(await run(lua.RENAME_USER, keys, ['t:', 'Ann', 'bob', '{"username":"bob"}', 900]), 0);
    assert.equal(await run(lua.RENAME_USER, keys, ['t:', 'nobody', 'x', '{"username":"x"}', 900]), 0);
    assert.equal(
      await raw.hget(K.users, 'bob'),
      '{"username":"bob"}',
      'an existing name is never overwritten',
    );
    assert.equal(await run(lua.RENAME_USER, keys, ['t:', 'Ann', 'ann', '{"username":"ann"}', 900]), 1);
    assert.deepEqual((await raw.hkeys(K.users)).sort(), ['ann', 'bob']);
    assert.deepEqual(await raw.zrange(K.usernames, '0', '-1'), ['ann', 'bob']);
    assert.equal(JSON.parse((await raw.hget(K.tokens, 'A1')) ?? '{}').username, 'ann');
    assert.deepEqual(await raw.smembers('t:ut:ann'), ['A1']);
    assert.equal(await raw.exists('t:ut:Ann'), 0);
    assert.equal(await raw.hget(K.ustates, 'ann'), '0,5000,1,0,0,0', 'the lock moves with the user');
    assert.equal(await raw.hexists(K.ustates, 'Ann'), 0);
    assert.deepEqual(await raw.zrange(K.tombstones, '0', '-1', 'WITHSCORES'), ['user:Ann', '900']);
  });

  test('DELETE_USER removes the user, its tokens, their states and its state; nobody else', async () => {
    await raw.hset(K.users, 'ann', '{}', 'bob', '{}');
    await raw.zadd(K.usernames, '0', 'ann', '0', 'bob');
    await raw.hset(K.tokens, 'A1', '{}', 'A2', '{}', 'B1', '{}');
    await raw.hset(K.tstates, 'A1', '1,1,0', 'A2', '1,1,0', 'B1', '1,1,0');
    await raw.hset(K.ustates, 'ann', '1,0,0,0,1,0', 'bob', '2,0,0,0,2,0');
    await raw.sadd('t:ut:ann', 'A1', 'A2');
    await raw.sadd('t:ut:bob', 'B1');
    const keys = [K.users, K.usernames, K.tokens, K.tstates, K.ustates, K.tombstones];
    assert.equal(await run(lua.DELETE_USER, keys, ['t:', 'ann', 700]), 1);
    assert.equal(await run(lua.DELETE_USER, keys, ['t:', 'ann', 800]), 0);
    assert.deepEqual(await raw.hkeys(K.users), ['bob']);
    assert.deepEqual(await raw.zrange(K.usernames, '0', '-1'), ['bob']);
    assert.deepEqual(await raw.hkeys(K.tokens), ['B1']);
    assert.deepEqual(await raw.hkeys(K.tstates), ['B1']);
    assert.deepEqual(await raw.hkeys(K.ustates), ['bob']);
    assert.equal(await raw.exists('t:ut:ann'), 0);
    assert.deepEqual(await raw.smembers('t:ut:bob'), ['B1']);
    assert.deepEqual(await raw.zrange(K.tombstones, '0', '-1', 'WITHSCORES'), [
      'token:A1',
      '700',
      'token:A2',
      '700',
      'user:ann',
      '700',
    ]);
  });

  test('LOAD_AUTH_VIEW and LIST_TOKENS read one user in serial order and skip dangling serials', async () => {
    const keys = [K.users, K.groups, K.tokens, K.tstates, K.ustates];
    assert.equal(await run(lua.LOAD_AUTH_VIEW, keys, ['t:', 'ann']), null);
    await raw.hset(K.users, 'ann', '{"group":"ops"}');
    await raw.sadd('t:ut:ann', 'Z9', 'A1', 'GONE');
    await raw.hset(K.tokens, 'A1', '{"s":"A1"}', 'Z9', '{"s":"Z9"}');
    await raw.hset(K.tstates, 'Z9', '3,4,0');
    assert.deepEqual(await run(lua.LOAD_AUTH_VIEW, keys, ['t:', 'ann']), [
      '{"group":"ops"}',
      '',
      '',
      '{"s":"A1"}',
      '',
      '{"s":"Z9"}',
      '3,4,0',
    ]);
    await raw.hset(K.groups, 'ops', '{"name":"ops"}');
    await raw.hset(K.ustates, 'ann', '1,0,0,5,1,0');
    const view = (await run(lua.LOAD_AUTH_VIEW, keys, ['t:', 'ann'])) as string[];
    assert.deepEqual(view.slice(0, 3), ['{"group":"ops"}', '{"name":"ops"}', '1,0,0,5,1,0']);
    assert.deepEqual(await run(lua.LIST_TOKENS, [K.tokens], ['t:', 'ann']), ['{"s":"A1"}', '{"s":"Z9"}']);
    assert.deepEqual(await run(lua.LIST_TOKENS, [K.tokens], ['t:', 'nobody']), []);
  });
});

describe('Lua state scripts against the TypeScript model (random sequences)', () => {
  let store: RedisStore;
  beforeAll(async () => {
    await raw.flushall();
    store = await openRedisStore({ url: redis.url });
    await store.createUser(sampleUser('u'));
  });
  afterAll(async () => {
    await store.close();
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
      if (r < 0.8) {
        const adv: TokenAdvance =
          r < 0.4
            ? { kind: 'totp', step: Math.floor(rand() * 60) - 5, drift: Math.floor(rand() * 7) - 3 }
            : { kind: 'hotp', counter: Math.floor(rand() * 60) };
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

  test('settleAttempt follows reserveAttempt, then applyAdvance/applySuccess or settleFailure (as decideAttempt)', async () => {
    const rand = rng(23);
    const policy: AttemptPolicy = {
      lockout: { threshold: 4, baseSeconds: 30, maxSeconds: 200 },
      windowMs: 5_000,
      failuresPerWindow: 3,
    };
    await store.createUser(sampleUser('w'));
    let user: UserAuthState = { ...EMPTY_USER_STATE };
    let token: TokenState = { ...EMPTY_TOKEN_STATE };
    let now = 1_700_000_000_000;
    const kinds = { accepted: 0, refused: 0, refunded: 0, failed: 0, stale: 0 };
    for (let i = 0; i < 800; i++) {
      now += Math.floor(rand() * 4_000);
      const r = rand();
      const verdict: AttemptVerdict =
        r < 0.6
          ? {
              kind: 'accept',
              serial: 'W',
              advance: {
                kind: 'totp',
                step: (i >> 2) + Math.floor(rand() * 6) - 3,
                drift: Math.floor(rand() * 3) - 1,
              },
            }
          : r < 0.88
            ? { kind: 'fail' }
            : { kind: 'refund' };
      const p = rand() < 0.3 ? { ...policy, failuresPerWindow: 0 } : policy;
      // the model: what the embedded store's decideAttempt does in one transaction
      const { reservation } = reserveAttempt(user, now, p);
      let expected: string;
      if (!reservation.granted) {
        user = reservation.state;
        expected = 'refused';
      } else if (verdict.kind === 'refund') {
        expected = 'refunded';
      } else if (
        verdict.kind === 'accept' &&
        acceptAllowed(reservation.state, now) &&
        advances(token, verdict.advance)
      ) {
        token = applyAdvance(token, verdict.advance);
        user = applySuccess(reservation.state, now);
        expected = 'accepted';
      } else {
        user = settleFailure(reservation.state, now, p.lockout);
        expected = verdict.kind === 'accept' ? 'stale' : 'failed';
      }
      const got = await store.settleAttempt('w', now, p, verdict);
      assert.equal(got.kind, expected, `step ${i}`);
      if (got.kind === 'failed' || got.kind === 'stale') assert.deepEqual(got.state, user, `step ${i}`);
      kinds[got.kind]++;
      const view = (await store.loadAuthView('w'))!;
      assert.equal(encodeUserState(view.userState), encodeUserState(user), `step ${i}`);
      assert.deepEqual(await store.getTokenState('W'), token, `step ${i}`);
    }
    for (const [kind, n] of Object.entries(kinds)) assert.ok(n > 10, `${kind} seen ${n} times`);
  });

  test('reserve, settle, refund and accept follow reserveAttempt/settleFailure/refundAttempt/applySuccess', async () => {
    const rand = rng(11);
    const policy: AttemptPolicy = {
      lockout: { threshold: 4, baseSeconds: 30, maxSeconds: 200 },
      windowMs: 5_000,
      failuresPerWindow: 3,
    };
    await store.createUser(sampleUser('v'));
    let model: UserAuthState = { ...EMPTY_USER_STATE };
    const tickets: AttemptTicket[] = [];
    let now = 1_700_000_000_000;
    let counter = 0;
    for (let i = 0; i < 600; i++) {
      now += Math.floor(rand() * 2_500);
      const r = rand();
      if (r < 0.5) {
        const p = rand() < 0.3 ? { ...policy, failuresPerWindow: 0 } : policy;
        const { reservation } = reserveAttempt(model, now, p);
        model = reservation.state;
        const got = await store.reserveAttempt('v', now, p);
        assert.deepEqual(got, reservation, `step ${i}`);
        if (reservation.granted) tickets.push(reservation.ticket);
      } else if (r < 0.8) {
        model = settleFailure(model, now, policy.lockout);
        assert.deepEqual(
          await store.commitFailure('v', now, { lockout: policy.lockout, windowMs: policy.windowMs }),
          model,
          `step ${i}`,
        );
      } else if (r < 0.93) {
        const ticket = tickets[Math.floor(rand() * tickets.length)];
        if (!ticket) continue;
        model = refundAttempt(model, ticket);
        assert.deepEqual(await store.refundAttempt('v', ticket), model, `step ${i}`);
      } else {
        const accepted = model.lockedUntil <= now;
        assert.equal(
          await store.commitAccept('v', 'F', { kind: 'hotp', counter: counter }, now),
          accepted,
          `step ${i}`,
        );
        if (accepted) {
          counter++;
          model = applySuccess(model, now);
        }
      }
      assert.equal(
        encodeUserState((await store.loadAuthView('v'))!.userState),
        encodeUserState(model),
        `step ${i}`,
      );
    }
  });
});
