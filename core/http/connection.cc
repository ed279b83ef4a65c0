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

RequestPool::~RequestPool() {
  while (auto* b = static_cast<HTTP1Connection::Block*>(head)) {
    head = b->next;
    delete b;
  }
}

void HTTP1Connection::put_block() {
  Block* b = b_;
  b_ = nullptr;
  if (delegate_ == &orphanage)
    delete b;  // shared by every thread: no pool
  else
    Block::put(delegate_->request_pool, b);
}

HTTP1Connection::Block& HTTP1Connection::blk() {
  if (!b_) {
    b_ = Block::take(delegate_->request_pool);
    b_->req.conn = this;
  }
  return *b_;
}

// Idle (between requests, nothing of the next one read) and no request the
// application holds: the block goes back to the pool.
void HTTP1Connection::give_back() {
  if (!b_ || state_ != kIdle || b_->req.app.dispatched || !b_->out.empty() ||
      !b_->out_dones.empty())
    return;
  put_block();
}

// Closed: the block is reset and given back, unless the application still
// holds its request (then it goes with the connection).
void HTTP1Connection::drop_block() {
  if (!b_ || b_->req.app.dispatched) return;
  b_->req.reset();
  b_->head_parser.reset();
  b_->gzip.reset();
  b_->out.clear();
  b_->out_dones.clear();
  put_block();
}

HTTP1Connection::HTTP1Connection(const ConnectionParams* params, ConnectionDelegate* delegate,
                                 IOStreamPtr stream)
    : params_(params),
      delegate_(delegate),
      counters_(&delegate->counters()),
      loop_(stream->loop()),
      token_(loop_->token()),
      stream_(std::move(stream)) {
  evtimer_assign(&timer_, loop_->base(), &HTTP1Connection::on_timer, this);
  tls_ = stream_->transport().is_tls();
}

HTTP1Connection::~HTTP1Connection() {
  if (timer_added_ && token_->loop) event_del(&timer_);
  delegate_->connection_destroyed(this);
  delete b_;
}

void HTTP1Connection::start() {
  delegate_->connection_opened(this);
  stream_->set_client(this);
  if (params_->nodelay && !params_->nodelay_inherited) stream_->set_nodelay(true);
  // Backpressure: a client that pipelines without reading its responses
  // stops being read once 256 KiB of answers wait; reading resumes below
  // 64 KiB.
  stream_->set_write_limits(0, kOutHigh, kOutLow, nullptr);  // drain: stream_drained
  arm_timer(params_->header_timeout_ms);
}

void HTTP1Connection::report(int kind, int status, std::string_view msg) {
  delegate_->report(kind, status, msg, stream_ ? std::string_view(stream_->peer()) : "");
}

bool HTTP1Connection::idle() const {
  return state_ == kIdle && (!stream_ || stream_->read_buffer().empty()) &&
         !(b_ && b_->req.app.dispatched);
}

// The one timer of the connection is lazy, as nginx's: a later deadline
// only moves deadline_us_ (or write_deadline_us_), and the timer, when it
// fires early, sleeps again for the rest.  Keep-alive requests then cost
// no event_add each (re-arming the idle timeout per response did).
void HTTP1Connection::arm_timer(int64_t ms) {
  deadline_us_ = ms > 0 ? monotonic_us() + ms * 1000 : 0;
  rearm_timer();
}

// Make the timer fire by the earlier deadline (none: remove it).
void HTTP1Connection::rearm_timer() {
  int64_t next = deadline_us_;
  if (write_deadline_us_ && (!next || write_deadline_us_ < next)) next = write_deadline_us_;
  if (!next) {
    if (timer_added_) event_del(&timer_);
    timer_added_ = false;
    return;
  }
  if (timer_added_ && fire_us_ <= next) return;  // fires first, then re-arms
  int64_t us = std::max<int64_t>(0, next - monotonic_us());
  timeval tv{time_t(us / 1000000), suseconds_t(us % 1000000)};
  event_add(&timer_, &tv);
  timer_added_ = true;
  fire_us_ = next;
}

