// Counterpart of tornado/iostream.py (BaseIOStream): buffered, non-blocking
// reads (read_until, read_bytes, read_until_close) and eager writes over a
// Transport (core/transport.h: a socket, an in-memory pipe, later TLS), with
// bounded read and write buffers.  Protocol code
// (HTTP1Connection) may instead take the raw read buffer through
// set_read_handler and parse it in place.
#pragma once

#include <sys/uio.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/ioloop.h"
#include "core/transport.h"

namespace squall {

// Contiguous read buffer.  Small buffers come from the loop's block pool and
// go back to it when emptied.
class ReadBuffer {
 public:
  ~ReadBuffer();
  const char* data() const { return buf_ + start_; }
  size_t size() const { return end_ - start_; }
  bool empty() const { return end_ == start_; }
  void consume(size_t n);
  // Ensure at least min_free writable bytes at the tail; returns the tail.
  char* prepare(IOLoop* loop, size_t min_free, size_t* avail);
  void commit(size_t n) { end_ += n; }
  // Return the storage to the pool when empty.
  void release(IOLoop* loop);

 private:
  char* buf_ = nullptr;
  size_t cap_ = 0, start_ = 0, end_ = 0;
  bool pooled_ = false;
};

class IOStream : public LoopObject,
                 public Transport::Handler,
                 public std::enable_shared_from_this<IOStream> {
  struct Key {
    explicit Key() = default;
  };

 public:
  using ReadCallback = std::function<void(int status, std::string_view data)>;
  using DoneCallback = std::function<void(int status)>;
  enum RawEvent { kData = 1, kEof = 2 };

  // Over any transport (the stream owns it).
  static std::shared_ptr<IOStream> create(IOLoop* loop, std::unique_ptr<Transport> t);
  // Takes ownership of a connected, non-blocking socket; peer: its address
  // when known (accept4's), else the socket is asked.
  static std::shared_ptr<IOStream> create(IOLoop* loop, int fd, const sockaddr* peer = nullptr,
                                          socklen_t peer_len = 0);
  // Client side: connect to host:port; cb(0) once connected.
  static std::shared_ptr<IOStream> connect(IOLoop* loop, const std::string& host, int port,
                                           DoneCallback cb, int* status);
  ~IOStream() override;
  // For create() and connect() only (Key is private): one allocation with
  // the shared_ptr's control block, through std::make_shared.
  IOStream(Key, IOLoop* loop, std::unique_ptr<Transport> t);

  IOLoop* loop() const { return loop_; }

  int read_until(std::string delim, size_t max_bytes, ReadCallback cb);
  int read_bytes(size_t n, bool partial, ReadCallback cb);
  int read_until_close(ReadCallback cb);

  // Raw mode: h(kData) after new bytes land in read_buffer(), h(kEof) when the
  // peer closed its side.  Passing nullptr leaves raw mode.
  void set_read_handler(std::function<void(int)> h);
  // The object that owns a raw-mode stream (HTTP1Connection), told through
  // one pointer what the read handler, the drain callback of
  // set_write_limits and the close callback would be told: three
  // std::functions cost 96 bytes per stream, this costs 8.  set_client(c)
  // enters raw mode; set_client(nullptr) leaves it and forgets c (no close
  // call follows).  c must outlive the stream or be unset first.
  class Client {
   public:
    virtual void stream_data(int ev) = 0;     // as the read handler
    virtual void stream_drained() = 0;        // as set_write_limits' on_drain
    virtual void stream_closed(int err) = 0;  // as the close callback (after it)

   protected:
    ~Client() = default;
  };
  void set_client(Client* c);
  ReadBuffer& read_buffer() { return rbuf_; }
  void pause_reading();
  void resume_reading();

  // Eager write: goes to the transport now unless older bytes are waiting.
  int write(const char* data, size_t len, DoneCallback cb = nullptr);
  int writev(const struct iovec* iov, int n, DoneCallback cb = nullptr);
  size_t write_buffer_size() const { return wpending_; }
  // Bytes the transport has taken since the stream began (write progress).
  uint64_t bytes_written() const { return wdone_total_; }

  void set_close_callback(DoneCallback cb);
  // Close now: pending reads/writes fail with kClosed, the close callback
  // runs later on the loop.
  void close(int error = 0);
  // Close once everything queued has been written: shut down our side and
  // drain (discard) what the peer still sends for up to linger_ms, so the
  // last response is not destroyed by a reset (nginx's lingering close).
  void close_after_write(int linger_ms = 2000);
  bool closed() const { return closed_; }
  int error() const { return error_; }

  void set_nodelay(bool on) { transport_->set_nodelay(on); }
  void set_max_buffer_size(size_t n) { max_buffer_size_ = n; }
  int set_write_limits(size_t max_bytes, size_t high, size_t low, Callback on_drain);

  // The transport's view of the other end ("ip:port", "[v6]:port", a unix
  // path); peer_is_local() for unix sockets and in-memory pipes.
  const std::string& peer() const { return transport_->peer(); }
  std::string_view peer_ip() const { return transport_->peer_ip(); }
  bool peer_is_local() const { return transport_->peer_is_local(); }
  Transport& transport() { return *transport_; }

 private:
  void on_ready(bool readable, bool writable) override;
  static void on_linger_timeout(evutil_socket_t, short, void* arg);
  void loop_closing() override;
  void handle_connect();
  void handle_read();
  void handle_write();
  // Write what the transport takes: kOk, or the status the stream fails with.
  int write_some(const struct iovec* iov, int n, size_t* written);
  void update_events();
  // Try to satisfy the pending read from the buffer; returns true if done.
  bool try_complete_read();
  void finish_read(int status, std::string_view data, size_t consume);
  void fail_read(int status);
  int start_read(int mode);
  void run_write_callbacks();
  int queue_remainder(const struct iovec* iov, int n, size_t skip, DoneCallback cb);

  enum ReadMode { kNone, kUntil, kBytes, kUntilClose };
  // State of the callback reads (read_until & co.), of a client connect and
  // the callbacks, allocated on first use: server connections read in raw
  // mode through a Client and never pay for it.
  struct Pending {
    std::function<void(int)> raw_handler;
    Callback on_drain;
    DoneCallback close_cb;
    ReadMode mode = kNone;
    std::string delim;
    size_t max_bytes = 0;
    size_t want = 0;
    bool partial = false;
    size_t scan_from = 0;
    ReadCallback read_cb;
    DoneCallback connect_cb;
  };
  Pending& pending();
  ReadMode mode() const { return pending_ ? pending_->mode : kNone; }
  bool raw() const { return client_ || (pending_ && pending_->raw_handler); }

  IOLoop* loop_;
  std::unique_ptr<Transport> transport_;
  bool closed_ = false;
  bool eof_ = false;
  bool reading_paused_ = false;
  bool close_after_write_ = false;
  bool lingering_ = false;
  bool connecting_ = false;
  bool read_wants_write_ = false;  // the transport's read needs writability
  bool write_wants_read_ = false;  // the transport's write needs readability
  bool above_high_ = false;        // wpending_ went above whigh_
  int linger_ms_ = 0;
  int error_ = 0;
  struct event* linger_ev_ = nullptr;

  ReadBuffer rbuf_;
  size_t max_buffer_size_ = 100u * 1024 * 1024;
  std::unique_ptr<Pending> pending_;
  Client* client_ = nullptr;

  // Pending writes and their callbacks: vectors with a consumed-prefix index
  // (an empty std::deque costs ~600 bytes per stream), allocated the first
  // time a write waits or carries a callback (never, for most keep-alive
  // connections) and kept from then on.
  using WriteCallbacks = std::vector<std::pair<uint64_t, DoneCallback>>;
  struct WriteQueue {
    std::vector<std::string> bufs;
    size_t head = 0;       // bufs[0, head) are written
    size_t front_off = 0;  // bytes of bufs[head] written
    WriteCallbacks cbs;    // (wqueued_total_ when queued, callback)
    size_t cbs_head = 0;   // cbs[0, cbs_head) have run
  };
  WriteQueue& wq();
  std::unique_ptr<WriteQueue> wq_;
  size_t wpending_ = 0;
  uint64_t wqueued_total_ = 0;
  uint64_t wdone_total_ = 0;
  size_t wmax_ = 0, whigh_ = 0, wlow_ = 0;
};
using IOStreamPtr = std::shared_ptr<IOStream>;

}  // namespace squall
