--- Plain-assert tests of the Lua binding under lua5.4 (run by ctest.sh).
-- Server and clients share one loop: the clients are squall's own outgoing
-- streams driven from coroutines (squall.spawn + squall.connect), real TCP
-- on 127.0.0.1.  (curl drives examples/demo.lua in the consumer suite.)
local squall = require "squall"

local loop = squall.loop()
local errors = {}
local held, closed_coroutines = {}, 0
local weak = setmetatable({}, { __mode = "v" })

local function text(req, status, body)
  req:respond(status or 200, { ["Content-Type"] = "text/plain" }, body)
end

local routes = {}
routes["/echo"] = function(req)
  req:respond(200, { ["Content-Type"] = "application/octet-stream" }, req.body)
end
routes["/sleep"] = function(req)
  local t0 = os.clock()
  squall.sleep(tonumber(req.query:match("s=([%d.]+)")) or 0.05)
  text(req, 200, "slept\n")
  return t0
end
routes["/fail"] = function() error("the /fail route failed on purpose") end
routes["/fail-later"] = function()
  squall.sleep(0.01)
  local t = nil
  return t.field -- an indexing error after a yield
end
routes["/silent"] = function() end -- returns without answering
routes["/headers"] = function(req)
  req:respond(201, {
    ["X-Echo-Back"] = req:header("X-Echo") or "",
    ["Set-Cookie"] = { "a=1", "b=2" },
    ["X-Seen"] = req.headers["x-twice"] or "",
  }, "h\n")
end
routes["/stream"] = function(req)
  req:start(200, { ["Content-Type"] = "text/plain" })
  req:write("one,")
  squall.sleep(0.02)
  req:write("two,")
  req:finish("three\n")
end
routes["/stream-fail"] = function(req)
  req:start(200)
  req:write("partial")
  error("failed in the middle of a streamed body")
