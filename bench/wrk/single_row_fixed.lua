-- One single-row request, the same body every time: the first row of CLICKWISE_ROWS (any bundle's rows,
-- made by bench/gen_rows.py) when set, else a realistic Criteo row (39 raw features, ~600 bytes) for the
-- Criteo-shaped fixture bundle. Used by bench/cpu_budget.sh, where the body must not vary between the
-- baseline and the server.
wrk.method = "POST"
wrk.path = os.getenv("WRK_PATH") or "/"
wrk.headers["Content-Type"] = "application/json"
local rows = os.getenv("CLICKWISE_ROWS")
local row = nil
if rows and #rows > 0 then
  local file = io.open(rows, "r")
  if not file then error("cannot open " .. rows) end
  row = file:read("*l")
  file:close()
end
wrk.body = row and ('{"instances":[' .. row .. ']}') or
  ('{"instances":[{"I1":1,"I2":-1,"I3":5,"I4":0,"I5":1382,"I6":4,"I7":15,"I8":2,"I9":181,"I10":1,"I11":2,"I13":2,' ..
  '"C1":"68fd1e64","C2":"80e26c9b","C3":"fb936136","C4":"7b4723c4","C5":"25c83c98","C6":"7e0ccccf","C7":"de7995b8",' ..
  '"C8":"1f89b562","C9":"a73ee510","C10":"a8cd5504","C11":"b2cb9c98","C12":"37c9c164","C13":"2824a5f6","C14":"1adce6ef",' ..
  '"C15":"8ba8b39a","C16":"891b62e7","C17":"e5ba7672","C18":"f54016b9","C19":"21ddcdc9","C20":"b1252a9d","C21":"07b5194c",' ..
  '"C23":"3a171ecb","C24":"c5c50484","C25":"e8b83407","C26":"9727dd16"}]}')
