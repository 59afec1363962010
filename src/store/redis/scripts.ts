/**
 * The Lua side of the Redis store. Each check-and-advance is one script, so Redis runs the compare
 * and the write with nothing in between: of N concurrent requests with the same code, one wins.
 *
 * The arithmetic mirrors src/model/state.ts (advances, applyAdvance, applySuccess, reserveAttempt,
 * settleFailure, refundAttempt, acceptAllowed, mergeTokenState) line by line;
 * src/store/redis/scripts.test.ts checks every script against written-down expectations and the
 * state scripts also against the TypeScript model.
 *
 * Layout (P = key prefix, passed as ARGV[1] where a script derives keys from data):
 *   P.users     hash  username → User JSON        P.usernames  zset (score 0) for ordered listing
 *   P.groups    hash  name → Group JSON           P.tokens     hash serial → Token JSON
 *   P.ut:<user> set   serials of a user           P.tstates    hash serial → "counter,lastUsedStep,drift"
 *   P.ustates   hash  username → "failures,lockedUntil,lockCount,windowStart,windowFailures,lastSuccess"
 *   P.clients, P.adminkeys hashes; P.settings string; P.ch:<tx> challenge string with expiry; P.audit list.
 *   P.tombstones zset  "kind:id" scored by deletedAt (ms): written by every delete, cleared by a re-create.
 * Keeping states in two hashes lets dump() take a consistent cut in one MULTI.
 */

const READ_STATE = `
local function tstate(raw)
  if not raw then return 0, -1, 0 end
  local c, s, d = string.match(raw, '^(-?%d+),(-?%d+),(-?%d+)$')
  return tonumber(c), tonumber(s), tonumber(d)
end
local function ustate(raw)
  if not raw then return 0, 0, 0, 0, 0, 0 end
  local a, b, c, d, e, f = string.match(raw, '^(-?%d+),(-?%d+),(-?%d+),(-?%d+),(-?%d+),(-?%d+)$')
  return tonumber(a), tonumber(b), tonumber(c), tonumber(d), tonumber(e), tonumber(f)
end
local function n(x) return string.format('%d', x) end
`;

const LOCK = `
local function lock(now, lc, baseSeconds, maxSeconds)
  local seconds = math.min(maxSeconds, baseSeconds * math.pow(2, lc))
  return now + seconds * 1000, lc + 1
end
local function put_ustate(key, field, f, lu, lc, ws, wf, ls)
  redis.call('HSET', key, field, n(f) .. ',' .. n(lu) .. ',' .. n(lc) .. ',' .. n(ws) .. ',' .. n(wf) .. ',' .. n(ls))
end
-- settleFailure: a counted failure at the threshold locks (unless a lock already runs).
local function settle_lock(now, threshold, f, lu, lc, baseSeconds, maxSeconds)
  if threshold > 0 and f >= threshold and lu <= now then
    lu, lc = lock(now, lc, baseSeconds, maxSeconds)
    f = 0
  end
  return f, lu, lc
end
`;

/**
 * reserveAttempt, shared by RESERVE_ATTEMPT and SETTLE_ATTEMPT: ARGV[1] username, ARGV[2] now,
 * ARGV[3..7] threshold, baseSeconds, maxSeconds, windowMs, failuresPerWindow. Returns the status
 * (1 granted, 2 locked, 3 throttled) and the six fields. A grant is returned unwritten (the caller
 * writes it, or drops it for a refund); a refusal writes only the lock it may set.
 */
