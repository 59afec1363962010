import { AUDIT_BLOCK_FIELDS, BLOCK_SPAN_MS } from './audit-blocks.ts';

/**
 * The audit streams in Redis. Each stream is a sorted set scored by the event's time, so retention
 * by age is one ZREMRANGEBYSCORE; members are "<16-digit sequence>|<event JSON>", unique (two equal
 * events of one millisecond are both kept) and ordered by append within a millisecond.
 *
 *   P.audit:auth, P.audit:admin, P.audit:event   zsets   P.audit:seq   the sequence counter
 *   P.audit:<stream>:head     a chained stream's last entry (JSON), the compare of a chained append
 *   P.audit:<stream>:anchor   the last chained member retention dropped: verify starts after it
 *   P.audit (a list, newest first) holds events written before streams existed.
 *   P.audit:<stream>:ix:<field>:<value>   an index (src/store/audit-index.ts): a sorted set of
 *     members "<15-digit time>.<16-digit sequence>", all scored 0, so it sorts by time then append
 *     order and a search seeks into it with ZREVRANGEBYLEX (O(log n) to any page). The client,
 *     result, reason and node indexes hold blocks instead, one member per index per append
 *     (src/store/redis/audit-blocks.ts). The scripts name these keys themselves (they depend on
 *     the event): Tessera does not run on Redis Cluster.
 *   P.audit:ix:built   set once every stored entry has its index entries.
 *   P.audit:auth:daily:<YYYY-MM-DD>   a hash "<client>\t<result>" → how many authentication entries
 *     of that UTC day (reports); added in the append's own step, it expires with the day's retention.
 */

/**
 * Lua twin of auditIndexValues (src/store/audit-index.ts): field, value, field, value, ... of one
 * stored member's JSON. A test holds the two together.
 */
