/*
 * squall_lua.i -- the Lua module squall_core: the shared SWIG interface
 * (bindings/swig/squall.i, which %includes this folder's squall_lua.swg as
 * Lua's language contract) plus Lua-only helpers (squall_lua_helpers.swg).
 * squall.lua is the Lua layer over it.
 *
 *   swig -lua -I<this folder> -I<squall include dir> -o squall_core_wrap.c \
 *        squall_lua.i
 */
%include "squall.i"
%include "squall_lua_helpers.swg"
