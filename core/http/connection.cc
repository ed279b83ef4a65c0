// Counterpart of tornado/http1connection.py.
#include "core/http/connection.h"

#include <arpa/inet.h>
#include <string.h>

#include <algorithm>

#include "core/status.h"

namespace squall::http {

namespace {

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

// The delegate of a connection whose owner is gone: it swallows reports
// and counts, and is never asked for anything else (the connection is
// closed by then).
class Orphanage final : public ConnectionDelegate {
 public:
  void connection_opened(HTTP1Connection*) override {}
  void connection_closed(HTTP1Connection*) override {}
  void connection_destroyed(HTTP1Connection*) override {}
  bool draining() const override { return true; }
  void report(int, int, std::string_view, std::string_view) override {}
  Counters& counters() override { return counters_; }
  bool wants_headers() const override { return false; }
  void headers_received(Request*) override {}
  void request_received(Request* r) override {}
  bool wants_finished() const override { return false; }
  void request_finished(const Request&, int, uint64_t, uint64_t, std::string_view) override {}

 private:
  Counters counters_;
};

Orphanage orphanage;
const ConnectionParams orphan_params;

}  // namespace

HTTP1Connection::HTTP1Connection(const ConnectionParams* params, ConnectionDelegate* delegate,
                                 IOStreamPtr stream)
    : params_(params),
      delegate_(delegate),
      counters_(&delegate->counters()),
      loop_(stream->loop()),
      token_(loop_->token()),
      stream_(std::move(stream)) {
  evtimer_assign(&timer_, loop_->base(), &HTTP1Connection::on_timer, this);
  evtimer_assign(&write_timer_, loop_->base(), &HTTP1Connection::on_write_timer, this);
  req_.conn = this;
  tls_ = stream_->transport().is_tls();
}

HTTP1Connection::~HTTP1Connection() {
  if (timer_added_ && token_->loop) event_del(&timer_);
  if (write_timer_added_ && token_->loop) event_del(&write_timer_);
  delegate_->connection_destroyed(this);
}

void HTTP1Connection::start() {
  delegate_->connection_opened(this);
  stream_->set_close_callback([this](int err) { on_stream_closed(err); });
  stream_->set_read_handler([this](int ev) { on_read(ev); });
  if (params_->nodelay) stream_->set_nodelay(true);
  // Backpressure: a client that pipelines without reading its responses
  // stops being read once 256 KiB of answers wait; reading resumes below
  // 64 KiB.
  stream_->set_write_limits(0, kOutHigh, kOutLow, [this] { on_drain(); });
  arm_timer(params_->header_timeout_ms);
}

void HTTP1Connection::report(int kind, int status, std::string_view msg) {
  delegate_->report(kind, status, msg, stream_ ? std::string_view(stream_->peer()) : "");
}

bool HTTP1Connection::idle() const {
  return state_ == kIdle && (!stream_ || stream_->read_buffer().empty()) && !req_.app.dispatched;
}

// The one timer of the connection (header, body or idle timeout) is lazy,
// as nginx's: a later deadline only moves deadline_us_, and the timer,
// when it fires early, sleeps again for the rest.  Keep-alive requests then
// cost no event_add each (re-arming the idle timeout per response did).
void HTTP1Connection::arm_timer(int64_t ms) {
  if (ms <= 0) {
    if (timer_added_) event_del(&timer_);
    timer_added_ = false;
    deadline_us_ = 0;
    return;
  }
  deadline_us_ = monotonic_us() + ms * 1000;
  if (timer_added_ && fire_us_ <= deadline_us_) return;  // fires first, then re-arms
  schedule_timer(ms * 1000);
}

// While the connection holds a request's memory, the timer fires within
// kShedAfterUs: a connection idle that long gives it back (shed()).
void HTTP1Connection::schedule_timer(int64_t us) {
  if (!shed_) us = std::min(us, kShedAfterUs);
  timeval tv{time_t(us / 1000000), suseconds_t(us % 1000000)};
  event_add(&timer_, &tv);
  timer_added_ = true;
  fire_us_ = monotonic_us() + us;
}

// An idle keep-alive connection keeps only itself and its stream: the
// parsed fields, the head copy, the response strings and the output buffer
// go back to malloc (a busy connection never sheds: it is not idle for
// kShedAfterUs).  Bytes per idle connection: bench/README.md.
void HTTP1Connection::shed() {
  shed_ = true;
  std::string().swap(out_);
  std::string().swap(gz_out_);
  req_.shed();
}

void HTTP1Connection::hold() {
  if (!shed_) return;
  shed_ = false;
  if (timer_added_ && fire_us_ > monotonic_us() + kShedAfterUs) schedule_timer(kShedAfterUs);
}

void HTTP1Connection::on_timer(evutil_socket_t, short, void* arg) {
  auto* c = static_cast<HTTP1Connection*>(arg);
  c->timer_added_ = false;
  if (c->closed_ || c->deadline_us_ == 0) return;
  int64_t left = c->deadline_us_ - monotonic_us();
  if (left > 0) {
    if (c->idle() && !c->shed_) c->shed();
    c->schedule_timer(left);  // the deadline moved on since this was armed
    return;
  }
  switch (c->state_) {
    case kIdle:
      if (c->stream_->read_buffer().empty()) {
        // Nothing of a next request: a quiet close (Tornado's idle timeout).
        c->counters_->add(kStatTimeouts);
        c->report(kErrTimeout, 0, "idle connection timeout");
        c->state_ = kClosing;
        c->stream_->close_after_write(0);
        return;
      }
      [[fallthrough]];
    case kHead: c->timed_out("header timeout"); return;
    case kBody: c->timed_out("body timeout"); return;
    default: return;  // the application is working on a request: no timeout
  }
}

// The write-stall timeout (nginx's send_timeout): output that waits in the
// stream must make progress within write_timeout_ms, or the client is
// gone in all but name and the connection is closed.  Armed when a write
// leaves bytes queued; each firing with progress re-arms it.
void HTTP1Connection::watch_writes() {
  if (write_timer_added_ || params_->write_timeout_ms <= 0 || !stream_ ||
      stream_->write_buffer_size() == 0)
    return;
  written_seen_ = stream_->bytes_written();
  const int64_t ms = params_->write_timeout_ms;
  timeval tv{time_t(ms / 1000), suseconds_t(ms % 1000 * 1000)};
  event_add(&write_timer_, &tv);
  write_timer_added_ = true;
}

void HTTP1Connection::on_write_timer(evutil_socket_t, short, void* arg) {
  auto* c = static_cast<HTTP1Connection*>(arg);
  c->write_timer_added_ = false;
  if (c->closed_ || !c->stream_ || c->stream_->write_buffer_size() == 0) return;
  if (c->stream_->bytes_written() != c->written_seen_) {
    c->watch_writes();  // progress: another period
    return;
  }
  c->counters_->add(kStatTimeouts);
  c->report(kErrTimeout, 0, "write timeout: the client stopped reading");
  c->close_now(kTimedOut);
}

void HTTP1Connection::timed_out(const char* what) {
  counters_->add(kStatTimeouts);
  reject(408, what, kErrTimeout);
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
    if (stream_->read_buffer().size() > params_->limits.max_header_size + 65536)
      stream_->pause_reading();
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
      long r = head_parser_.parse(rb.data(), rb.size(), params_->limits, &req_.head, &err);
      if (r == 0) {
        if (state_ == kIdle) {
          state_ = kHead;
          req_.start_mono_us = monotonic_us();
          arm_timer(params_->header_timeout_ms);
        }
        break;
      }
      if (r < 0) {
        reject(err.status, err.reason, err.limit ? kErrLimit : kErrParse);
        break;
      }
      start_request(size_t(r));
    } else if (state_ == kBody) {
      if (rb.empty()) break;
      // The body timeout runs between reads (nginx's client_body_timeout),
      // not over the whole body: bytes arrived, so another period begins.
      arm_timer(req_.body_timeout_ms);
      if (!read_body()) break;
    } else {
      break;
    }
  }
  in_batch_ = false;
  if (!closed_) {
    if (params_->defer_writes && state_ == kHandling)
      defer_flush();  // the application answers later; more may follow
    else
      flush_out();
    if (state_ == kIdle && stream_ && stream_->read_buffer().empty())
      stream_->read_buffer().release(loop_);
  }
  unref();
}