export const AUDIT_INDEX_VALUES = `
local BLOCK_FIELDS = {${AUDIT_BLOCK_FIELDS.map((f) => `${f} = true`).join(', ')}}
local function index_values(json)
  local out = {}
  local ok, e = pcall(cjson.decode, json)
  if not ok or type(e) ~= 'table' then return out end
  local function add(f, v)
    if type(v) == 'string' and #v > 0 then out[#out + 1] = f; out[#out + 1] = v end
  end
  add('user', e.username)
  if type(e.actor) == 'string' and string.sub(e.actor, 1, 7) == 'client:' then add('client', string.sub(e.actor, 8)) end
  add('result', e.result)
  add('reason', e.reason)
  if type(e.detail) == 'table' then add('node', e.detail.node) end
  return out
end
-- op 'add' writes one per-entry member in each index (a block of one where the index holds
-- blocks); 'rem' removes the per-entry ones and only names the block indexes in \`cut\`: their
-- members leave by range (cut_blocks), once per trim.
local function index_entry(stream, json, time, seq, op, cut)
  if not time or not seq then return end
  local values = index_values(json)
  local m = string.format('%015d.%016d', time, seq)
  for i = 1, #values, 2 do
    local key = stream .. ':ix:' .. values[i] .. ':' .. values[i + 1]
    if op == 'add' then redis.call('ZADD', key, 0, m)
    elseif BLOCK_FIELDS[values[i]] then cut[key] = true
    else redis.call('ZREM', key, m) end
  end
end
-- Drops every member of a block index at or below the position (time, seq): the blocks whose
-- newest is at or below it whole, and the positions at or below it from the blocks above it that
-- reach down past it (a block reaches at most ${BLOCK_SPAN_MS} ms below its newest).
-- '~' sorts above ':' and every digit, '/' right above '.' (see audit-blocks.ts).
local function cut_blocks(key, time, seq)
  local last = string.format('%015d.%016d', time, seq)
  redis.call('ZREMRANGEBYLEX', key, '-', '(' .. last .. '~')
  local above = redis.call('ZRANGEBYLEX', key, '(' .. last .. '~', '(' .. string.format('%015d', time + ${BLOCK_SPAN_MS}) .. '/')
  for _, m in ipairs(above) do
    if #m > 33 then
      local t, s = tonumber(string.sub(m, 1, 15)), tonumber(string.sub(m, 17, 32))
      local keep, n = {}, 0
      for dt, ds in string.gmatch(string.sub(m, 34), '(%d+)%.(%-?%d+)') do
        n = n + 1
        local pt, ps = t - tonumber(dt), s - tonumber(ds)
        if pt > time or (pt == time and ps > seq) then keep[#keep + 1] = dt .. '.' .. ds end
      end
      if #keep < n then
        redis.call('ZREM', key, m)
        if #keep > 0 then redis.call('ZADD', key, 0, string.sub(m, 1, 32) .. ':' .. table.concat(keep, ','))
        else redis.call('ZADD', key, 0, string.sub(m, 1, 32)) end
      end
    end
  end
end
-- The append payload, ARGV from \`first\` on (built by appendPayload in audit-log.ts):
--   c, then c daily counts: day, field, n, expire-at (added to the hash \`stream\`:daily:<day>);
--   e, then e entries: time, JSON;
--   g, then g per-entry index groups: name ("field:value"), k, then the k entries (1-based) it holds;
--   then to the end, blocks: name, the entry (1-based) of its newest position, the block's body
--   after the ':' ('' for a block of one; see audit-blocks.ts).
-- The entries go to \`stream\` in one ZADD, each index group in one ZADD, each block is one
-- member: the caller groups the batch by index (a batch shares its client, result, reason and node
-- indexes), so an append decodes no JSON and makes about one call per distinct index, not one per
-- index entry. Counts, entries and index entries land in this one step. → how many entries were
-- appended.
local function append_entries(stream, seqkey, first)
  local i = first
  local counts = tonumber(ARGV[i])
  i = i + 1
  for _ = 1, counts do
    local key = stream .. ':daily:' .. ARGV[i]
    redis.call('HINCRBY', key, ARGV[i + 1], ARGV[i + 2])
    redis.call('PEXPIREAT', key, ARGV[i + 3])
    i = i + 4
  end
  local count = tonumber(ARGV[i])
  i = i + 1
  if count == 0 then return 0 end
  local seq = redis.call('INCRBY', seqkey, count) - count
  local positions, members = {}, {}
  for e = 1, count do
    local time = tonumber(ARGV[i])
    positions[e] = string.format('%015d.%016d', time, seq + e)
    members[2 * e - 1] = time
    members[2 * e] = string.format('%016d', seq + e) .. '|' .. ARGV[i + 1]
    i = i + 2
  end
  redis.call('ZADD', stream, unpack(members))
  local groups = tonumber(ARGV[i])
  i = i + 1
  for _ = 1, groups do
    local k = tonumber(ARGV[i + 1])
    local args = {}
    for j = 1, k do
      args[2 * j - 1] = 0
      args[2 * j] = positions[tonumber(ARGV[i + 1 + j])]
    end
    redis.call('ZADD', stream .. ':ix:' .. ARGV[i], unpack(args))
    i = i + 2 + k
  end
  while i <= #ARGV do
    local m = positions[tonumber(ARGV[i + 1])]
    if ARGV[i + 2] ~= '' then m = m .. ':' .. ARGV[i + 2] end
    redis.call('ZADD', stream .. ':ix:' .. ARGV[i], 0, m)
    i = i + 3
  end
  return count
end
`;

/** A trim removes at most this many entries per stream per call, so no script blocks Redis long. */
export const TRIM_BATCH = 1000;

const TRIM = `${AUDIT_INDEX_VALUES}
local function keep_anchor(anchor, member)
  if member and string.find(member, '"chain":', 1, true) then redis.call('SET', anchor, member) end
end
-- flat member, score, ... oldest first: each leaves the stream with its index entries
local function index_member(key, m, score, op, cut)
  local bar = string.find(m, '|', 1, true)
  if not bar then return nil end
  local time, seq = tonumber(score), tonumber(string.sub(m, 1, bar - 1))
  index_entry(key, string.sub(m, bar + 1), time, seq, op, cut)
  if time and seq then return {time, seq} end
end
-- The stream sorts by time, then sequence, and a trim takes its oldest: once these are gone no
-- entry at or below the last of them is left, so the block indexes they were in are cut there.
local function drop(key, anchor, list)
  if #list == 0 then return 0 end
  local cut, last = {}, nil
  for i = 1, #list, 2 do
    last = index_member(key, list[i], list[i + 1], 'rem', cut) or last
    redis.call('ZREM', key, list[i])
  end
  if last then
    for ix in pairs(cut) do cut_blocks(ix, last[1], last[2]) end
  end
  keep_anchor(anchor, list[#list - 1])
  return #list / 2
end
local function trim(key, anchor, cutoff, cap)
  local removed = drop(key, anchor, redis.call('ZRANGEBYSCORE', key, '-inf', '(' .. cutoff, 'WITHSCORES', 'LIMIT', 0, ${TRIM_BATCH}))
  if cap > 0 and removed < ${TRIM_BATCH} then
    local excess = redis.call('ZCARD', key) - cap
    if excess > 0 then
      removed = removed + drop(key, anchor, redis.call('ZRANGE', key, 0, math.min(excess, ${TRIM_BATCH} - removed) - 1, 'WITHSCORES'))
    end
  end
  return removed
end
`;

