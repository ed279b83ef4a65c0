// Counterpart of tornado/http1connection.py.
#include "core/http/connection.h"

#include <arpa/inet.h>
#include <string.h>

#include <algorithm>

#include "core/http/server.h"
#include "core/status.h"

namespace squall::http {

namespace {

const char* default_reason(int code) {
  switch (code) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 102: return "Processing";
    case 103: return "Early Hints";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 203: return "Non-Authoritative Information";
    case 204: return "No Content";
    case 205: return "Reset Content";
    case 206: return "Partial Content";
    case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Content";
    case 426: return "Upgrade Required";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
  }
}

void append_uint(std::string& o, uint64_t v) {
  char buf[24];
  char* p = buf + sizeof buf;
  do {
    *--p = char('0' + v % 10);
    v /= 10;
  } while (v);
  o.append(p, size_t(buf + sizeof buf - p));
}

void append_hex(std::string& o, uint64_t v) {
  static const char digits[] = "0123456789abcdef";
  char buf[20];
  char* p = buf + sizeof buf;
  do {
    *--p = digits[v & 15];
    v >>= 4;
  } while (v);
  o.append(p, size_t(buf + sizeof buf - p));
}

bool valid_ip(std::string_view s) {
  if (s.empty() || s.size() > 45) return false;
  char buf[64];
  memcpy(buf, s.data(), s.size());
  buf[s.size()] = 0;
  unsigned char tmp[16];
  return inet_pton(AF_INET, buf, tmp) == 1 || inet_pton(AF_INET6, buf, tmp) == 1;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool has_token(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    size_t c = list.find(',');
    std::string_view item = trim(list.substr(0, c));
    if (iequals(item, token)) return true;
    if (c == std::string_view::npos) break;
    list.remove_prefix(c + 1);
  }
  return false;
}

}  // namespace

HTTP1Connection::HTTP1Connection(HTTPServer* server, IOStreamPtr stream)
    : server_(server), loop_(stream->loop()), token_(loop_->token()), stream_(std::move(stream)) {
  const HTTPConfig& c = server_->config();
  limits_.max_header_size = c.max_header_size;
  limits_.max_header_count = c.max_header_count;
  limits_.max_uri_size = c.max_uri_size;
  evtimer_assign(&timer_, loop_->base(), &HTTP1Connection::on_timer, this);
  req_.conn = this;
}

HTTP1Connection::~HTTP1Connection() {
  if (timer_added_ && token_->loop) event_del(&timer_);
  if (server_) server_->conn_gone(this);
}

void HTTP1Connection::start() {
  server_->conn_opened(this);
  stream_->set_close_callback([this](int err) { on_stream_closed(err); });
  stream_->set_read_handler([this](int ev) { on_read(ev); });
  if (server_->config().nodelay) stream_->set_nodelay(true);
  // Backpressure: a client that pipelines without reading its responses
  // stops being read once 256 KiB of answers wait; reading resumes below
  // 64 KiB.
  stream_->set_write_limits(0, kOutHigh, kOutLow, [this] { on_drain(); });
  arm_timer(server_->config().header_timeout_ms);
}

bool HTTP1Connection::idle() const {
  return state_ == kIdle && (!stream_ || stream_->read_buffer().empty()) && !req_.dispatched;
}

void HTTP1Connection::arm_timer(int64_t ms) {
  if (ms <= 0) {
    if (timer_added_) event_del(&timer_);
    timer_added_ = false;
    return;
  }
  timeval tv{time_t(ms / 1000), suseconds_t((ms % 1000) * 1000)};
  event_add(&timer_, &tv);
  timer_added_ = true;
}

