// Counterpart of tornado/httputil.py HTTPServerRequest, split by who may
// touch what:
//   RequestData    what arrived: written by the connection before dispatch,
//                  immutable after it (any thread may read it until the
//                  response is finished).
//   ResponseState  the response being built and its framing: loop thread.
//   AppState       the application's ownership of the request, as the C
//                  facade tracks it: any thread (atomics).
// Every borrowed string of RequestData is NUL-terminated (adopt_head), so a
// C caller may print it with %s.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/http/body.h"
#include "core/http/encoder.h"
#include "core/http/parser.h"

namespace squall {
struct TLSInfo;
}

namespace squall::http {

class HTTP1Connection;

class RequestData {
 public:
  RequestHead head;              // views into head_buf (or static strings)
  std::string head_buf;          // this request's copy of the head bytes
  std::string body;              // decoded body (empty when streamed)
  std::string remote_ip;         // peer IP, or X-Real-IP/X-Forwarded-For (xheaders)
  std::string_view protocol;     // "http" / "https" (static)
  std::string_view version;      // "HTTP/1.0" / "HTTP/1.1" (static)
  std::string_view host;         // Host header or absolute-form authority
  std::string_view host_name;    // host without :port
  const TLSInfo* tls = nullptr;  // the connection's TLS session (nullptr: plain)
  int64_t start_wall_us = 0;
  int64_t start_mono_us = 0;

  // Lazily computed, thread-safe (std::call_once): arguments, files,
  // cookies, full URL.
  enum class Args { kAll, kQuery, kBody };  // Tornado's arguments, query_, body_
  const std::vector<Pair>& arguments(Args source) const;
  const std::vector<UploadedFile>& files() const;
  const std::vector<Pair>& cookies() const;
  const std::string& full_url() const;

  // Copy the head bytes [base, base+len) into head_buf, repoint every view
  // there, and NUL-terminate the views that end at a delimiter (method,
  // target, query, field names and values).  host and host_name must be
  // set before.
  void adopt_head(const char* base, size_t len);

  // NUL-terminated forms of the views that may end inside another one (the
  // path before '?', a host name before ':'): themselves when they are
  // already terminated, else copies appended to head_buf (room reserved by
  // adopt_head, so no view moves) once, on first use (any thread).
  struct Terminated {
    std::string_view path, host, host_name;
  };
  Terminated terminated() const;

  // Give back the capacity a finished request left (idle connection).
  void shed_data();

 protected:
  void reset_data();

 private:
  mutable std::once_flag z_once_;
  mutable uint32_t z_off_[3] = {0, 0, 0};  // offsets in head_buf of the copies (0: none)
  // What is derived on first ask (arguments, files, cookies, full URL), out
  // of line: most requests never ask, and every connection keeps a Request.
  struct Derived {
    std::once_flag args_once, cookies_once, url_once;
    std::vector<Pair> query_args, body_args, all_args, cookies;
    std::vector<UploadedFile> files;
    std::string full_url;
  };
  mutable std::once_flag derived_once_;
  mutable std::unique_ptr<Derived> derived_;
  Derived& derived() const;
  void parse_args() const;
};

// The response being built for the request (loop thread only).
struct ResponseState {
  int status = 200;
  std::string reason;
  std::string fields;  // serialized "Name: value\r\n" lines set by the application
  std::string body;    // written, not yet sent
  bool has_date = false, has_server = false, has_connection = false;
  bool conn_close_header = false;  // the application set Connection: close
  int64_t declared_length = -1;    // Content-Length set by the application
  bool finished = false;           // finish applied on the loop
  ResponseEncoder enc;             // framing decided, bytes counted
  std::function<void(int)> on_done;
  bool done_fired = false;

  ResponseEncoder::Head head() const {
    return {status, reason, fields, has_date, has_server, has_connection, declared_length, {}};
  }
  void reset();
  void shed() {
    std::string().swap(reason);
    std::string().swap(fields);
    std::string().swap(body);
  }
};

// The application's side of the request (the C facade).
struct AppState {
  std::atomic<bool> finished{false};     // finish / respond / abort called
  std::atomic<bool> on_done_set{false};  // squall_request_on_done called
  bool dispatched = false;               // handed to the handler: holds a connection reference
  bool in_hook = false;                  // inside the headers hook
  void reset() {
    finished.store(false, std::memory_order_relaxed);
    on_done_set.store(false, std::memory_order_relaxed);
    dispatched = in_hook = false;
  }
};

class Request : public RequestData {
 public:
  HTTP1Connection* conn = nullptr;

  // Per-request body intake (the headers hook may change it; loop thread).
  uint64_t max_body_size = 0;
  int64_t body_timeout_ms = 0;
  std::function<int(const char*, size_t)> body_sink;  // stream_body
  std::shared_ptr<void> body_sink_release;            // releases on reset

  ResponseState out;
  AppState app;

  void drop_body_sink() {
    body_sink = nullptr;
    body_sink_release.reset();
  }
  void reset();
  void shed() {
    shed_data();
    out.shed();
  }
};

}  // namespace squall::http