const RESERVE = `
local function reserve(key)
  local f, lu, lc, ws, wf, ls = ustate(redis.call('HGET', key, ARGV[1]))
  local now = tonumber(ARGV[2])
  local threshold = tonumber(ARGV[3])
  local perWindow = tonumber(ARGV[7])
  if lu > now then return 2, f, lu, lc, ws, wf, ls end
  local inWindow = (now - ws) < tonumber(ARGV[6])
  local counted = 0
  if inWindow then counted = wf end
  if perWindow > 0 and counted >= perWindow then return 3, f, lu, lc, ws, wf, ls end
  if threshold > 0 and f >= threshold then
    lu, lc = lock(now, lc, tonumber(ARGV[4]), tonumber(ARGV[5]))
    put_ustate(key, ARGV[1], 0, lu, lc, ws, wf, ls)
    return 2, 0, lu, lc, ws, wf, ls
  end
  if not inWindow then ws = now end
  return 1, f + 1, lu, lc, ws, counted + 1, ls
end
`;

/** advances + applyAdvance for one token state: the fresh flag and the state after it. */
const ADVANCE = `
local function advance(c, s, d, kind, v, drift)
  if kind == 'totp' then
    if v > s then return true, c, v, drift end
  elseif v >= c then
    return true, v + 1, s, d
  end
  return false, c, s, d
end
`;

/**
 * KEYS: tstates, ustates[, this attempt's receipt]. ARGV: serial, username, kind ('totp'|'hotp'),
 * value, drift, now.
 * → {1,c,s,d} accepted | {0} the code was used already | {2} the user is locked (nothing changed)
 * The receipt (a key named by a random id of one login attempt, kept 2 minutes) makes the same
 * attempt sent again after a failover answer as it was first answered: its accept may have reached
 * the new master before the old one died. Another attempt with the same code has another id.
 */
export const COMMIT_ACCEPT = `${READ_STATE}${ADVANCE}
if KEYS[3] and redis.call('EXISTS', KEYS[3]) == 1 then
  local c0, s0, d0 = tstate(redis.call('HGET', KEYS[1], ARGV[1]))
  return {1, c0, s0, d0}
end
local f, lu, lc, ws, wf, ls = ustate(redis.call('HGET', KEYS[2], ARGV[2]))
if lu > tonumber(ARGV[6]) then return {2} end
local c, s, d = tstate(redis.call('HGET', KEYS[1], ARGV[1]))
local fresh
fresh, c, s, d = advance(c, s, d, ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]))
if not fresh then return {0} end
redis.call('HSET', KEYS[1], ARGV[1], n(c) .. ',' .. n(s) .. ',' .. n(d))
redis.call('HSET', KEYS[2], ARGV[2], '0,0,0,' .. n(ws) .. ',0,' .. ARGV[6])
if KEYS[3] then redis.call('SET', KEYS[3], '1', 'PX', 120000) end
return {1, c, s, d}
`;

/**
 * KEYS: ustates. ARGV: username, now, threshold, baseSeconds, maxSeconds, windowMs, failuresPerWindow.
 * → {status, the six fields}: status 1 granted (counted), 2 refused locked, 3 refused throttled.
 * A refusal writes nothing, except when the counted attempts reached the threshold: that locks.
 */
export const RESERVE_ATTEMPT = `${READ_STATE}${LOCK}${RESERVE}
local status, f, lu, lc, ws, wf, ls = reserve(KEYS[1])
if status == 1 then put_ustate(KEYS[1], ARGV[1], f, lu, lc, ws, wf, ls) end
return {status, f, lu, lc, ws, wf, ls}
`;

/**
 * A code-only login's reservation and commit in one step (settleAttempt). KEYS: tstates, ustates,
 * this attempt's receipt. ARGV: username, now, threshold, baseSeconds, maxSeconds, windowMs,
 * failuresPerWindow (RESERVE_ATTEMPT's), verdict ('accept'|'fail'|'refund'), then for an accept:
 * serial, kind, value, drift (COMMIT_ACCEPT's).
 * The reservation is decided first, exactly as RESERVE_ATTEMPT: refused, the verdict changes
 * nothing. Granted: an accept whose advance still moves the token forward is applied as
 * COMMIT_ACCEPT; any other verdict but a refund is the counted failure, settled as COMMIT_FAILURE;
 * a refund writes nothing (the attempt was never counted).
 * → {1, c, s, d} accepted | {2, six} refused locked | {3, six} refused throttled | {4} refunded |
 *   {5, six} failed | {6, six} stale (an accept whose code was used meanwhile, counted as failed)
 * The receipt (see COMMIT_ACCEPT) is kept for a counted failure too, with its answer: the same
 * attempt sent again after a lost acknowledgement is answered as before, not counted twice.
 */
