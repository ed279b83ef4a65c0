// Counterpart of tornado/tcpserver.py: TCPServer with listen, bind + start,
// add_sockets, add_socket (a socket opened elsewhere), stop and an
// overridable handle_stream.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/iostream.h"
#include "core/netutil.h"
#include "core/tls.h"

namespace squall {

class TCPServer {
 public:
  explicit TCPServer(IOLoop* loop);
  virtual ~TCPServer();
  TCPServer(const TCPServer&) = delete;
  TCPServer& operator=(const TCPServer&) = delete;

  // bind + start in one call (Tornado's listen).
  int listen(int port, const std::string& address, int backlog = 128, bool reuse_port = false);
  int listen_unix(const std::string& path, int mode, int backlog = 128);
  // Tornado's bind() collects sockets, start() begins accepting.
  int bind(int port, const std::string& address, int family, int backlog, bool reuse_port);
  void start();
  // Accept on already-listening sockets (ownership passes to the server).
  int add_sockets(const std::vector<int>& fds);
  int add_socket(int fd);
  // Stop accepting and close the listening sockets.  take_queued: first
  // accept what waits in the listen queue (a graceful drain serves it;
  // closing would reset those connections).
  void stop(bool take_queued = false);
  int port() const;
  IOLoop* loop() const { return loop_; }

  // Serve TLS on every connection accepted from now on (nullptr: plain).
  // Connections already open keep what they started with.  [loop thread]
  void set_tls(std::shared_ptr<const TLSContext> ctx) { tls_ = std::move(ctx); }
  const std::shared_ptr<const TLSContext>& tls() const { return tls_; }

  // N loops, one listener (threaded mode): the accepting server offers each
  // new connection to `dispatch` first, which may hand it to another loop's
  // server (adopt, on that loop) and return true.  [loop thread]
  void set_dispatch(std::function<bool(int fd)> dispatch) { dispatch_ = std::move(dispatch); }
  // Serve a connection accepted elsewhere as if accepted here.  [loop thread]
  void adopt(int fd) { on_connection(fd); }
  // TCP_NODELAY on the listening sockets (now and added later): Linux copies
  // it to every socket accepted from them, so no setsockopt per connection
  // (the limit server does the same).  [loop thread]
  void set_listener_nodelay(bool on);
  // The listening sockets (bound or accepting).
  std::vector<int> listening_fds() const;

  // Max-connections support: pause/resume every accept handler.
  void pause_accepting();
  void resume_accepting();
  uint64_t accept_pauses() const;

 protected:
  // Called for each accepted connection (Tornado's handle_stream).
  virtual void handle_stream(IOStreamPtr stream) = 0;
  // The loop is gone: forget it.
  void orphan();

 private:
  // peer: the address accept4 gave (nullptr: ask the socket).
  void on_connection(int fd, const sockaddr* peer = nullptr, socklen_t peer_len = 0);

  IOLoop* loop_;
  std::vector<int> pending_;  // bound, not started
  std::vector<std::unique_ptr<AcceptHandler>> handlers_;
  std::vector<int> fds_;
  std::vector<std::string> unix_paths_;
  bool accepting_paused_ = false;
  bool listener_nodelay_ = false;
  std::shared_ptr<const TLSContext> tls_;
  std::function<bool(int fd)> dispatch_;
};

}  // namespace squall
