--[[
  Takes the leader lease when it is free, renews it when ours.

  A key without TTL (corrupt, or written by hand) would block every supervisor forever: it is
  replaced, and the caller warns. So is a key of another Redis type, on which GET would fail every time.

  Input:
    KEYS[1] lease key
    ARGV[1] holder id (this process)
    ARGV[2] ttl, ms

  Output:
    1 acquired or renewed
    2 took over a lease without TTL or of another type (replaced-corrupt)
    0 held by another holder
]]
local t = redis.call('TYPE', KEYS[1]).ok
if t ~= 'string' and t ~= 'none' then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 2
end
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if cur and redis.call('PTTL', KEYS[1]) == -1 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 2
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
return 0
