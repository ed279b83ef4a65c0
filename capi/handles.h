// The structs behind the opaque C handles, all here and in one style: each
// handle is a struct with one member, the core object (or the C facade
// object that owns it).  squall_request is the exception: it is the core
// http::Request itself (reinterpret_cast), so that no allocation stands
// between a request and the handler.
#pragma once

#include <memory>
#include <vector>

#include "core/http/server.h"
#include "core/ioloop.h"
#include "core/iostream.h"
#include "core/tcpserver.h"

namespace squall::capi {
class CServer;     // capi/server.cc: the application delegate of an HTTPServer
class CTcpServer;  // capi/tcp_server.cc: a TCPServer calling a C function
}  // namespace squall::capi

struct squall_loop {
  squall::IOLoop loop;
  // Pull dispatch: requests of polled servers ready for the application,
  // taken by squall_loop_poll from ready_head (loop thread only).
  std::vector<squall_request*> ready;
  size_t ready_head = 0;
};

struct squall_stream {
  squall::IOStreamPtr s;
};

struct squall_timer {
  squall::TimerPtr t;
};

struct squall_config {
  squall::http::HTTPConfig c;
};

struct squall_server {
  squall::capi::CServer* c;
  squall::TCPServer* tcp() const;  // the HTTPServer, as a TCPServer
};

struct squall_tcp_server {
  squall::capi::CTcpServer* srv;
  squall::TCPServer* tcp() const;
};