export const SETTLE_ATTEMPT = `${READ_STATE}${LOCK}${RESERVE}${ADVANCE}
if KEYS[3] and ARGV[8] ~= 'refund' then
  local done = redis.call('GET', KEYS[3])
  if done == '1' then
    local c0, s0, d0 = tstate(redis.call('HGET', KEYS[1], ARGV[9]))
    return {1, c0, s0, d0}
  end
  if done then
    local st, a, b, c, d, e, g = string.match(done, '^(%d),(-?%d+),(-?%d+),(-?%d+),(-?%d+),(-?%d+),(-?%d+)$')
    return {tonumber(st), tonumber(a), tonumber(b), tonumber(c), tonumber(d), tonumber(e), tonumber(g)}
  end
end
local status, f, lu, lc, ws, wf, ls = reserve(KEYS[2])
if status ~= 1 then return {status, f, lu, lc, ws, wf, ls} end
if ARGV[8] == 'refund' then return {4} end
local now = tonumber(ARGV[2])
status = 5
if ARGV[8] == 'accept' then
  status = 6
  local c, s, d = tstate(redis.call('HGET', KEYS[1], ARGV[9]))
  local fresh
  fresh, c, s, d = advance(c, s, d, ARGV[10], tonumber(ARGV[11]), tonumber(ARGV[12]))
  if fresh then
    redis.call('HSET', KEYS[1], ARGV[9], n(c) .. ',' .. n(s) .. ',' .. n(d))
    -- put_ustate(0, 0, 0, ws, 0, now) without formatting the constants (now is ARGV[2] as sent)
    redis.call('HSET', KEYS[2], ARGV[1], '0,0,0,' .. n(ws) .. ',0,' .. ARGV[2])
    if KEYS[3] then redis.call('SET', KEYS[3], '1', 'PX', 120000) end
    return {1, c, s, d}
  end
end
f, lu, lc = settle_lock(now, tonumber(ARGV[3]), f, lu, lc, tonumber(ARGV[4]), tonumber(ARGV[5]))
put_ustate(KEYS[2], ARGV[1], f, lu, lc, ws, wf, ls)
if KEYS[3] then
  redis.call('SET', KEYS[3], status .. ',' .. n(f) .. ',' .. n(lu) .. ',' .. n(lc) .. ',' .. n(ws) .. ',' .. n(wf) .. ',' .. n(ls), 'PX', 120000)
end
return {status, f, lu, lc, ws, wf, ls}
`;

/** KEYS: ustates. ARGV: username, ticket windowStart, ticket lockCount, ticket lastSuccess. → the six fields */
export const REFUND_ATTEMPT = `${READ_STATE}${LOCK}
local f, lu, lc, ws, wf, ls = ustate(redis.call('HGET', KEYS[1], ARGV[1]))
if lc ~= tonumber(ARGV[3]) or ls ~= tonumber(ARGV[4]) then return {f, lu, lc, ws, wf, ls} end
f = math.max(0, f - 1)
if ws == tonumber(ARGV[2]) then wf = math.max(0, wf - 1) end
put_ustate(KEYS[1], ARGV[1], f, lu, lc, ws, wf, ls)
return {f, lu, lc, ws, wf, ls}
`;

/**
 * KEYS: ustates. ARGV: username, now, threshold, baseSeconds, maxSeconds. → the six fields.
 * The attempt was counted by RESERVE_ATTEMPT; this only decides the lock.
 */