void HTTP1Connection::on_timer(evutil_socket_t, short, void* arg) {
  auto* c = static_cast<HTTP1Connection*>(arg);
  c->timer_added_ = false;
  if (c->closed_ || !c->server_) return;
  switch (c->state_) {
    case kIdle:
      if (c->stream_->read_buffer().empty()) {
        // Nothing of a next request: a quiet close (Tornado's idle timeout).
        c->server_->count(kStatTimeouts);
        c->server_->report_error(kErrTimeout, 0, "idle connection timeout", c->stream_->peer);
        c->state_ = kClosing;
        c->stream_->close_after_write(0);
        return;
      }
      [[fallthrough]];
    case kHead:
      c->server_->count(kStatTimeouts);
      c->reject(408, "header timeout", kErrTimeout);
      return;
    case kBody:
      c->server_->count(kStatTimeouts);
      c->reject(408, "body timeout", kErrTimeout);
      return;
    default:
      return;  // the application is working on a request: no timeout
  }
}

void HTTP1Connection::on_read(int ev) {
  if (closed_) return;
  if (ev == IOStream::kEof) {
    eof_ = true;
    if (state_ == kHandling) {
      // The client went away while the application works: Tornado's
      // on_connection_close; the request stays valid until finished.
      close_now(kClosed);
    } else if (state_ != kClosing) {
      state_ = kClosing;
      stream_->close_after_write(0);
    }
    return;
  }
  if (state_ == kHandling || state_ == kClosing) {
    // Pipelined bytes wait for the current response; bound what we buffer.
    if (stream_->read_buffer().size() > limits_.max_header_size + 65536) stream_->pause_reading();
    return;
  }
  process();
}

void HTTP1Connection::on_drain() {
  if (closed_ || state_ == kHandling || state_ == kClosing) return;
  stream_->resume_reading();
  process();
}

void HTTP1Connection::process() {
  ref();
  in_batch_ = true;
  while (!closed_) {
    ReadBuffer& rb = stream_->read_buffer();
    if (out_.size() > kOutLow) flush_out();
    if (stream_->write_buffer_size() > kOutHigh) {
      stream_->pause_reading();  // on_drain picks up from here
      break;
    }
    if (state_ == kIdle || state_ == kHead) {
      if (rb.empty()) break;
      ParseError err;
      long r = parse_request_head(rb.data(), rb.size(), limits_, &req_.head, &err);
      if (r == 0) {
        if (state_ == kIdle) {
          state_ = kHead;
          req_.start_mono_us = monotonic_us();
          arm_timer(server_->config().header_timeout_ms);
        }
        break;
      }
      if (r < 0) {
        reject(err.status, err.reason, err.limit ? kErrLimit : kErrParse);
        break;
      }
      start_request(size_t(r));
    } else if (state_ == kBody) {
      if (rb.empty() || !read_body()) break;
    } else {
      break;
    }
  }
  in_batch_ = false;
  if (!closed_) {
    flush_out();
    if (state_ == kIdle && stream_ && stream_->read_buffer().empty())
      stream_->read_buffer().release(loop_);
  }
  unref();
}

void HTTP1Connection::apply_xheaders() {
  // Tornado's _apply_xheaders: X-Real-IP, else the last X-Forwarded-For hop
  // not in trusted_downstream; X-Scheme, else X-Forwarded-Proto.
  const HTTPConfig& c = server_->config();
  std::string_view v;
  std::string_view ip;
  bool have_xff = false;
  for (auto& h : req_.head.headers) {
    if (iequals(h.name, "X-Forwarded-For")) {
      v = h.value;
      have_xff = true;  // the last field wins when repeated
    }
  }
  if (have_xff) {
    std::string_view list = v;
    while (!list.empty()) {
      size_t c2 = list.rfind(',');
      std::string_view hop = trim(c2 == std::string_view::npos ? list : list.substr(c2 + 1));
      bool trusted = false;
      for (auto& t : c.trusted_downstream)
        if (hop == t) trusted = true;
      if (!trusted) {
        ip = hop;
        break;
      }
      if (c2 == std::string_view::npos) break;
      list = list.substr(0, c2);
    }
  }
  if (req_.head.get("X-Real-IP", &v)) ip = trim(v);
  if (!ip.empty() && valid_ip(ip)) req_.remote_ip.assign(ip.data(), ip.size());
  std::string_view proto;
  if (req_.head.get("X-Scheme", &v) || req_.head.get("X-Forwarded-Proto", &v)) {
    size_t c2 = v.rfind(',');
    proto = trim(c2 == std::string_view::npos ? v : v.substr(c2 + 1));
    if (iequals(proto, "http")) req_.protocol = "http";
    else if (iequals(proto, "https")) req_.protocol = "https";
  }
}

