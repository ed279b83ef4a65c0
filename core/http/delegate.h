// What an HTTP1Connection knows of its owner: a parameters struct and a
// delegate interface (Tornado's HTTP1ConnectionParameters, and its
// HTTPServerConnectionDelegate + HTTPMessageDelegate folded into one).  The
// connection includes nothing of HTTPServer; HTTPServer is one delegate,
// the socket-free tests have another.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/http/parser.h"

namespace squall::http {

class HTTP1Connection;
class Request;

// The request blocks (HTTP1Connection::Block) that a delegate's idle
// connections gave back, for its next requests: a LIFO free list, used on
// the delegate's loop thread only, freed with the delegate.  Per delegate
// rather than thread_local: a thread_local in a shared library costs a
// __tls_get_addr call per access (~27 instructions, twice per request).
struct RequestPool {
  RequestPool() = default;
  RequestPool(const RequestPool&) = delete;
  RequestPool& operator=(const RequestPool&) = delete;
  ~RequestPool();  // core/http/connection.cc
  void* head = nullptr;
  size_t n = 0;
};

// Tornado's HTTP1ConnectionParameters (plus squall's own limits).
struct ConnectionParams {
  ParseLimits limits;  // head size, field count, URI
  uint64_t max_body_size = 100ull * 1024 * 1024;
  size_t chunk_size = 64 * 1024;  // streamed body pieces
  // Defaults for the open internet, as nginx's (SECURITY.md):
  int64_t header_timeout_ms = 60 * 1000;  // whole head (client_header_timeout)
  int64_t body_timeout_ms = 60 * 1000;    // between two reads of a body (client_body_timeout)
  int64_t idle_timeout_ms = 75 * 1000;    // keep-alive idle (keepalive_timeout)
  int64_t write_timeout_ms = 60 * 1000;   // no write progress while output waits (send_timeout)
  bool no_keep_alive = false;
  bool xheaders = false;
  bool decompress_request = false;
  bool nodelay = true;
  // Set by HTTPServer: its listeners carry TCP_NODELAY, which accepted sockets
  // inherit, so a connection need not set it.
  bool nodelay_inherited = false;
  // The application answers after the read pass (pull dispatch,
  // squall_loop_poll): a response given while the connection has further
  // (pipelined) requests buffered is not written at once; the next request
  // is parsed and handed over, and the burst's responses leave in one write
  // before the loop next waits (IOLoop::before_wait).
  bool defer_writes = false;
  std::vector<std::string> trusted_downstream;  // skipped in X-Forwarded-For
  std::string server = "squall";                // default Server value; empty: none
};

// Counters, indexes of squall_stat.
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
  kStatTLSHandshakeFailures,
  kStatCount
};

// Relaxed atomic counters a delegate lends its connections (any thread may
// read them).
struct Counters {
  std::atomic<uint64_t> v[kStatCount] = {};
  void add(int stat, uint64_t n = 1) { v[stat].fetch_add(n, std::memory_order_relaxed); }
  void sub(int stat) { v[stat].fetch_sub(1, std::memory_order_relaxed); }
  uint64_t get(int stat) const { return v[stat].load(std::memory_order_relaxed); }
};

// Kinds of report(), values of squall_error_kind.
enum ErrorKind {
  kErrParse = 1,       // malformed request (4xx sent)
  kErrLimit = 2,       // a size or count limit (413/414/431)
  kErrTimeout = 3,     // header / body / idle timeout
  kErrTLS = 4,         // a TLS handshake failed or timed out
  kErrIO = 5,          // the transport failed under a request (reset, ...)
  kErrApplication = 6  // the application misused a response
};

class ConnectionDelegate {
 public:
  // ---- the owner (HTTPServerConnectionDelegate) ----
  // The connection started / its stream closed / the object is destroyed.
  virtual void connection_opened(HTTP1Connection* c) = 0;
  virtual void connection_closed(HTTP1Connection* c) = 0;
  virtual void connection_destroyed(HTTP1Connection* c) = 0;
  // Draining (graceful shutdown): no keep-alive, no new request.
  virtual bool draining() const = 0;
  // Something went wrong with a request or the connection (rate-limiting
  // and logging are the delegate's business).
  virtual void report(int kind, int http_status, std::string_view msg, std::string_view peer) = 0;
  // The counters the connection adds to (valid while the delegate is).
  virtual Counters& counters() = 0;

  // ---- the request (HTTPMessageDelegate) ----
  // The head arrived, before the body is read: the delegate may change the
  // request's body intake or answer at once.  Only called when wanted.
  virtual bool wants_headers() const = 0;
  virtual void headers_received(Request* req) = 0;
  // The whole request arrived: the application owns it until it finishes.
  virtual void request_received(Request* req) = 0;
  // The exchange ended: status sent (0: none), bytes of the response on the
  // wire, duration from the first byte in.  Only called when wanted.
  virtual bool wants_finished() const = 0;
  virtual void request_finished(const Request& req, int status, uint64_t bytes,
                                uint64_t duration_us, std::string_view peer) = 0;

  RequestPool request_pool;

 protected:
  ~ConnectionDelegate() = default;
};

}  // namespace squall::http
