// Counterpart of tornado/http1connection.py (HTTP1Connection and
// HTTP1ServerConnection): reads requests off one stream strictly in order,
// frames responses through the ResponseEncoder, keeps the connection alive
// by Tornado's rules, and enforces the header/body/idle timeouts.  The
// parser works in place on the stream's read buffer and resumes where it
// stopped; the responses of one read pass are gathered into one write.
//
// It knows its owner only through ConnectionParams and ConnectionDelegate
// (core/http/delegate.h), and its peer only through the IOStream (any
// transport).
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "core/http/delegate.h"
#include "core/http/parser.h"
#include "core/http/request.h"
#include "core/iostream.h"

namespace squall::http {

class HTTP1Connection {
 public:
  // params and delegate must outlive the connection, or be let go first
  // with owner_gone().
  HTTP1Connection(const ConnectionParams* params, ConnectionDelegate* delegate, IOStreamPtr stream);
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
  bool idle() const;
  // Idle after at least one response (keep-alive): what a drain closes.  A
  // new connection that has not sent its first request yet is not closed
  // by a drain (its client may be sending it: closing would lose it).
  bool idle_keep_alive() const { return served_ && idle(); }

  // Response API, loop thread only (the C facade queues foreign calls).
  int set_status(int code, std::string_view reason);
  int add_header(std::string_view name, std::string_view value);
  int write(const char* data, size_t len);
  int flush(std::function<void(int)> done);
  int finish();
  // End the request by closing the connection (framing left incomplete).
  void abort();
  // The response head (status line and fields) was sent.
  bool head_sent() const { return req_.out.enc.started(); }
  // Tell the owner the application misused the response (error hook).
  void report_application_error(std::string_view msg) { report(kErrApplication, 0, msg); }
  int detach(IOStreamPtr* out);
  void set_on_done(std::function<void(int)> fn);

  // Close the connection now (client gone, server freed, shutdown).
  void close_now(int error);
  // The owner is going away: forget it (and close).
  void owner_gone();

  size_t list_index = 0;  // position in the owner's connection list

 private:
  enum State { kIdle, kHead, kBody, kHandling, kClosing };
  ~HTTP1Connection();

  static constexpr size_t kOutHigh = 256 * 1024;
  static constexpr size_t kOutLow = 64 * 1024;
  void on_read(int ev);
  void on_drain();
  void on_stream_closed(int err);
  static void on_timer(evutil_socket_t, short, void* arg);
  static void on_write_timer(evutil_socket_t, short, void* arg);
  void watch_writes();
  static void body_sink(void* ctx, const char* data, size_t len);

  void process();
  void start_request(size_t head_size);
  bool read_body();
  void deliver_body(const char* data, size_t len);
  void deliver_plain(const char* data, size_t len);
  void dispatch();
  void reject(int status, const char* reason, int kind);
  void timed_out(const char* what);
  void begin_response(int64_t final_len);
  void end_request();
  bool decide_keep_alive() const;
  void flush_out(std::function<void(int)> done = nullptr, std::string_view tail = {});
  void defer_flush();
  static void deferred_flush(void* arg);
  void arm_timer(int64_t ms);
  void shed();
  void hold();
  void schedule_timer(int64_t us);
  void apply_xheaders();
  void report(int kind, int status, std::string_view msg);

  const ConnectionParams* params_;
  ConnectionDelegate* delegate_;
  Counters* counters_;
  IOLoop* loop_;
  std::shared_ptr<IOLoop::Token> token_;
  IOStreamPtr stream_;
  std::shared_ptr<const TLSInfo> tls_info_;  // copied once, after the handshake
  std::atomic<int> refs_{1};                 // stream side; +1 while the app owns the request
  std::atomic<bool> closed_{false};
  std::atomic<bool> close_requested_{false};  // close_now ran; callback pending
  State state_ = kIdle;
  bool in_batch_ = false;
  bool eof_ = false;
  bool detached_ = false;
  bool tls_ = false;          // the stream is TLS
  bool served_ = false;       // a request was started on this connection
  bool body_unread_ = false;  // a body that will not be read (early answer)
  bool keep_alive_ = true;    // decided when the response head is built
  bool body_error_ = false;
  bool timer_added_ = false;
  bool flush_deferred_ = false;  // on the loop's before-wait list
  bool shed_ = true;             // holds no request memory (see shed())
  static constexpr int64_t kShedAfterUs = 1000000;
  int64_t deadline_us_ = 0;     // monotonic; 0: no timeout
  int64_t fire_us_ = 0;         // when the armed timer fires
  uint64_t body_received_ = 0;  // raw bytes of the body read so far
  uint64_t body_decoded_ = 0;   // decoded bytes delivered
  HeadParser head_parser_;
  ChunkedDecoder chunked_;
  std::unique_ptr<GzipDecoder> gzip_;
  std::string gz_out_;
  std::string out_;  // responses of this pass, written together
  std::vector<std::function<void(int)>> out_dones_;
  struct event timer_;
  // Write-stall timeout: armed while output waits in the stream.
  struct event write_timer_;
  bool write_timer_added_ = false;
  uint64_t written_seen_ = 0;  // stream's bytes_written() when last armed
  Request req_;
};

}  // namespace squall::http