void HTTP1Connection::start_request(size_t head_size) {
  ReadBuffer& rb = stream_->read_buffer();
  if (state_ == kIdle) req_.start_mono_us = monotonic_us();
  req_.start_wall_us = wall_us() - (monotonic_us() - req_.start_mono_us);
  req_.adopt_head(rb.data(), head_size);
  rb.consume(head_size);
  server_->count(kStatBytesIn, head_size);
  server_->count(kStatRequests);
  state_ = kHead;

  RequestHead& h = req_.head;
  req_.version_str = h.version == 10 ? "HTTP/1.0" : "HTTP/1.1";
  req_.remote_ip = stream_->peer_is_unix ? std::string("127.0.0.1") : stream_->peer_ip;
  req_.protocol = "http";
  if (server_->config().xheaders) apply_xheaders();
  req_.host = !h.authority.empty() ? h.authority : h.host;
  {
    std::string_view hn = req_.host;
    if (!hn.empty() && hn.front() == '[') {
      size_t e = hn.find(']');
      if (e != std::string_view::npos) hn = hn.substr(0, e + 1);
    } else {
      size_t c = hn.rfind(':');
      if (c != std::string_view::npos) hn = hn.substr(0, c);
    }
    req_.host_name = hn;
  }
  req_.max_body_size = server_->config().max_body_size;
  req_.body_timeout_ms = server_->config().body_timeout_ms;
  bool has_body = h.chunked || h.content_length > 0;
  body_unread_ = has_body;
  body_error_ = false;

  ServerDelegate* d = server_->delegate();
  if (d->has_headers_hook()) {
    ref();
    req_.in_hook = true;
    d->on_headers(&req_);
    req_.in_hook = false;
    bool gone = closed_ || detached_;
    // A response finished inside the hook has already ended (and reset)
    // the request: end_request moved the state on from kHead.
    bool answered = state_ != kHead || req_.finished || req_.app_finished.load();
    unref();
    if (gone || answered) return;
  }
  if (!has_body) {
    body_unread_ = false;
    dispatch();
    return;
  }
  if (h.has_content_length && h.content_length > req_.max_body_size) {
    reject(413, "body larger than max_body_size", kErrLimit);
    return;
  }
  // 100-continue only now that the body will be read (RFC 9110 10.1.1).
  if (h.expect_continue && h.version == 11) {
    out_.append("HTTP/1.1 100 Continue\r\n\r\n");
    server_->count(kStat1xx);
  }
  state_ = kBody;
  body_received_ = body_decoded_ = 0;
  if (h.chunked) chunked_.reset();
  else if (h.content_length <= (1u << 20)) req_.body.reserve(size_t(h.content_length));
  gzip_.reset();
  if (server_->config().decompress_request) {
    for (auto& f : h.headers) {
      if (iequals(f.name, "Content-Encoding") && iequals(trim(f.value), "gzip")) {
        gzip_ = std::make_unique<GzipDecoder>();
        // Tornado renames it so the application knows it was decoded.
        f.name = "X-Consumed-Content-Encoding";
      }
    }
  }
  arm_timer(req_.body_timeout_ms);
  if (!rb.empty()) read_body();
}

void HTTP1Connection::body_sink(void* ctx, const char* data, size_t len) {
  static_cast<HTTP1Connection*>(ctx)->deliver_body(data, len);
}

