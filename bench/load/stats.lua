-- wrk script for bench/load/run.sh: no per-request Lua (wrk keeps sending its static
-- request), only a done() that prints one machine-readable line, WRKJSON {...}:
--   requests, duration_us, errors, wrk_cpu_s (os.clock(): wrk's CPU seconds, all threads;
--     near the duration means the client was the limit);
--   p50/p90/p99/p999_us: latency as measured, one sample per request (per batch when
--     pipelining), rebuilt from wrk's histogram by undoing wrk's coordinated-omission
--     correction (stats_correct), which wrk applies before done() and which is wrong for
--     pipelining: it takes one response per connection per interval, so with 16 in flight it
--     adds ~15 phantom samples per real one, below wrk's recorded minimum, where its own
--     percentile() cannot see them and answers 0;
--   wrk_p50/p90/p99_us: wrk's own (corrected) percentiles, as `wrk --latency` prints them.
-- The rebuild needs the number of connections: env WRK_CONNECTIONS (run.sh sets it).
-- pipeline.lua loads this file and adds pipelining.
local ffi = require("ffi")
pcall(ffi.cdef, [[
typedef struct { uint64_t count, limit, min, max; uint64_t data[]; } wrk_stats_t;
]])

pipeline_depth = pipeline_depth or 1

-- Measured (uncorrected) percentiles, or nil when the histogram cannot be read back.
local function measured(summary, latency)
  local conns = tonumber(os.getenv("WRK_CONNECTIONS") or "")
  if not conns or conns <= 0 or summary.requests < conns then return nil end
  local ok, s = pcall(function() return ffi.cast("wrk_stats_t **", latency)[0] end)
  if not ok then return nil end
  local lo, hi = tonumber(s.min), tonumber(s.max)
  -- the struct layout is wrk 4.x's: check it against the API before trusting it
  if lo ~= latency.min or hi ~= latency.max or hi < lo or hi >= tonumber(s.limit) then
    return nil
  end
  local per_conn = math.floor(summary.requests / conns)
  local e = math.floor(summary.duration / per_conn)  -- wrk's "expected interval"
  local n_b = hi - lo + 1
  local r = ffi.new("double[?]", n_b)   -- real samples per microsecond bucket
  local t = ffi.new("double[?]", n_b)   -- phantom samples stats_correct put there
  local total, sum = 0, 0
  for n = hi, lo, -1 do
    local i = n - lo
    local ph = 0
    if n > e and n + e <= hi then ph = r[i + e] + t[i + e] end
    t[i] = ph
    local c = tonumber(s.data[n]) - ph
    if c < 0 then return nil end
    r[i] = c
    total = total + c
    sum = sum + c * n
  end
  if total <= 0 then return nil end
  local want = { 50, 90, 99, 99.9 }
  local out, k, acc = {}, 1, 0
  for n = lo, hi do
    acc = acc + r[n - lo]
    while k <= #want and acc >= math.ceil(want[k] / 100 * total) do
      out[k] = n
      k = k + 1
    end
    if k > #want then break end
  end
  return { p50 = out[1], p90 = out[2], p99 = out[3], p999 = out[4], samples = total,
           mean = sum / total, interval = e }
end

done = function(summary, latency, requests)
  local e = summary.errors
  local m = measured(summary, latency)
  local function num(x) return x and string.format("%.0f", x) or "null" end
  if pipeline_depth > 1 then
    io.write(string.format("pipeline depth %d: batch latency p50 %sus p90 %sus p99 %sus " ..
      "(measured; wrk's corrected p50 %.0fus p99 %.0fus)\n", pipeline_depth,
      num(m and m.p50), num(m and m.p90), num(m and m.p99),
      latency:percentile(50), latency:percentile(99)))
  end
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"pipeline":%d,"wrk_cpu_s":%.3f,' ..
    '"p50_us":%s,"p90_us":%s,"p99_us":%s,"p999_us":%s,"mean_us":%s,"samples":%s,' ..
    '"wrk_p50_us":%.0f,"wrk_p90_us":%.0f,"wrk_p99_us":%.0f,"max_us":%.0f,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}}\n',
    summary.requests, summary.duration, summary.bytes, pipeline_depth, os.clock(),
    num(m and m.p50), num(m and m.p90), num(m and m.p99), num(m and m.p999),
    m and string.format("%.1f", m.mean) or "null", num(m and m.samples),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
