// The Lua of push challenges (layout in push-store.ts): each check-and-change is one step, so one
// answer wins however many nodes answer at once.

/** KEYS: push, pending zset. ARGV: now, maxPending, json, id, expiresAt, ttl. → 1 created | 0 too many pending */
export const CREATE_PUSH = `
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'json', ARGV[3], 'state', 'pending', 'expiresAt', ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
return 1
`;

/**
 * KEYS: push. ARGV: now, decision, id, key prefix. → {1 answered | 0 not pending, then the push's
 * fields as HGETALL lists them (none: no such push)}. The user's pending list is found from the
 * push itself, so an answer is one round trip.
 */
export const ANSWER_PUSH = `
local f = redis.call('HMGET', KEYS[1], 'state', 'expiresAt', 'json')
if not f[3] then return {0} end
local answered = 0
if f[1] == 'pending' and tonumber(f[2]) > tonumber(ARGV[1]) then
  redis.call('HSET', KEYS[1], 'state', ARGV[2], 'answeredAt', ARGV[1])
  redis.call('ZREM', ARGV[4] .. 'pushpending:' .. cjson.decode(f[3]).username, ARGV[3])
  answered = 1
end
local out = redis.call('HGETALL', KEYS[1])
table.insert(out, 1, answered)
return out
`;

/** KEYS: push. → 1 spent now | 0 not approved or spent already */
export const CONSUME_PUSH = `
if redis.call('HGET', KEYS[1], 'state') ~= 'approved' then return 0 end
return redis.call('HSETNX', KEYS[1], 'consumed', '1')
`;