void HTTP1Connection::apply_xheaders() {
  // Tornado's _apply_xheaders: X-Real-IP, else the last X-Forwarded-For hop
  // not in trusted_downstream; X-Scheme, else X-Forwarded-Proto.
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
      for (auto& t : params_->trusted_downstream)
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
    if (iequals(proto, "http"))
      req_.protocol = "http";
    else if (iequals(proto, "https"))
      req_.protocol = "https";
  }
}

void HTTP1Connection::start_request(size_t head_size) {
  ReadBuffer& rb = stream_->read_buffer();
  head_parser_.reset();
  hold();
  served_ = true;
  if (state_ == kIdle) req_.start_mono_us = monotonic_us();
  req_.start_wall_us = wall_us() - (monotonic_us() - req_.start_mono_us);
  RequestHead& h = req_.head;
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
  req_.adopt_head(rb.data(), head_size);
  rb.consume(head_size);
  counters_->add(kStatBytesIn, head_size);
  counters_->add(kStatRequests);
  state_ = kHead;

  req_.version = h.version == 10 ? "HTTP/1.0" : "HTTP/1.1";
  if (stream_->peer_is_local())
    req_.remote_ip = "127.0.0.1";
  else
    req_.remote_ip = stream_->peer_ip();
  if (tls_) {
    if (!tls_info_) tls_info_ = stream_->transport().tls_info();
    req_.tls = tls_info_.get();
    req_.protocol = "https";
  } else {
    req_.protocol = "http";
  }
  if (params_->xheaders) apply_xheaders();
  req_.max_body_size = params_->max_body_size;
  req_.body_timeout_ms = params_->body_timeout_ms;
  bool has_body = h.chunked || h.content_length > 0;
  body_unread_ = has_body;
  body_error_ = false;

  if (delegate_->wants_headers()) {
    ref();
    req_.app.in_hook = true;
    delegate_->headers_received(&req_);
    req_.app.in_hook = false;
    bool gone = closed_ || detached_;
    // A response finished inside the hook has already ended (and reset)
    // the request: end_request moved the state on from kHead.
    bool answered = state_ != kHead || req_.out.finished || req_.app.finished.load();
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
    ResponseEncoder::interim(out_, 100);
    counters_->add(kStat1xx);
  }
  state_ = kBody;
  body_received_ = body_decoded_ = 0;
  if (h.chunked)
    chunked_.reset();
  else if (h.content_length <= (1u << 20))
    req_.body.reserve(size_t(h.content_length));
  gzip_.reset();
  if (params_->decompress_request) {
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
    auto res =
        chunked_.feed(rb.data(), rb.size(), &consumed, &HTTP1Connection::body_sink, this, &err);
    if (closed_ || state_ != kBody) return false;
    rb.consume(consumed);
    counters_->add(kStatBytesIn, consumed);
    if (body_error_) return false;
    if (res == ChunkedDecoder::kError) {
      reject(err.status, err.reason, kErrParse);
      return false;
    }
    // A chunk announced past the limit is refused at its size line, not
    // after its bytes were read (a gzip body is bounded once decoded).
    if (!gzip_ && chunked_.remaining() > req_.max_body_size - body_decoded_) {
      reject(413, "chunked body larger than max_body_size", kErrLimit);
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
    counters_->add(kStatBytesIn, n);
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
    size_t chunk = std::max<size_t>(params_->chunk_size, 1);
    while (len > 0 && !body_error_) {
      size_t n = std::min(len, chunk);
      int r = req_.body_sink(data, n);
      if (r < 0) {
        body_error_ = true;
        report(kErrApplication, 0, "body stream aborted by the application");
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
  req_.drop_body_sink();
  req_.app.dispatched = true;
  ref();  // the application's reference, dropped when it finishes
  delegate_->request_received(&req_);
}

void HTTP1Connection::reject(int status, const char* reason, int kind) {
  if (closed_ || state_ == kClosing) return;
  if (kind == kErrLimit)
    counters_->add(kStatRejectedLimit);
  else if (kind == kErrParse)
    counters_->add(kStatRejectedParse);
  counters_->add(status >= 500 ? kStat5xx : kStat4xx);
  report(kind, status, reason);
  state_ = kClosing;
  head_parser_.reset();
  ResponseEncoder::simple(out_, status, loop_->http_date(), params_->server);
  // The request (if any) was never dispatched: drop its body sink.
  req_.drop_body_sink();
  flush_out();
  // Lingering close so the client reads the answer even while it still
  // sends (413 before the body; nginx's lingering_close).
  stream_->close_after_write(2000);
}

// ---------------------------------------------------------------- responses

int HTTP1Connection::set_status(int code, std::string_view reason) {
  ResponseState& o = req_.out;
  if (o.finished) return fail(kState, "response already finished");
  if (o.enc.started()) return fail(kState, "headers already sent");
  o.status = code;
  o.reason.assign(reason.data(), reason.size());
  return closed_ ? fail(kClosed, "client connection closed") : kOk;
}

int HTTP1Connection::add_header(std::string_view name, std::string_view value) {
  ResponseState& o = req_.out;
  if (o.finished) return fail(kState, "response already finished");
  if (o.enc.started()) return fail(kState, "headers already sent");
  if (iequals(name, "Content-Length")) {
    if (value.empty() || value.size() > 18) return fail(kInval, "invalid Content-Length value");
    uint64_t v = 0;
    for (char ch : value) {
      if (ch < '0' || ch > '9') return fail(kInval, "invalid Content-Length value");
      v = v * 10 + uint64_t(ch - '0');
    }
    if (o.declared_length >= 0) return fail(kInval, "Content-Length already set");
    o.declared_length = int64_t(v);
  } else if (iequals(name, "Transfer-Encoding")) {
    return fail(kInval, "squall frames responses itself; do not set Transfer-Encoding");
  } else if (iequals(name, "Date")) {
    o.has_date = true;
  } else if (iequals(name, "Server")) {
    o.has_server = true;
  } else if (iequals(name, "Connection")) {
    o.has_connection = true;
    if (has_token(value, "close")) o.conn_close_header = true;
  }
  std::string& f = o.fields;
  f.append(name.data(), name.size());
  f.append(": ", 2);
  f.append(value.data(), value.size());
  f.append("\r\n", 2);
  return closed_ ? fail(kClosed, "client connection closed") : kOk;
}

int HTTP1Connection::write(const char* data, size_t len) {
  if (req_.out.finished) return fail(kState, "response already finished");
  if (is_closed()) return fail(kClosed, "client connection closed");
  req_.out.body.append(data, len);
  return kOk;
}

bool HTTP1Connection::decide_keep_alive() const {
  // Tornado's HTTP1Connection._can_keep_alive, plus squall's own reasons.
  if (eof_ || body_unread_ || req_.out.conn_close_header) return false;
  if (params_->no_keep_alive || delegate_->draining()) return false;
  const RequestHead& h = req_.head;
  if (h.connection_close) return false;
  if (h.version == 11) return true;
  return h.connection_keep_alive;
}

void HTTP1Connection::begin_response(int64_t final_len) {
  ResponseEncoder::Exchange x;
  x.version = req_.head.version;
  x.head_request = req_.head.method == "HEAD";
  x.keep_alive = decide_keep_alive();
  x.date = loop_->http_date();
  x.server = params_->server;
  req_.out.enc.begin(out_, req_.out.head(), x, final_len);
  keep_alive_ = req_.out.enc.keep_alive();
}

int HTTP1Connection::flush(std::function<void(int)> done) {
  ResponseState& o = req_.out;
  if (o.finished) return fail(kState, "response already finished");
  if (closed_) {
    if (done) loop_->add_callback([done] { done(kClosed); });
    return fail(kClosed, "client connection closed");
  }
  if (!o.enc.started()) begin_response(-1);
  o.enc.body(out_, o.body);
  o.body.clear();
  flush_out(std::move(done));
  return kOk;
}

int HTTP1Connection::finish() {
  ResponseState& o = req_.out;
  if (o.finished) return fail(kState, "response already finished");
  o.finished = true;
  int ret = kOk;
  if (is_closed() || detached_) {
    ret = fail(kClosed, "client connection closed");
  } else {
    std::string_view tail;
    if (!o.enc.started()) {
      begin_response(int64_t(o.body.size()));
      // A large whole body goes out by reference after the head (one
      // writev, no copy).
      if (o.body.size() >= ResponseEncoder::kCopyLimit)
        tail = o.enc.body_ref(o.body);
      else
        o.enc.body(out_, o.body);
    } else {
      o.enc.body(out_, o.body);
    }
    if (!o.enc.end(out_)) {
      // Tornado raises HTTPOutputError; the framing is broken, so close.
      report(kErrApplication, o.status, "response body does not match its Content-Length");
      keep_alive_ = false;
    }
    if (!tail.empty()) flush_out(nullptr, tail);
    o.body.clear();
  }
  end_request();
  return ret;
}

void HTTP1Connection::end_request() {
  Request& r = req_;
  bool was_dispatched = r.app.dispatched;
  const bool gone = is_closed() || detached_;  // closed, closing or aborted
  int status_sent = gone ? 0 : r.out.status;
  if (status_sent) {
    int cls = status_sent / 100;
    counters_->add(cls <= 1   ? kStat1xx
                   : cls == 2 ? kStat2xx
                   : cls == 3 ? kStat3xx
                   : cls == 4 ? kStat4xx
                              : kStat5xx);
  }
  if (delegate_->wants_finished()) {
    uint64_t dur = uint64_t(std::max<int64_t>(0, monotonic_us() - r.start_mono_us));
    delegate_->request_finished(r, status_sent, r.out.enc.wire_bytes(), dur,
                                stream_ ? std::string_view(stream_->peer()) : std::string_view());
  }
  if (!gone) {
    if (r.out.on_done && !r.out.done_fired) {
      r.out.done_fired = true;
      out_dones_.push_back(std::move(r.out.on_done));
    }
    bool keep = keep_alive_;
    r.reset();
    body_unread_ = false;
    if (!keep) {
      state_ = kClosing;
      flush_out();
      stream_->close_after_write(eof_ ? 0 : 2000);
    } else {
      state_ = kIdle;
      arm_timer(params_->idle_timeout_ms);
      if (delegate_->draining()) {
        flush_out();
        state_ = kClosing;
        stream_->close_after_write(0);
      } else if (!in_batch_ && params_->defer_writes) {
        // Pull dispatch: hand over the next buffered request first; this
        // response leaves with the burst's (process() or defer_flush()).
        stream_->resume_reading();
        if (!stream_->read_buffer().empty()) {
          process();
        } else {
          flush_out();
          stream_->read_buffer().release(loop_);
        }
      } else if (!in_batch_) {
        flush_out();
        stream_->resume_reading();
        if (!stream_->read_buffer().empty())
          process();
        else
          stream_->read_buffer().release(loop_);
      }
    }
  } else {
    // Closed, closing or aborted: the done callback learns it now (the
    // stream's close callback will find the request already reset).
    if (r.out.on_done && !r.out.done_fired) {
      r.out.done_fired = true;
      loop_->add_callback([d = std::move(r.out.on_done)] { d(kClosed); });
    }
    r.reset();
  }
  if (was_dispatched) unref();
}

void HTTP1Connection::flush_out(std::function<void(int)> done, std::string_view tail) {
  if (done) out_dones_.push_back(std::move(done));
  if (out_.empty() && tail.empty() && out_dones_.empty()) return;
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
  counters_->add(kStatBytesOut, out_.size() + tail.size());
  iovec iov[2] = {{out_.data(), out_.size()}, {const_cast<char*>(tail.data()), tail.size()}};
  stream_->writev(iov, tail.empty() ? 1 : 2, std::move(cb));
  if (stream_->write_buffer_size() != 0) watch_writes();
  out_.clear();
  if (out_.capacity() > 65536) out_.shrink_to_fit();
}

void HTTP1Connection::defer_flush() {
  if (out_.empty() && out_dones_.empty()) return;
  if (flush_deferred_) return;
  flush_deferred_ = true;
  ref();
  loop_->before_wait(&HTTP1Connection::deferred_flush, this);
}

void HTTP1Connection::deferred_flush(void* arg) {
  auto* c = static_cast<HTTP1Connection*>(arg);
  c->flush_deferred_ = false;
  c->flush_out();
  c->unref();
}

void HTTP1Connection::set_on_done(std::function<void(int)> fn) {
  if (closed_ || detached_) {
    req_.out.done_fired = true;
    loop_->add_callback([fn] { fn(kClosed); });
    return;
  }
  req_.out.on_done = std::move(fn);
}

int HTTP1Connection::detach(IOStreamPtr* out) {
  ResponseState& o = req_.out;
  if (!req_.app.dispatched || o.finished) return fail(kState, "request is not being handled");
  if (o.enc.started()) return fail(kState, "response already started");
  // squall.h: "before any response call" -- status, header or body bytes
  // given for this request would be silently dropped by a detach.
  if (o.status != 200 || !o.reason.empty() || !o.fields.empty() || !o.body.empty())
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
  if (write_timer_added_) event_del(&write_timer_);
  write_timer_added_ = false;
  delegate_->connection_closed(this);
  o.finished = true;
  if (o.on_done && !o.done_fired) {
    o.done_fired = true;
    auto d = std::move(o.on_done);
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
  if (req_.out.finished) return;
  if (!closed_ && stream_) {
    report(kErrApplication, 0, "response aborted by the application");
    close_now(kClosed);
  }
  finish();
}

void HTTP1Connection::owner_gone() {
  delegate_ = &orphanage;
  counters_ = &orphanage.counters();
  params_ = &orphan_params;
  close_now(kClosed);
}

void HTTP1Connection::on_stream_closed(int err) {
  if (closed_.exchange(true)) return;
  arm_timer(0);
  if (write_timer_added_) event_del(&write_timer_);
  write_timer_added_ = false;
  delegate_->connection_closed(this);
  const char* tls_failed = tls_ && stream_ ? stream_->transport().tls_failure() : nullptr;
  if (tls_failed) {
    counters_->add(kStatTLSHandshakeFailures);
    report(kErrTLS, 0, tls_failed);
  } else if (err != 0 && err != kClosed && (state_ != kIdle || req_.app.dispatched)) {
    // The transport failed under a request (not a clean end): say so.
    report(kErrIO, 0, std::string("connection lost: ") + status_text(err));
  }
  Request& r = req_;
  if (r.app.dispatched && !r.out.finished && r.out.on_done && !r.out.done_fired) {
    r.out.done_fired = true;
    auto d = std::move(r.out.on_done);
    r.out.on_done = nullptr;
    d(kClosed);
  }
  r.drop_body_sink();
  auto dones = std::move(out_dones_);
  out_dones_.clear();
  for (auto& d : dones) d(kClosed);
  unref();  // the stream side's reference
}

}  // namespace squall::http
