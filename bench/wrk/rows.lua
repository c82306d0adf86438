-- Shared by the predict_*.lua scripts: loads raw rows (one JSON object per line) and pre-formats requests,
-- so wrk spends no CPU building bodies during the run (it shares the machine with the server).
--   CLICKWISE_ROWS  file of rows (default bench/out/rows.jsonl, made by bench/gen_rows.py)
--   CLICKWISE_MODEL model name in the path (default deepfm)
local M = {}

function M.load()
  local path = os.getenv("CLICKWISE_ROWS") or "bench/out/rows.jsonl"
  local file = io.open(path, "r")
  if not file then error("cannot open " .. path .. " (make it with bench/gen_rows.py, or set CLICKWISE_ROWS)") end
  local rows = {}
  for line in file:lines() do
    if #line > 0 then rows[#rows + 1] = line end
  end
  file:close()
  if #rows == 0 then error(path .. " holds no rows") end
  return rows
end

function M.path()
  return "/v1/models/" .. (os.getenv("CLICKWISE_MODEL") or "deepfm") .. ":predict"
end

function M.format(body)
  return wrk.format("POST", M.path(), { ["Content-Type"] = "application/json" }, body)
end

return M
