// Counterpart of tornado/iostream.py (BaseIOStream, IOStream).
#include "core/iostream.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>

#include "core/status.h"

namespace squall {

// ------------------------------------------------------------ ReadBuffer

ReadBuffer::~ReadBuffer() { free(buf_); }

void ReadBuffer::consume(size_t n) {
  start_ += n;
  if (start_ >= end_) start_ = end_ = 0;
}

char* ReadBuffer::prepare(IOLoop* loop, size_t min_free, size_t* avail) {
  if (!buf_) {
    if (min_free <= IOLoop::kBlockSize && loop) {
      buf_ = loop->take_block();
      cap_ = IOLoop::kBlockSize;
      pooled_ = true;
    } else {
      cap_ = std::max(min_free, IOLoop::kBlockSize);
      buf_ = static_cast<char*>(malloc(cap_));
      pooled_ = false;
    }
    if (!buf_) {
      cap_ = 0;
      *avail = 0;
      return nullptr;
    }
  }
  if (cap_ - end_ < min_free && start_ > 0) {
    // Compact: move unread bytes to the front.
    size_t n = end_ - start_;
    memmove(buf_, buf_ + start_, n);
    start_ = 0;
    end_ = n;
  }
  if (cap_ - end_ < min_free) {
    size_t ncap = std::max(cap_ * 2, end_ + min_free);
    char* nb = static_cast<char*>(malloc(ncap));
    if (!nb) {
      *avail = cap_ - end_;
      return buf_ + end_;
    }
    memcpy(nb, buf_ + start_, end_ - start_);
    if (pooled_ && loop)
      loop->give_block(buf_);
    else
      free(buf_);
    end_ -= start_;
    start_ = 0;
    buf_ = nb;
    cap_ = ncap;
    pooled_ = false;
  }
  *avail = cap_ - end_;
  return buf_ + end_;
}

void ReadBuffer::release(IOLoop* loop) {
  if (!buf_ || end_ != start_) return;
  if (pooled_ && loop)
    loop->give_block(buf_);
  else
    free(buf_);
  buf_ = nullptr;
  cap_ = start_ = end_ = 0;
  pooled_ = false;
}

// ------------------------------------------------------------ IOStream

IOStream::IOStream(Key, IOLoop* loop, std::unique_ptr<Transport> t)
    : loop_(loop), transport_(std::move(t)) {
  transport_->set_handler(this);
  loop->register_object(this);
}

std::shared_ptr<IOStream> IOStream::create(IOLoop* loop, std::unique_ptr<Transport> t) {
  auto s = std::make_shared<IOStream>(Key(), loop, std::move(t));
  s->update_events();
  return s;
}

std::shared_ptr<IOStream> IOStream::create(IOLoop* loop, int fd, const sockaddr* peer,
                                           socklen_t peer_len) {
  auto t = std::make_unique<SocketTransport>(loop, fd);
  t->fill_peer(peer, peer_len);
  return create(loop, std::move(t));
}

IOStream::~IOStream() {
  transport_->set_handler(nullptr);
  transport_->close();
  if (linger_ev_) event_free(linger_ev_);
  if (loop_) {
    rbuf_.consume(rbuf_.size());
    rbuf_.release(loop_);
    loop_->unregister_object(this);
  }
}

IOStream::Pending& IOStream::pending() {
  if (!pending_) pending_ = std::make_unique<Pending>();
  return *pending_;
}

std::shared_ptr<IOStream> IOStream::connect(IOLoop* loop, const std::string& host, int port,
                                            DoneCallback cb, int* status) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string service = std::to_string(port);
  int r = getaddrinfo(host.c_str(), service.c_str(), &hints, &res);
  if (r != 0 || !res) {
    *status = fail(kNotFound, "cannot resolve host '" + host + "': " + gai_strerror(r));
    return nullptr;
  }
  int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    int e = errno;
    freeaddrinfo(res);
    set_error_errno("socket", e);
    *status = status_from_errno(e);
    return nullptr;
  }
  r = ::connect(fd, res->ai_addr, res->ai_addrlen);
  int e = errno;
  freeaddrinfo(res);
  if (r != 0 && e != EINPROGRESS) {
    ::close(fd);
    set_error_errno("connect", e);
    *status = kIO;
    return nullptr;
  }
  auto s = std::make_shared<IOStream>(Key(), loop, std::make_unique<SocketTransport>(loop, fd));
  s->connecting_ = true;
  s->pending().connect_cb = std::move(cb);
  s->update_events();
  *status = kOk;
  return s;
}