bool HTTP1Connection::read_body() {
  ReadBuffer& rb = stream_->read_buffer();
  if (req_.head.chunked) {
    size_t consumed = 0;
    ParseError err;
    auto res = chunked_.feed(rb.data(), rb.size(), &consumed, &HTTP1Connection::body_sink, this, &err);
    if (closed_ || state_ != kBody) return false;
    rb.consume(consumed);
    server_->count(kStatBytesIn, consumed);
    if (body_error_) return false;
    if (res == ChunkedDecoder::kError) {
      reject(err.status, err.reason, kErrParse);
      return false;
    }
    if (res == ChunkedDecoder::kNeedMore) return false;
  } else {
    uint64_t remaining = req_.head.content_length - body_received_;
    size_t n = size_t(std::min<uint64_t>(remaining, rb.size()));
    body_received_ += n;
    deliver_body(rb.data(), n);
    if (closed_ || state_ != kBody) return false;
    rb.consume(n);
    server_->count(kStatBytesIn, n);
    if (body_error_) return false;
    if (body_received_ < req_.head.content_length) return false;
  }
  if (gzip_ && !gzip_->done()) {
    reject(400, "truncated gzip body", kErrParse);
    return false;
  }
  dispatch();
  return true;
}

void HTTP1Connection::deliver_body(const char* data, size_t len) {
  if (body_error_ || len == 0) return;
  if (gzip_) {
    gz_out_.clear();
    uint64_t room = req_.max_body_size - std::min(req_.max_body_size, body_decoded_);
    int r = gzip_->feed(data, len, &gz_out_, size_t(std::min<uint64_t>(room, SIZE_MAX)));
    if (r == -1) {
      body_error_ = true;
      reject(400, "invalid gzip body", kErrParse);
      return;
    }
    if (r == -2) {
      body_error_ = true;
      reject(413, "decompressed body larger than max_body_size", kErrLimit);
      return;
    }
    deliver_plain(gz_out_.data(), gz_out_.size());
    return;
  }
  deliver_plain(data, len);
}

void HTTP1Connection::deliver_plain(const char* data, size_t len) {
  if (len == 0 || body_error_) return;
  body_decoded_ += len;
  if (body_decoded_ > req_.max_body_size) {
    body_error_ = true;
    reject(413, "body larger than max_body_size", kErrLimit);
    return;
  }
  if (req_.body_sink) {
    size_t chunk = std::max<size_t>(server_->config().chunk_size, 1);
    while (len > 0 && !body_error_) {
      size_t n = std::min(len, chunk);
      int r = req_.body_sink(data, n);
      if (r < 0) {
        body_error_ = true;
        server_->report_error(kErrApplication, 0, "body stream aborted by the application",
                              stream_->peer);
        close_now(kClosed);
        return;
      }
      data += n;
      len -= n;
    }
    return;
  }
  req_.body.append(data, len);
}

void HTTP1Connection::dispatch() {
  state_ = kHandling;
  body_unread_ = false;
  gzip_.reset();
  // The stream_body sink has seen its last piece.
  req_.body_sink = nullptr;
  req_.body_sink_release.reset();
  req_.dispatched = true;
  ref();  // the application's reference, dropped when it finishes
  server_->delegate()->on_request(&req_);
}

