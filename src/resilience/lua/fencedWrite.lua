--[[
  Applies a list of writes only while the caller holds the leader lease (a fenced write).

  Every key the writes touch is passed in KEYS (same hash slot on a cluster: all share the prefix's
  hash tag); the caller passes the key count.

  Input:
    KEYS[1]    lease key
    KEYS[2..n] the keys the writes touch
    ARGV[1]    holder id (this process)
    ARGV[2]    JSON list of writes: [{ "cmd": "HSET", "key": <index into KEYS>, "args": ["…", …] }, …]

  Output:
    1 applied, 0 not the holder (nothing written)
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local ops = cjson.decode(ARGV[2])
for _, op in ipairs(ops) do
  local args = {}
  for i, a in ipairs(op.args) do args[i] = a end
  redis.call(op.cmd, KEYS[op.key], unpack(args))
end
return 1