/**
 * KEYS: stream, seq, then the auth, admin and event streams, then their anchors. ARGV: for each of those three its
 * cutoff (older events are dropped) and maxEvents (0: no cap), then the append payload (see
 * append_entries). Appends (with the events' index entries and daily counts) and trims every stream in one step, so a stream nobody
 * appends to still ages out while another one is busy; a trim drops at most TRIM_BATCH entries of
 * a stream per call. → the appended stream's size.
 */
export const APPEND_AUDIT = `${TRIM}
append_entries(KEYS[1], KEYS[2], 7)
for s = 0, 2 do
  trim(KEYS[3 + s], KEYS[6 + s], ARGV[1 + 2 * s], tonumber(ARGV[2 + 2 * s]))
end
return redis.call('ZCARD', KEYS[1])
`;

/**
 * KEYS: stream, seq, the auth, admin and event streams, the stream's head, the three anchors.
 * ARGV: the head the batch was sealed onto ('' for none), the new head, the six trim arguments
 * (as APPEND_AUDIT), then the append payload of the sealed entries, each at its sort time (as APPEND_AUDIT). Appends only when the head is
 * still the one the batch was sealed onto, so the chain cannot fork however many nodes append;
 * otherwise changes nothing. → {1} appended, or {0, the current head} to seal again onto.
 */
export const APPEND_CHAINED = `${TRIM}
local current = redis.call('GET', KEYS[6]) or ''
if current ~= ARGV[1] then return {0, current} end
if append_entries(KEYS[1], KEYS[2], 9) > 0 then redis.call('SET', KEYS[6], ARGV[2]) end
for s = 0, 2 do
  trim(KEYS[3 + s], KEYS[7 + s], ARGV[3 + 2 * s], tonumber(ARGV[4 + 2 * s]))
end
return {1}
`;

/**
 * KEYS: legacy list, auth stream, admin stream, seq. Moves the events of the old single list into
 * the streams (validate decisions were its only auth events), oldest first. → events moved.
 */
export const MIGRATE_AUDIT = `${AUDIT_INDEX_VALUES}
local items = redis.call('LRANGE', KEYS[1], 0, -1)
local moved = 0
for i = #items, 1, -1 do
  local ok, e = pcall(cjson.decode, items[i])
  if ok and type(e) == 'table' and tonumber(e.time) then
    local key = KEYS[3]
    if e.type == 'validate' then key = KEYS[2] end
    local seq = redis.call('INCR', KEYS[4])
    redis.call('ZADD', key, tonumber(e.time), string.format('%016d', seq) .. '|' .. items[i])
    index_entry(key, items[i], tonumber(e.time), seq, 'add')
    moved = moved + 1
  end
end
redis.call('DEL', KEYS[1])
return moved
`;

/**
 * KEYS: a stream. ARGV: a rank, a count. Gives the stream's entries at those ranks their index
 * entries (an upgrade from a version without indexes, a chunk at a time). → entries done.
 */
export const INDEX_AUDIT = `${TRIM}
local list = redis.call('ZRANGE', KEYS[1], ARGV[1], tonumber(ARGV[1]) + tonumber(ARGV[2]) - 1, 'WITHSCORES')
for i = 1, #list, 2 do index_member(KEYS[1], list[i], list[i + 1], 'add') end
return #list / 2
`;

/** ARGV: one stored JSON → its index field, value pairs (the expectation test of index_values). */
export const AUDIT_INDEX_PROBE = `${AUDIT_INDEX_VALUES}
return index_values(ARGV[1])
`;
