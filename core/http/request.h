// Counterpart of tornado/httputil.py HTTPServerRequest: the parsed request
// (immutable once dispatched, so any thread may read it until the response
// is finished) plus the response state the connection keeps for it.
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
#include "core/http/parser.h"

namespace squall::http {

class HTTP1Connection;

class Request {
 public:
  // ---- request (read-only after dispatch) ----
  RequestHead head;        // views into head_buf (or static strings)
  std::string head_buf;    // this request's copy of the head bytes
  std::string body;        // decoded body (empty when streamed)
  std::string remote_ip;   // peer IP, or X-Real-IP/X-Forwarded-For (xheaders)
  std::string protocol;    // "http" / "https"
  std::string version_str; // "HTTP/1.1"
  std::string_view host;   // Host header or absolute-form authority
  std::string_view host_name;  // host without :port
  int64_t start_wall_us = 0;
  int64_t start_mono_us = 0;

  // Lazily computed, thread-safe (std::call_once): arguments, files, cookies,
  // full URL.
  const std::vector<Pair>& query_arguments() const;
  const std::vector<Pair>& body_arguments() const;
  const std::vector<Pair>& all_arguments() const;
  const std::vector<UploadedFile>& files() const;
  const std::vector<Pair>& cookies() const;
  const std::string& full_url() const;

  // Copy the head bytes [base, base+len) into head_buf and repoint views.
  void adopt_head(const char* base, size_t len);
  void reset();

  HTTP1Connection* conn = nullptr;

  // ---- per-request limits (headers hook may change them) ----
  uint64_t max_body_size = 0;
  int64_t body_timeout_ms = 0;
  std::function<int(const char*, size_t)> body_sink;  // stream_body
  std::shared_ptr<void> body_sink_release;            // releases on reset

  // ---- response state (loop thread) ----
  int status = 200;
  std::string reason;
  std::string resp_headers;   // serialized "Name: value\r\n" lines
  std::string resp_body;      // written, not yet sent
  bool has_date = false, has_server = false, has_connection = false;
  bool has_content_type = false;
  bool conn_close_header = false;
  int64_t declared_length = -1;  // Content-Length set by the application
  bool headers_sent = false;
  bool chunked_out = false;
  bool close_delimited = false;
  bool finished = false;         // finish applied on the loop
  uint64_t body_bytes_out = 0;   // body bytes sent so far (framing excluded)
  uint64_t bytes_out = 0;        // all bytes of this response
  std::function<void(int)> on_done;
  bool done_fired = false;

  // ---- application ownership (any thread) ----
  std::atomic<bool> app_finished{false};  // finish/respond called
  std::atomic<bool> on_done_set{false};
  bool dispatched = false;   // handed to the handler
  bool in_hook = false;      // inside the headers hook

 private:
  mutable std::once_flag args_once_, cookies_once_, url_once_;
  mutable std::vector<Pair> query_args_, body_args_, all_args_, cookies_;
  mutable std::vector<UploadedFile> files_;
  mutable std::string full_url_;
  void parse_args() const;
};

}  // namespace squall::http