void HTTP1Connection::on_timer(evutil_socket_t, short, void* arg) {
  auto* c = static_cast<HTTP1Connection*>(arg);
  c->timer_added_ = false;
  if (c->closed_) return;
  const int64_t now = monotonic_us();
  if (c->write_deadline_us_ && c->write_deadline_us_ <= now) {
    // The write-stall timeout (nginx's send_timeout): output that waits in
    // the stream must make progress within write_timeout_ms, or the client
    // is gone in all but name and the connection is closed.
    c->write_deadline_us_ = 0;
    if (c->stream_ && c->stream_->write_buffer_size() != 0) {
      if (c->stream_->bytes_written() == c->written_seen_) {
        c->counters_->add(kStatTimeouts);
        c->report(kErrTimeout, 0, "write timeout: the client stopped reading");
        c->close_now(kTimedOut);
        return;
      }
      c->watch_writes();  // progress: another period
    }
  }
  if (c->deadline_us_ && c->deadline_us_ <= now) {
    c->deadline_us_ = 0;
    switch (c->state_) {
      case kIdle:
        if (c->stream_->read_buffer().empty()) {
          // Nothing of a next request: a quiet close (Tornado's idle timeout).
          c->counters_->add(kStatTimeouts);
          c->report(kErrTimeout, 0, "idle connection timeout");
          c->state_ = kClosing;
          c->stream_->close_after_write(0);
          break;
        }
        c->timed_out("header timeout");
        break;
      case kHead: c->timed_out("header timeout"); break;
      case kBody: c->timed_out("body timeout"); break;
      default: break;  // the application is working on a request: no timeout
    }
  }
  if (!c->closed_) c->rearm_timer();
}

// Armed when a write leaves bytes queued; each firing with progress
// re-arms it (on_timer).
void HTTP1Connection::watch_writes() {
  if (write_deadline_us_ || params_->write_timeout_ms <= 0 || !stream_ ||
      stream_->write_buffer_size() == 0)
    return;
  written_seen_ = stream_->bytes_written();
  write_deadline_us_ = monotonic_us() + params_->write_timeout_ms * 1000;
  rearm_timer();
}

void HTTP1Connection::timed_out(const char* what) {
  counters_->add(kStatTimeouts);
  reject(408, what, kErrTimeout);
}