export const COMMIT_FAILURE = `${READ_STATE}${LOCK}
local f, lu, lc, ws, wf, ls = ustate(redis.call('HGET', KEYS[1], ARGV[1]))
local f2, lu2, lc2 = settle_lock(tonumber(ARGV[2]), tonumber(ARGV[3]), f, lu, lc, tonumber(ARGV[4]), tonumber(ARGV[5]))
if lu2 ~= lu then put_ustate(KEYS[1], ARGV[1], f2, lu2, lc2, ws, wf, ls) end
return {f2, lu2, lc2, ws, wf, ls}
`;

/** KEYS: tstates. ARGV: serial, counter, lastUsedStep, drift. → merged {c,s,d} (max-merge, never backwards) */
export const ADVANCE_STATE = `${READ_STATE}
local c, s, d = tstate(redis.call('HGET', KEYS[1], ARGV[1]))
local bc, bs, bd = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local nd = d
if not (s >= bs) then nd = bd end
c = math.max(c, bc)
s = math.max(s, bs)
redis.call('HSET', KEYS[1], ARGV[1], n(c) .. ',' .. n(s) .. ',' .. n(nd))
return {c, s, nd}
`;

/** KEYS: ustates. ARGV: username. Clears lock and failure counters, keeps windowStart and lastSuccess. */
export const UNLOCK_USER = `${READ_STATE}
local f, lu, lc, ws, wf, ls = ustate(redis.call('HGET', KEYS[1], ARGV[1]))
redis.call('HSET', KEYS[1], ARGV[1], '0,0,0,' .. n(ws) .. ',0,' .. n(ls))
return 1
`;

/** KEYS: users, usernames, tombstones. ARGV: username, json. → 1 created | 0 exists */
export const CREATE_USER = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], 0, ARGV[1])
redis.call('ZREM', KEYS[3], 'user:' .. ARGV[1])
return 1
`;

/** KEYS: users. ARGV: username, json. → 1 replaced | 0 missing */
export const UPDATE_USER = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`;

/** KEYS: users, usernames, tokens, tstates, ustates, tombstones. ARGV: prefix, username, now. → 1 | 0 */
export const DELETE_USER = `
if redis.call('HEXISTS', KEYS[1], ARGV[2]) == 0 then return 0 end
local set = ARGV[1] .. 'ut:' .. ARGV[2]
local serials = redis.call('SMEMBERS', set)
for _, serial in ipairs(serials) do
  if redis.call('HDEL', KEYS[3], serial) == 1 then
    redis.call('ZADD', KEYS[6], ARGV[3], 'token:' .. serial)
  end
  redis.call('HDEL', KEYS[4], serial)
end
redis.call('DEL', set)
redis.call('HDEL', KEYS[1], ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('HDEL', KEYS[5], ARGV[2])
redis.call('ZADD', KEYS[6], ARGV[3], 'user:' .. ARGV[2])
return 1
`;

/**
 * KEYS: users, usernames, tokens, ustates, tombstones. ARGV: prefix, from, to, user json (named to), now.
 * → 1 renamed | 0 (no \`from\`, or \`to\` exists). Tokens and the failure state move with the user.
 */
