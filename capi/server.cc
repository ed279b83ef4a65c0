// squall_server_*: the C face of core/http/server -- the application side
// delegate (Tornado's _CallableAdapter) calling the C handler and hooks.
#include <mutex>

#include "capi/guard.h"
#include "capi/handles.h"
#include "capi/listening.h"
#include "core/http/connection.h"
#include "core/http/server.h"

using namespace squall;
using namespace squall::capi;

namespace squall::capi {

template <class Fn>
struct Hook {
  Fn fn = nullptr;
  void* ud = nullptr;
  squall_release_fn release = nullptr;
  void set(Fn f, void* u, squall_release_fn r) {
    clear();
    fn = f;
    ud = u;
    release = r;
  }
  void clear() {
    auto r = release;
    void* u = ud;
    fn = nullptr;
    release = nullptr;
    ud = nullptr;
    if (r) r(u);
  }
};

class CServer : public http::ServerDelegate, public LoopObject {
 public:
  CServer(IOLoop* loop, http::HTTPConfig cfg, squall_handler_fn h, void* ud, squall_release_fn rel,
          squall_loop* polled = nullptr)
      : polled_(polled), srv_(std::make_unique<http::HTTPServer>(loop, std::move(cfg), this)) {
    handler_.fn = h;
    handler_.ud = ud;
    handler_.release = rel;
    loop->register_object(this);
  }
  ~CServer() override {
    if (srv_ && srv_->loop()) srv_->loop()->unregister_object(this);
  }
  http::HTTPServer* srv() { return srv_.get(); }

  bool has_headers_hook() const override { return headers_.fn != nullptr; }
  void on_headers(http::Request* req) override {
    if (headers_.fn) headers_.fn(reinterpret_cast<squall_request*>(req), headers_.ud);
  }
  void on_request(http::Request* req) override {
    if (polled_ && !freed) {
      polled_->ready.push_back(reinterpret_cast<squall_request*>(req));
    } else if (handler_.fn) {
      handler_.fn(reinterpret_cast<squall_request*>(req), handler_.ud);
    } else {
      // Server being freed: answer rather than leak the request.
      req->conn->set_status(503, {});
      req->conn->finish();
    }
  }
  bool has_access_hook() const override { return access_.fn != nullptr; }
  void on_access(const http::Request& r, int status, uint64_t bytes, uint64_t dur,
                 std::string_view peer) override {
    access_.fn(r.head.method.data(), r.head.method.size(), r.head.target.data(),
               r.head.target.size(), status, bytes, dur, peer.data(), peer.size(), access_.ud);
  }
  bool has_error_hook() const override { return error_.fn != nullptr; }
  void on_error(int kind, int status, std::string_view msg, std::string_view peer) override {
    error_.fn(kind, status, msg.data(), msg.size(), peer.data(), peer.size(), error_.ud);
  }
  void loop_closing() override {
    srv_->orphan_server();
    release_all();
  }
  void release_all() {
    handler_.clear();
    headers_.clear();
    access_.clear();
    error_.clear();
  }

  Hook<squall_handler_fn> handler_, headers_;
  Hook<squall_access_fn> access_;
  Hook<squall_error_hook_fn> error_;
  bool freed = false;
  squall_loop* polled_;  // pull dispatch: requests go to its ready queue
  // TLS reload: the ticket keys the server encrypts under now (the next
  // reload derives its keys from them), guarded for any-thread reloads.
  std::mutex tls_mu;
  std::shared_ptr<TicketKeys> tickets;

 private:
  std::unique_ptr<http::HTTPServer> srv_;
};

}  // namespace squall::capi

using capi::CServer;

TCPServer* squall_server::tcp() const { return c->srv(); }

namespace {
template <class Fn>
int set_hook(squall_server* srv, capi::Hook<Fn> CServer::*hook, Fn fn, void* ud,
             squall_release_fn release) {
  return with_tcp(srv, [&](TCPServer*) -> int {
    (srv->c->*hook).set(fn, ud, release);
    return kOk;
  });
}
}  // namespace

namespace {
// squall_server_new and squall_server_new_polled: the TLS context is made
// first (a bad certificate fails the call), then the server on the loop.
// polled: no handler; requests go to the loop's ready queue.
int make_server(squall_server** out, squall_loop* loop, const squall_config* cfg,
                squall_handler_fn handler, void* user_data, squall_release_fn release,
                bool polled) {
  std::shared_ptr<const TLSContext> tls;
  if (cfg && cfg->c.tls) {
    if (int st = guard([&] { return TLSContext::create(*cfg->c.tls, &tls); })) {
      if (out) *out = nullptr;
      return st;
    }
  }
  return new_server(out, loop, polled || handler != nullptr, [&](IOLoop* l) {
    http::HTTPConfig c = cfg ? cfg->c : http::HTTPConfig();
    c.conn.defer_writes = polled;
    auto* s = new squall_server{
        new CServer(l, std::move(c), handler, user_data, release, polled ? loop : nullptr)};
    if (tls) {
      s->c->tickets = cfg->c.tls->tickets;
      s->c->srv()->set_tls(std::move(tls));
    }
    return s;
  });
}
}  // namespace

