// Counterpart of tornado/httpserver.py: HTTPServer(TCPServer) with Tornado's
// options, the delegate the application side implements (the C facade is one,
// like Tornado's _CallableAdapter), counters, and graceful shutdown.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/http/request.h"
#include "core/tcpserver.h"

namespace squall::http {

struct HTTPConfig {
  int backlog = 128;
  size_t max_header_size = 64 * 1024;
  uint64_t max_body_size = 100ull * 1024 * 1024;
  size_t chunk_size = 64 * 1024;
  int64_t header_timeout_ms = 60 * 1000;
  int64_t body_timeout_ms = 3600 * 1000;
  int64_t idle_timeout_ms = 3600 * 1000;
  bool no_keep_alive = false;
  bool xheaders = false;
  bool decompress_request = false;
  size_t max_header_count = 100;
  size_t max_connections = 0;
  bool reuse_port = false;
  size_t max_uri_size = 8 * 1024;
  int error_rate = 10;
  bool nodelay = true;
  std::vector<std::string> trusted_downstream;
};

enum Stat {
  kStatAccepted = 0,
  kStatOpen,
  kStatRequests,
  kStatBytesIn,
  kStatBytesOut,
  kStat1xx,
  kStat2xx,
  kStat3xx,
  kStat4xx,
  kStat5xx,
  kStatRejectedParse,
  kStatRejectedLimit,
  kStatTimeouts,
  kStatAcceptPauses,
  kStatCount
};

enum ErrorKind {
  kErrParse = 1,
  kErrLimit = 2,
  kErrTimeout = 3,
  kErrTls = 4,
  kErrIO = 5,
  kErrApplication = 6
};

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

class HTTPServer : public TCPServer {
 public:
  HTTPServer(IOLoop* loop, HTTPConfig config, ServerDelegate* delegate);
  ~HTTPServer() override;

  const HTTPConfig& config() const { return config_; }
  ServerDelegate* delegate() const { return delegate_; }

  void count(int stat, uint64_t n = 1) { stats_[stat].fetch_add(n, std::memory_order_relaxed); }
  void uncount(int stat) { stats_[stat].fetch_sub(1, std::memory_order_relaxed); }
  uint64_t stat(int i) const;

  // Rate-limited error report (error hook, else the library log at INFO).
  void report_error(int kind, int status, std::string_view msg, std::string_view peer);

  // Graceful shutdown: stop accepting, close idle connections, let requests
  // in flight finish, cut the rest after grace_ms (< 0: never).
  void shutdown(int64_t grace_ms, std::function<void(int)> done);
  bool shutting_down() const { return shutting_down_; }
  // Close every connection now (server free / loop close).
  void close_all();

  // Connection bookkeeping (intrusive list of live connections).
  void conn_opened(HTTP1Connection* c);
  void conn_closed(HTTP1Connection* c);
  void conn_gone(HTTP1Connection* c);  // object destroyed
  void conn_idle(HTTP1Connection* c);  // finished a request, now idle

  // Detach from the loop (loop closing).
  void orphan_server();

 protected:
  void handle_stream(IOStreamPtr stream) override;

 private:
  void check_shutdown_done();

  HTTPConfig config_;
  ServerDelegate* delegate_;
  std::atomic<uint64_t> stats_[kStatCount];
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