export const RENAME_USER = `
if redis.call('HEXISTS', KEYS[1], ARGV[2]) == 0 then return 0 end
if redis.call('HEXISTS', KEYS[1], ARGV[3]) == 1 then return 0 end
redis.call('HSET', KEYS[1], ARGV[3], ARGV[4])
redis.call('ZADD', KEYS[2], 0, ARGV[3])
local fromSet = ARGV[1] .. 'ut:' .. ARGV[2]
local toSet = ARGV[1] .. 'ut:' .. ARGV[3]
for _, serial in ipairs(redis.call('SMEMBERS', fromSet)) do
  local raw = redis.call('HGET', KEYS[3], serial)
  if raw then
    local token = cjson.decode(raw)
    token.username = ARGV[3]
    redis.call('HSET', KEYS[3], serial, cjson.encode(token))
    redis.call('SADD', toSet, serial)
  end
end
redis.call('DEL', fromSet)
local state = redis.call('HGET', KEYS[4], ARGV[2])
if state then redis.call('HSET', KEYS[4], ARGV[3], state) end
redis.call('HDEL', KEYS[4], ARGV[2])
redis.call('HDEL', KEYS[1], ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('ZADD', KEYS[5], ARGV[5], 'user:' .. ARGV[2])
redis.call('ZREM', KEYS[5], 'user:' .. ARGV[3])
return 1
`;

/** KEYS: users, tokens, tombstones. ARGV: prefix, serial, username, json. → 1 | 0 (no such user) */
export const PUT_TOKEN = `
if redis.call('HEXISTS', KEYS[1], ARGV[3]) == 0 then return 0 end
redis.call('ZREM', KEYS[3], 'token:' .. ARGV[2])
local prev = redis.call('HGET', KEYS[2], ARGV[2])
if prev then
  local owner = cjson.decode(prev).username
  if owner ~= ARGV[3] then redis.call('SREM', ARGV[1] .. 'ut:' .. owner, ARGV[2]) end
end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[4])
redis.call('SADD', ARGV[1] .. 'ut:' .. ARGV[3], ARGV[2])
return 1
`;

/**
 * KEYS: users, usernames, tokens, tombstones. ARGV: prefix, mode (create|update), username, user
 * json, then serial and token json pairs. Writes the user and every token, or nothing:
 * → 0 written | 1 user exists (create) | 2 user missing (update) | 3 a serial is taken.
 */
export const WRITE_USER_TOKENS = `
local exists = redis.call('HEXISTS', KEYS[1], ARGV[3]) == 1
if ARGV[2] == 'create' and exists then return 1 end
if ARGV[2] ~= 'create' and not exists then return 2 end
for i = 5, #ARGV, 2 do
  if redis.call('HEXISTS', KEYS[3], ARGV[i]) == 1 then return 3 end
end
redis.call('HSET', KEYS[1], ARGV[3], ARGV[4])
redis.call('ZADD', KEYS[2], 0, ARGV[3])
redis.call('ZREM', KEYS[4], 'user:' .. ARGV[3])
for i = 5, #ARGV, 2 do
  redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1])
  redis.call('SADD', ARGV[1] .. 'ut:' .. ARGV[3], ARGV[i])
  redis.call('ZREM', KEYS[4], 'token:' .. ARGV[i])
end
return 0
`;

/**
 * A restore's chunk (restoreBatch). KEYS: users, usernames, tokens, tstates, tombstones. ARGV:
 * prefix, then per entry: username ('' for none), user json, token count, and per token serial,
 * owner, token json, counter, lastUsedStep, drift. Each entry is what createUser/updateUser,
 * PUT_TOKEN and ADVANCE_STATE would do, in one script: a state is max-merged, never rolled back.
 * → per entry: 0 no user | 1 created | 2 replaced, then 1 put | 0 (owner missing) per token.
 */
