// Counterpart of tornado/http1connection.py (HTTP1Connection and
// HTTP1ServerConnection): reads requests off one stream strictly in order,
// frames responses, keeps the connection alive by Tornado's rules, and
// enforces the header/body/idle timeouts.  The parser works in place on the
// stream's read buffer; pipelined responses are gathered into one write.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "core/http/parser.h"
#include "core/http/request.h"
#include "core/iostream.h"

namespace squall::http {

class HTTPServer;

class HTTP1Connection {
 public:
  HTTP1Connection(HTTPServer* server, IOStreamPtr stream);
  HTTP1Connection(const HTTP1Connection&) = delete;
  HTTP1Connection& operator=(const HTTP1Connection&) = delete;

  void start();
  void ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void unref() {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  IOLoop* loop() const { return loop_; }
  const std::shared_ptr<IOLoop::Token>& token() const { return token_; }
  bool is_closed() const {
    return closed_.load(std::memory_order_acquire) ||
           close_requested_.load(std::memory_order_acquire);
  }
  Request& request() { return req_; }
  bool idle() const;

  // Response API, loop thread only (the C facade queues foreign calls).
  int set_status(int code, std::string_view reason);
  int add_header(std::string_view name, std::string_view value);
  int write(const char* data, size_t len);
  int flush(std::function<void(int)> done);
  int finish();
  // End the request by closing the connection (framing left incomplete).
  void abort();
  int detach(IOStreamPtr* out);
  void set_on_done(std::function<void(int)> fn);

  // Close the connection now (client gone, server freed, shutdown).
  void close_now(int error);
  void server_gone();

  size_t list_index = 0;  // position in the server's connection list

 private:
  enum State { kIdle, kHead, kBody, kHandling, kClosing };
  ~HTTP1Connection();

  static constexpr size_t kOutHigh = 256 * 1024;
  static constexpr size_t kOutLow = 64 * 1024;
  void on_read(int ev);
  void on_drain();
  void on_stream_closed(int err);
  static void on_timer(evutil_socket_t, short, void* arg);
  static void body_sink(void* ctx, const char* data, size_t len);

  void process();
  void start_request(size_t head_size);
  bool read_body();
  void deliver_body(const char* data, size_t len);
  void deliver_plain(const char* data, size_t len);
  void dispatch();
  void reject(int status, const char* reason, int kind);
  void emit_head(bool streaming);
  void end_request();
  bool decide_keep_alive() const;
  void flush_out(std::function<void(int)> done = nullptr);
  void arm_timer(int64_t ms);
  void apply_xheaders();

  HTTPServer* server_;
  IOLoop* loop_;
  std::shared_ptr<IOLoop::Token> token_;
  IOStreamPtr stream_;
  std::atomic<int> refs_{1};  // stream side; +1 while the app owns the request
  std::atomic<bool> closed_{false};
  std::atomic<bool> close_requested_{false};  // close_now ran; callback pending
  State state_ = kIdle;
  bool in_batch_ = false;
  bool eof_ = false;
  bool detached_ = false;
  bool body_unread_ = false;   // a body that will not be read (early answer)
  bool keep_alive_ = true;     // decided when the response head is built
  bool body_error_ = false;
  bool timer_added_ = false;
  uint64_t body_received_ = 0;  // raw bytes of the body read so far
  uint64_t body_decoded_ = 0;   // decoded bytes delivered
  ParseLimits limits_;
  ChunkedDecoder chunked_;
  std::unique_ptr<GzipDecoder> gzip_;
  std::string gz_out_;
  std::string out_;
  std::vector<std::function<void(int)>> out_dones_;
  struct event timer_;
  Request req_;
};

}  // namespace squall::http
