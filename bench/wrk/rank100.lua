-- The ranking request of predict_rank100.lua sent to :rank: the same 100 merged rows per request, as a context
-- (the fields named by CLICKWISE_CONTEXT_FIELDS, default Criteo's I1-I13 and C1-C13: the user and the page,
-- taken from the request's first row) and 100 candidates holding the other fields, or with CLICKWISE_BY_ID=FIELD
-- only that field (the item id: the server fills the rest from its --item-table, bench/make_item_table.py).
--   wrk -t2 -c4 -d10s --latency -s bench/wrk/rank100.lua http://127.0.0.1:8000
package.path = package.path .. ";" .. (os.getenv("CLICKWISE_BENCH_DIR") or "bench") .. "/wrk/?.lua"
local rows = require("rows")

local candidates = tonumber(os.getenv("CLICKWISE_CANDIDATES") or "100")
local byId = os.getenv("CLICKWISE_BY_ID")
local requests = {}
local index = 0

local function isContext(key)
  local list = os.getenv("CLICKWISE_CONTEXT_FIELDS")
  if list then return string.find("," .. list .. ",", "," .. key .. ",", 1, true) ~= nil end
  local kind, number = string.match(key, "^([IC])(%d+)$")
  return kind == "I" or (kind == "C" and tonumber(number) <= 13)
end

-- Splits a flat row object's members (`"key":value`; values strings, numbers, null or arrays of strings) by isContext.
local function split(row)
  local context, candidate = {}, {}
  local body = string.sub(row, 2, -2)
  local depth, inString, escaped, start = 0, false, false, 1
  local function take(member)
    local key = string.match(member, '^%s*"([^"]+)"')
    if key == nil then return end
    if isContext(key) then context[#context + 1] = member else candidate[#candidate + 1] = member end
  end
  for i = 1, #body do
    local c = string.sub(body, i, i)
    if inString then
      if escaped then escaped = false elseif c == "\\" then escaped = true elseif c == '"' then inString = false end
    elseif c == '"' then inString = true
    elseif c == "[" or c == "{" then depth = depth + 1
    elseif c == "]" or c == "}" then depth = depth - 1
    elseif c == "," and depth == 0 then
      take(string.sub(body, start, i - 1))
      start = i + 1
    end
  end
  take(string.sub(body, start))
  return context, candidate
end

function init(args)
  local all = rows.load()
  local path = string.gsub(rows.path(), ":predict$", ":rank")
  for r = 1, 20 do
    local parts, context = {}, nil
    for c = 1, candidates do
      local own, item = split(all[((r - 1) * 37 + c - 1) % #all + 1])
      if c == 1 then context = own end
      -- Every candidate carries the first row's context fields (as predict_rank100.lua's rows would, merged).
      if byId then
        local kept = {}
        for _, member in ipairs(item) do
          if string.match(member, '^"([^"]+)"') == byId then kept[1] = member end
        end
        item = kept
      end
      parts[c] = "{" .. table.concat(item, ",") .. "}"
    end
    local body = '{"context":{' .. table.concat(context, ",") .. '},"candidates":[' .. table.concat(parts, ",") .. ']}'
    if r == 1 then io.stderr:write("body bytes " .. #body .. "\n") end
    requests[r] = wrk.format("POST", path, { ["Content-Type"] = "application/json" }, body)
  end
end

function request()
  index = index % #requests + 1
  return requests[index]
end

function response(status, headers, body)
  if status ~= 200 then io.stderr:write("status " .. status .. ": " .. body .. "\n") end
end
