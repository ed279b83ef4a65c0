// squall_tcp_server_*: the C face of core/tcpserver.
#include "capi/guard.h"
#include "capi/handles.h"
#include "core/tcpserver.h"

using namespace squall;
using capi::guard;

namespace squall::capi {

class CTcpServer : public TCPServer, public LoopObject {
 public:
  CTcpServer(IOLoop* loop, squall_stream_fn fn, void* ud, squall_release_fn rel)
      : TCPServer(loop), fn_(fn), ud_(ud), rel_(rel) {
    loop->register_object(this);
  }
  ~CTcpServer() override {
    if (loop()) loop()->unregister_object(this);
  }
  void handle_stream(IOStreamPtr stream) override {
    if (!fn_) return;
    stream->set_nodelay(true);
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
      if (loop()) loop()->add_callback([rel, ud] { rel(ud); });
      else rel(ud);
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

static int check_srv(const squall_tcp_server* s) {
  if (!s) return fail(kInval, "server is NULL");
  if (!s->srv->loop()) return fail(kClosed, "the server's loop is gone");
  return capi::check_loop(s->srv->loop());
}

extern "C" {

SQUALL_API int squall_tcp_server_new(squall_tcp_server** out, squall_loop* loop,
                                     squall_stream_fn on_stream, void* user_data,
                                     squall_release_fn release) {
  if (out) *out = nullptr;
  return guard([&]() -> int {
    SQ_CHECK_ARG(out && loop && on_stream, "out, loop and on_stream are required");
    if (int r = capi::check_loop(&loop->loop)) return r;
    *out = new squall_tcp_server{new CTcpServer(&loop->loop, on_stream, user_data, release)};
    return kOk;
  });
}

SQUALL_API int squall_tcp_server_listen(squall_tcp_server* srv, const char* host, size_t host_len,
                                        int port) {
  return guard([&]() -> int {
    if (int r = check_srv(srv)) return r;
    SQ_CHECK_ARG(port >= 0 && port <= 65535, "port out of range 0..65535");
    std::string h = host ? std::string(host, capi::slen(host, host_len)) : std::string();
    return srv->srv->listen(port, h, srv->srv->backlog, srv->srv->reuse_port);
  });
}

SQUALL_API int squall_tcp_server_set_backlog(squall_tcp_server* srv, int backlog) {
  return guard([&]() -> int {
    if (int r = check_srv(srv)) return r;
    SQ_CHECK_ARG(backlog > 0, "backlog must be > 0");
    srv->srv->backlog = backlog;
    return kOk;
  });
}

SQUALL_API int squall_tcp_server_set_reuse_port(squall_tcp_server* srv, int on) {
  return guard([&]() -> int {
    if (int r = check_srv(srv)) return r;
    srv->srv->reuse_port = on != 0;
    return kOk;
  });
}

SQUALL_API int squall_tcp_server_listen_unix(squall_tcp_server* srv, const char* path,
                                             size_t path_len, int mode) {
  return guard([&]() -> int {
    if (int r = check_srv(srv)) return r;
    SQ_CHECK_ARG(path, "path is NULL");
    return srv->srv->listen_unix(std::string(path, capi::slen(path, path_len)), mode,
                                 srv->srv->backlog);
  });
}

SQUALL_API int squall_tcp_server_add_socket(squall_tcp_server* srv, int fd) {
  return guard([&]() -> int {
    if (int r = check_srv(srv)) return r;
    return srv->srv->add_socket(fd);
  });
}

SQUALL_API int squall_tcp_server_port(const squall_tcp_server* srv, uint16_t* port) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(port, "port is NULL");
    if (int r = check_srv(srv)) return r;
    *port = uint16_t(srv->srv->port());
    if (*port == 0) return fail(kNotFound, "no bound TCP socket");
    return kOk;
  });
}

SQUALL_API int squall_tcp_server_stop(squall_tcp_server* srv) {
  return guard([&]() -> int {
    if (int r = check_srv(srv)) return r;
    srv->srv->stop();
    return kOk;
  });
}

SQUALL_API void squall_tcp_server_free(squall_tcp_server* srv) {
  if (!srv) return;
  capi::guard_void([&] {
    srv->srv->shutdown_and_release();
    IOLoop* l = srv->srv->loop();
    CTcpServer* s = srv->srv;
    if (l) l->add_callback([s] { delete s; });
    else delete s;
    delete srv;
  });
}

}  // extern "C"
