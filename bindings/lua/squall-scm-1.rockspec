-- luarocks make (from bindings/lua) builds squall_core with SWIG against
--   the build tree:  luarocks make SQUALL_INCDIR=<src>/capi/include SQUALL_LIBDIR=<build>
--   an install:      luarocks make            (pkg-config's squall)
package = "squall"
version = "scm-1"
source = {
  url = "git+https://example.org/squall.git",
}
description = {
  summary = "Lua binding of squall, a Tornado-style HTTP/1.1 server library",
  detailed = [[
    squall_core is the SWIG module over libsquall's C ABI (the interface
    shared with the Python binding); squall.lua runs each request's
    handler in a coroutine of its own (squall.sleep, squall.wait,
    squall.connect yield; the loop never blocks).
  ]],
  license = "MIT OR Apache-2.0",
}
dependencies = {
  "lua >= 5.4",
}
build = {
  type = "make",
  build_variables = {
    CFLAGS = "$(CFLAGS)",
    LUA_INCDIR = "$(LUA_INCDIR)",
    SQUALL_INCDIR = "$(SQUALL_INCDIR)",
    SQUALL_LIBDIR = "$(SQUALL_LIBDIR)",
  },
  install_variables = {
    INST_LIBDIR = "$(LIBDIR)",
    INST_LUADIR = "$(LUADIR)",
  },
}