export const RESTORE_BATCH = `${READ_STATE}
local out = {}
local i = 2
while i <= #ARGV do
  local name, json, count = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  i = i + 3
  if name == '' then
    out[#out + 1] = 0
  elseif redis.call('HEXISTS', KEYS[1], name) == 1 then
    redis.call('HSET', KEYS[1], name, json)
    out[#out + 1] = 2
  else
    redis.call('HSET', KEYS[1], name, json)
    redis.call('ZADD', KEYS[2], 0, name)
    redis.call('ZREM', KEYS[5], 'user:' .. name)
    out[#out + 1] = 1
  end
  for _ = 1, count do
    local serial, owner = ARGV[i], ARGV[i + 1]
    if redis.call('HEXISTS', KEYS[1], owner) == 0 then
      out[#out + 1] = 0
    else
      redis.call('ZREM', KEYS[5], 'token:' .. serial)
      local prev = redis.call('HGET', KEYS[3], serial)
      if prev then
        local was = cjson.decode(prev).username
        if was ~= owner then redis.call('SREM', ARGV[1] .. 'ut:' .. was, serial) end
      end
      redis.call('HSET', KEYS[3], serial, ARGV[i + 2])
      redis.call('SADD', ARGV[1] .. 'ut:' .. owner, serial)
      local c, s, d = tstate(redis.call('HGET', KEYS[4], serial))
      local bc, bs, bd = tonumber(ARGV[i + 3]), tonumber(ARGV[i + 4]), tonumber(ARGV[i + 5])
      local nd = d
      if not (s >= bs) then nd = bd end
      redis.call('HSET', KEYS[4], serial, n(math.max(c, bc)) .. ',' .. n(math.max(s, bs)) .. ',' .. n(nd))
      out[#out + 1] = 1
    end
    i = i + 6
  end
end
return out
`;

/**
 * KEYS: the lease. ARGV: holder, ttl ms, mode. "claim" takes a free lease or renews our own;
 * "take" takes it from anyone. → the holder before the call (false: none).
 */
export const LEASE = `
local cur = redis.call('GET', KEYS[1])
if ARGV[3] == 'take' or not cur or cur == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
return cur
`;

/** KEYS: tokens, tstates, tombstones. ARGV: prefix, serial, now. → 1 | 0 */
export const DELETE_TOKEN = `
local prev = redis.call('HGET', KEYS[1], ARGV[2])
if not prev then return 0 end
redis.call('SREM', ARGV[1] .. 'ut:' .. cjson.decode(prev).username, ARGV[2])
redis.call('HDEL', KEYS[1], ARGV[2])
redis.call('HDEL', KEYS[2], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[3], 'token:' .. ARGV[2])
return 1
`;

/** KEYS: a hash (clients, adminkeys), tombstones. ARGV: id, kind, json. Writes and clears the tombstone. */
export const PUT_RECORD = `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('ZREM', KEYS[2], ARGV[2] .. ':' .. ARGV[1])
return 1
`;

/** KEYS: a hash (clients, adminkeys), tombstones. ARGV: id, kind, now. → 1 deleted (tombstone left) | 0 */
export const DELETE_RECORD = `
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2] .. ':' .. ARGV[1])
return 1
`;

/**
 * KEYS: users, groups, tokens, tstates, ustates. ARGV: prefix, username.
 * → false | {userJson, groupJson|'', ustate|'', {tokenJson, tstate|''}...}
 */
export const LOAD_AUTH_VIEW = `#!lua flags=no-writes
local user = redis.call('HGET', KEYS[1], ARGV[2])
if not user then return false end
local group = redis.call('HGET', KEYS[2], cjson.decode(user).group) or ''
local out = {user, group, redis.call('HGET', KEYS[5], ARGV[2]) or ''}
local serials = redis.call('SMEMBERS', ARGV[1] .. 'ut:' .. ARGV[2])
table.sort(serials)
for _, serial in ipairs(serials) do
  local token = redis.call('HGET', KEYS[3], serial)
  if token then
    out[#out + 1] = token
    out[#out + 1] = redis.call('HGET', KEYS[4], serial) or ''
  end
end
return out
`;

/** KEYS: tokens. ARGV: prefix, username. → token JSONs in serial order */
export const LIST_TOKENS = `#!lua flags=no-writes
local serials = redis.call('SMEMBERS', ARGV[1] .. 'ut:' .. ARGV[2])
table.sort(serials)
local out = {}
for _, serial in ipairs(serials) do
  local token = redis.call('HGET', KEYS[1], serial)
  if token then out[#out + 1] = token end
end
return out
`;
