// Counterpart of tornado/tcpserver.py.
#include "core/tcpserver.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/status.h"

namespace squall {

namespace {
// Fails (harmlessly) on a unix socket, whose connections need no Nagle switch.
void set_nodelay(int fd, bool on) {
  int v = on ? 1 : 0;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v);
}
}  // namespace

TCPServer::TCPServer(IOLoop* loop) : loop_(loop) {}

TCPServer::~TCPServer() {
  stop();
  for (int fd : pending_) ::close(fd);
}

int TCPServer::listen(int port, const std::string& address, int backlog, bool reuse_port) {
  int r = bind(port, address, AF_UNSPEC, backlog, reuse_port);
  if (r != kOk) return r;
  start();
  return kOk;
}

int TCPServer::listen_unix(const std::string& path, int mode, int backlog) {
  if (!loop_) return fail(kClosed, "loop is gone");
  int fd;
  int r = bind_unix_socket(path, mode, backlog, &fd);
  if (r != kOk) return r;
  unix_paths_.push_back(path);
  return add_socket(fd);
}

int TCPServer::bind(int port, const std::string& address, int family, int backlog,
                    bool reuse_port) {
  if (!loop_) return fail(kClosed, "loop is gone");
  return bind_sockets(port, address, family, backlog, reuse_port, &pending_);
}

void TCPServer::start() {
  std::vector<int> fds;
  fds.swap(pending_);
  add_sockets(fds);
}

int TCPServer::add_sockets(const std::vector<int>& fds) {
  for (int fd : fds) {
    int r = add_socket(fd);
    if (r != kOk) return r;
  }
  return kOk;
}

int TCPServer::add_socket(int fd) {
  if (!loop_) return fail(kClosed, "loop is gone");
  if (fd < 0) return fail(kInval, "invalid file descriptor");
  int type = 0;
  socklen_t len = sizeof type;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) != 0 || type != SOCK_STREAM)
    return fail(kInval, "fd is not a stream socket");
  int acc = 0;
  len = sizeof acc;
  if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) == 0 && !acc)
    return fail(kInval, "fd is not listening");
  if (listener_nodelay_) set_nodelay(fd, true);
  int fl = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, fl | O_NONBLOCK);
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  fds_.push_back(fd);
  handlers_.push_back(std::make_unique<AcceptHandler>(
      loop_, fd, [this](int c, const sockaddr* sa, socklen_t sl) { on_connection(c, sa, sl); }));
  if (accepting_paused_) handlers_.back()->pause();
  return kOk;
}

void TCPServer::set_listener_nodelay(bool on) {
  listener_nodelay_ = on;
  for (int fd : fds_) set_nodelay(fd, on);
}

std::vector<int> TCPServer::listening_fds() const {
  std::vector<int> v = pending_;
  v.insert(v.end(), fds_.begin(), fds_.end());
  return v;
}

void TCPServer::on_connection(int fd, const sockaddr* peer, socklen_t peer_len) {
  if (!loop_) {
    ::close(fd);
    return;
  }
  if (dispatch_ && dispatch_(fd)) return;
  if (tls_) {
    int err = 0;
    auto t = TLSTransport::accept(loop_, fd, tls_, &err);
    if (!t) return;  // the fd is closed with it; OpenSSL is out of memory
    handle_stream(IOStream::create(loop_, std::move(t)));
    return;
  }
  handle_stream(IOStream::create(loop_, fd, peer, peer_len));
}

void TCPServer::stop(bool take_queued) {
  for (auto& h : handlers_) h->remove();
  // Connections the kernel already completed wait in the listen queue;
  // closing the socket would reset them.  Take them first (a drain serves
  // them, with Connection: close), up to a bound.
  if (loop_ && take_queued) {
    int taken = 0;
    for (int lfd : fds_) {
      for (; taken < 4096; taken++) {
        int c = accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (c < 0) break;
        on_connection(c);
      }
    }
  }
  if (loop_ && !handlers_.empty()) {
    // The accept loop may be on the stack (stop from handle_stream): free the
    // handlers on the next iteration.
    auto* hs = new std::vector<std::unique_ptr<AcceptHandler>>(std::move(handlers_));
    loop_->add_callback([hs] { delete hs; });
  }
  handlers_.clear();
  for (int fd : fds_) ::close(fd);
  fds_.clear();
  for (auto& p : unix_paths_) unlink(p.c_str());
  unix_paths_.clear();
}

void TCPServer::orphan() {
  handlers_.clear();
  for (int fd : fds_) ::close(fd);
  fds_.clear();
  loop_ = nullptr;
}

int TCPServer::port() const {
  for (int fd : fds_) {
    int p = socket_port(fd);
    if (p) return p;
  }
  for (int fd : pending_) {
    int p = socket_port(fd);
    if (p) return p;
  }
  return 0;
}

void TCPServer::pause_accepting() {
  accepting_paused_ = true;
  for (auto& h : handlers_) h->pause();
}

void TCPServer::resume_accepting() {
  accepting_paused_ = false;
  for (auto& h : handlers_) h->resume();
}

uint64_t TCPServer::accept_pauses() const {
  uint64_t n = 0;
  for (auto& h : handlers_) n += h->pauses();
  return n;
}

}  // namespace squall
