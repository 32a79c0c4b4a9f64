-- wrk script for the side-by-side benchmark: POSTs the GraphQL body in $BODY_FILE, where
-- __FIRST__ becomes a page size from 41 to 50, __UUID__ a fresh id and __CONTACT__ one of the ids
-- in $IDS_FILE (one per line), request by request; with $TOKEN as a bearer token when set.
-- Prints one line of figures.
local f = assert(io.open(os.getenv("BODY_FILE"), "r"))
local template = f:read("*a")
f:close()
local token = os.getenv("TOKEN")
local ids = {}
local ids_file = os.getenv("IDS_FILE")
if ids_file and ids_file ~= "" then
  for line in io.lines(ids_file) do
    if line ~= "" then table.insert(ids, line) end
  end
end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end

local function uuid()
  local hex = "0123456789abcdef"
  local out = {}
  for i = 1, 32 do
    local n = math.random(1, 16)
    out[i] = hex:sub(n, n)
  end
  local s = table.concat(out)
  return s:sub(1, 8) .. "-" .. s:sub(9, 12) .. "-4" .. s:sub(14, 16) .. "-8" .. s:sub(18, 20) .. "-" .. s:sub(21, 32)
end

-- Each thread gets its own seed (threads start in the same second with the same state).
local counter = 0
function init(args)
  math.randomseed(os.time() * 1000 + (id or 0))
end

function request()
  local body = template:gsub("__FIRST__", tostring(math.random(41, 50))):gsub("__UUID__", uuid())
  if #ids > 0 then
    body = body:gsub("__CONTACT__", ids[math.random(1, #ids)])
  end
  return wrk.format(nil, nil, nil, body)
end

-- Counted in each thread (a global, so `done` can read it back).
errors = 0
function response(status, headers, body)
  if status ~= 200 or body:find('"errors"') then
    errors = errors + 1
  end
end

local threads = {}
function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function done(summary, latency, requests)
  local failed = 0
  for _, thread in ipairs(threads) do
    failed = failed + thread:get("errors")
  end
  io.write(string.format("RESULT %.1f %.2f %.2f %d %d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, summary.requests, failed))
end
