-- GCRA for one bucket, atomically. The same algorithm as gcra() in gcra.go,
-- counted in microseconds of the Redis server's clock.
-- KEYS[1]: the bucket. ARGV[1]: emission interval in microseconds.
-- ARGV[2]: burst (the rate's count).
-- Returns {allowed (0/1), remaining, reset_after_us, retry_after_us}.
local interval = tonumber(ARGV[1])
local count = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then
  tat = now
end
local next_tat = tat + interval
local allow_at = next_tat - interval * count
if now < allow_at then
  return {0, 0, tat - now, allow_at - now}
end
-- %d keeps all 16 digits; Lua's default number format would round them.
-- The key expires when the bucket is full again.
redis.call('SET', KEYS[1], string.format('%d', next_tat),
  'PX', math.ceil((next_tat - now) / 1000))
return {1, math.floor((now - allow_at) / interval), next_tat - now, 0}
