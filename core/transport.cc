// SocketTransport and MemoryTransport: the two byte transports under
// IOStream (core/transport.h).
#include "core/transport.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>

#include "core/status.h"

namespace squall {

namespace {
int io_status(int e) { return e == EPIPE || e == ECONNRESET ? kIO : status_from_errno(e); }
}  // namespace

// ------------------------------------------------------------ SocketTransport

SocketTransport::SocketTransport(IOLoop* loop, int fd) : loop_(loop), fd_(fd) {
  event_assign(&ev_, loop->base(), fd, EV_PERSIST, &SocketTransport::on_event, this);
}

SocketTransport::~SocketTransport() { close(); }

void SocketTransport::fill_peer(const sockaddr* peer, socklen_t peer_len) {
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (peer && peer_len > 0 && peer_len <= len) {
    memcpy(&ss, peer, peer_len);  // from accept4: no getpeername
    len = peer_len;
  } else if (getpeername(fd_, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
    return;
  }
  char host[INET6_ADDRSTRLEN] = {0};
  if (ss.ss_family == AF_INET) {
    // "a.b.c.d:port" by hand: glibc's inet_ntop formats IPv4 with sprintf,
    // a third of a connection's user-space instructions.
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    const auto* b = reinterpret_cast<const unsigned char*>(&a->sin_addr);
    char buf[24];
    char* p = buf;
    auto put = [&p](unsigned v) {
      if (v >= 10000) *p++ = char('0' + v / 10000);
      if (v >= 1000) *p++ = char('0' + v / 1000 % 10);
      if (v >= 100) *p++ = char('0' + v / 100 % 10);
      if (v >= 10) *p++ = char('0' + v / 10 % 10);
      *p++ = char('0' + v % 10);
    };
    for (int i = 0; i < 4; i++) {
      put(b[i]);
      *p++ = i < 3 ? '.' : ':';
    }
    const size_t ip_len = size_t(p - buf - 1);
    put(ntohs(a->sin_port));
    set_peer(std::string(buf, size_t(p - buf)), 0, ip_len);
  } else if (ss.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
    set_peer("[" + std::string(host) + "]:" + std::to_string(ntohs(a->sin6_port)), 1, strlen(host));
  } else if (ss.ss_family == AF_UNIX) {
    peer_is_local_ = true;
    auto* a = reinterpret_cast<sockaddr_un*>(&ss);
    std::string path = len > offsetof(sockaddr_un, sun_path) ? a->sun_path : "";
    size_t n = path.size();
    set_peer(std::move(path), 0, n);
  }
}

void SocketTransport::watch(bool read, bool write) {
  if (fd_ < 0) return;
  short want = short((read ? EV_READ : 0) | (write ? EV_WRITE : 0));
  if (want == mask_ && added_) return;
  if (added_) event_del(&ev_);
  added_ = false;
  mask_ = want;
  if (want) {
    event_assign(&ev_, loop_->base(), fd_, short(want | EV_PERSIST), &SocketTransport::on_event,
                 this);
    event_add(&ev_, nullptr);
    added_ = true;
  }
}

void SocketTransport::on_event(evutil_socket_t, short what, void* arg) {
  auto* t = static_cast<SocketTransport*>(arg);
  t->ready((what & EV_READ) != 0, (what & EV_WRITE) != 0);
}

// A non-blocking socket call: retried on EINTR, EAGAIN mapped to want.
template <class Call>
ssize_t SocketTransport::io(Call call, ssize_t want, const char* what, int* err) {
  for (;;) {
    ssize_t r = call();
    if (r >= 0) return r;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return want;
    int e = errno;
    set_error_errno(what, e);
    *err = io_status(e);
    return kFailed;
  }
}

ssize_t SocketTransport::read(char* buf, size_t len, int* err) {
  return io([&] { return recv(fd_, buf, len, 0); }, kWantRead, "recv", err);
}

ssize_t SocketTransport::writev(const struct iovec* iov, int n, int* err) {
  // sendmsg with MSG_NOSIGNAL: a peer that went away is EPIPE, never SIGPIPE.
  msghdr m{};
  m.msg_iov = const_cast<struct iovec*>(iov);
  m.msg_iovlen = size_t(std::min(n, IOV_MAX));
  return io([&] { return ::sendmsg(fd_, &m, MSG_NOSIGNAL); }, kWantWrite, "write", err);
}

void SocketTransport::kick_read() {
  if (fd_ >= 0 && added_ && (mask_ & EV_READ)) event_active(&ev_, EV_READ, 0);
}

void SocketTransport::shutdown_write() {
  if (fd_ >= 0) shutdown(fd_, SHUT_WR);
}

void SocketTransport::close() {
  if (fd_ < 0) return;
  if (added_) event_del(&ev_);
  added_ = false;
  ::close(fd_);
  fd_ = -1;
}

int SocketTransport::connect_result() {
  int e = 0;
  socklen_t len = sizeof e;
  if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &e, &len) != 0) e = errno;
  if (e != 0) {
    set_error_errno("connect", e);
    return kIO;
  }
  fill_peer();
  return kOk;
}

void SocketTransport::set_nodelay(bool on) {
  if (fd_ < 0 || peer_is_local_) return;
  int v = on ? 1 : 0;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v);
}

// ------------------------------------------------------------ MemoryTransport

