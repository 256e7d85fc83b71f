"""The Lua script behind :class:`~temu_async.redis_throttle.RedisWindow`, in one place.

One script, run atomically by Redis, does every step of the shared budget (reserve a
slot, stamp or release it, push the budget back), on Redis's own clock.
"""

from __future__ import annotations

import hashlib

__all__ = ["SCRIPT", "SCRIPT_SHA"]

# Times travel in whole microseconds of Redis server time: a double holds them exactly
# (1.7e15 < 2**53), and "%.0f" writes them without Lua's 14-digit tostring rounding.
# Every key of a call is passed in KEYS (Redis Cluster routes by them): for
# 'reserve', pace and log key of each limit in turn; for 'stamp'/'release', the log
# keys; for 'penalize', the pace keys.
SCRIPT = """
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])

local function ms_until(when)
  return math.max(1, math.ceil((when - now) / 1000) + 1)
end

local function keep_until(key, when)
  -- Never shorten: other entries of the log may need it longer.
  local ttl = ms_until(when)
  if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
end

local mode = ARGV[1]
if mode == 'reserve' then
  -- ARGV: mode, max_wait, member, pending_ttl, then per limit: interval, rate, span,
  -- tolerance (how far ahead of the pace a burst may go: (burst - 1) * interval)
  local max_wait = tonumber(ARGV[2])
  local member = ARGV[3]
  local hold = tonumber(ARGV[4])
  local n = #KEYS / 2
  local at = now
  local tats = {}
  for i = 1, n do
    local base = 4 + (i - 1) * 4
    local rate = tonumber(ARGV[base + 2])
    local span = tonumber(ARGV[base + 3])
    local tat = tonumber(redis.call('GET', KEYS[2 * i - 1]))
    tats[i] = tat or 0
    if tat and tat - tonumber(ARGV[base + 4]) > at then at = tat - tonumber(ARGV[base + 4]) end
    local log = KEYS[2 * i]
    redis.call('ZREMRANGEBYSCORE', log, '-inf', string.format('%.0f', now - span))
    local count = redis.call('ZCARD', log)
    if count >= rate then
      local entry = redis.call('ZRANGE', log, count - rate, count - rate, 'WITHSCORES')
      local oldest = tonumber(entry[2])
      -- Still pending (scored in the future): its write time is not known yet.
      if oldest > now then return {0, -1} end
      if oldest + span > at then at = oldest + span end
    end
  end
  local wait = at - now
  if wait > max_wait then
    return {0, wait}
  end
  for i = 1, n do
    local base = 4 + (i - 1) * 4
    local interval = tonumber(ARGV[base + 1])
    local span = tonumber(ARGV[base + 3])
    local tat = math.max(tats[i], at) + interval
    redis.call('SET', KEYS[2 * i - 1], string.format('%.0f', tat), 'PX',
               string.format('%d', ms_until(tat)))
    redis.call('ZADD', KEYS[2 * i], string.format('%.0f', at + hold), member)
    keep_until(KEYS[2 * i], at + hold + span)
  end
  return {1, wait}
elseif mode == 'settle' then
  -- Writes and releases of one app's slots. ARGV: mode, then one span per key, then
  -- per slot: member, age (how long before this script the client wrote it; -1 for
  -- a release), the number of its keys and their indexes in KEYS.
  local i = 2 + #KEYS
  while i <= #ARGV do
    local member = ARGV[i]
    local age = tonumber(ARGV[i + 1])
    local n = tonumber(ARGV[i + 2])
    for j = 1, n do
      local key = KEYS[tonumber(ARGV[i + 2 + j])]
      if age >= 0 then
        redis.call('ZADD', key, string.format('%.0f', now - age), member)
      else
        redis.call('ZREM', key, member)
      end
    end
    i = i + 3 + n
  end
  for k = 1, #KEYS do
    -- Keep each log as long as its newest entry can matter (pending ones score latest).
    local top = redis.call('ZRANGE', KEYS[k], -1, -1, 'WITHSCORES')
    if top[2] then
      redis.call('PEXPIRE', KEYS[k], ms_until(tonumber(top[2]) + tonumber(ARGV[1 + k])))
    end
  end
  return {1, 0}
elseif mode == 'penalize' then
  -- ARGV: mode, seconds, then per key its burst tolerance (which the pace may not use
  -- to come back early)
  for i = 1, #KEYS do
    local blocked = now + tonumber(ARGV[2]) + tonumber(ARGV[2 + i])
    local tat = tonumber(redis.call('GET', KEYS[i]))
    if not tat or tat < blocked then
      redis.call('SET', KEYS[i], string.format('%.0f', blocked), 'PX',
                 string.format('%d', ms_until(blocked)))
    end
  end
  return {1, 0}
end
return redis.error_reply('temu-async rate script: unknown mode ' .. tostring(mode))
"""
SCRIPT_SHA = hashlib.sha1(SCRIPT.encode()).hexdigest()