extern "C" {

SQUALL_API int squall_server_new(squall_server** out, squall_loop* loop, const squall_config* cfg,
                                 squall_handler_fn handler, void* user_data,
                                 squall_release_fn release) {
  return make_server(out, loop, cfg, handler, user_data, release, false);
}

SQUALL_API int squall_server_new_polled(squall_server** out, squall_loop* loop,
                                        const squall_config* cfg) {
  return make_server(out, loop, cfg, nullptr, nullptr, nullptr, true);
}

SQUALL_API int squall_server_reload_tls(squall_server* srv, const squall_config* cfg) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(srv && cfg, "server and config are required");
    if (!cfg->c.tls || cfg->c.tls->certs.empty())
      return fail(kInval, "the config has no TLS certificate");
    CServer* c = srv->c;
    IOLoop* l = c->srv()->loop();
    if (!l) return fail(kClosed, "the server's loop is gone");
    std::lock_guard<std::mutex> lock(c->tls_mu);
    if (!c->tickets) return fail(kState, "the server was made without TLS");
    TLSOptions o = *cfg->c.tls;
    o.tickets = c->tickets->next();
    std::shared_ptr<const TLSContext> ctx;
    if (int st = TLSContext::create(o, &ctx)) return st;
    c->tickets = o.tickets;
    if (l->in_loop_thread()) {
      c->srv()->set_tls(std::move(ctx));
      return kOk;
    }
    auto run = [c, ctx] {
      if (!c->freed && c->srv()->loop()) c->srv()->set_tls(ctx);
    };
    if (!IOLoop::post(l->token(), run)) return fail(kClosed, "the server's loop is gone");
    return kOk;
  });
}

SQUALL_API int squall_server_set_headers_hook(squall_server* srv, squall_handler_fn fn,
                                              void* user_data, squall_release_fn release) {
  return set_hook(srv, &CServer::headers_, fn, user_data, release);
}

SQUALL_API int squall_server_set_access_hook(squall_server* srv, squall_access_fn fn,
                                             void* user_data, squall_release_fn release) {
  return set_hook(srv, &CServer::access_, fn, user_data, release);
}

SQUALL_API int squall_server_set_error_hook(squall_server* srv, squall_error_hook_fn fn,
                                            void* user_data, squall_release_fn release) {
  return set_hook(srv, &CServer::error_, fn, user_data, release);
}

SQUALL_API int squall_server_listen(squall_server* srv, const char* host, size_t host_len,
                                    int port) {
  return with_tcp(srv, [&](TCPServer* s) -> int {
    const http::HTTPConfig& c = srv->c->srv()->config();
    return tcp_listen(s, host, host_len, port, c.backlog, c.reuse_port);
  });
}

SQUALL_API int squall_server_listen_unix(squall_server* srv, const char* path, size_t path_len,
                                         int mode) {
  return with_tcp(srv, [&](TCPServer* s) -> int {
    return tcp_listen_unix(s, path, path_len, mode, srv->c->srv()->config().backlog);
  });
}

SQUALL_API int squall_server_add_socket(squall_server* srv, int fd) {
  return with_tcp(srv, [&](TCPServer* s) -> int { return s->add_socket(fd); });
}

SQUALL_API int squall_server_port(const squall_server* srv, uint16_t* port) {
  return with_tcp(srv, [&](TCPServer* s) -> int { return tcp_port(s, port); });
}

SQUALL_API int squall_server_stop(squall_server* srv) { return with_tcp(srv, tcp_stop); }

SQUALL_API int squall_server_shutdown(squall_server* srv, int64_t grace_ms, squall_done_fn done,
                                      void* user_data) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(srv, "server is NULL");
    IOLoop* l = srv->c->srv()->loop();
    if (!l) return fail(kClosed, "the server's loop is gone");
    CServer* c = srv->c;
    auto run = [c, grace_ms, done, user_data] {
      if (c->freed || !c->srv()->loop()) {
        if (done) done(kClosed, user_data);
        return;
      }
      c->srv()->shutdown(grace_ms, [done, user_data](int st) {
        if (done) done(st, user_data);
      });
    };
    // Always through the loop: done never runs inside this call.
    if (!IOLoop::post(l->token(), run)) return fail(kClosed, "the server's loop is gone");
    return kOk;
  });
}

SQUALL_API void squall_server_free(squall_server* srv) {
  if (!srv) return;
  capi::guard_void([&] {
    CServer* c = srv->c;
    delete srv;
    c->freed = true;
    IOLoop* l = c->srv()->loop();
    if (!l) {
      c->release_all();
      delete c;
      return;
    }
    c->srv()->stop();
    c->srv()->close_all();
    // Handler calls may be on the stack: release and delete on the loop.
    c->handler_.fn = nullptr;
    l->add_callback([c] {
      c->release_all();
      delete c;
    });
  });
}

SQUALL_API int squall_server_stats(const squall_server* srv, uint64_t* values, size_t count) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(srv && (values || count == 0), "NULL argument");
    for (size_t i = 0; i < count && i < size_t(SQUALL_STAT_COUNT); i++)
      values[i] = srv->c->srv()->stat(int(i));
    return kOk;
  });
}

}  // extern "C"
