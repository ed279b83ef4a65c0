// Counterpart of tornado/netutil.py: bind_sockets, bind_unix_socket,
// add_accept_handler.
#pragma once

#include <sys/socket.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/ioloop.h"

namespace squall {

// getaddrinfo(AI_PASSIVE) over every family (or `family`), SO_REUSEADDR,
// FD_CLOEXEC, O_NONBLOCK, IPV6_V6ONLY on v6; port 0 resolves to one
// ephemeral port shared by all families.  host empty = all addresses.
// Returns kOk and appends fds, or a negative Status (nothing left open).
int bind_sockets(int port, const std::string& host, int family, int backlog, bool reuse_port,
                 std::vector<int>* fds);

// Unix socket at path: a stale socket file is replaced, a non-socket file is
// refused (kAddrInUse), mode applied with chmod.
int bind_unix_socket(const std::string& path, int mode, int backlog, int* fd);

// Bound port of a socket (0 if not TCP).
int socket_port(int fd);

// Accepts connections on a listening socket: up to 128 per wake-up with
// accept4; on EMFILE/ENFILE pauses with a growing back-off (5 ms doubling
// to 1 s) instead of spinning, then resumes.
class AcceptHandler : public LoopObject {
 public:
  // fd: the accepted socket; peer, len: its address as accept4 gave it.
  using Callback = std::function<void(int fd, const sockaddr* peer, socklen_t len)>;
  AcceptHandler(IOLoop* loop, int listen_fd, Callback cb);
  ~AcceptHandler() override;
  // Stop accepting (fd stays open).
  void remove();
  void pause();
  void resume();
  int fd() const { return fd_; }
  uint64_t pauses() const { return pauses_; }

 private:
  static void on_accept(evutil_socket_t, short, void* arg);
  static void on_backoff(evutil_socket_t, short, void* arg);
  void loop_closing() override;

  IOLoop* loop_;
  int fd_;
  Callback cb_;
  struct event ev_;
  struct event backoff_ev_;
  bool added_ = false;
  bool backoff_armed_ = false;
  bool paused_ = false;
  int backoff_ms_ = 0;
  uint64_t pauses_ = 0;
};

}  // namespace squall
