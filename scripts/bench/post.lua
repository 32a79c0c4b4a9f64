-- wrk script: POSTs the GraphQL body in $BODY_FILE with $TOKEN, and prints p50/p95/p99.
local f = assert(io.open(os.getenv("BODY_FILE"), "r"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("TOKEN")

local errors = 0
function response(status, headers, body)
  if status ~= 200 or body:find('"errors"') then
    errors = errors + 1
  end
end

function done(summary, latency, requests)
  io.write(string.format("requests/s %.1f  p50 %.2fms  p95 %.2fms  p99 %.2fms  requests %d  non-2xx-or-errors %d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000, summary.requests, errors))
end
