--[[
  Points a scene's BullMQ deduplication key at a job just requeued, while that job has not started.

  Only when the job has no processedOn / finishedOn (BullMQ's reprocessJob clears both) and the key is
  free or still held by the stale job seen before the move: BullMQ's own finalization and the worker's
  start-of-job removal then clear it, and the key never points at a job that already ran. Field names
  come from src/dlq/bullmq-internals.ts.

  Input:
    KEYS[1] deduplication key of the scene (<prefix>:<queue>:de:<dedup id>)
    KEYS[2] job hash (<prefix>:<queue>:<job id>)
    ARGV[1] job id
    ARGV[2] the key's value seen before the move ('' when none)
    ARGV[3] job hash field set when the job starts (processedOn)
    ARGV[4] job hash field set when the job ends (finishedOn)

  Output:
    1 key set, 0 left as it was
]]
if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
if redis.call('HEXISTS', KEYS[2], ARGV[3]) == 1 or redis.call('HEXISTS', KEYS[2], ARGV[4]) == 1 then return 0 end
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
return 1
