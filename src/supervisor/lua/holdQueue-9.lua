--[[
  Pauses ('hold') or resumes ('release') one BullMQ queue for the supervisor together with its mark and
  reasons in the paused-by hash, in one atomic step, only while the caller holds the leader lease, and
  never taking over or undoing an operator's pause.

  The queue part does what BullMQ 6's own pause does (taskforcesh/bullmq src/commands/pause-7.lua,
  called by Queue.pause/resume): pausing sets the meta hash's `paused` field and deletes the marker, so
  workers wait; resuming deletes the field, moves what an older BullMQ left in the legacy `paused` list
  back to `wait`, and sets the marker (now for waiting jobs, or at the next delayed job's time) so
  workers look again. Each emits BullMQ's `paused`/`resumed` event.

  Input:
    KEYS[1] lease key
    KEYS[2] paused-by hash: field <queue> = 'supervisor', field <queue>:reasons = why (comma-separated)
    KEYS[3] queue 'meta'
    KEYS[4] queue 'wait'
    KEYS[5] queue 'paused' (legacy list)
    KEYS[6] queue 'prioritized'
    KEYS[7] queue events stream
    KEYS[8] queue 'delayed'
    KEYS[9] queue 'marker'

    ARGV[1] holder id (this process)
    ARGV[2] queue name
    ARGV[3] 'hold' or 'release'
    ARGV[4] the reasons of a hold, comma-separated

  Output:
    -1 not the lease holder: nothing written
    hold:    0 an operator's pause (paused, not marked): left alone
             1 paused now
             2 held already: the reasons refreshed
             3 paused again: marked as the supervisor's, but someone had resumed it
    release: 0 not the supervisor's pause: left alone
             1 resumed
]]
local rcall = redis.call
if rcall('GET', KEYS[1]) ~= ARGV[1] then return -1 end

local queue = ARGV[2]
local marked = rcall('HGET', KEYS[2], queue) == 'supervisor'
local paused = rcall('HEXISTS', KEYS[3], 'paused') == 1

if ARGV[3] == 'hold' then
  if paused and not marked then return 0 end
  rcall('HSET', KEYS[2], queue, 'supervisor', queue .. ':reasons', ARGV[4])
  if paused then return 2 end
  rcall('HSET', KEYS[3], 'paused', 1)
  rcall('DEL', KEYS[9])
  rcall('XADD', KEYS[7], '*', 'event', 'paused')
  if marked then return 3 end
  return 1
end

if not marked then return 0 end
rcall('HDEL', KEYS[2], queue, queue .. ':reasons')
rcall('HDEL', KEYS[3], 'paused')
-- Jobs an older BullMQ kept in the legacy paused list go back to wait (7000 per RPUSH, as BullMQ moves them).
while rcall('EXISTS', KEYS[5]) == 1 do
  if rcall('EXISTS', KEYS[4]) == 0 then
    rcall('RENAME', KEYS[5], KEYS[4])
  else
    local jobs = rcall('LRANGE', KEYS[5], 0, 6999)
    rcall('RPUSH', KEYS[4], unpack(jobs))
    rcall('LTRIM', KEYS[5], #jobs, -1)
  end
end
if rcall('LLEN', KEYS[4]) + rcall('ZCARD', KEYS[6]) > 0 then
  rcall('ZADD', KEYS[9], 0, '0')
else
  local next = rcall('ZRANGE', KEYS[8], 0, 0, 'WITHSCORES')
  if next[2] ~= nil then rcall('ZADD', KEYS[9], tonumber(next[2]) / 0x1000, '1') end
end
rcall('XADD', KEYS[7], '*', 'event', 'resumed')
return 1
