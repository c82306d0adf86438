-- One raw-feature row per request, rotating through a few hundred realistic rows.
--   wrk -t4 -c100 -d10s --latency -s bench/wrk/predict_single.lua http://127.0.0.1:8000
package.path = package.path .. ";" .. (os.getenv("CLICKWISE_BENCH_DIR") or "bench") .. "/wrk/?.lua"
local rows = require("rows")

local requests = {}
local index = 0

function init(args)
  local thread_rows = rows.load()
  -- Threads start at different rows so they do not send the same sequence in lock-step.
  local start = math.random(#thread_rows)
  for i = 1, #thread_rows do
    local row = thread_rows[(start + i - 2) % #thread_rows + 1]
    requests[i] = rows.format('{"instances":[' .. row .. ']}')
  end
end

function request()
  index = index % #requests + 1
  return requests[index]
end
