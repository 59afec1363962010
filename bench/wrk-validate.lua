-- wrk script: POST /v1/validate with a fresh code per request.
-- args: path, api key ("-" for none), user prefix, first user, users, codes (comma-separated:
-- round r sends codes[r + 1]), delay in ms between a connection's answer and its next request (0: none).
-- Request i goes to user first + (i mod users) with the code of round floor(i / users): each user
-- sees its codes in order, `users` requests apart. Past the last round the codes are used up:
-- such requests are counted as `exhausted` and the caller fails the run.
local path, prefix, first, users
local pin = ""
local field = "user"
local marker = '"result":"accept"'
local codes = {}
local i = 0
accepts, rejects, failures, exhausted = 0, 0, 0, 0

function init(args)
  path = args[1]
  if args[2] ~= "-" then wrk.headers["Authorization"] = "Bearer " .. args[2] end
  prefix = args[3]
  first = tonumber(args[4])
  users = tonumber(args[5])
  for c in string.gmatch(args[6], "[^,]+") do codes[#codes + 1] = c end
  wrk.headers["Content-Type"] = "application/json"
  if args[8] and args[8] ~= "-" then pin = args[8] end
  if args[9] then field = args[9] end
  if args[10] then marker = args[10] end
  local pause = tonumber(args[7] or "0")
  if pause > 0 then
    local low = math.floor(pause)
    local share = pause - low
    function delay()
      if math.random() < share then return low + 1 end
      return low
    end
  end
end

function request()
  local round = math.floor(i / users)
  local user = first + (i % users)
  i = i + 1
  local code = codes[round + 1]
  if code == nil then
    exhausted = exhausted + 1
    code = "000000"
  end
  return wrk.format("POST", path, nil, '{"' .. field .. '":"' .. prefix .. user .. '","pass":"' .. pin .. code .. '"}')
end

function response(status, headers, body)
  if status ~= 200 then
    failures = failures + 1
  elseif string.find(body, marker, 1, true) then
    accepts = accepts + 1
  else
    rejects = rejects + 1
  end
end

local threads = {}
function setup(thread)
  threads[#threads + 1] = thread
end

function done(summary, latency, requests)
  local a, r, f, x = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("accepts")
    r = r + t:get("rejects")
    f = f + t:get("failures")
    x = x + t:get("exhausted")
  end
  local e = summary.errors
  io.write(string.format(
    'WRK-RESULT {"requests":%d,"durationUs":%d,"accepts":%d,"rejects":%d,"failures":%d,"exhausted":%d,' ..
    '"socketErrors":%d,"p50us":%d,"p90us":%d,"p99us":%d,"maxUs":%d}\n',
    summary.requests, summary.duration, a, r, f, x,
    e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
