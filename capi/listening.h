// What the two server handles (squall_server, squall_tcp_server) share: a
// core TCPServer underneath, reached on its loop thread.  Each exported
// listening call is one line over these.
#pragma once

#include <cstdint>
#include <string>

#include "capi/guard.h"
#include "capi/handles.h"
#include "core/tcpserver.h"

namespace squall::capi {

// Create a server handle on loop (its thread): *out = make(&loop->loop).
template <class Handle, class Make>
int new_server(Handle** out, squall_loop* loop, bool has_handler, Make make) {
  if (out) *out = nullptr;
  return guard([&]() -> int {
    SQ_CHECK_ARG(out && loop && has_handler, "out, loop and the handler are required");
    if (int r = check_loop(&loop->loop)) return r;
    *out = make(&loop->loop);
    return kOk;
  });
}

// Check the handle (NULL, loop gone, wrong thread), then run fn(server).
template <class Handle, class Fn>
int with_tcp(const Handle* h, Fn fn) {
  return guard([&]() -> int {
    if (!h) return fail(kInval, "server is NULL");
    TCPServer* s = h->tcp();
    if (!s->loop()) return fail(kClosed, "the server's loop is gone");
    if (int r = check_loop(s->loop())) return r;
    return fn(s);
  });
}

inline int tcp_listen(TCPServer* s, const char* host, size_t host_len, int port, int backlog,
                      bool reuse_port) {
  SQ_CHECK_ARG(port >= 0 && port <= 65535, "port out of range 0..65535");
  std::string h = host ? std::string(host, slen(host, host_len)) : std::string();
  return s->listen(port, h, backlog, reuse_port);
}

inline int tcp_listen_unix(TCPServer* s, const char* path, size_t path_len, int mode, int backlog) {
  SQ_CHECK_ARG(path, "path is NULL");
  return s->listen_unix(std::string(path, slen(path, path_len)), mode, backlog);
}

inline int tcp_port(TCPServer* s, uint16_t* port) {
  SQ_CHECK_ARG(port, "port is NULL");
  *port = uint16_t(s->port());
  if (*port == 0) return fail(kNotFound, "no bound TCP socket");
  return kOk;
}

inline int tcp_stop(TCPServer* s) {
  s->stop();
  return kOk;
}

}  // namespace squall::capi