void IOStream::update_events() {
  if (closed_ || !loop_) return;
  bool rd, wr;
  if (connecting_) {
    rd = false;
    wr = true;
  } else {
    rd = (!reading_paused_ && !eof_) || write_wants_read_;
    wr = (wpending_ > 0 && !write_wants_read_) || read_wants_write_;
  }
  transport_->watch(rd, wr);
}

void IOStream::on_ready(bool readable, bool writable) {
  auto self = shared_from_this();
  if (connecting_) {
    handle_connect();
    return;
  }
  // A transport may need the other readiness to go on (TLS): retry the
  // operation that asked for it.
  bool do_write =
      (writable && wpending_ > 0 && !write_wants_read_) || (readable && write_wants_read_);
  bool do_read = (readable && !read_wants_write_) || (writable && read_wants_write_);
  if (do_write && !closed_) handle_write();
  if (do_read && !closed_) handle_read();
}

void IOStream::handle_connect() {
  connecting_ = false;
  DoneCallback cb = std::move(pending().connect_cb);
  pending_->connect_cb = nullptr;
  int st = transport_->connect_result();
  if (st != kOk) {
    close(st);
    if (cb) cb(st);
    return;
  }
  update_events();
  if (cb) cb(kOk);
}

void IOStream::handle_read() {
  bool got_eof = false;
  if (read_wants_write_) {
    read_wants_write_ = false;
    update_events();
  }
  for (int i = 0; i < 8; i++) {
    size_t avail = 0;
    char* p = rbuf_.prepare(loop_, 4096, &avail);
    if (!p || avail == 0) {
      close(kNoMem);
      return;
    }
    int err = 0;
    ssize_t n = transport_->read(p, avail, &err);
    if (n > 0) {
      rbuf_.commit(size_t(n));
      if (lingering_) rbuf_.consume(rbuf_.size());
      if (size_t(n) < avail) break;
      continue;
    }
    if (n == 0) {
      got_eof = true;
      break;
    }
    if (n == Transport::kWantRead) break;
    if (n == Transport::kWantWrite) {
      read_wants_write_ = true;
      update_events();
      break;
    }
    close(lingering_ ? 0 : err);
    return;
  }
  if (lingering_) {
    if (got_eof) close(0);
    return;
  }
  if (rbuf_.size() > max_buffer_size_) {
    set_error("read buffer exceeded max_buffer_size");
    fail_read(kTooBig);
    close(kTooBig);
    return;
  }
  if (got_eof) {
    eof_ = true;
    update_events();
  }
  if (Client* c = client_) {
    if (!rbuf_.empty() || !got_eof) c->stream_data(kData);
    if (got_eof && !closed_ && client_) client_->stream_data(kEof);
    return;
  }
  if (pending_ && pending_->raw_handler) {
    auto h = pending_->raw_handler;  // the handler may replace itself
    if (!rbuf_.empty() || !got_eof) h(kData);
    if (got_eof && !closed_ && pending_->raw_handler) pending_->raw_handler(kEof);
    return;
  }
  if (mode() != kNone) try_complete_read();
  if (eof_ && !closed_) {
    if (mode() != kNone) fail_read(kClosed);
    close(0);
  }
}

bool IOStream::try_complete_read() {
  if (mode() == kNone || closed_) return false;
  Pending& p = *pending_;
  const char* d = rbuf_.data();
  size_t n = rbuf_.size();
  switch (p.mode) {
    case kUntil: {
      size_t dl = p.delim.size();
      if (n >= dl) {
        size_t from = std::min(p.scan_from, n);
        const char* hit = nullptr;
        if (dl == 1) {
          hit = static_cast<const char*>(memchr(d + from, p.delim[0], n - from));
        } else {
          hit = static_cast<const char*>(memmem(d + from, n - from, p.delim.data(), dl));
        }
        if (hit) {
          size_t len = size_t(hit - d) + dl;
          if (p.max_bytes && len > p.max_bytes) {
            set_error("delimiter not found within max_bytes");
            fail_read(kTooBig);
            close(kTooBig);
            return true;
          }
          finish_read(kOk, std::string_view(d, len), len);
          return true;
        }
        p.scan_from = n - dl + 1;
      }
      if (p.max_bytes && n >= p.max_bytes) {
        set_error("delimiter not found within max_bytes");
        fail_read(kTooBig);
        close(kTooBig);
        return true;
      }
      return false;
    }
    case kBytes:
      if (n >= p.want) {
        finish_read(kOk, std::string_view(d, p.want), p.want);
        return true;
      }
      if (p.partial && n > 0) {
        finish_read(kOk, std::string_view(d, n), n);
        return true;
      }
      return false;
    case kUntilClose:
      if (eof_) {
        finish_read(kOk, std::string_view(d, n), n);
        return true;
      }
      return false;
    default: return false;
  }
}

