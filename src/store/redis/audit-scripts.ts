/**
 * The audit streams in Redis. Each stream is a sorted set scored by the event's time, so retention
 * by age is one ZREMRANGEBYSCORE; members are "<16-digit sequence>|<event JSON>", unique (two equal
 * events of one millisecond are both kept) and ordered by append within a millisecond.
 *
 *   P.audit:auth, P.audit:admin, P.audit:event   zsets   P.audit:seq   the sequence counter
 *   P.audit (a list, newest first) holds events written before streams existed.
 */

const TRIM = `
local function trim(key, cutoff, cap)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. cutoff)
  if cap > 0 then redis.call('ZREMRANGEBYRANK', key, 0, -(cap + 1)) end
end
`;

/**
 * KEYS: stream, seq, then the auth, admin and event streams. ARGV: for each of those three its
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
  trim(KEYS[3 + s], ARGV[1 + 2 * s], tonumber(ARGV[2 + 2 * s]))
end
return redis.call('ZCARD', KEYS[1])
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
