-- wrk script for the Switchyard benchmark: POST one fixed request body, optionally paced, and print a
-- single machine-readable line at the end.
--   BENCH_BODY      file holding the request body (required)
--   BENCH_HEADERS   extra request headers, one "Name: value" per line (optional)
--   BENCH_DELAY_MS  wait this long on each connection before each request: paced (open-ish) load
-- Output: "WRKJSON {...}" with counts, rate, latency percentiles in microseconds and wrk's error counters.

local function slurp(path)
  local f = assert(io.open(path, "rb"), "cannot open " .. tostring(path))
  local data = f:read("*a")
  f:close()
  return data
end

wrk.method = "POST"
wrk.body = slurp(assert(os.getenv("BENCH_BODY"), "BENCH_BODY is not set"))
wrk.headers["Content-Type"] = "application/json"

for line in string.gmatch(os.getenv("BENCH_HEADERS") or "", "[^\n]+") do
  local name, value = line:match("^%s*([^:%s]+)%s*:%s*(.-)%s*$")
  if name then
    wrk.headers[name] = value
  end
end

-- wrk's timers tick in whole milliseconds, so connections that wait the same fixed time fire in the same
-- tick forever: 50 connections x 10 ms would arrive as one burst of 50 every 10 ms. By default each wait is
-- drawn uniformly from 0..2*BENCH_DELAY_MS (same mean rate), which spreads the arrivals out.
-- BENCH_DELAY_FIXED=1 keeps the fixed wait.
local pause = tonumber(os.getenv("BENCH_DELAY_MS") or "0") or 0
local fixed = os.getenv("BENCH_DELAY_FIXED") == "1"
if pause > 0 then
  if fixed then
    function delay()
      return pause
    end
  else
    function delay()
      return math.random(0, 2 * pause)
    end
  end
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1000000
  local e = summary.errors
  local fields = {
    string.format('"requests":%d', summary.requests),
    string.format('"duration_s":%.3f', seconds),
    string.format('"bytes":%d', summary.bytes),
    string.format('"rps":%.1f', summary.requests / seconds),
    string.format('"mean_us":%.1f', latency.mean),
    string.format('"stdev_us":%.1f', latency.stdev),
    string.format('"min_us":%d', latency.min),
    string.format('"max_us":%d', latency.max),
  }
  for _, p in ipairs({ { "p50_us", 50 }, { "p90_us", 90 }, { "p99_us", 99 }, { "p999_us", 99.9 } }) do
    fields[#fields + 1] = string.format('"%s":%d', p[1], latency:percentile(p[2]))
  end
  for _, k in ipairs({ "connect", "read", "write", "status", "timeout" }) do
    fields[#fields + 1] = string.format('"err_%s":%d', k, e[k])
  end
  io.write("WRKJSON {" .. table.concat(fields, ",") .. "}\n")
end