void HTTP1Connection::stream_data(int ev) {
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

void HTTP1Connection::stream_drained() {
  if (closed_ || state_ == kHandling || state_ == kClosing) return;
  stream_->resume_reading();
  process();
}

void HTTP1Connection::process() {
  ref();
  in_batch_ = true;
  while (!closed_) {
    ReadBuffer& rb = stream_->read_buffer();
    if (b_ && b_->out.size() > kOutLow) flush_out();
    if (stream_->write_buffer_size() > kOutHigh) {
      stream_->pause_reading();  // stream_drained picks up from here
      break;
    }
    if (state_ == kIdle || state_ == kHead) {
      if (rb.empty()) break;
      ParseError err;
      Block& b = blk();
      long r = b.head_parser.parse(rb.data(), rb.size(), params_->limits, &b.req.head, &err);
      if (r == 0) {
        if (state_ == kIdle) {
          state_ = kHead;
          b.req.start_mono_us = monotonic_us();
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
      arm_timer(b_->req.body_timeout_ms);
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
    if (state_ == kIdle && stream_ && stream_->read_buffer().empty()) {
      stream_->read_buffer().release(loop_);
      give_back();
    }
  }
  unref();
}

void HTTP1Connection::apply_xheaders() {
  // Tornado's _apply_xheaders: X-Real-IP, else the last X-Forwarded-For hop
  // not in trusted_downstream; X-Scheme, else X-Forwarded-Proto.
  std::string_view v;
  std::string_view ip;
  bool have_xff = false;
  for (auto& h : b_->req.head.headers) {
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
  if (b_->req.head.get("X-Real-IP", &v)) ip = trim(v);
  if (!ip.empty() && valid_ip(ip)) b_->req.remote_ip.assign(ip.data(), ip.size());
  std::string_view proto;
  if (b_->req.head.get("X-Scheme", &v) || b_->req.head.get("X-Forwarded-Proto", &v)) {
    size_t c2 = v.rfind(',');
    proto = trim(c2 == std::string_view::npos ? v : v.substr(c2 + 1));
    if (iequals(proto, "http"))
      b_->req.protocol = "http";
    else if (iequals(proto, "https"))
      b_->req.protocol = "https";
  }
}

void HTTP1Connection::start_request(size_t head_size) {
  ReadBuffer& rb = stream_->read_buffer();
  b_->head_parser.reset();
  served_ = true;
  if (state_ == kIdle) {
    // The whole head in one read: it started now.
    b_->req.start_mono_us = monotonic_us();
    b_->req.start_wall_us = wall_us();
  } else {
    b_->req.start_wall_us = wall_us() - (monotonic_us() - b_->req.start_mono_us);
  }
  RequestHead& h = b_->req.head;
  b_->req.host = !h.authority.empty() ? h.authority : h.host;
  {
    std::string_view hn = b_->req.host;
    if (!hn.empty() && hn.front() == '[') {
      size_t e = hn.find(']');
      if (e != std::string_view::npos) hn = hn.substr(0, e + 1);
    } else {
      size_t c = hn.rfind(':');
      if (c != std::string_view::npos) hn = hn.substr(0, c);
    }
    b_->req.host_name = hn;
  }
  b_->req.adopt_head(rb.data(), head_size);
  rb.consume(head_size);
  counters_->add(kStatBytesIn, head_size);
  counters_->add(kStatRequests);
  state_ = kHead;

  b_->req.version = h.version == 10 ? "HTTP/1.0" : "HTTP/1.1";
  if (stream_->peer_is_local())
    b_->req.remote_ip = "127.0.0.1";
  else
    b_->req.remote_ip = stream_->peer_ip();
  if (tls_) {
    // The transport keeps its TLSInfo once made, as long as the stream.
    b_->req.tls = stream_->transport().tls_info().get();
    b_->req.protocol = "https";
  } else {
    b_->req.tls = nullptr;  // the block may have served a TLS connection before
    b_->req.protocol = "http";
  }
  if (params_->xheaders) apply_xheaders();
  b_->req.max_body_size = params_->max_body_size;
  b_->req.body_timeout_ms = params_->body_timeout_ms;
  bool has_body = h.chunked || h.content_length > 0;
  body_unread_ = has_body;
  body_error_ = false;

  if (delegate_->wants_headers()) {
    ref();
    b_->req.app.in_hook = true;
    delegate_->headers_received(&b_->req);
    b_->req.app.in_hook = false;
    bool gone = closed_ || detached_;
    // A response finished inside the hook has already ended (and reset)
    // the request: end_request moved the state on from kHead.
    bool answered = state_ != kHead || !b_ || b_->req.out.finished || b_->req.app.finished.load();
    unref();
    if (gone || answered) return;
  }
  if (!has_body) {
    body_unread_ = false;
    dispatch();
    return;
  }
  if (h.has_content_length && h.content_length > b_->req.max_body_size) {
    reject(413, "body larger than max_body_size", kErrLimit);
    return;
  }
  // 100-continue only now that the body will be read (RFC 9110 10.1.1).
  if (h.expect_continue && h.version == 11) {
    ResponseEncoder::interim(b_->out, 100);
    counters_->add(kStat1xx);
  }
  state_ = kBody;
  b_->body_received = b_->body_decoded = 0;
  if (h.chunked)
    b_->chunked.reset();
  else if (h.content_length <= (1u << 20))
    b_->req.body.reserve(size_t(h.content_length));
  b_->gzip.reset();
  if (params_->decompress_request) {
    for (auto& f : h.headers) {
      if (iequals(f.name, "Content-Encoding") && iequals(trim(f.value), "gzip")) {
        b_->gzip = std::make_unique<GzipDecoder>();
        // Tornado renames it so the application knows it was decoded.
        f.name = "X-Consumed-Content-Encoding";
      }
    }
  }
  arm_timer(b_->req.body_timeout_ms);
  if (!rb.empty()) read_body();
}

void HTTP1Connection::body_sink(void* ctx, const char* data, size_t len) {
  static_cast<HTTP1Connection*>(ctx)->deliver_body(data, len);
}

bool HTTP1Connection::read_body() {
  ReadBuffer& rb = stream_->read_buffer();
  if (b_->req.head.chunked) {
    size_t consumed = 0;
    ParseError err;
    auto res =
        b_->chunked.feed(rb.data(), rb.size(), &consumed, &HTTP1Connection::body_sink, this, &err);
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
    if (!b_->gzip && b_->chunked.remaining() > b_->req.max_body_size - b_->body_decoded) {
      reject(413, "chunked body larger than max_body_size", kErrLimit);
      return false;
    }
    if (res == ChunkedDecoder::kNeedMore) return false;
  } else {
    uint64_t remaining = b_->req.head.content_length - b_->body_received;
    size_t n = size_t(std::min<uint64_t>(remaining, rb.size()));
    b_->body_received += n;
    deliver_body(rb.data(), n);
    if (closed_ || state_ != kBody) return false;
    rb.consume(n);
    counters_->add(kStatBytesIn, n);
    if (body_error_) return false;
    if (b_->body_received < b_->req.head.content_length) return false;
  }
  if (b_->gzip && !b_->gzip->done()) {
    reject(400, "truncated gzip body", kErrParse);
    return false;
  }
  dispatch();
  return true;
}

void HTTP1Connection::deliver_body(const char* data, size_t len) {
  if (body_error_ || len == 0) return;
  if (b_->gzip) {
    b_->gz_out.clear();
    uint64_t room = b_->req.max_body_size - std::min(b_->req.max_body_size, b_->body_decoded);
    int r = b_->gzip->feed(data, len, &b_->gz_out, size_t(std::min<uint64_t>(room, SIZE_MAX)));
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
    deliver_plain(b_->gz_out.data(), b_->gz_out.size());
    return;
  }
  deliver_plain(data, len);
}

void HTTP1Connection::deliver_plain(const char* data, size_t len) {
  if (len == 0 || body_error_) return;
  b_->body_decoded += len;
  if (b_->body_decoded > b_->req.max_body_size) {
    body_error_ = true;
    reject(413, "body larger than max_body_size", kErrLimit);
    return;
  }
  if (b_->req.body_sink) {
    size_t chunk = std::max<size_t>(params_->chunk_size, 1);
    while (len > 0 && !body_error_) {
      size_t n = std::min(len, chunk);
      int r = b_->req.body_sink(data, n);
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
  b_->req.body.append(data, len);
}

void HTTP1Connection::dispatch() {
  state_ = kHandling;
  body_unread_ = false;
  b_->gzip.reset();
  // The stream_body sink has seen its last piece.
  b_->req.drop_body_sink();
  b_->req.app.dispatched = true;
  ref();  // the application's reference, dropped when it finishes
  delegate_->request_received(&b_->req);
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
  Block& b = blk();
  b.head_parser.reset();
  ResponseEncoder::simple(b.out, status, loop_->http_date(), params_->server);
  // The request (if any) was never dispatched: drop its body sink.
  b.req.drop_body_sink();
  flush_out();
  // Lingering close so the client reads the answer even while it still
  // sends (413 before the body; nginx's lingering_close).
  stream_->close_after_write(2000);
}

// ---------------------------------------------------------------- responses

int HTTP1Connection::set_status(int code, std::string_view reason) {
  if (!b_) return fail(kState, "response already finished");
  ResponseState& o = b_->req.out;
  if (o.finished) return fail(kState, "response already finished");
  if (o.enc.started()) return fail(kState, "headers already sent");
  o.status = code;
  if (!reason.empty() || !o.reason.empty()) o.reason.assign(reason.data(), reason.size());
  return closed_ ? fail(kClosed, "client connection closed") : kOk;
}

int HTTP1Connection::add_header(std::string_view name, std::string_view value) {
  if (!b_) return fail(kState, "response already finished");
  ResponseState& o = b_->req.out;
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
  if (!b_) return fail(kState, "response already finished");
  if (b_->req.out.finished) return fail(kState, "response already finished");
  if (is_closed()) return fail(kClosed, "client connection closed");
  b_->req.out.body.append(data, len);
  return kOk;
}

bool HTTP1Connection::decide_keep_alive() const {
  // Tornado's HTTP1Connection._can_keep_alive, plus squall's own reasons.
  if (eof_ || body_unread_ || b_->req.out.conn_close_header) return false;
  if (params_->no_keep_alive || delegate_->draining()) return false;
  const RequestHead& h = b_->req.head;
  if (h.connection_close) return false;
  if (h.version == 11) return true;
  return h.connection_keep_alive;
}

void HTTP1Connection::begin_response(int64_t final_len, std::string_view content_type) {
  ResponseEncoder::Exchange x;
  x.version = b_->req.head.version;
  x.head_request = b_->req.head.method == "HEAD";
  x.keep_alive = decide_keep_alive();
  x.date = loop_->http_date();
  x.server = params_->server;
  ResponseEncoder::Head h = b_->req.out.head();
  h.content_type = content_type;
  b_->req.out.enc.begin(b_->out, h, x, final_len);
  keep_alive_ = b_->req.out.enc.keep_alive();
}

int HTTP1Connection::flush(std::function<void(int)> done) {
  if (!b_) return fail(kState, "response already finished");
  ResponseState& o = b_->req.out;
  if (o.finished) return fail(kState, "response already finished");
  if (closed_) {
    if (done) loop_->add_callback([done] { done(kClosed); });
    return fail(kClosed, "client connection closed");
  }
  if (!o.enc.started()) begin_response(-1);
  o.enc.body(b_->out, o.body);
  o.body.clear();
  flush_out(std::move(done));
  return kOk;
}

int HTTP1Connection::finish() { return finish({}, {}); }

int HTTP1Connection::finish(std::string_view content_type, std::string_view body) {
  if (!b_) return fail(kState, "response already finished");
  ResponseState& o = b_->req.out;
  if (o.finished) return fail(kState, "response already finished");
  if ((!content_type.empty() || !body.empty()) &&
      (o.enc.started() || !o.body.empty() || body.size() >= ResponseEncoder::kCopyLimit)) {
    // Not the one-piece case: the general path, with the same results.
    int rc = content_type.empty() ? kOk : add_header("Content-Type", content_type);
    if (rc == kOk && !body.empty()) rc = write(body.data(), body.size());
    int r = finish();
    return rc == kOk ? r : rc;
  }
  o.finished = true;
  int ret = kOk;
  if (is_closed() || detached_) {
    ret = fail(kClosed, "client connection closed");
  } else {
    std::string_view tail;
    const std::string_view b = body.empty() ? std::string_view(o.body) : body;
    if (!o.enc.started()) {
      begin_response(int64_t(b.size()), content_type);
      // A large whole body goes out by reference after the head (one
      // writev, no copy).
      if (b.size() >= ResponseEncoder::kCopyLimit)
        tail = o.enc.body_ref(b);
      else
        o.enc.body(b_->out, b);
    } else {
      o.enc.body(b_->out, b);
    }
    if (!o.enc.end(b_->out)) {
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
  Request& r = b_->req;
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
      b_->out_dones.push_back(std::move(r.out.on_done));
    }
    bool keep = keep_alive_;
    // Lingering close (half-close, drain, then close) only when the client
    // may still be sending: an unread body or bytes after this request.
    // Otherwise close at once, as nginx does (lingering_close on): a client
    // that sent one request and waits gets its response and a FIN.
    bool more_input = body_unread_ || !stream_->read_buffer().empty();
    r.reset();
    body_unread_ = false;
    if (!keep) {
      state_ = kClosing;
      flush_out();
      stream_->close_after_write(eof_ || !more_input ? 0 : 2000);
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
          give_back();
        }
      } else if (!in_batch_) {
        flush_out();
        stream_->resume_reading();
        if (!stream_->read_buffer().empty()) {
          process();
        } else {
          stream_->read_buffer().release(loop_);
          give_back();
        }
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
    if (closed_ && !in_batch_) drop_block();  // the stream's close callback has run
  }
  if (was_dispatched) unref();
}

void HTTP1Connection::flush_out(std::function<void(int)> done, std::string_view tail) {
  if (!b_ && !done && tail.empty()) return;  // nothing of a request: nothing to write
  if (done) blk().out_dones.push_back(std::move(done));
  if (b_->out.empty() && tail.empty() && b_->out_dones.empty()) return;
  if (closed_ || !stream_ || stream_->closed()) {
    auto dones = std::move(b_->out_dones);
    b_->out_dones.clear();
    b_->out.clear();
    for (auto& d : dones) loop_->add_callback([d] { d(kClosed); });
    return;
  }
  IOStream::DoneCallback cb;
  if (!b_->out_dones.empty()) {
    if (b_->out_dones.size() == 1) {
      cb = std::move(b_->out_dones[0]);
    } else {
      auto v = std::make_shared<std::vector<std::function<void(int)>>>(std::move(b_->out_dones));
      cb = [v](int st) {
        for (auto& d : *v) d(st);
      };
    }
    b_->out_dones.clear();
  }
  counters_->add(kStatBytesOut, b_->out.size() + tail.size());
  iovec iov[2] = {{b_->out.data(), b_->out.size()}, {const_cast<char*>(tail.data()), tail.size()}};
  stream_->writev(iov, tail.empty() ? 1 : 2, std::move(cb));
  if (stream_->write_buffer_size() != 0) watch_writes();
  b_->out.clear();
  if (b_->out.capacity() > 65536) b_->out.shrink_to_fit();
}

void HTTP1Connection::defer_flush() {
  if (!b_ || (b_->out.empty() && b_->out_dones.empty())) return;
  if (flush_deferred_) return;
  flush_deferred_ = true;
  ref();
  loop_->before_wait(&HTTP1Connection::deferred_flush, this);
}

void HTTP1Connection::deferred_flush(void* arg) {
  auto* c = static_cast<HTTP1Connection*>(arg);
  c->flush_deferred_ = false;
  c->flush_out();
  // The burst is out: an idle connection gives its request block back.
  if (!c->closed_ && c->state_ == kIdle) c->give_back();
  c->unref();
}

void HTTP1Connection::set_on_done(std::function<void(int)> fn) {
  if (!b_ || closed_ || detached_) {
    if (b_) b_->req.out.done_fired = true;
    loop_->add_callback([fn] { fn(kClosed); });
    return;
  }
  b_->req.out.on_done = std::move(fn);
}

int HTTP1Connection::detach(IOStreamPtr* out) {
  if (!b_) return fail(kState, "request is not being handled");
  ResponseState& o = b_->req.out;
  if (!b_->req.app.dispatched || o.finished) return fail(kState, "request is not being handled");
  if (o.enc.started()) return fail(kState, "response already started");
  // squall.h: "before any response call" -- status, header or body bytes
  // given for this request would be silently dropped by a detach.
  if (o.status != 200 || !o.reason.empty() || !o.fields.empty() || !o.body.empty())
    return fail(kState, "a response was already begun");
  if (closed_) return fail(kClosed, "client connection closed");
  flush_out();
  IOStreamPtr s = stream_;
  s->set_client(nullptr);
  s->set_write_limits(0, 0, 0, nullptr);
  s->resume_reading();
  detached_ = true;
  closed_ = true;
  write_deadline_us_ = 0;
  arm_timer(0);
  delegate_->connection_closed(this);
  o.finished = true;
  if (o.on_done && !o.done_fired) {
    o.done_fired = true;
    auto d = std::move(o.on_done);
    loop_->add_callback([d] { d(kOk); });
  }
  b_->req.reset();
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
  if (!b_ || b_->req.out.finished) return;
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

void HTTP1Connection::stream_closed(int err) {
  if (closed_.exchange(true)) return;
  write_deadline_us_ = 0;
  arm_timer(0);
  delegate_->connection_closed(this);
  const bool dispatched = b_ && b_->req.app.dispatched;
  const char* tls_failed = tls_ && stream_ ? stream_->transport().tls_failure() : nullptr;
  if (tls_failed) {
    counters_->add(kStatTLSHandshakeFailures);
    report(kErrTLS, 0, tls_failed);
  } else if (err != 0 && err != kClosed && (state_ != kIdle || dispatched)) {
    // The transport failed under a request (not a clean end): say so.
    report(kErrIO, 0, std::string("connection lost: ") + status_text(err));
  }
  if (b_) {
    Request& r = b_->req;
    if (dispatched && !r.out.finished && r.out.on_done && !r.out.done_fired) {
      r.out.done_fired = true;
      auto d = std::move(r.out.on_done);
      r.out.on_done = nullptr;
      d(kClosed);
    }
    r.drop_body_sink();
    auto dones = std::move(b_->out_dones);
    b_->out_dones.clear();
    for (auto& d : dones) d(kClosed);
    drop_block();
  }
  unref();  // the stream side's reference
}

}  // namespace squall::http