void IOStream::finish_read(int status, std::string_view data, size_t consume) {
  ReadCallback cb = std::move(pending_->read_cb);
  pending_->read_cb = nullptr;
  pending_->mode = kNone;
  // The bytes stay in place until the next read into the buffer, which
  // cannot happen inside cb: consume first so cb may start a new read.
  rbuf_.consume(consume);
  if (cb) cb(status, data);
}

void IOStream::fail_read(int status) {
  if (mode() == kNone) return;
  ReadCallback cb = std::move(pending_->read_cb);
  pending_->read_cb = nullptr;
  pending_->mode = kNone;
  std::string_view data(rbuf_.data(), rbuf_.size());
  if (cb) cb(status, data);
}

// Common tail of the callback reads: never complete inside the registering
// call (Tornado resolves a future), try on the next loop pass.
int IOStream::start_read(int mode) {
  pending_->mode = ReadMode(mode);
  auto self = shared_from_this();
  loop_->add_callback([self, until_close = mode == kUntilClose] {
    bool done = self->try_complete_read();
    if (!self->eof_ || self->closed_) return;
    if (!done && self->mode() != kNone) {
      self->fail_read(kClosed);
      self->close(0);
    } else if (done && until_close) {
      self->close(0);
    }
  });
  return kOk;
}

int IOStream::read_until(std::string delim, size_t max_bytes, ReadCallback cb) {
  if (closed_ || !loop_) return fail(kClosed, "stream is closed");
  if (delim.empty()) return fail(kInval, "empty delimiter");
  if (mode() != kNone || raw()) return fail(kState, "a read is already pending");
  Pending& p = pending();
  p.delim = std::move(delim);
  p.max_bytes = max_bytes;
  p.scan_from = 0;
  p.read_cb = std::move(cb);
  return start_read(kUntil);
}

int IOStream::read_bytes(size_t n, bool partial, ReadCallback cb) {
  if (closed_ || !loop_) return fail(kClosed, "stream is closed");
  if (n == 0) return fail(kInval, "read_bytes of 0 bytes");
  if (mode() != kNone || raw()) return fail(kState, "a read is already pending");
  if (n > max_buffer_size_) return fail(kTooBig, "read_bytes larger than max_buffer_size");
  Pending& p = pending();
  p.want = n;
  p.partial = partial;
  p.read_cb = std::move(cb);
  return start_read(kBytes);
}

int IOStream::read_until_close(ReadCallback cb) {
  if (closed_ || !loop_) return fail(kClosed, "stream is closed");
  if (mode() != kNone || raw()) return fail(kState, "a read is already pending");
  pending().read_cb = std::move(cb);
  return start_read(kUntilClose);
}

void IOStream::set_read_handler(std::function<void(int)> h) {
  if (h || pending_) pending().raw_handler = std::move(h);
  update_events();
}

void IOStream::set_client(Client* c) {
  client_ = c;
  update_events();
}

void IOStream::set_close_callback(DoneCallback cb) {
  if (cb || pending_) pending().close_cb = std::move(cb);
}

void IOStream::pause_reading() {
  if (reading_paused_) return;
  reading_paused_ = true;
  update_events();
}

void IOStream::resume_reading() {
  if (!reading_paused_) return;
  reading_paused_ = false;
  update_events();
}

int IOStream::write(const char* data, size_t len, DoneCallback cb) {
  iovec iov{const_cast<char*>(data), len};
  return writev(&iov, 1, std::move(cb));
}

int IOStream::write_some(const struct iovec* iov, int n, size_t* written) {
  int err = 0;
  ssize_t r = transport_->writev(iov, n, &err);
  *written = r > 0 ? size_t(r) : 0;
  if (r == Transport::kWantRead) write_wants_read_ = true;
  return r == Transport::kFailed ? err : kOk;
}

