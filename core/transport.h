// The seam under IOStream (Tornado's BaseIOStream / IOStream split; libuv's
// stream vtable; libevent's bufferevent_ops): a byte transport that reads,
// writes, half-closes and closes, and tells its owner when it is ready.
// IOStream keeps the buffering, watermarks and callbacks; a transport only
// moves bytes.  Implementations: SocketTransport (a non-blocking socket on
// the loop's event_base) and MemoryTransport (an in-memory loopback pair,
// for socket-free tests), and TLSTransport (core/tls.h), whose read may
// need the socket writable and its write readable, which is why readiness is
// asked for per call (kWantRead / kWantWrite) instead of being assumed.
#pragma once

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>
#include <memory>
#include <string>

#include "core/ioloop.h"

namespace squall {

struct TLSInfo;

class Transport {
 public:
  // read / writev results besides a byte count.
  static constexpr ssize_t kWantRead = -1;   // call again once readable
  static constexpr ssize_t kWantWrite = -2;  // call again once writable
  static constexpr ssize_t kFailed = -3;     // *err holds a squall status

  // Told on the loop thread when a watched readiness holds (level
  // triggered: again on the next pass while it still holds and is watched).
  class Handler {
   public:
    virtual void on_ready(bool readable, bool writable) = 0;

   protected:
    ~Handler() = default;
  };

  virtual ~Transport() = default;
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  void set_handler(Handler* h) { handler_ = h; }
  // Watch for readiness to read and/or write (false, false: none).
  virtual void watch(bool read, bool write) = 0;
  // > 0: bytes read; 0: the peer ended its side; kWantRead / kWantWrite;
  // kFailed with *err set (and the library's last error).
  virtual ssize_t read(char* buf, size_t len, int* err) = 0;
  // > 0: bytes written (maybe fewer than offered); kWantWrite / kWantRead;
  // kFailed with *err set.  n is at most IOV_MAX.
  virtual ssize_t writev(const struct iovec* iov, int n, int* err) = 0;
  // End our side (TCP FIN); reading goes on.
  virtual void shutdown_write() = 0;
  // Release everything now; no event follows.  Idempotent.
  virtual void close() = 0;
  virtual bool closed() const = 0;

  // Client side: after a connect, the first writable readiness says it
  // finished; returns 0 or a squall status.
  virtual int connect_result() { return 0; }
  virtual void set_nodelay(bool on) {}

  // TLS (core/tls.h): whether this is a TLS connection; why its handshake
  // failed (nullptr if it did not); what a request may ask about it
  // (nullptr until the handshake is done, or if not TLS).
  virtual bool is_tls() const { return false; }
  virtual const char* tls_failure() const { return nullptr; }
  virtual std::shared_ptr<const TLSInfo> tls_info() { return nullptr; }

  // Who is at the other end: "ip:port", "[v6]:port", a unix path, or a name.
  const std::string& peer() const { return peer_; }
  // The address part of peer() (no port, no brackets).
  std::string_view peer_ip() const { return std::string_view(peer_).substr(ip_off_, ip_len_); }
  bool peer_is_local() const { return peer_is_local_; }

 protected:
  Transport() = default;
  void ready(bool readable, bool writable) {
    if (handler_) handler_->on_ready(readable, writable);
  }
  Handler* handler_ = nullptr;
  void set_peer(std::string peer, size_t ip_off, size_t ip_len) {
    peer_ = std::move(peer);
    ip_off_ = uint8_t(ip_off);
    ip_len_ = uint16_t(ip_len);
  }
  std::string peer_;
  uint16_t ip_len_ = 0;
  uint8_t ip_off_ = 0;
  bool peer_is_local_ = false;  // unix socket or in-memory
};

// A connected non-blocking socket, watched with one libevent event.
class SocketTransport final : public Transport {
 public:
  // Takes ownership of fd.
  SocketTransport(IOLoop* loop, int fd);
  ~SocketTransport() override;

  void watch(bool read, bool write) override;
  ssize_t read(char* buf, size_t len, int* err) override;
  ssize_t writev(const struct iovec* iov, int n, int* err) override;
  void shutdown_write() override;
  void close() override;
  bool closed() const override { return fd_ < 0; }
  int connect_result() override;
  void set_nodelay(bool on) override;
  int fd() const { return fd_; }
  // Report readability on the next loop pass even if the socket has nothing
  // (a layer above holds bytes already read); only while reading is watched.
  void kick_read();
  // Read the peer's address (after accept, or once a connect completed).
  // The peer's address: peer (len bytes, from accept4) or getpeername.
  void fill_peer(const sockaddr* peer = nullptr, socklen_t peer_len = 0);

 private:
  static void on_event(evutil_socket_t fd, short what, void* arg);
  template <class Call>
  ssize_t io(Call call, ssize_t want, const char* what, int* err);

  IOLoop* loop_;
  int fd_;
  short mask_ = 0;
  bool added_ = false;
  struct event ev_;
};

// One end of an in-memory, loopback byte pipe: what one end writes the
// other reads.  Each direction holds at most `capacity` bytes, so a writer
// meets backpressure (kWantWrite) exactly as on a socket.  Readiness is
// delivered through loop callbacks: drive the loop with run_until_idle().
class MemoryTransport final : public Transport {
 public:
  static std::pair<std::unique_ptr<MemoryTransport>, std::unique_ptr<MemoryTransport>> pair(
      IOLoop* loop, size_t capacity = 1 << 20);
  ~MemoryTransport() override;

  // Transport (readiness comes as loop callbacks, never inside a call)
  bool closed() const override { return closed_; }
  ssize_t read(char* buf, size_t len, int* err) override;
  ssize_t writev(const struct iovec* iov, int n, int* err) override;
  void close() override;
  void shutdown_write() override;
  void watch(bool read, bool write) override;

  // For the test's end: whether the other end shut down its side (or
  // closed), or closed.
  bool peer_ended() const;
  bool peer_closed() const;

 private:
  struct Pipe;
  MemoryTransport(IOLoop* loop, std::shared_ptr<Pipe> pipe, int side);
  void poke();  // schedule a readiness check on the loop
  void check_ready();
  bool readiness(bool* r, bool* w) const;
  static void poke_side(const std::shared_ptr<Pipe>& p, int side);

  IOLoop* loop_;
  std::shared_ptr<Pipe> pipe_;
  int side_;
  bool want_read_ = false, want_write_ = false;
  bool closed_ = false;
};

}  // namespace squall
