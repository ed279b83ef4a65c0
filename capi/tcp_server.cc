// squall_tcp_server_*: the C face of core/tcpserver.
#include "capi/guard.h"
#include "capi/handles.h"
#include "capi/listening.h"
#include "core/tcpserver.h"

using namespace squall;
using namespace squall::capi;

namespace squall::capi {

class CTcpServer : public TCPServer, public LoopObject {
 public:
  CTcpServer(IOLoop* loop, squall_stream_fn fn, void* ud, squall_release_fn rel)
      : TCPServer(loop), fn_(fn), ud_(ud), rel_(rel) {
    loop->register_object(this);
    set_listener_nodelay(true);  // accepted streams inherit TCP_NODELAY
  }
  ~CTcpServer() override {
    if (loop()) loop()->unregister_object(this);
  }
  void handle_stream(IOStreamPtr stream) override {
    if (!fn_) return;
    auto* h = new squall_stream{stream};
    fn_(h, stream->peer().data(), stream->peer().size(), ud_);
  }
  void loop_closing() override { orphan(); }
  // Called once: stop, then release user data after any call in progress.
  void shutdown_and_release() {
    squall_release_fn rel = rel_;
    void* ud = ud_;
    fn_ = nullptr;
    stop();
    if (rel) {
      if (loop())
        loop()->add_callback([rel, ud] { rel(ud); });
      else
        rel(ud);
    }
  }
  int backlog = 128;
  bool reuse_port = false;

 private:
  squall_stream_fn fn_;
  void* ud_;
  squall_release_fn rel_;
};

}  // namespace squall::capi

using capi::CTcpServer;

TCPServer* squall_tcp_server::tcp() const { return srv; }

extern "C" {

SQUALL_API int squall_tcp_server_new(squall_tcp_server** out, squall_loop* loop,
                                     squall_stream_fn on_stream, void* user_data,
                                     squall_release_fn release) {
  return new_server(out, loop, on_stream != nullptr, [&](IOLoop* l) {
    return new squall_tcp_server{new CTcpServer(l, on_stream, user_data, release)};
  });
}

SQUALL_API int squall_tcp_server_listen(squall_tcp_server* srv, const char* host, size_t host_len,
                                        int port) {
  return with_tcp(srv, [&](TCPServer* s) -> int {
    return tcp_listen(s, host, host_len, port, srv->srv->backlog, srv->srv->reuse_port);
  });
}

SQUALL_API int squall_tcp_server_set_backlog(squall_tcp_server* srv, int backlog) {
  return with_tcp(srv, [&](TCPServer*) -> int {
    SQ_CHECK_ARG(backlog > 0, "backlog must be > 0");
    srv->srv->backlog = backlog;
    return kOk;
  });
}

SQUALL_API int squall_tcp_server_set_reuse_port(squall_tcp_server* srv, int on) {
  return with_tcp(srv, [&](TCPServer*) -> int {
    srv->srv->reuse_port = on != 0;
    return kOk;
  });
}

SQUALL_API int squall_tcp_server_listen_unix(squall_tcp_server* srv, const char* path,
                                             size_t path_len, int mode) {
  return with_tcp(srv, [&](TCPServer* s) -> int {
    return tcp_listen_unix(s, path, path_len, mode, srv->srv->backlog);
  });
}

SQUALL_API int squall_tcp_server_add_socket(squall_tcp_server* srv, int fd) {
  return with_tcp(srv, [&](TCPServer* s) -> int { return s->add_socket(fd); });
}

SQUALL_API int squall_tcp_server_port(const squall_tcp_server* srv, uint16_t* port) {
  return with_tcp(srv, [&](TCPServer* s) -> int { return tcp_port(s, port); });
}

SQUALL_API int squall_tcp_server_stop(squall_tcp_server* srv) { return with_tcp(srv, tcp_stop); }

SQUALL_API void squall_tcp_server_free(squall_tcp_server* srv) {
  if (!srv) return;
  capi::guard_void([&] {
    srv->srv->shutdown_and_release();
    IOLoop* l = srv->srv->loop();
    CTcpServer* s = srv->srv;
    if (l)
      l->add_callback([s] { delete s; });
    else
      delete s;
    delete srv;
  });
}

}  // extern "C"
