--[[
  Gives the leader lease up, only when held by the caller.

  Input:
    KEYS[1] lease key
    ARGV[1] holder id (this process)

  Output:
    1 released, 0 not held by the caller
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
