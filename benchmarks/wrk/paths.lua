-- wrk script for `xinyue bench http`: cycle through the requests listed in a file, one a line:
--   PATH                      (a GET of PATH)
--   PATH<TAB>Header: value    (with one extra header, e.g. a session cookie or a bearer token)
-- usage: wrk -t2 -c32 -d5s -s paths.lua http://127.0.0.1:PORT -- FILE
-- Each connection's thread starts at a different line, so the mix is the same at any
-- concurrency. At the end one line "XINYUE-WRK {json}" gives the figures (latency in µs).
local requests = {}
local counter = 0

function setup(thread)
  thread:set("offset", counter)
  counter = counter + 1
end

function init(args)
  local file = assert(io.open(args[1], "r"))
  for line in file:lines() do
    if line ~= "" then
      local path, header = line:match("^([^\t]*)\t(.*)$")
      local headers = {}
      if path then
        local name, value = header:match("^([^:]+):%s*(.*)$")
        headers[name] = value
      else
        path = line
      end
      table.insert(requests, wrk.format("GET", path, headers))
    end
  end
  file:close()
  n = (offset or 0) * 7
end

function request()
  n = n + 1
  return requests[(n % #requests) + 1]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'XINYUE-WRK {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"max_us": %d, "status_errors": %d, "connect": %d, "read": %d, "write": %d, "timeout": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, e.status, e.connect, e.read, e.write, e.timeout))
end
