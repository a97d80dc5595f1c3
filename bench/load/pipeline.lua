-- wrk script: HTTP/1.1 pipelining. Every write carries DEPTH requests (default 16; another
-- depth: `wrk ... -s pipeline.lua URL -- 32`, or env WRK_PIPELINE=32), built once in init()
-- with wrk.format; request() returns that one string (one Lua call per batch, not per
-- request). wrk counts each response as a request; a latency sample is one batch (first
-- request written to last response read). done() (from stats.lua, beside this file) prints
-- the batch latency percentiles and the line bench/load/run.sh reads.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
pipeline_depth = tonumber(os.getenv("WRK_PIPELINE") or "") or 16
dofile(here .. "stats.lua")

local batch

init = function(args)
  if args[1] ~= nil then pipeline_depth = tonumber(args[1]) end
  local r = {}
  for i = 1, pipeline_depth do
    r[i] = wrk.format(nil, wrk.path)
  end
  batch = table.concat(r)
end

request = function()
  return batch
end
