--- The peer: the same hello server on lua-http (Debian's lua-http, whose
-- pure-Lua files Debian installs for Lua 5.1-5.3: run under 5.4 with
-- LUA_PATH set to the 5.3, 5.2 and 5.1 folders (bench/lua/compare.sh);
-- its C dependencies, cqueues, luaossl and lpeg, are built for 5.4 too).
-- Usage: lua5.4 luahttp_hello.lua PORT
local http_server = require "http.server"
local http_headers = require "http.headers"

local server = assert(http_server.listen{
  host = "127.0.0.1",
  port = tonumber(arg[1] or 8080),
  reuseaddr = true,
  onstream = function(_, stream)
    local req_headers = stream:get_headers()
    if not req_headers then return end
    local h = http_headers.new()
    h:append(":status", "200")
    h:append("content-type", "text/plain")
    h:append("content-length", "14")
    stream:write_headers(h, req_headers:get(":method") == "HEAD")
    if req_headers:get(":method") ~= "HEAD" then stream:write_chunk("Hello, world!\n", true) end
  end,
  onerror = function() end,
})
assert(server:listen())
assert(server:loop())
