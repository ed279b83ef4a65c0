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

class HTTP1Connection final : private IOStream::Client {
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
  // finish() with a whole small body given here rather than by write(), and
  // a Content-Type (non-empty) after the fields added: one copy of each, into
  // the output buffer (squall_respond).  Nothing may have been written yet;
  // body shorter than ResponseEncoder::kCopyLimit.
  int finish(std::string_view content_type, std::string_view body);
  // End the request by closing the connection (framing left incomplete).
  void abort();
  // The response head (status line and fields) was sent.
  bool head_sent() const;
  // Tell the owner the application misused the response (error hook).
  void report_application_error(std::string_view msg) { report(kErrApplication, 0, msg); }
  int detach(IOStreamPtr* out);
  void set_on_done(std::function<void(int)> fn);

  // Close the connection now (client gone, server freed, shutdown).
  void close_now(int error);
  // The owner is going away: forget it (and close).
  void owner_gone();

  uint32_t list_index = 0;  // position in the owner's connection list

  // Whether the connection holds a request's memory (Block): between
  // requests it holds none (tests, bench/README.md's idle figures).
  bool holds_request() const { return b_ != nullptr; }

 private:
  enum State : uint8_t { kIdle, kHead, kBody, kHandling, kClosing };
  ~HTTP1Connection();

  static constexpr size_t kOutHigh = 256 * 1024;
  static constexpr size_t kOutLow = 64 * 1024;
  // IOStream::Client
  void stream_data(int ev) override;
  void stream_drained() override;
  void stream_closed(int err) override;
  static void on_timer(evutil_socket_t, short, void* arg);
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
  void begin_response(int64_t final_len, std::string_view content_type = {});
  void end_request();
  bool decide_keep_alive() const;
  void flush_out(std::function<void(int)> done = nullptr, std::string_view tail = {});
  void defer_flush();
  static void deferred_flush(void* arg);
  void arm_timer(int64_t ms);
  void rearm_timer();
  void apply_xheaders();
  void report(int kind, int status, std::string_view msg);

  // What only a request in progress needs (the Request the application
  // sees, the parsers, the output of the pass): one block, taken from a
  // per-thread pool when a request begins and given back as soon as the
  // connection is idle again, so an idle keep-alive connection holds
  // nothing of it and a busy one reuses the block's capacities (no malloc
  // per request).  Bytes per idle connection: bench/README.md.
  struct Block;
  friend struct RequestPool;  // frees the blocks it holds
  Block& blk();               // the block, taken from the pool if none is held
  void give_back();           // return the block when idle and not dispatched
  void drop_block();          // closed: return it unless the application holds it
  void put_block();           // into the delegate's pool

  std::atomic<int> refs_{1};  // stream side; +1 while the app owns the request (beside list_index)
  const ConnectionParams* params_;
  ConnectionDelegate* delegate_;
  Counters* counters_;
  IOLoop* loop_;
  std::shared_ptr<IOLoop::Token> token_;
  IOStreamPtr stream_;
  Block* b_ = nullptr;  // see Block
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
  // One timer serves every timeout, as nginx's: the header, body or idle
  // deadline, and the write-stall deadline (armed while output waits in the
  // stream); it fires at the earlier of the two (0: none).
  int64_t deadline_us_ = 0;        // monotonic
  int64_t write_deadline_us_ = 0;  // monotonic
  int64_t fire_us_ = 0;            // when the armed timer fires
  uint64_t written_seen_ = 0;      // stream's bytes_written() when the write deadline was set
  struct event timer_;
};

struct HTTP1Connection::Block {
  Request req;
  HeadParser head_parser;
  ChunkedDecoder chunked;
  std::unique_ptr<GzipDecoder> gzip;
  std::string gz_out;
  std::string out;  // responses of this pass, written together
  std::vector<std::function<void(int)>> out_dones;
  uint64_t body_received = 0;  // raw bytes of the body read so far
  uint64_t body_decoded = 0;   // decoded bytes delivered
  Block* next = nullptr;       // in the pool

  // The pool (the delegate's RequestPool) is LIFO, so a keep-alive
  // connection gets the block it just gave back, warm; at most kKeep
  // blocks wait in it.
  static constexpr size_t kKeep = 64;
  static Block* take(RequestPool& p);
  static void put(RequestPool& p, Block* b);
};

// Inline: once per request each (the keep-alive path).
inline HTTP1Connection::Block* HTTP1Connection::Block::take(RequestPool& p) {
  auto* b = static_cast<Block*>(p.head);
  if (!b) return new Block;
  p.head = b->next;
  p.n--;
  b->next = nullptr;
  return b;
}

// b is reset (no request in it).  Large capacities a request left (a big
// head, many fields, a gzip body's output) are not kept.
inline void HTTP1Connection::Block::put(RequestPool& p, Block* b) {
  if (p.n >= kKeep) {
    delete b;
    return;
  }
  if (b->gz_out.capacity() > 15) std::string().swap(b->gz_out);
  if (b->out.capacity() > 16384) std::string().swap(b->out);
  if (b->req.head_buf.capacity() > 16384 || b->req.head.headers.capacity() > 64) b->req.shed();
  b->next = static_cast<Block*>(p.head);
  p.head = b;
  p.n++;
}

inline bool HTTP1Connection::head_sent() const { return b_ && b_->req.out.enc.started(); }

}  // namespace squall::http
