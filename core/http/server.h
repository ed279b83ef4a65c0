// Counterpart of tornado/httpserver.py: HTTPServer(TCPServer) with Tornado's
// options.  It is its connections' ConnectionDelegate (bookkeeping, counters,
// rate-limited error reports, graceful shutdown) and hands requests to the
// application's ServerDelegate (the C facade is one, like Tornado's
// _CallableAdapter).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/http/delegate.h"
#include "core/http/request.h"
#include "core/tcpserver.h"

namespace squall::http {

struct HTTPConfig {
  int backlog = 128;
  bool reuse_port = false;
  size_t max_connections = 0;
  int error_rate = 10;
  ConnectionParams conn;  // what each connection is given
  // TLS settings (nullptr: plain HTTP); shared by copies of one config, so
  // their ticket keys are too.  Copied on write by the C setters.
  std::shared_ptr<TLSOptions> tls;
};

// The application side.
class ServerDelegate {
 public:
  virtual ~ServerDelegate() = default;
  virtual bool has_headers_hook() const { return false; }
  virtual void on_headers(Request* req) {}
  virtual void on_request(Request* req) = 0;
  virtual bool has_access_hook() const { return false; }
  virtual void on_access(const Request& req, int status, uint64_t bytes, uint64_t duration_us,
                         std::string_view peer) {}
  virtual bool has_error_hook() const { return false; }
  virtual void on_error(int kind, int status, std::string_view msg, std::string_view peer) {}
};

class HTTP1Connection;

class HTTPServer final : public TCPServer, public ConnectionDelegate {
 public:
  HTTPServer(IOLoop* loop, HTTPConfig config, ServerDelegate* app);
  ~HTTPServer() override;

  const HTTPConfig& config() const { return config_; }
  uint64_t stat(int i) const;

  // Graceful shutdown: stop accepting, close idle connections, let requests
  // in flight finish, cut the rest after grace_ms (< 0: never).
  void shutdown(int64_t grace_ms, std::function<void(int)> done);
  // Close every connection now (server free / loop close).
  void close_all();
  // Detach from the loop (loop closing).
  void orphan_server();

  // ConnectionDelegate
  void connection_opened(HTTP1Connection* c) override;
  void connection_closed(HTTP1Connection* c) override;
  void connection_destroyed(HTTP1Connection* c) override;
  bool draining() const override { return shutting_down_; }
  void report(int kind, int status, std::string_view msg, std::string_view peer) override;
  Counters& counters() override { return counters_; }
  bool wants_headers() const override { return app_->has_headers_hook(); }
  void headers_received(Request* req) override { app_->on_headers(req); }
  void request_received(Request* req) override { app_->on_request(req); }
  bool wants_finished() const override { return app_->has_access_hook(); }
  void request_finished(const Request& req, int status, uint64_t bytes, uint64_t duration_us,
                        std::string_view peer) override {
    app_->on_access(req, status, bytes, duration_us, peer);
  }

 protected:
  void handle_stream(IOStreamPtr stream) override;

 private:
  void check_shutdown_done();

  HTTPConfig config_;
  ServerDelegate* app_;
  Counters counters_;
  std::vector<HTTP1Connection*> conns_;  // index kept in the connection
  size_t open_ = 0;
  // error hook rate limit
  int64_t err_window_start_ = 0;
  int err_in_window_ = 0;
  uint64_t err_suppressed_ = 0;
  bool shutting_down_ = false;
  std::function<void(int)> shutdown_done_;
  TimerPtr shutdown_timer_;
};

}  // namespace squall::http
