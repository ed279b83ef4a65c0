--- The seed's demo server on the Lua binding.
--   GET <any path>     -> 200 text/plain "You requested <uri>\n"
--   POST|PUT /echo     -> 200 with exactly the request body
--   HEAD               -> as GET without the body
-- Usage: lua5.4 examples/demo.lua [--address ADDR] [--port N] [--test-routes]
-- --test-routes adds the routes tests/integration/test_dlopen_consumers.py
-- drives (as examples/dlopen_demo.c): /headers, /fail, /later?ms=N, /hold,
-- /stats, and /quit (stops the loop; Lua has no signal handlers).
local squall = require "squall"

local address, port, test_routes = "127.0.0.1", 8888, false
local i = 1
while arg[i] do
  if arg[i] == "--address" then address = arg[i + 1]; i = i + 1
  elseif arg[i] == "--port" then port = tonumber(arg[i + 1]); i = i + 1
  elseif arg[i] == "--test-routes" then test_routes = true
  else io.stderr:write("usage: demo.lua [--address ADDR] [--port N] [--test-routes]\n"); os.exit(2) end
  i = i + 1
end

local TEXT = { ["Content-Type"] = "text/plain" }
local sleeping, held, answered = 0, 0, 0
local server

local routes = {
  ["/headers"] = function(req)
    req:respond(200, { ["X-Echo-Back"] = req.headers["x-echo"] or "",
                       ["Content-Type"] = "text/plain" }, "headers\n")
  end,
  ["/fail"] = function() error("the /fail route failed on purpose") end,
  ["/later"] = function(req)
    local ms = tonumber(req.query:match("ms=(%d+)")) or 50
    sleeping = sleeping + 1
    squall.sleep(ms / 1000)
    sleeping = sleeping - 1
    req:respond(200, TEXT, "later\n")
  end,
  ["/hold"] = function()
    held = held + 1
    squall.wait(function() end) -- never woken: pending until the server goes
  end,
  ["/stats"] = function(req)
    collectgarbage()
    req:respond(200, TEXT, ("requests %d\ntimers %d\nheld %d\nconnections %d\nobjects %d\n"):format(
      server:stats().live - 1, sleeping, held, server:stats().connections,
      math.floor(collectgarbage("count"))))
  end,
  ["/quit"] = function(req)
    req:respond(200, TEXT, "bye\n")
    squall.stop()
  end,
}

local function handler(req)
  local m = req.method
  if (m == "POST" or m == "PUT") and req.path == "/echo" then
    req:respond(200, { ["Content-Type"] = "application/octet-stream" }, req.body)
  elseif m == "GET" or m == "HEAD" then
    local route = test_routes and routes[req.path]
    if route then return route(req) end
    req:respond(200, TEXT, "You requested " .. req.uri .. "\n")
  else
    req:respond(405, { Allow = "GET, HEAD, POST, PUT", ["Content-Type"] = "text/plain" },
                "Method Not Allowed\n")
  end
  answered = answered + 1
end

-- Weak references tell whether the library released the handler and hook.
local released = setmetatable({}, { __mode = "v" })
local on_error = function(msg, info)
  io.stderr:write(("error hook: kind=%d status=%d peer=%s: %s\n"):format(
    info.kind, info.status, info.peer or "", msg))
end
released.handler, released.hook = handler, on_error
server = squall.server{ host = address, port = port, handler = handler, on_error = on_error }
print(("listening on http://%s:%d/ (libsquall %s, Lua through SWIG)"):format(
  address:find(":") and "[::1]" or address, server:port(), squall.version))
io.stdout:flush()
squall.run()

local pending = server:close()
local live = server:stats().live
server, handler, on_error = nil, nil, nil
squall.loop():close()
collectgarbage()
collectgarbage()
print(("freed: server released %d, hook released %d, held %d, done ok %d, done closed %d, live requests %d"):format(
  released.handler and 0 or 1, released.hook and 0 or 1, held, answered, pending, live))
