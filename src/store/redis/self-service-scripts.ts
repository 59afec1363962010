/**
 * The Lua of the self-service records (src/model/self-service.ts), run with EVAL: they are off the
 * login hot path except a recovery-code redemption, which is rare. Layout (P = key prefix):
 *   P.invitations hash  id → Invitation JSON
 *   P.usercodes   hash  username → UserCodes JSON
 */

/** KEYS: invitations. ARGV: id, now. → 1 used now | 0 not open, expired or unknown */
export const USE_INVITATION = `
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local inv = cjson.decode(raw)
local now = tonumber(ARGV[2])
if inv.status ~= 'open' or inv.expiresAt <= now then return 0 end
inv.status = 'used'
inv.usedAt = now
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(inv))
return 1
`;

/**
 * KEYS: usercodes, ustates. ARGV: username, hash, now. → 'locked' | 'none' | 'recovery' | 'temporary'
 * Mirrors redeemFrom and applySuccess (src/model); cjson writes an empty array as {}, put right.
 */
export const REDEEM_USER_CODE = `
local function n(x) return string.format('%d', x) end
local now = tonumber(ARGV[3])
local f, lu, lc, ws, wf, ls = 0, 0, 0, 0, 0, 0
local us = redis.call('HGET', KEYS[2], ARGV[1])
if us then
  local a, b, c, d, e, g = string.match(us, '^(-?%d+),(-?%d+),(-?%d+),(-?%d+),(-?%d+),(-?%d+)$')
  f, lu, lc, ws, wf, ls = tonumber(a), tonumber(b), tonumber(c), tonumber(d), tonumber(e), tonumber(g)
end
if lu > now then return 'locked' end
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 'none' end
local codes = cjson.decode(raw)
local kind = nil
if type(codes.recovery) == 'table' and type(codes.recovery.hashes) == 'table' then
  for i, h in ipairs(codes.recovery.hashes) do
    if h == ARGV[2] then
      table.remove(codes.recovery.hashes, i)
      kind = 'recovery'
      break
    end
  end
end
if not kind and type(codes.temporary) == 'table' and codes.temporary.hash == ARGV[2] and codes.temporary.expiresAt > now then
  kind = 'temporary'
  if codes.temporary.oneTime then codes.temporary = nil end
end
if not kind then return 'none' end
local out = string.gsub(cjson.encode(codes), '"hashes":{}', '"hashes":[]')
redis.call('HSET', KEYS[1], ARGV[1], out)
redis.call('HSET', KEYS[2], ARGV[1], n(0) .. ',' .. n(0) .. ',' .. n(0) .. ',' .. n(ws) .. ',' .. n(0) .. ',' .. n(now))
return kind
`;

/**
 * Send limits (mail and SMS codes), one sorted set of hit times per key. KEYS: the limits' keys.
 * ARGV: now, then limit and windowMs per key. → 0 allowed (a hit added to each) | i, the first
 * full key (nothing changed).
 */
export const HIT_RATE_LIMITS = `
local now = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  local window = tonumber(ARGV[2 * i + 1])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= tonumber(ARGV[2 * i]) then return i end
end
for i, key in ipairs(KEYS) do
  local window = tonumber(ARGV[2 * i + 1])
  redis.call('ZADD', key, now, ARGV[1] .. '-' .. redis.call('ZCARD', key))
  redis.call('PEXPIRE', key, window)
end
return 0
`;
