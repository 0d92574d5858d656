-- wrk script of bench/rush.py. RUSH_MODE=get: the command line's request as it is. RUSH_MODE=book: one booking
-- POST per request, each with its own Idempotency-Key, document and proof of work, for the tickets (one seat
-- each) of this thread in RUSH_DIR/tickets-<thread>.txt; every 201 is written down as "key code" in
-- RUSH_DIR/acked-<thread>.txt. done() prints one JSON line with the statuses and latency percentiles.
local mode = os.getenv("RUSH_MODE") or "get"
local dir = os.getenv("RUSH_DIR") or "."
local run = tonumber(os.getenv("RUSH_RUN") or "1")
local letters = "TRWAGMYFPDXBNJZSQVHLCKE"
local threads, counter = {}, 1

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

-- RUSH_THINK_MS: each connection is a citizen who waits between half and one and a half times this between requests
-- (wrk asks delay() before every request, the first one included).
local think = tonumber(os.getenv("RUSH_THINK_MS") or "0")
if think > 0 then
  function delay() return math.random(math.floor(think / 2), math.floor(think * 3 / 2)) end
end

function init(args)
  math.randomseed(id)
  statuses, sent = {}, 0
  if mode ~= "book" then return end
  tickets = {}
  for line in io.lines(dir .. "/tickets-" .. id .. ".txt") do table.insert(tickets, line) end
  proofs = io.open(dir .. "/proofs-" .. id .. ".txt")
  acked = io.open(dir .. "/acked-" .. id .. ".txt", "w")
  acked:setvbuf("line")
end

-- The same formula as rush.py's body_of(): a valid DNI (8 digits, mod-23 letter) per request.
function dni(n)
  local k = n % 23 + 1
  return string.format("%08d%s", n, letters:sub(k, k))
end

if mode == "book" then
  function request()
    sent = sent + 1
    local proc, office, start = tickets[(sent - 1) % #tickets + 1]:match("(%S+) (%S+) (%S+)")
    local key = string.format("rush%d-%d-%d", run, id, sent)
    local proof = proofs:read("*l") or ""
    local body = string.format(
      '{"procedure":"%s","office":"%s","start":"%s","name":"Rush %s","document":"%s","phone":"","email":"",' ..
      '"consent":true,"lang":"es","altcha":"%s"}',
      proc, office, start, key, dni(10000000 + run * 10000000 + id * 1000000 + sent), proof)
    return wrk.format("POST", "/api/v1/appointments",
      {["Content-Type"] = "application/json", ["Idempotency-Key"] = key}, body)
  end

  function response(status, headers, body)
    statuses[status] = (statuses[status] or 0) + 1
    if status == 201 then
      local key = body:match('"name":"Rush ([^"]+)"')
      local code = body:match('"code":"([^"]+)"')
      acked:write(key .. " " .. code .. "\n")
    end
  end
end

function done(summary, latency, requests)
  local st, total_sent = {}, {}
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("statuses") or {}) do st[tostring(k)] = (st[tostring(k)] or 0) + v end
    table.insert(total_sent, string.format('"%d":%d', t:get("id"), t:get("sent") or 0))
  end
  local parts = {}
  for k, v in pairs(st) do table.insert(parts, string.format('"%s":%d', k, v)) end
  local e = summary.errors
  io.write(string.format(
    'RUSH {"requests":%d,"seconds":%.3f,"bytes":%d,"p50":%.3f,"p95":%.3f,"p99":%.3f,"errors":%d,' ..
    '"non2xx3xx":%d,"statuses":{%s},"sent":{%s}}\n',
    summary.requests, summary.duration / 1e6, summary.bytes, latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    e.connect + e.read + e.write + e.timeout, e.status, table.concat(parts, ","), table.concat(total_sent, ",")))
end
