// Counterpart of tornado/netutil.py.
#include "core/netutil.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/status.h"

namespace squall {

int socket_port(int fd) {
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return 0;
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  return 0;
}

int bind_sockets(int port, const std::string& host, int family, int backlog, bool reuse_port,
                 std::vector<int>* fds) {
  if (port < 0 || port > 65535) return fail(kInval, "port out of range 0..65535");
  if (backlog <= 0) backlog = 128;
  addrinfo hints{};
  hints.ai_family = family;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* res = nullptr;
  std::string service = std::to_string(port);
  int r = getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &res);
  if (r != 0 || !res) {
    return fail(kNotFound, "cannot resolve '" + host + "': " + gai_strerror(r));
  }
  std::vector<int> opened;
  int bound_port = port;
  int status = kOk;
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    // Skip duplicates that getaddrinfo sometimes returns.
    bool dup = false;
    for (addrinfo* p = res; p != ai; p = p->ai_next) {
      if (p->ai_addrlen == ai->ai_addrlen && memcmp(p->ai_addr, ai->ai_addr, ai->ai_addrlen) == 0)
        dup = true;
    }
    if (dup) continue;
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      // An address family this host cannot do (e.g. no IPv6): skip it.
      if (errno == EAFNOSUPPORT) continue;
      status = fail(status_from_errno(errno), std::string("socket: ") + strerror(errno));
      break;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (reuse_port) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (ai->ai_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    // Port 0: the first socket picks the port, the others reuse it.
    if (port == 0 && bound_port != 0) {
      if (ai->ai_family == AF_INET)
        reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_port = htons(bound_port);
      else
        reinterpret_cast<sockaddr_in6*>(ai->ai_addr)->sin6_port = htons(bound_port);
    }
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      int e = errno;
      ::close(fd);
      if (e == EADDRNOTAVAIL && ai->ai_family == AF_INET6 && !opened.empty()) continue;
      char addr[INET6_ADDRSTRLEN] = "?";
      if (ai->ai_family == AF_INET)
        inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(ai->ai_addr)->sin_addr, addr,
                  sizeof addr);
      else
        inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(ai->ai_addr)->sin6_addr, addr,
                  sizeof addr);
      status = fail(status_from_errno(e), std::string("bind ") + addr + ":" +
                                              std::to_string(bound_port) + ": " + strerror(e));
      break;
    }
    if (listen(fd, backlog) != 0) {
      int e = errno;
      ::close(fd);
      status = fail(status_from_errno(e), std::string("listen: ") + strerror(e));
      break;
    }
    if (port == 0 && bound_port == 0) bound_port = socket_port(fd);
    opened.push_back(fd);
  }
  freeaddrinfo(res);
  if (status == kOk && opened.empty())
    status = fail(kNotFound, "no usable address for '" + host + "'");
  if (status != kOk) {
    for (int fd : opened) ::close(fd);
    return status;
  }
  fds->insert(fds->end(), opened.begin(), opened.end());
  return kOk;
}

int bind_unix_socket(const std::string& path, int mode, int backlog, int* out) {
  sockaddr_un sa{};
  if (path.empty() || path.size() >= sizeof sa.sun_path)
    return fail(kInval, "unix socket path empty or too long");
  if (path.find('\0') != std::string::npos) return fail(kInval, "unix socket path contains NUL");
  if (backlog <= 0) backlog = 128;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return fail(status_from_errno(errno), std::string("socket: ") + strerror(errno));
  struct stat st;
  if (lstat(path.c_str(), &st) == 0) {
    if (S_ISSOCK(st.st_mode)) {
      unlink(path.c_str());  // stale socket file (Tornado does the same)
    } else {
      ::close(fd);
      return fail(kAddrInUse, "file exists and is not a socket: " + path);
    }
  }
  sa.sun_family = AF_UNIX;
  memcpy(sa.sun_path, path.data(), path.size());
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    int e = errno;
    ::close(fd);
    return fail(status_from_errno(e), "bind " + path + ": " + strerror(e));
  }
  if (mode > 0) chmod(path.c_str(), mode_t(mode));
  if (listen(fd, backlog) != 0) {
    int e = errno;
    ::close(fd);
    return fail(status_from_errno(e), std::string("listen: ") + strerror(e));
  }
  *out = fd;
  return kOk;
}

AcceptHandler::AcceptHandler(IOLoop* loop, int fd, Callback cb)
    : loop_(loop), fd_(fd), cb_(std::move(cb)) {
  event_assign(&ev_, loop->base(), fd, EV_READ | EV_PERSIST, &AcceptHandler::on_accept, this);
  evtimer_assign(&backoff_ev_, loop->base(), &AcceptHandler::on_backoff, this);
  event_add(&ev_, nullptr);
  added_ = true;
  loop->register_object(this);
}

AcceptHandler::~AcceptHandler() {
  remove();
  if (loop_) loop_->unregister_object(this);
}

void AcceptHandler::remove() {
  if (!loop_) return;
  if (added_) event_del(&ev_);
  added_ = false;
  if (backoff_armed_) event_del(&backoff_ev_);
  backoff_armed_ = false;
}

void AcceptHandler::pause() {
  paused_ = true;
  if (added_ && loop_) event_del(&ev_);
  added_ = false;
}

void AcceptHandler::resume() {
  paused_ = false;
  if (!added_ && !backoff_armed_ && loop_) {
    event_add(&ev_, nullptr);
    added_ = true;
  }
}

void AcceptHandler::on_accept(evutil_socket_t, short, void* arg) {
  auto* h = static_cast<AcceptHandler*>(arg);
  // One connection per wake-up, as nginx (multi_accept off) and h2o: the
  // listener is level-triggered, so the next pass takes the next one, and
  // no accept4 ends in EAGAIN (looping to the backlog costs one failed call
  // per wake-up, which is one per connection when they arrive one by one).
  // The peer's address comes with it (no getpeername).
  for (int i = 0; i < 8 && h->added_; i++) {
    sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int c = accept4(h->fd_, reinterpret_cast<sockaddr*>(&ss), &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Out of descriptors: stop watching the socket (it stays readable
        // and would spin) and retry after a growing pause.
        h->backoff_ms_ = h->backoff_ms_ ? std::min(h->backoff_ms_ * 2, 1000) : 5;
        h->pauses_++;
        if (h->pauses_ == 1 || h->backoff_ms_ == 1000)
          log(kWarning, std::string("accept: ") + strerror(errno) + "; pausing accept for " +
                            std::to_string(h->backoff_ms_) + " ms");
        event_del(&h->ev_);
        h->added_ = false;
        timeval tv{h->backoff_ms_ / 1000, (h->backoff_ms_ % 1000) * 1000};
        evtimer_add(&h->backoff_ev_, &tv);
        h->backoff_armed_ = true;
        return;
      }
      log(kLogError, std::string("accept: ") + strerror(errno));
      return;
    }
    h->backoff_ms_ = 0;
    h->cb_(c, reinterpret_cast<sockaddr*>(&ss), sl);  // may remove/pause/free h
    return;
  }
}

void AcceptHandler::on_backoff(evutil_socket_t, short, void* arg) {
  auto* h = static_cast<AcceptHandler*>(arg);
  h->backoff_armed_ = false;
  if (!h->paused_ && h->loop_) {
    event_add(&h->ev_, nullptr);
    h->added_ = true;
  }
}

void AcceptHandler::loop_closing() {
  remove();
  loop_ = nullptr;
}

}  // namespace squall
