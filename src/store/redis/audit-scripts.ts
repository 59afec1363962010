/**
 * The audit streams in Redis. Each stream is a sorted set scored by the event's time, so retention
 * by age is one ZREMRANGEBYSCORE; members are "<16-digit sequence>|<event JSON>", unique (two equal
 * events of one millisecond are both kept) and ordered by append within a millisecond.
 *
 *   P.audit:auth, P.audit:admin, P.audit:event   zsets   P.audit:seq   the sequence counter
 *   P.audit:<stream>:head     a chained stream's last entry (JSON), the compare of a chained append
 *   P.audit:<stream>:anchor   the last chained member retention dropped: verify starts after it
 *   P.audit (a list, newest first) holds events written before streams existed.
 */

const TRIM = `
local function keep_anchor(anchor, member)
  if member and string.find(member, '"chain":', 1, true) then redis.call('SET', anchor, member) end
end
local function trim(key, anchor, cutoff, cap)
  local old = redis.call('ZREVRANGEBYSCORE', key, '(' .. cutoff, '-inf', 'LIMIT', 0, 1)
  if #old > 0 then
    keep_anchor(anchor, old[1])
    redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. cutoff)
  end
  if cap > 0 then
    local excess = redis.call('ZCARD', key) - cap
    if excess > 0 then
      keep_anchor(anchor, redis.call('ZRANGE', key, excess - 1, excess - 1)[1])
      redis.call('ZREMRANGEBYRANK', key, 0, excess - 1)
    end
  end
end
`;

/**
 * KEYS: stream, seq, then the auth, admin and event streams, then their anchors. ARGV: for each of those three its
 * cutoff (older events are dropped) and maxEvents (0: no cap), then pairs of time, event JSON.
 * Appends and trims every stream in one step, so a stream nobody appends to still ages out while
 * another one is busy. → the appended stream's size.
 */
export const APPEND_AUDIT = `${TRIM}
local count = (#ARGV - 6) / 2
if count > 0 then
  local last = redis.call('INCRBY', KEYS[2], count)
  local seq = last - count
  for i = 7, #ARGV, 2 do
    seq = seq + 1
    redis.call('ZADD', KEYS[1], ARGV[i], string.format('%016d', seq) .. '|' .. ARGV[i + 1])
  end
end
for s = 0, 2 do
  trim(KEYS[3 + s], KEYS[6 + s], ARGV[1 + 2 * s], tonumber(ARGV[2 + 2 * s]))
end
return redis.call('ZCARD', KEYS[1])
`;

/**
 * KEYS: stream, seq, the auth, admin and event streams, the stream's head, the three anchors.
 * ARGV: the head the batch was sealed onto ('' for none), the new head, the six trim arguments
 * (as APPEND_AUDIT), then pairs of sort time, sealed entry JSON. Appends only when the head is
 * still the one the batch was sealed onto, so the chain cannot fork however many nodes append;
 * otherwise changes nothing. → {1} appended, or {0, the current head} to seal again onto.
 */
export const APPEND_CHAINED = `${TRIM}
local current = redis.call('GET', KEYS[6]) or ''
if current ~= ARGV[1] then return {0, current} end
local count = (#ARGV - 8) / 2
if count > 0 then
  local last = redis.call('INCRBY', KEYS[2], count)
  local seq = last - count
  for i = 9, #ARGV, 2 do
    seq = seq + 1
    redis.call('ZADD', KEYS[1], ARGV[i], string.format('%016d', seq) .. '|' .. ARGV[i + 1])
  end
  redis.call('SET', KEYS[6], ARGV[2])
end
for s = 0, 2 do
  trim(KEYS[3 + s], KEYS[7 + s], ARGV[3 + 2 * s], tonumber(ARGV[4 + 2 * s]))
end
return {1}
`;

/**
 * KEYS: legacy list, auth stream, admin stream, seq. Moves the events of the old single list into
 * the streams (validate decisions were its only auth events), oldest first. → events moved.
 */
export const MIGRATE_AUDIT = `
local items = redis.call('LRANGE', KEYS[1], 0, -1)
local moved = 0
for i = #items, 1, -1 do
  local ok, e = pcall(cjson.decode, items[i])
  if ok and type(e) == 'table' and tonumber(e.time) then
    local key = KEYS[3]
    if e.type == 'validate' then key = KEYS[2] end
    local seq = redis.call('INCR', KEYS[4])
    redis.call('ZADD', key, tonumber(e.time), string.format('%016d', seq) .. '|' .. items[i])
    moved = moved + 1
  end
end
redis.call('DEL', KEYS[1])
return moved
`;