int IOStream::writev(const struct iovec* iov, int n, DoneCallback cb) {
  if (closed_ || !loop_) return fail(kClosed, "stream is closed");
  if (lingering_ || close_after_write_) return fail(kClosed, "stream is closing");
  size_t total = 0;
  for (int i = 0; i < n; i++) total += iov[i].iov_len;
  if (wmax_ && wpending_ + total > wmax_) {
    return fail(kBusy, "write buffer full (max_write_buffer_size)");
  }
  size_t written = 0;
  if (wpending_ == 0 && !connecting_ && total > 0) {
    if (int err = write_some(iov, n, &written)) {
      // The stream fails: the callback learns it with the others.
      wqueued_total_ += total;
      if (cb) wq().cbs.emplace_back(wqueued_total_, std::move(cb));
      close(err);
      return kOk;
    }
  }
  return queue_remainder(iov, n, written, std::move(cb));
}

int IOStream::queue_remainder(const struct iovec* iov, int n, size_t skip, DoneCallback cb) {
  size_t total = 0;
  for (int i = 0; i < n; i++) total += iov[i].iov_len;
  wqueued_total_ += total;
  wdone_total_ += skip;
  if (skip < total) {
    std::string rest;
    rest.reserve(total - skip);
    for (int i = 0; i < n; i++) {
      size_t l = iov[i].iov_len;
      const char* p = static_cast<const char*>(iov[i].iov_base);
      if (skip >= l) {
        skip -= l;
        continue;
      }
      rest.append(p + skip, l - skip);
      skip = 0;
    }
    wpending_ += rest.size();
    WriteQueue& q = wq();
    if (q.head > 64 && q.head * 2 > q.bufs.size()) {
      q.bufs.erase(q.bufs.begin(), q.bufs.begin() + long(q.head));
      q.head = 0;
    }
    q.bufs.push_back(std::move(rest));
    if (whigh_ && wpending_ > whigh_) above_high_ = true;
    update_events();
  }
  if (cb) {
    wq().cbs.emplace_back(wqueued_total_, std::move(cb));
    if (wpending_ == 0) {
      auto self = shared_from_this();
      loop_->add_callback([self] { self->run_write_callbacks(); });
    }
  }
  return kOk;
}

void IOStream::handle_write() {
  if (write_wants_read_) {
    write_wants_read_ = false;
    update_events();
  }
  while (wpending_ > 0) {
    WriteQueue& q = *wq_;  // bytes wait: the queue exists
    iovec iov[64];
    int n = 0;
    size_t off = q.front_off;
    for (auto it = q.bufs.begin() + long(q.head); it != q.bufs.end() && n < 64; ++it) {
      iov[n].iov_base = const_cast<char*>(it->data()) + off;
      iov[n].iov_len = it->size() - off;
      off = 0;
      n++;
    }
    size_t r = 0;
    if (int err = write_some(iov, n, &r)) {
      close(err);
      return;
    }
    size_t left = r;
    wpending_ -= left;
    wdone_total_ += left;
    while (left > 0) {
      std::string& f = q.bufs[q.head];
      size_t avail = f.size() - q.front_off;
      if (left >= avail) {
        left -= avail;
        std::string().swap(f);
        if (++q.head == q.bufs.size()) {
          q.bufs.clear();
          q.head = 0;
        }
        q.front_off = 0;
      } else {
        q.front_off += left;
        left = 0;
      }
    }
    if (r == 0) break;
  }
  if (write_wants_read_) update_events();
  auto self = shared_from_this();
  if (above_high_ && wpending_ <= wlow_) {
    above_high_ = false;
    if (client_)
      client_->stream_drained();
    else if (pending_ && pending_->on_drain)
      pending_->on_drain();
  }
  run_write_callbacks();
  if (closed_) return;
  if (wpending_ == 0) {
    update_events();
    if (close_after_write_) close_after_write(linger_ms_);
  }
}

IOStream::WriteQueue& IOStream::wq() {
  if (!wq_) wq_ = std::make_unique<WriteQueue>();
  return *wq_;
}

