--- squall for Lua 5.4: the SWIG module squall_core plus a small layer in
-- which each request's handler runs in a coroutine of its own.
--
--   local squall = require "squall"
--   squall.server{ port = 8888, handler = function(req)
--     squall.sleep(0.1)                           -- yields; the loop goes on
--     req:respond(200, { ["Content-Type"] = "text/plain" },
--                 "You requested " .. req.uri .. "\n")
--   end }
--   squall.run()
--
-- A handler may yield (squall.sleep, squall.wait, req:write's backpressure is
-- not awaited) and answers when it resumes; the loop never blocks.  A Lua
-- error in a handler becomes a 500 (or an aborted response if part of it
-- was sent) and its traceback goes to the server's error hook; the server
-- keeps serving.  A handler that returns without answering gets a 500 too.
local core = require "squall_core"

local M = { core = core }

local ABI_MAJOR = 0 -- SQUALL_VERSION_MAJOR this layer was written for
if core.squall_version() >> 16 ~= ABI_MAJOR then
  error(("squall: libsquall is ABI major %d, this module needs %d"):format(
    core.squall_version() >> 16, ABI_MAJOR))
end
M.version = core.squall_version_string()

local FLUSH, FINISH, ABORT = core.SQUALL_SEND_FLUSH, core.SQUALL_SEND_FINISH,
  core.SQUALL_SEND_ABORT
local ECLOSED = core.SQUALL_ECLOSED
local ERRKIND_APPLICATION = core.SQUALL_ERRKIND_APPLICATION
local request_info, request_headers = core.request_info, core.request_headers
local c_respond, c_send = core.respond, core.send
local co_create, co_resume, co_status, co_running, co_yield =
  coroutine.create, coroutine.resume, coroutine.status, coroutine.running,
  coroutine.yield