end
routes["/hold"] = function(req)
  local guard <close> = setmetatable({}, { __close = function() closed_coroutines = closed_coroutines + 1 end })
  held[#held + 1] = req
  squall.wait(function() end) -- never woken
end

local function handler(req)
  local route = routes[req.path]
  if route then return route(req) end
  text(req, 200, "You requested " .. req.uri .. "\n")
end

local server = squall.server{ port = 0, handler = handler,
  on_error = function(msg, info) errors[#errors + 1] = { msg = msg, info = info } end }
local port = server:port()

-- A minimal HTTP/1.1 client over squall streams (Content-Length or chunked).
local function read_response(s)
  local head = assert(s:read_until("\r\n\r\n", 65536))
  local status = tonumber(head:match("^HTTP/1%.1 (%d+)"))
  local headers = {}
  for k, v in head:gmatch("\r\n([^:\r\n]+): ([^\r\n]*)") do
    k = k:lower()
    headers[k] = headers[k] and (headers[k] .. "\n" .. v) or v
  end
  local body
  if headers["content-length"] then
    local n = tonumber(headers["content-length"])
    body = n > 0 and assert(s:read_bytes(n)) or ""
  elseif headers["transfer-encoding"] == "chunked" then
    local parts = {}
    while true do
      local size = tonumber(assert(s:read_until("\r\n")):match("^(%x+)"), 16)
      if size == 0 then assert(s:read_until("\r\n")); break end
      parts[#parts + 1] = assert(s:read_bytes(size))
      assert(s:read_bytes(2))
    end
    body = table.concat(parts)
  else
    body = s:read_all() or ""
  end
  return status, headers, body
end

local function request(s, method, target, extra, body)
  local lines = { ("%s %s HTTP/1.1\r\nHost: t\r\n"):format(method, target) }
  for _, h in ipairs(extra or {}) do lines[#lines + 1] = h .. "\r\n" end
  if body then lines[#lines + 1] = ("Content-Length: %d\r\n"):format(#body) end
  lines[#lines + 1] = "\r\n"
  return table.concat(lines) .. (body or "")
end

local function fetch(method, target, extra, body)
  local s = assert(squall.connect("127.0.0.1", port))
  assert(s:write(request(s, method, target, extra, body)))
  local status, headers, b = read_response(s)
  s:close()
  return status, headers, b
end

local function rss_kb()
  for line in io.lines("/proc/self/status") do
    local kb = line:match("^VmRSS:%s+(%d+)")
    if kb then return tonumber(kb) end
  end
end

local tests = {}
local function test(name, fn) tests[#tests + 1] = { name = name, fn = fn } end

test("GET", function()
  local status, headers, body = fetch("GET", "/some/where?x=1")
  assert(status == 200, status)
  assert(headers["content-type"] == "text/plain")
  assert(headers["server"] == "squall")
  assert(body == "You requested /some/where?x=1\n", body)
end)

test("POST and PUT echo of 1 MiB", function()
  local parts = {}
  for i = 1, 1024 do parts[i] = string.pack("<I4", i):rep(256) end
  local data = table.concat(parts)
  assert(#data == 1 << 20)
  for _, m in ipairs({ "POST", "PUT" }) do
    local status, _, body = fetch(m, "/echo", nil, data)
    assert(status == 200 and body == data, m)
  end
end)

test("headers in and out", function()
  local status, headers = fetch("GET", "/headers", { "X-Echo: caf\xc3\xa9 ok", "X-Twice: 1", "X-Twice: 2" })
  assert(status == 201, status)
  assert(headers["x-echo-back"] == "caf\xc3\xa9 ok", headers["x-echo-back"])
  assert(headers["x-seen"] == "1, 2", headers["x-seen"])
  assert(headers["set-cookie"] == "a=1\nb=2", headers["set-cookie"])
end)

test("keep-alive and pipelining", function()
  local s = assert(squall.connect("127.0.0.1", port))
  for i = 1, 5 do -- one after another on one connection
    assert(s:write(request(s, "GET", "/k" .. i)))
    local status, _, body = read_response(s)
    assert(status == 200 and body == "You requested /k" .. i .. "\n")
  end
  local burst = {}
  for i = 1, 32 do burst[i] = request(s, "GET", "/p" .. i) end
  assert(s:write(table.concat(burst))) -- 32 requests in one write
  for i = 1, 32 do
    local _, _, body = read_response(s)
    assert(body == "You requested /p" .. i .. "\n", body)
  end
  s:close()
end)

test("a handler that sleeps: answered later, the loop not blocked", function()
  local order = {}
  local slow = squall.spawn(function()
    local status, _, body = fetch("GET", "/sleep?s=0.3")
    assert(status == 200 and body == "slept\n")
    order[#order + 1] = "slow"
  end)
  local _, _, body = fetch("GET", "/quick")
  assert(body == "You requested /quick\n")
  order[#order + 1] = "quick"
  while coroutine.status(slow) ~= "dead" do squall.sleep(0.02) end
  assert(order[1] == "quick" and order[2] == "slow", table.concat(order, ","))
end)

test("streamed response", function()
  local status, headers, body = fetch("GET", "/stream")
  assert(status == 200 and headers["transfer-encoding"] == "chunked")
  assert(body == "one,two,three\n", body)
end)

test("handler errors: 500, traceback to the hook, the server keeps serving", function()
  errors = {}
  for _, path in ipairs({ "/fail", "/fail-later", "/silent" }) do
    local status, _, body = fetch("GET", path)
    assert(status == 500, path .. " " .. tostring(status))
    assert(body == "Internal Server Error\n")
  end
  local _, _, body = fetch("GET", "/after")
  assert(body == "You requested /after\n")
  assert(#errors == 3, #errors)
  assert(errors[1].msg:find("failed on purpose", 1, true))
  assert(errors[1].msg:find("stack traceback", 1, true))
  assert(errors[1].msg:find("test_squall.lua", 1, true))
  assert(errors[1].info.status == 500 and errors[1].info.kind == squall.core.SQUALL_ERRKIND_APPLICATION)
  assert(errors[2].msg:find("index a nil value", 1, true))
  assert(errors[3].msg:find("without responding", 1, true))
  -- A failure after part of a streamed body was sent: the response is cut.
  local s = assert(squall.connect("127.0.0.1", port))
  assert(s:write(request(s, "GET", "/stream-fail")))
  local head = assert(s:read_until("\r\n\r\n"))
  assert(head:find("^HTTP/1%.1 200"))
  local rest, err = s:read_all()
  assert(rest == nil or not rest:find("0\r\n\r\n", 1, true), "a cut body must not look complete")
  s:close()
  -- the handler's error, then the library's own report of the abort
  assert(errors[4].msg:find("middle of a streamed body", 1, true), errors[4].msg)
  assert(errors[4].info.status == 0)
  assert(#errors == 5 and errors[5].msg:find("aborted", 1, true), #errors)
end)

test("timers: after, every, cancel, and their release", function()
  local fired, ticks = false, 0
  local cancelled_fn = function() error("a cancelled timer ran") end
  weak.cancelled = cancelled_fn
  local t = loop:after(0.01, cancelled_fn)
  t:cancel()
  cancelled_fn = nil
  loop:after(0.02, function() fired = true end)
  local every = loop:every(0.01, function() ticks = ticks + 1 end)
  squall.sleep(0.1)
  every:cancel()
  local at_cancel = ticks
  squall.sleep(0.03)
  assert(fired and at_cancel >= 2 and ticks == at_cancel, ("%s %d %d"):format(fired, at_cancel, ticks))
  collectgarbage()
  collectgarbage()
  assert(weak.cancelled == nil, "the cancelled timer's function was not released")
end)

test("20,000 requests: no growth of live objects or RSS", function()
  local s = assert(squall.connect("127.0.0.1", port))
  local function burst(n)
    local batch = {}
    for i = 1, 100 do batch[i] = request(s, "GET", "/n") end
    local wire = table.concat(batch)
    for _ = 1, n // 100 do
      assert(s:write(wire))
      for _ = 1, 100 do
        local status = read_response(s)
        assert(status == 200)
      end
    end
  end
  burst(2000)
  collectgarbage()
  collectgarbage()
  local kb0, rss0, live0 = collectgarbage("count"), rss_kb(), server:stats().live
  burst(20000)
  collectgarbage()
  collectgarbage()
  local kb1, rss1 = collectgarbage("count"), rss_kb()
  s:close()
  assert(server:stats().live == live0, "requests left unanswered")
  assert(kb1 - kb0 < 256, ("Lua heap grew %.0f KiB"):format(kb1 - kb0))
  if not os.getenv("SQUALL_UNDER_ASAN") then -- ASan's quarantine keeps freed memory
    assert(rss1 - rss0 < 8192, ("RSS grew %d KiB"):format(rss1 - rss0))
  end
end)

-- Last: the server is freed while requests are pending.
test("the server freed while requests are pending", function()
  local clients = {}
  for i = 1, 3 do
    clients[i] = squall.spawn(function()
      local s = assert(squall.connect("127.0.0.1", port))
      assert(s:write(request(s, "GET", "/hold")))
      local data = s:read_all() -- the server closes the connection
      assert(data == nil or data == "", data)
      s:close()
    end)
  end
  while #held < 3 do squall.sleep(0.01) end
  weak.handler = handler
  handler = nil
  local pending = server:close()
  assert(pending == 3, pending)
  assert(closed_coroutines == 3, "the held coroutines were closed")
  assert(server:stats().live == 0)
  for _, req in ipairs(held) do assert(req._state == 2) end
  for _, co in ipairs(clients) do
    while coroutine.status(co) ~= "dead" do squall.sleep(0.01) end
  end
  routes, server, held = nil, nil, nil
  collectgarbage()
  collectgarbage()
  assert(weak.handler == nil, "the server's release did not drop the handler")
end)

-- Run every test in order inside one coroutine on the loop.
local failed = 0
squall.spawn(function()
  for _, t in ipairs(tests) do
    local co = coroutine.running()
    local t0 = os.time()
    local ok, err = xpcall(t.fn, debug.traceback)
    print((ok and "ok   " or "FAIL ") .. t.name .. (" (%ds wall)"):format(os.time() - t0) .. (ok and "" or ("\n" .. err)))
    if not ok then failed = failed + 1 end
    assert(coroutine.running() == co)
  end
  loop:stop()
end)
loop:run()
loop:close()
-- Pull-style dispatch through the raw layer: this thread drives a second
-- loop with squall_loop_poll; curl (a separate process) is the client.
do
  local core = require "squall_core"
  local ok, err = pcall(function()
    local l2 = core.squall_loop_new()
    local srv = core.squall_server_new_polled(l2, nil)
    core.squall_server_listen(srv, "127.0.0.1", 0)
    local port = core.squall_server_port(srv)
    local out = os.tmpname()
    assert(os.execute(("curl -s http://127.0.0.1:%d/lua-poll/1 http://127.0.0.1:%d/lua-poll/2 > %s &")
      :format(port, port, out)))
    local served, deadline = 0, os.time() + 15
    while served < 2 and os.time() < deadline do
      local stopped, reqs = core.squall_loop_poll(l2, 100)
      assert(stopped == false and type(reqs) == "table")
      for _, r in ipairs(reqs) do
        local path = core.squall_request_get(r, core.SQUALL_REQ_PATH)
        core.squall_respond(r, 200, "text/plain", "got " .. path .. "\n")
        served = served + 1
      end
    end
    assert(served == 2, "polled requests served: " .. served)
    local body = ""
    while os.time() < deadline do
      local f = io.open(out)
      body = f and f:read("a") or ""
      if f then f:close() end
      if body == "got /lua-poll/1\ngot /lua-poll/2\n" then break end
      core.squall_loop_poll(l2, 50) -- lets the connection close
    end
    os.remove(out)
    assert(body == "got /lua-poll/1\ngot /lua-poll/2\n", body)
    core.squall_loop_stop(l2)
    local stopped, reqs = core.squall_loop_poll(l2, -1)
    assert(stopped == true and #reqs == 0)
    core.squall_server_free(srv)
    core.squall_loop_free(l2)
  end)
  print((ok and "ok   " or "FAIL ") .. "poll: squall_loop_poll serves curl" .. (ok and "" or ("\n" .. tostring(err))))
  if not ok then failed = failed + 1 end
end

print(("%d tests, %d failed"):format(#tests + 1, failed))
os.exit(failed == 0 and 0 or 1)