void HTTP1Connection::reject(int status, const char* reason, int kind) {
  if (closed_ || state_ == kClosing) return;
  server_->count(kind == kErrLimit ? kStatRejectedLimit
                 : kind == kErrTimeout ? kStatTimeouts
                                       : kStatRejectedParse,
                 kind == kErrTimeout ? 0 : 1);
  server_->count(status >= 500 ? kStat5xx : kStat4xx);
  server_->report_error(kind, status, reason, stream_->peer);
  state_ = kClosing;
  out_.append("HTTP/1.1 ");
  append_uint(out_, uint64_t(status));
  out_ += ' ';
  out_.append(default_reason(status));
  out_.append("\r\nDate: ");
  out_.append(loop_->http_date());
  out_.append("\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  // The request (if any) was never dispatched: drop its body sink.
  req_.body_sink = nullptr;
  req_.body_sink_release.reset();
  flush_out();
  // Lingering close so the client reads the answer even while it still
  // sends (413 before the body; nginx's lingering_close).
  stream_->close_after_write(2000);
}

// ---------------------------------------------------------------- responses

int HTTP1Connection::set_status(int code, std::string_view reason) {
  if (req_.finished) return fail(kState, "response already finished");
  if (req_.headers_sent) return fail(kState, "headers already sent");
  req_.status = code;
  req_.reason.assign(reason.data(), reason.size());
  return closed_ ? fail(kClosed, "client connection closed") : kOk;
}

int HTTP1Connection::add_header(std::string_view name, std::string_view value) {
  if (req_.finished) return fail(kState, "response already finished");
  if (req_.headers_sent) return fail(kState, "headers already sent");
  if (iequals(name, "Content-Length")) {
    if (value.empty() || value.size() > 18) return fail(kInval, "invalid Content-Length value");
    uint64_t v = 0;
    for (char ch : value) {
      if (ch < '0' || ch > '9') return fail(kInval, "invalid Content-Length value");
      v = v * 10 + uint64_t(ch - '0');
    }
    if (req_.declared_length >= 0) return fail(kInval, "Content-Length already set");
    req_.declared_length = int64_t(v);
  } else if (iequals(name, "Transfer-Encoding")) {
    return fail(kInval, "squall frames responses itself; do not set Transfer-Encoding");
  } else if (iequals(name, "Date")) {
    req_.has_date = true;
  } else if (iequals(name, "Server")) {
    req_.has_server = true;
  } else if (iequals(name, "Connection")) {
    req_.has_connection = true;
    if (has_token(value, "close")) req_.conn_close_header = true;
  } else if (iequals(name, "Content-Type")) {
    req_.has_content_type = true;
  }
  std::string& o = req_.resp_headers;
  o.append(name.data(), name.size());
  o.append(": ", 2);
  o.append(value.data(), value.size());
  o.append("\r\n", 2);
  return closed_ ? fail(kClosed, "client connection closed") : kOk;
}

int HTTP1Connection::write(const char* data, size_t len) {
  if (req_.finished) return fail(kState, "response already finished");
  if (is_closed()) return fail(kClosed, "client connection closed");
  req_.resp_body.append(data, len);
  return kOk;
}

bool HTTP1Connection::decide_keep_alive() const {
  // Tornado's HTTP1Connection._can_keep_alive, plus squall's own reasons.
  if (eof_ || body_unread_ || req_.conn_close_header || req_.close_delimited) return false;
  if (!server_ || server_->config().no_keep_alive || server_->shutting_down()) return false;
  const RequestHead& h = req_.head;
  if (h.connection_close) return false;
  if (h.version == 11) return true;
  return h.connection_keep_alive;
}

void HTTP1Connection::emit_head(bool streaming) {
  Request& r = req_;
  std::string& o = out_;
  int st = r.status;
  o.append("HTTP/1.1 ", 9);
  append_uint(o, uint64_t(st));
  o += ' ';
  if (!r.reason.empty()) o.append(r.reason);
  else o.append(default_reason(st));
  o.append("\r\n", 2);
  o.append(r.resp_headers);
  if (!r.has_date) {
    o.append("Date: ", 6);
    o.append(loop_->http_date());
    o.append("\r\n", 2);
  }
  if (!r.has_server) o.append("Server: squall\r\n");
  bool no_body = st < 200 || st == 204 || st == 304;
  if (!no_body && r.declared_length < 0) {
    if (!streaming) {
      o.append("Content-Length: ", 16);
      append_uint(o, r.resp_body.size());
      o.append("\r\n", 2);
    } else if (r.head.version == 11) {
      o.append("Transfer-Encoding: chunked\r\n");
      r.chunked_out = true;
    } else {
      r.close_delimited = true;  // HTTP/1.0 without a length: EOF ends it
    }
  }
  keep_alive_ = decide_keep_alive();
  if (!r.has_connection) {
    if (!keep_alive_ && r.head.version == 11) o.append("Connection: close\r\n");
    else if (keep_alive_ && r.head.version == 10) o.append("Connection: keep-alive\r\n");
  }
  o.append("\r\n", 2);
  r.headers_sent = true;
}

int HTTP1Connection::flush(std::function<void(int)> done) {
  if (req_.finished) return fail(kState, "response already finished");
  if (closed_) {
    if (done) loop_->add_callback([done] { done(kClosed); });
    return fail(kClosed, "client connection closed");
  }
  bool head_req = req_.head.method == "HEAD";
  bool no_body = req_.status < 200 || req_.status == 204 || req_.status == 304;
  if (!req_.headers_sent) emit_head(true);
  std::string& b = req_.resp_body;
  if (!b.empty() && !head_req && !no_body) {
    req_.body_bytes_out += b.size();
    if (req_.chunked_out) {
      append_hex(out_, b.size());
      out_.append("\r\n", 2);
      out_.append(b);
      out_.append("\r\n", 2);
    } else {
      out_.append(b);
    }
  }
  b.clear();
  flush_out(std::move(done));
  return kOk;
}

int HTTP1Connection::finish() {
  if (req_.finished) return fail(kState, "response already finished");
  req_.finished = true;
  int ret = kOk;
  if (closed_ || detached_) {
    ret = fail(kClosed, "client connection closed");
  } else {
    Request& r = req_;
    bool head_req = r.head.method == "HEAD";
    bool no_body = r.status < 200 || r.status == 204 || r.status == 304;
    if (!r.headers_sent) {
      emit_head(false);
      if (!head_req && !no_body) {
        r.body_bytes_out += r.resp_body.size();
        if (r.resp_body.size() > 16384) {
          // Large body: one writev of head + body, no copy into out_.
          iovec iov[2] = {{out_.data(), out_.size()}, {r.resp_body.data(), r.resp_body.size()}};
          std::function<void(int)> done;
          stream_->writev(iov, 2);
          server_->count(kStatBytesOut, out_.size() + r.resp_body.size());
          out_.clear();
        } else {
          out_.append(r.resp_body);
        }
      }
    } else if (!head_req && !no_body) {
      if (!r.resp_body.empty()) {
        r.body_bytes_out += r.resp_body.size();
        if (r.chunked_out) {
          append_hex(out_, r.resp_body.size());
          out_.append("\r\n", 2);
          out_.append(r.resp_body);
          out_.append("\r\n", 2);
        } else {
          out_.append(r.resp_body);
        }
      }
      if (r.chunked_out) out_.append("0\r\n\r\n", 5);
    }
    r.resp_body.clear();
    if (r.declared_length >= 0 && !head_req && !no_body &&
        r.body_bytes_out != uint64_t(r.declared_length)) {
      // Tornado raises HTTPOutputError; the framing is broken, so close.
      server_->report_error(kErrApplication, r.status,
                            "response body does not match its Content-Length", stream_->peer);
      keep_alive_ = false;
    }
  }
  end_request();
  return ret;
}

void HTTP1Connection::end_request() {
  Request& r = req_;
  bool was_dispatched = r.dispatched;
  int status_sent = (closed_ || detached_) ? 0 : r.status;
  if (server_) {
    if (status_sent) {
      int cls = status_sent / 100;
      server_->count(cls <= 1 ? kStat1xx : cls == 2 ? kStat2xx : cls == 3 ? kStat3xx
                                         : cls == 4 ? kStat4xx : kStat5xx);
    }
    if (server_->delegate()->has_access_hook()) {
      uint64_t dur = uint64_t(std::max<int64_t>(0, monotonic_us() - r.start_mono_us));
      server_->delegate()->on_access(r, status_sent, r.bytes_out + out_.size(), dur,
                                     stream_ ? std::string_view(stream_->peer) : std::string_view());
    }
  }
  if (!closed_ && !detached_) {
    if (r.on_done && !r.done_fired) {
      r.done_fired = true;
      out_dones_.push_back(std::move(r.on_done));
    }
    bool keep = keep_alive_ && !r.close_delimited;
    r.reset();
    body_unread_ = false;
    if (!keep) {
      state_ = kClosing;
      flush_out();
      stream_->close_after_write(eof_ ? 0 : 2000);
    } else {
      state_ = kIdle;
      arm_timer(server_ ? server_->config().idle_timeout_ms : 0);
      if (server_ && server_->shutting_down()) {
        flush_out();
        state_ = kClosing;
        stream_->close_after_write(0);
      } else if (!in_batch_) {
        flush_out();
        stream_->resume_reading();
        if (!stream_->read_buffer().empty()) process();
        else stream_->read_buffer().release(loop_);
      }
    }
  } else {
    r.reset();
  }
  if (was_dispatched) unref();
}

void HTTP1Connection::flush_out(std::function<void(int)> done) {
  if (done) out_dones_.push_back(std::move(done));
  if (out_.empty() && out_dones_.empty()) return;
  if (closed_ || !stream_ || stream_->closed()) {
    auto dones = std::move(out_dones_);
    out_dones_.clear();
    out_.clear();
    for (auto& d : dones) loop_->add_callback([d] { d(kClosed); });
    return;
  }
  IOStream::DoneCallback cb;
  if (!out_dones_.empty()) {
    if (out_dones_.size() == 1) {
      cb = std::move(out_dones_[0]);
    } else {
      auto v = std::make_shared<std::vector<std::function<void(int)>>>(std::move(out_dones_));
      cb = [v](int st) {
        for (auto& d : *v) d(st);
      };
    }
    out_dones_.clear();
  }
  if (server_) server_->count(kStatBytesOut, out_.size());
  req_.bytes_out += out_.size();
  if (!out_.empty() || cb) stream_->write(out_.data(), out_.size(), std::move(cb));
  out_.clear();
  if (out_.capacity() > 65536) out_.shrink_to_fit();
}

void HTTP1Connection::set_on_done(std::function<void(int)> fn) {
  if (closed_ || detached_) {
    req_.done_fired = true;
    loop_->add_callback([fn] { fn(kClosed); });
    return;
  }
  req_.on_done = std::move(fn);
}

int HTTP1Connection::detach(IOStreamPtr* out) {
  if (!req_.dispatched || req_.finished) return fail(kState, "request is not being handled");
  if (req_.headers_sent) return fail(kState, "response already started");
  // squall.h: "before any response call" -- status, header or body bytes
  // given for this request would be silently dropped by a detach.
  if (req_.status != 200 || !req_.reason.empty() || !req_.resp_headers.empty() ||
      !req_.resp_body.empty())
    return fail(kState, "a response was already begun");
  if (closed_) return fail(kClosed, "client connection closed");
  flush_out();
  IOStreamPtr s = stream_;
  s->set_read_handler(nullptr);
  s->set_close_callback(nullptr);
  s->set_write_limits(0, 0, 0, nullptr);
  s->resume_reading();
  detached_ = true;
  closed_ = true;
  arm_timer(0);
  if (server_) server_->conn_closed(this);
  req_.finished = true;
  if (req_.on_done && !req_.done_fired) {
    req_.done_fired = true;
    auto d = std::move(req_.on_done);
    loop_->add_callback([d] { d(kOk); });
  }
  req_.reset();
  stream_.reset();
  *out = std::move(s);
  // Drop both the stream side's reference (its close callback will not run
  // any more) and the application's (the request has ended).
  if (refs_.fetch_sub(2, std::memory_order_acq_rel) == 2) delete this;
  return kOk;
}

void HTTP1Connection::close_now(int error) {
  if (closed_ || !stream_) return;
  // Application calls see SQUALL_ECLOSED from now on, not only once the
  // stream's (deferred) close callback has run.
  close_requested_.store(true, std::memory_order_release);
  stream_->close(error == kClosed ? 0 : error);
}

void HTTP1Connection::abort() {
  if (req_.finished) return;
  if (!closed_ && stream_) {
    if (server_)
      server_->report_error(kErrApplication, 0, "response aborted by the application",
                            stream_->peer);
    close_now(kClosed);
  }
  finish();
}

void HTTP1Connection::server_gone() {
  server_ = nullptr;
  close_now(kClosed);
}

void HTTP1Connection::on_stream_closed(int err) {
  if (closed_.exchange(true)) return;
  arm_timer(0);
  if (server_) server_->conn_closed(this);
  if (req_.dispatched && !req_.finished && req_.on_done && !req_.done_fired) {
    req_.done_fired = true;
    auto d = std::move(req_.on_done);
    req_.on_done = nullptr;
    d(kClosed);
  }
  req_.body_sink = nullptr;
  req_.body_sink_release.reset();
  auto dones = std::move(out_dones_);
  out_dones_.clear();
  for (auto& d : dones) d(kClosed);
  unref();  // the stream side's reference
}

}  // namespace squall::http