-- coroutine -> what it runs for: a Request (a handler's), or { _loop = Loop }
-- (squall.spawn's).  Set while the coroutine runs or waits; cleared when
-- its function ends.  (A strong table: entries of pooled coroutines are
-- reused, and a weak one costs the collector on every cycle.)
local contexts = {}

local function ctx_loop(ctx)
  return ctx._loop or ctx._server.loop
end

-- Coroutines are reused: one that has run a function to its end yields
-- DONE and waits for the next (fn, arg); one that failed is dead and
-- dropped.  Saves a coroutine (a Lua thread and its stack) per request.
local DONE = {}
local pool, pooled, POOL_MAX = {}, 0, 256
local function body(fn, arg)
  while true do
    fn(arg)
    fn, arg = nil, nil -- an idle coroutine keeps nothing alive
    fn, arg = co_yield(DONE)
  end
end
local function take_coroutine()
  if pooled > 0 then
    local co = pool[pooled]
    pool[pooled] = nil
    pooled = pooled - 1
    return co
  end
  return co_create(body)
end

---------------------------------------------------------------------------
-- Loop
---------------------------------------------------------------------------
local Loop = {}
Loop.__index = Loop

--- A new loop (most programs use the default one: squall.loop()).
function M.new_loop()
  return setmetatable({ _h = core.squall_loop_new() }, Loop)
end

local default_loop
--- The default loop, created on first use.
function M.loop()
  if not default_loop then default_loop = M.new_loop() end
  return default_loop
end

--- Run until loop:stop() (squall.run() runs the default loop).
function Loop:run() core.squall_loop_run(self._h) end
function Loop:run_once(timeout_ms) core.squall_loop_run_once(self._h, timeout_ms or -1) end
function Loop:stop() core.squall_loop_stop(self._h) end

--- Free the loop: pending callbacks run, timers are cancelled.
function Loop:close()
  if self._h then
    core.squall_loop_free(self._h)
    self._h = nil
  end
  if self == default_loop then default_loop = nil end
end

local Timer = {}
Timer.__index = Timer
function Timer:cancel()
  if self._h then
    core.squall_timer_free(self._h)
    self._h = nil
  end
end

--- fn() once after `seconds`; returns a timer with :cancel().
function Loop:after(seconds, fn)
  local t = setmetatable({}, Timer)
  t._h = core.squall_loop_call_later(self._h, math.floor(seconds * 1000 + 0.5), function()
    t:cancel() -- frees the handle; fn has already been taken off the loop
    fn()
  end)
  return t
end

--- fn() every `seconds` until the timer is cancelled.
function Loop:every(seconds, fn)
  local t = setmetatable({}, Timer)
  t._h = core.squall_loop_call_every(self._h, math.max(1, math.floor(seconds * 1000 + 0.5)), fn)
  return t
end

--- Run fn() on the loop soon (any thread may ask; here: the loop's own).
function Loop:call_soon(fn) core.squall_loop_call_soon(self._h, fn) end

function M.run() M.loop():run() end
function M.stop() M.loop():stop() end

---------------------------------------------------------------------------
-- Coroutines
---------------------------------------------------------------------------
local step -- forward

--- Suspend the running handler until `register(wake)` has had wake(...)
-- called; returns wake's arguments.  The base of sleep and of any wait
-- on a callback.
function M.wait(register)
  local co, main = co_running()
  if main or not contexts[co] then
    error("squall.wait: not inside a squall coroutine (a handler or squall.spawn)", 2)
  end
  local woken = false
  register(function(...)
    if woken then return end
    woken = true
    if contexts[co] and co_status(co) == "suspended" then step(co, ...) end
  end)
  return co_yield()
end

--- Yield the running handler for `seconds` (a timer on its loop).
function M.sleep(seconds)
  local co = co_running()
  local ctx = contexts[co]
  if not ctx then error("squall.sleep: not inside a squall coroutine", 2) end
  local loop = ctx_loop(ctx)
  return M.wait(function(wake) loop:after(seconds, wake) end)
end

--- Run fn(...) in a coroutine of its own on `loop` (default loop if nil).
function M.spawn(fn, loop, ...)
  local co = co_create(fn)
  contexts[co] = { _loop = loop or M.loop() }
  step(co, ...)
  return co
end

---------------------------------------------------------------------------
-- Outgoing streams (IOStream client side), awaited from a coroutine
---------------------------------------------------------------------------
local Stream = {}
Stream.__index = Stream
local strerror = core.squall_strerror

local function current_loop(loop)
  if loop then return loop end
  local ctx = contexts[co_running()]
  return ctx and ctx_loop(ctx) or M.loop()
end

--- Connect to host:port (a numeric address does not block on DNS); yields
-- until connected.  Returns a stream, or nil and a message.
function M.connect(host, port, loop)
  loop = current_loop(loop)
  local s = setmetatable({}, Stream)
  local status = M.wait(function(wake)
    s._h = core.squall_stream_connect(loop._h, host, port, wake)
  end)
  if status ~= 0 then
    s:close()
    return nil, strerror(status)
  end
  return s
end

local function read_result(status, data)
  if status ~= 0 then return nil, strerror(status), data end
  return data
end

--- Yield until delim has been read; returns the bytes (delim included).
function Stream:read_until(delim, max_bytes)
  return read_result(M.wait(function(wake)
    core.squall_stream_read_until(self._h, delim, max_bytes or 0, wake)
  end))
end

--- Yield until n bytes (or, partial, at least one) have been read.
function Stream:read_bytes(n, partial)
  return read_result(M.wait(function(wake)
    core.squall_stream_read_bytes(self._h, n, partial and 1 or 0, wake)
  end))
end

--- Yield until the peer closes; returns everything read.
function Stream:read_all()
  return read_result(M.wait(function(wake)
    core.squall_stream_read_until_close(self._h, wake)
  end))
end

--- Queue data and yield until it has reached the kernel.
function Stream:write(data)
  local status = M.wait(function(wake) core.squall_stream_write(self._h, data, wake) end)
  if status ~= 0 then return nil, strerror(status) end
  return true
end

function Stream:close()
  if self._h then
    core.squall_stream_free(self._h)
    self._h = nil
  end
end
Stream.__close = Stream.close

---------------------------------------------------------------------------
-- Requests
---------------------------------------------------------------------------
local Request = {}
local NEW, STARTED, DONE_STATE = 0, 1, 2 -- req._state: response not begun, streaming, ended
local lazy = {
  headers = function(r) return request_headers(r._h) end,
  body = function(r) return (core.squall_request_body(r._h)) end,
  remote_ip = function(r) return (core.squall_request_get(r._h, core.SQUALL_REQ_REMOTE_IP)) end,
  version = function(r) return (core.squall_request_get(r._h, core.SQUALL_REQ_VERSION)) end,
  host = function(r) return (core.squall_request_get(r._h, core.SQUALL_REQ_HOST)) end,
}
Request.__index = function(r, k)
  local m = Request[k]
  if m ~= nil then return m end
  local f = lazy[k]
  if f then
    local v = f(r)
    rawset(r, k, v)
    return v
  end
  return Request[k]
end

local function ended(req)
  req._state = DONE_STATE
  local srv = req._server
  srv.nlive = srv.nlive - 1
  if req._co then srv.suspended[req] = nil end
end

local function check(rc, msg)
  if rc ~= 0 and rc ~= ECLOSED then error("squall: " .. tostring(msg), 3) end
  return rc
end

-- headers table -> its Content-Type ("" if empty) if that is all it
-- holds, else false.
local function only_content_type(headers)
  local k, v = next(headers)
  if k == nil then return "" end
  if next(headers, k) == nil and type(v) == "string"
      and (k == "Content-Type" or k:lower() == "content-type") then
    return v
  end
  return false
end

--- The whole response: status, headers ({ name = value | { v1, v2 } }),
-- body (a string).  Returns 0, or SQUALL_ECLOSED if the client is gone.
function Request:respond(status, headers, body)
  if self._state == DONE_STATE then error("squall: the response has already ended", 2) end
  local rc, msg
  if self._state == STARTED then
    rc, msg = c_send(self._h, 0, nil, body, FINISH)
  elseif headers == nil then
    rc, msg = c_respond(self._h, status, nil, body)
  else
    local ct = only_content_type(headers)
    if ct then
      rc, msg = c_respond(self._h, status, ct ~= "" and ct or nil, body)
    else
      rc, msg = c_send(self._h, status, headers, body, FINISH)
    end
  end
  if rc ~= 0 then check(rc, msg) end
  ended(self)
  return rc
end

--- Streaming: send the status and headers now; the body follows with
-- req:write(data) (each sent at once, chunked) and ends with req:finish().
function Request:start(status, headers)
  if self._state ~= NEW then error("squall: the response has already started", 2) end
  local rc, msg = c_send(self._h, status or 200, headers, nil, FLUSH)
  check(rc, msg)
  self._state = STARTED
  return rc
end

function Request:write(data)
  if self._state == DONE_STATE then error("squall: write after the response ended", 2) end
  if self._state ~= STARTED then self:start(200) end
  return check(c_send(self._h, 0, nil, data, FLUSH))
end

function Request:finish(data)
  if self._state == DONE_STATE then return ECLOSED end
  if self._state ~= STARTED then return self:respond(200, nil, data) end
  local rc, msg = c_send(self._h, 0, nil, data, FINISH)
  check(rc, msg)
  ended(self)
  return rc
end

--- Close the connection without completing the response.
function Request:abort()
  if self._state == DONE_STATE then return end
  c_send(self._h, 0, nil, nil, ABORT)
  ended(self)
end

--- One header of the request (case-insensitive), or nil.
function Request:header(name)
  return self.headers[name:lower()]
end

---------------------------------------------------------------------------
-- Handlers in coroutines
---------------------------------------------------------------------------
local function report(srv, kind, status, msg, peer)
  local hook = srv and srv.on_error
  if hook then
    local ok, err = pcall(hook, msg, { kind = kind, status = status, peer = peer })
    if ok then return end
    msg = msg .. "\n(and the error hook failed: " .. tostring(err) .. ")"
  end
  io.stderr:write("squall: ", msg, "\n")
end

-- Resume co; when its function has ended (or failed), make sure its
-- request was answered, and put a reusable coroutine back in the pool.
function step(co, ...)
  local ok, r = co_resume(co, ...)
  if ok and r ~= DONE and co_status(co) ~= "dead" then -- waiting (squall.wait)
    local req = contexts[co]
    if req and req._h and req._co == false and req._state ~= DONE_STATE then
      req._co = co -- a pending request: Server:close must find it
      req._server.suspended[req] = co
    end
    return
  end
  local ctx = contexts[co]
  contexts[co] = nil
  if ok and r == DONE and pooled < POOL_MAX then
    pooled = pooled + 1
    pool[pooled] = co
  end
  if ctx == nil or ctx._h == nil then -- squall.spawn's
    if not ok then report(nil, ERRKIND_APPLICATION, 0, debug.traceback(co, tostring(r))) end
    return
  end
  local req = ctx
  if ok and req._state == DONE_STATE then return end
  local what = ok and "the handler returned without responding"
    or debug.traceback(co, tostring(r))
  local status = req._state ~= NEW and 0 or 500
  report(req._server, ERRKIND_APPLICATION, status,
    ("%s %s: %s"):format(req.method, req.uri, what), "")
  if req._state == DONE_STATE then return end
  if req._state == STARTED then
    req:abort()
  else
    c_respond(req._h, 500, "text/plain", "Internal Server Error\n")
    ended(req)
  end
end

---------------------------------------------------------------------------
-- Server
---------------------------------------------------------------------------
local Server = {}
Server.__index = Server

local options = {
  max_body_size = core.SQUALL_OPT_MAX_BODY_SIZE,
  max_header_size = core.SQUALL_OPT_MAX_HEADER_SIZE,
  idle_timeout_ms = core.SQUALL_OPT_IDLE_TIMEOUT_MS,
  no_keep_alive = core.SQUALL_OPT_NO_KEEP_ALIVE,
  xheaders = core.SQUALL_OPT_XHEADERS,
  max_connections = core.SQUALL_OPT_MAX_CONNECTIONS,
}

--- squall.server{ host = "127.0.0.1", port = 8888, handler = fn,
--    loop = squall.loop(), on_error = function(msg, info) end,
--    max_body_size = ..., no_keep_alive = true, ... }
-- handler(req) runs in a new coroutine per request.  on_error gets the
-- library's error hook (info.kind/status/peer) and handler failures
-- (with traceback); default: stderr.
function M.server(opts)
  local handler = opts.handler or opts[1]
  assert(type(handler) == "function", "squall.server: a handler function is required")
  local loop = opts.loop or M.loop()
  local srv = setmetatable({ loop = loop, handler = handler, on_error = opts.on_error,
                             suspended = {}, nlive = 0, requests = 0 }, Server)
  local cfg = core.squall_config_new()
  local ok, err = pcall(function()
    for name, key in pairs(options) do
      local v = opts[name]
      if v ~= nil then
        if v == true then v = 1 elseif v == false then v = 0 end
        core.squall_config_set_int(cfg, key, v)
      end
    end
    srv._h = core.squall_server_new(loop._h, cfg, srv:_dispatcher())
  end)
  core.squall_config_free(cfg)
  if not ok then error(err, 2) end
  core.squall_server_set_error_hook(srv._h, function(kind, status, msg, peer)
    report(srv, kind, status, msg, peer)
  end)
  if opts.port then srv:listen(opts.port, opts.host) end
  return srv
end

function Server:listen(port, host)
  core.squall_server_listen(self._h, host or "127.0.0.1", port)
  return self
end

function Server:port()
  return (core.squall_server_port(self._h))
end

-- The function squall calls per request (the hot path: locals only).
function Server:_dispatcher()
  local srv, handler = self, self.handler
  return function(h)
    local method, uri, path, query = request_info(h)
    local co = take_coroutine()
    -- Every field a request ever gets is set here (a missing key would
    -- cost a call of Request.__index on each read).
    local req = setmetatable({ _h = h, _server = srv, method = method, uri = uri,
                               path = path, query = query, _state = NEW, _co = false },
                             Request)
    srv.nlive = srv.nlive + 1
    srv.requests = srv.requests + 1
    contexts[co] = req
    step(co, handler, req)
  end
end

--- Live counts: requests not answered yet, connections open, requests seen.
function Server:stats()
  return {
    live = self.nlive,
    connections = self._h and core.squall_swig_server_stat(self._h, core.SQUALL_STAT_CONNECTIONS_OPEN) or 0,
    requests = self.requests,
  }
end

--- Free the server, even with requests pending: their coroutines are
-- closed (to-be-closed variables run) and their responses aborted (the
-- connections are gone already).  The library's release callbacks drop
-- the handler and hook.
function Server:close()
  if not self._h then return end
  core.squall_server_free(self._h)
  self._h = nil
  local pending = {}
  for req in pairs(self.suspended) do pending[#pending + 1] = req end
  for _, req in ipairs(pending) do
    contexts[req._co] = nil
    if co_status(req._co) == "suspended" then coroutine.close(req._co) end
    req:abort()
  end
  return #pending
end

M.Request, M.Server, M.Loop, M.Stream = Request, Server, Loop, Stream
return M