// Both directions of the pipe; buf[i] holds the bytes side i will read.
struct MemoryTransport::Pipe {
  std::string buf[2];
  size_t cap = 0;
  bool ended[2] = {false, false};   // side i shut down its writing
  bool closed[2] = {false, false};  // side i closed
  MemoryTransport* end[2] = {nullptr, nullptr};
  bool poked[2] = {false, false};  // a readiness check is queued
};

std::pair<std::unique_ptr<MemoryTransport>, std::unique_ptr<MemoryTransport>> MemoryTransport::pair(
    IOLoop* loop, size_t capacity) {
  auto p = std::make_shared<Pipe>();
  p->cap = std::max<size_t>(capacity, 1);
  std::unique_ptr<MemoryTransport> a(new MemoryTransport(loop, p, 0));
  std::unique_ptr<MemoryTransport> b(new MemoryTransport(loop, p, 1));
  return {std::move(a), std::move(b)};
}

MemoryTransport::MemoryTransport(IOLoop* loop, std::shared_ptr<Pipe> pipe, int side)
    : loop_(loop), pipe_(std::move(pipe)), side_(side) {
  pipe_->end[side_] = this;
  set_peer(side_ == 0 ? "memory:1" : "memory:0", 0, 0);
  peer_is_local_ = true;
}

MemoryTransport::~MemoryTransport() {
  close();
  pipe_->end[side_] = nullptr;
}

void MemoryTransport::poke_side(const std::shared_ptr<Pipe>& p, int side) {
  MemoryTransport* t = p->end[side];
  if (t && !t->closed_) t->poke();
}

bool MemoryTransport::readiness(bool* r, bool* w) const {
  const Pipe& p = *pipe_;
  int other = 1 - side_;
  *r = want_read_ && (!p.buf[side_].empty() || p.ended[other] || p.closed[other]);
  *w = want_write_ && (p.buf[other].size() < p.cap || p.closed[other]);
  return *r || *w;
}

void MemoryTransport::poke() {
  bool r, w;
  if (closed_ || pipe_->poked[side_] || !loop_ || loop_->closed() || !readiness(&r, &w)) return;
  pipe_->poked[side_] = true;
  std::weak_ptr<Pipe> wp = pipe_;
  int side = side_;
  loop_->add_callback([wp, side] {
    auto p = wp.lock();
    if (!p) return;
    p->poked[side] = false;
    if (MemoryTransport* t = p->end[side]) t->check_ready();
  });
}

void MemoryTransport::check_ready() {
  bool r, w;
  if (closed_ || !readiness(&r, &w)) return;
  std::weak_ptr<Pipe> wp = pipe_;
  int side = side_;
  ready(r, w);  // may destroy this transport
  // Level triggered: while still ready and watched, check again next pass.
  if (auto p = wp.lock())
    if (MemoryTransport* t = p->end[side]) t->poke();
}

void MemoryTransport::watch(bool read, bool write) {
  want_read_ = read;
  want_write_ = write;
  poke();
}

ssize_t MemoryTransport::read(char* buf, size_t len, int* err) {
  if (closed_) {
    *err = fail(kClosed, "transport is closed");
    return kFailed;
  }
  std::string& in = pipe_->buf[side_];
  int other = 1 - side_;
  if (in.empty()) {
    if (pipe_->closed[other] && !pipe_->ended[other]) {
      // The peer closed without ending its side first: a reset.
      *err = fail(kIO, "recv: connection reset by peer (memory transport)");
      return kFailed;
    }
    return pipe_->ended[other] ? 0 : kWantRead;
  }
  size_t n = std::min(len, in.size());
  bool was_full = in.size() >= pipe_->cap;
  memcpy(buf, in.data(), n);
  in.erase(0, n);
  if (was_full || in.size() < pipe_->cap) poke_side(pipe_, other);  // room for the writer
  return ssize_t(n);
}

ssize_t MemoryTransport::writev(const struct iovec* iov, int n, int* err) {
  int other = 1 - side_;
  if (closed_ || pipe_->ended[side_]) {
    *err = fail(kClosed, "transport is closed");
    return kFailed;
  }
  if (pipe_->closed[other]) {
    *err = fail(kIO, "write: broken pipe (memory transport)");
    return kFailed;
  }
  std::string& out = pipe_->buf[other];
  size_t room = pipe_->cap > out.size() ? pipe_->cap - out.size() : 0;
  if (room == 0) return kWantWrite;
  size_t done = 0;
  for (int i = 0; i < n && done < room; i++) {
    size_t k = std::min(iov[i].iov_len, room - done);
    out.append(static_cast<const char*>(iov[i].iov_base), k);
    done += k;
  }
  if (done) poke_side(pipe_, other);
  return ssize_t(done);
}

void MemoryTransport::shutdown_write() {
  if (closed_ || pipe_->ended[side_]) return;
  pipe_->ended[side_] = true;
  poke_side(pipe_, 1 - side_);
}

void MemoryTransport::close() {
  if (closed_) return;
  closed_ = true;
  want_read_ = want_write_ = false;
  pipe_->closed[side_] = true;
  pipe_->buf[side_].clear();
  poke_side(pipe_, 1 - side_);
}

bool MemoryTransport::peer_ended() const {
  return pipe_->ended[1 - side_] || pipe_->closed[1 - side_];
}
bool MemoryTransport::peer_closed() const { return pipe_->closed[1 - side_]; }

}  // namespace squall
