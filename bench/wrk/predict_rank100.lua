-- A ranking request: 100 candidate rows per request (the rows file rotated, 100 at a time).
--   wrk -t2 -c8 -d10s --latency -s bench/wrk/predict_rank100.lua http://127.0.0.1:8000
package.path = package.path .. ";" .. (os.getenv("CLICKWISE_BENCH_DIR") or "bench") .. "/wrk/?.lua"
local rows = require("rows")

local candidates = tonumber(os.getenv("CLICKWISE_CANDIDATES") or "100")
local requests = {}
local index = 0

function init(args)
  local all = rows.load()
  for r = 1, 20 do
    local parts = {}
    for c = 1, candidates do
      parts[c] = all[((r - 1) * 37 + c - 1) % #all + 1]
    end
    local body = '{"instances":[' .. table.concat(parts, ",") .. ']}'
    if r == 1 then io.stderr:write("body bytes " .. #body .. "\n") end
    requests[r] = rows.format(body)
  end
end

function request()
  index = index % #requests + 1
  return requests[index]
end