void IOStream::run_write_callbacks() {
  if (!wq_) return;
  WriteQueue& q = *wq_;  // lives as long as the stream
  while (q.cbs_head < q.cbs.size() && q.cbs[q.cbs_head].first <= wdone_total_) {
    DoneCallback cb = std::move(q.cbs[q.cbs_head].second);
    if (++q.cbs_head == q.cbs.size()) {
      q.cbs.clear();
      q.cbs_head = 0;
    }
    if (cb) cb(kOk);  // may queue more writes and callbacks: indexes stay valid
  }
  if (q.cbs_head > 64 && q.cbs_head * 2 > q.cbs.size()) {
    q.cbs.erase(q.cbs.begin(), q.cbs.begin() + long(q.cbs_head));
    q.cbs_head = 0;
  }
}

void IOStream::close(int error) {
  if (closed_) return;
  closed_ = true;
  if (error_ == 0) error_ = error;
  transport_->close();
  if (linger_ev_) {
    event_free(linger_ev_);
    linger_ev_ = nullptr;
  }
  WriteCallbacks wcbs;
  if (wq_) {
    wq_->bufs.clear();
    wq_->head = wq_->front_off = 0;
    wcbs = std::move(wq_->cbs);
    if (wq_->cbs_head) wcbs.erase(wcbs.begin(), wcbs.begin() + long(wq_->cbs_head));
    wq_->cbs.clear();
    wq_->cbs_head = 0;
  }
  wpending_ = 0;
  Client* client = client_;
  client_ = nullptr;
  int st = error ? error : kClosed;
  ReadCallback rcb;
  DoneCallback conn_cb;
  DoneCallback ccb;
  if (pending_) {
    pending_->raw_handler = nullptr;
    ccb = std::move(pending_->close_cb);
    pending_->close_cb = nullptr;
    if (pending_->mode != kNone) rcb = std::move(pending_->read_cb);
    pending_->read_cb = nullptr;
    pending_->mode = kNone;
    conn_cb = std::move(pending_->connect_cb);
    pending_->connect_cb = nullptr;
  }
  if (!rcb && wcbs.empty() && !ccb && !conn_cb && !client) return;
  auto self = shared_from_this();
  auto run = [self, rcb = std::move(rcb), wcbs = std::move(wcbs), ccb = std::move(ccb),
              conn_cb = std::move(conn_cb), client, st, error]() mutable {
    if (conn_cb) conn_cb(st);
    if (rcb) rcb(kClosed, std::string_view(self->rbuf_.data(), self->rbuf_.size()));
    for (auto& p : wcbs)
      if (p.second) p.second(st);
    if (ccb) ccb(error);
    if (client) client->stream_closed(error);
  };
  if (loop_)
    loop_->add_callback(std::move(run));
  else
    run();
}

void IOStream::close_after_write(int linger_ms) {
  if (closed_) return;
  linger_ms_ = linger_ms;
  if (wpending_ > 0) {
    close_after_write_ = true;
    return;
  }
  close_after_write_ = false;
  if (linger_ms <= 0 || !loop_) {
    close(0);
    return;
  }
  // Half-close and drain what the client still sends, then close.
  transport_->shutdown_write();
  lingering_ = true;
  if (pending_) pending_->raw_handler = nullptr;  // (a Client is told of the close)
  rbuf_.consume(rbuf_.size());
  reading_paused_ = false;
  eof_ = false;
  linger_ev_ = evtimer_new(loop_->base(), &IOStream::on_linger_timeout, this);
  timeval tv{linger_ms / 1000, (linger_ms % 1000) * 1000};
  if (linger_ev_) evtimer_add(linger_ev_, &tv);
  update_events();
}

void IOStream::on_linger_timeout(evutil_socket_t, short, void* arg) {
  auto* s = static_cast<IOStream*>(arg);
  auto self = s->shared_from_this();
  s->close(0);
}

int IOStream::set_write_limits(size_t max_bytes, size_t high, size_t low, Callback on_drain) {
  if (low > high) return fail(kInval, "low watermark above high watermark");
  if (max_bytes && high > max_bytes) return fail(kInval, "high watermark above max_bytes");
  wmax_ = max_bytes;
  whigh_ = high;
  wlow_ = low;
  if (on_drain || pending_) pending().on_drain = std::move(on_drain);
  above_high_ = whigh_ && wpending_ > whigh_;
  return kOk;
}

void IOStream::loop_closing() {
  close(kClosed);
  if (linger_ev_) {
    event_free(linger_ev_);
    linger_ev_ = nullptr;
  }
  rbuf_.consume(rbuf_.size());
  rbuf_.release(nullptr);
  loop_ = nullptr;
}

}  // namespace squall
