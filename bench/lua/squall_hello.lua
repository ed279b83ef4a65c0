--- Hello server on the Lua binding: every request gets 200 text/plain
-- "Hello, world!\n" (Content-Length), from a coroutine per request.
-- Usage: lua5.4 squall_hello.lua PORT
local squall = require "squall"
local CT = { ["Content-Type"] = "text/plain" }
squall.server{ port = tonumber(arg[1] or 8080), handler = function(req)
  req:respond(200, CT, "Hello, world!\n")
end }
squall.run()
