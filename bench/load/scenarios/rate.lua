-- wrk script: a constant offered rate (open loop), for latency under load:
--   WRK_RATE=40000 WRK_CONNECTIONS=64 wrk -t1 -c64 -s rate.lua URL
-- WRK_RATE is requests/s per wrk thread (run.sh uses -t1); 0 or unset: as fast as the
-- connections go, through the same code (the "max" a rate is a fraction of).
--
-- Method. wrk asks delay() how long to wait before each request on a connection, once the
-- connection's previous response is in. The thread keeps one schedule for all its
-- connections: slot k is due at t0 + k / rate. delay() takes the next slot and waits until
-- it is due (wrk's timers have millisecond resolution: requests leave in bursts of up to a
-- millisecond's worth, at the right average rate), so while the server keeps up the offered
-- rate is the scheduled one whatever its latency. A connection is closed-loop (one request
-- in flight), so when the server falls behind, requests leave later than their slot: that
-- lateness is measured in request() as lag = send time - slot time, and printed beside the
-- latency (RATEJSON). Latency (stats.lua's WRKJSON) is measured from the send, as wrk
-- measures it; latency from the intended time is at most latency + lag, so a lag p99 far
-- below the latency p99 says the figures are not hiding a backlog (coordinated omission).
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "../stats.lua")
local ffi = require("ffi")
pcall(ffi.cdef, [[
typedef struct { long tv_sec; long tv_nsec; } rate_timespec_t;
int clock_gettime(int clk, rate_timespec_t *tp);
]])
local ts = ffi.new("rate_timespec_t")
local function now_us()
  ffi.C.clock_gettime(1, ts)  -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1e6 + tonumber(ts.tv_nsec) / 1e3
end

local rate = tonumber(os.getenv("WRK_RATE") or "") or 0
local interval_us = rate > 0 and 1e6 / rate or 0
local t0, k = nil, 0
local due, due_head, due_tail = {}, 1, 0  -- slots handed out, in order, not yet sent
lag_buckets = {}  -- lag in 10 us buckets: read back by done() through thread:get()
lag_count = 0

delay = function()
  if interval_us == 0 then return 0 end
  local now = now_us()
  if t0 == nil then t0 = now end
  local at = t0 + k * interval_us
  k = k + 1
  due_tail = due_tail + 1
  due[due_tail] = at
  local wait_ms = math.floor((at - now) / 1000 + 0.5)
  return wait_ms > 0 and wait_ms or 0
end

request = function()
  if due_head <= due_tail then
    local lag = now_us() - due[due_head]
    due[due_head] = nil
    due_head = due_head + 1
    local b = lag > 0 and math.floor(lag / 10) or 0
    lag_buckets[b] = (lag_buckets[b] or 0) + 1
    lag_count = lag_count + 1
  end
  return wrk.request()
end

local threads = {}
setup = function(thread) threads[#threads + 1] = thread end

local stats_done = done
done = function(summary, latency, requests)
  stats_done(summary, latency, requests)
  local all, n = {}, 0
  for _, t in ipairs(threads) do
    for b, c in pairs(t:get("lag_buckets") or {}) do all[b] = (all[b] or 0) + c end
    n = n + (t:get("lag_count") or 0)
  end
  local keys = {}
  for b in pairs(all) do keys[#keys + 1] = b end
  table.sort(keys)
  local want, out, i, acc = { 50, 99, 99.9 }, {}, 1, 0
  for _, b in ipairs(keys) do
    acc = acc + all[b]
    while i <= #want and acc >= math.ceil(want[i] / 100 * n) do
      out[i] = b * 10
      i = i + 1
    end
  end
  local function num(x) return x and string.format("%d", x) or "null" end
  io.write(string.format('RATEJSON {"offered_per_s":%.0f,"achieved_per_s":%.1f,' ..
    '"lag_p50_us":%s,"lag_p99_us":%s,"lag_p999_us":%s,"lag_samples":%d}\n',
    rate * #threads, summary.requests / (summary.duration / 1e6),
    num(out[1]), num(out[2]), num(out[3]), n))
end
