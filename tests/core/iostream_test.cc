// IOStream over the in-memory transport (core/transport.h): no socket, no
// sleep, no clock.  The test holds the other end of the pipe and drives
// the loop with run_until_idle(), so every interleaving is chosen here:
// byte-at-a-time delivery, early close, write backpressure.
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <csetjmp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/iostream.h"
#include "core/status.h"
#include "core/transport.h"
#include "tests/core/pipe_peer.h"

// cmocka last: its fail() macro collides with std::basic_ios::fail.
extern "C" {
#include <cmocka.h>
}

using namespace squall;

namespace {

// A stream over one end of a pipe; the test keeps the other end.
struct Pair {
  IOLoop loop;
  std::shared_ptr<IOStream> stream;
  std::unique_ptr<MemoryTransport> peer;
  explicit Pair(size_t capacity = 1 << 20) {
    auto ends = MemoryTransport::pair(&loop, capacity);
    stream = IOStream::create(&loop, std::move(ends.first));
    peer = std::move(ends.second);
  }
  ~Pair() {
    stream.reset();
    loop.run_until_idle();
  }
  void send(std::string_view s) {
    iovec iov{const_cast<char*>(s.data()), s.size()};
    int err = 0;
    assert_int_equal(peer->writev(&iov, 1, &err), ssize_t(s.size()));
  }
  // Everything the stream wrote so far.
  std::string take() { return squall::test::read_all(peer.get()); }
  void pump() { loop.run_until_idle(); }
};

struct Reads {
  std::vector<std::pair<int, std::string>> got;
  IOStream::ReadCallback cb() {
    return [this](int st, std::string_view d) { got.emplace_back(st, std::string(d)); };
  }
};

void test_iostream__read_until_byte_at_a_time(void**) {
  Pair p;
  std::vector<std::string> lines;
  std::function<void(int, std::string_view)> next = [&](int st, std::string_view d) {
    assert_int_equal(st, kOk);
    lines.emplace_back(d);
    if (lines.size() < 3) assert_int_equal(p.stream->read_until("\r\n", 0, next), kOk);
  };
  const std::string msg = "hello\r\n\r\nworld\r\n";
  assert_int_equal(p.stream->read_until("\r\n", 0, next), kOk);
  p.pump();
  assert_true(lines.empty());  // nothing yet, and never inside the call
  for (size_t i = 0; i < msg.size(); i++) {
    p.send(msg.substr(i, 1));
    p.pump();
    // A line completes exactly when its LF arrives.
    size_t want = 0;
    for (size_t j = 0; j <= i; j++) want += msg[j] == '\n';
    assert_int_equal(lines.size(), want);
  }
  assert_int_equal(lines.size(), 3);
  assert_string_equal(lines[0].c_str(), "hello\r\n");
  assert_string_equal(lines[1].c_str(), "\r\n");
  assert_string_equal(lines[2].c_str(), "world\r\n");
}

void test_iostream__read_bytes_every_split(void**) {
  const std::string msg = "0123456789abcdef";
  for (size_t cut = 0; cut <= msg.size(); cut++) {
    Pair p;
    Reads r;
    assert_int_equal(p.stream->read_bytes(msg.size(), false, r.cb()), kOk);
    if (cut) p.send(msg.substr(0, cut));
    p.pump();
    assert_int_equal(r.got.size(), cut == msg.size() ? 1 : 0);
    if (cut < msg.size()) p.send(msg.substr(cut));
    p.pump();
    assert_int_equal(r.got.size(), 1);
    assert_int_equal(r.got[0].first, kOk);
    assert_true(r.got[0].second == msg);
  }
}

void test_iostream__read_until_max_bytes(void**) {
  Pair p;
  Reads r;
  int closed = 1;
  p.stream->set_close_callback([&](int err) { closed = err; });
  assert_int_equal(p.stream->read_until("\n", 8, r.cb()), kOk);
  p.send("0123456789");
  p.pump();
  assert_int_equal(r.got.size(), 1);
  assert_int_equal(r.got[0].first, kTooBig);
  assert_true(p.stream->closed());
  assert_int_equal(closed, kTooBig);
  assert_true(p.peer->peer_closed());
}

void test_iostream__read_until_close_and_early_close(void**) {
  {
    // The peer ends its side: read_until_close gets everything.
    Pair p;
    Reads r;
    assert_int_equal(p.stream->read_until_close(r.cb()), kOk);
    p.send("abc");
    p.pump();
    assert_true(r.got.empty());
    p.send("def");
    p.peer->shutdown_write();
    p.pump();
    assert_int_equal(r.got.size(), 1);
    assert_int_equal(r.got[0].first, kOk);
    assert_string_equal(r.got[0].second.c_str(), "abcdef");
    assert_true(p.stream->closed());
  }
  {
    // The peer ends its side before the delimiter: the read fails with
    // kClosed and the data so far, then the close callback runs once.
    Pair p;
    Reads r;
    int closes = 0;
    p.stream->set_close_callback([&](int) { closes++; });
    assert_int_equal(p.stream->read_until("\r\n\r\n", 0, r.cb()), kOk);
    p.send("GET / HTTP/1.1\r\n");
    p.peer->shutdown_write();
    p.pump();
    assert_int_equal(r.got.size(), 1);
    assert_int_equal(r.got[0].first, kClosed);
    assert_string_equal(r.got[0].second.c_str(), "GET / HTTP/1.1\r\n");
    assert_int_equal(closes, 1);
    assert_int_equal(p.stream->read_until("x", 0, r.cb()), kClosed);
  }
  {
    // The peer vanishes (no orderly end): a reset, kIO.
    Pair p;
    Reads r;
    int err = 0;
    p.stream->set_close_callback([&](int e) { err = e; });
    assert_int_equal(p.stream->read_bytes(10, false, r.cb()), kOk);
    p.send("12345");
    p.pump();
    p.peer->close();
    p.pump();
    assert_int_equal(r.got.size(), 1);
    assert_int_equal(r.got[0].first, kClosed);
    assert_int_equal(err, kIO);
  }
}

void test_iostream__raw_mode_sees_every_byte(void**) {
  Pair p;
  std::string seen;
  bool eof = false;
  p.stream->set_read_handler([&](int ev) {
    if (ev == IOStream::kEof) {
      eof = true;
      return;
    }
    ReadBuffer& rb = p.stream->read_buffer();
    seen.append(rb.data(), rb.size());
    rb.consume(rb.size());
  });
  const std::string msg(5000, 'x');
  for (char c : msg) {
    p.send(std::string_view(&c, 1));
    p.pump();
  }
  assert_true(seen == msg);
  assert_false(eof);
  p.peer->shutdown_write();
  p.pump();
  assert_true(eof);
}

void test_iostream__write_backpressure(void**) {
  // The peer holds at most 1 KiB: a 64 KiB write is queued, the stream
  // reports it pending, the high watermark trips, and the drain callback and
  // the write callback run only as the peer reads.
  Pair p(1024);
  int drains = 0;
  std::vector<int> done;
  assert_int_equal(p.stream->set_write_limits(0, 8192, 2048, [&] { drains++; }), kOk);
  std::string big(65536, '\0');
  for (size_t i = 0; i < big.size(); i++) big[i] = char('a' + i % 26);
  assert_int_equal(p.stream->write(big.data(), big.size(), [&](int st) { done.push_back(st); }),
                   kOk);
  assert_int_equal(p.stream->write_buffer_size(), 65536 - 1024);
  p.pump();
  assert_true(done.empty());
  assert_int_equal(drains, 0);
  std::string got;
  while (got.size() < big.size()) {
    std::string part = p.take();
    assert_true(!part.empty() || !done.empty());
    got += part;
    p.pump();
    if (p.stream->write_buffer_size() > 2048) assert_int_equal(drains, 0);
  }
  assert_true(got == big);
  assert_int_equal(drains, 1);
  assert_int_equal(done.size(), 1);
  assert_int_equal(done[0], kOk);
  assert_int_equal(p.stream->write_buffer_size(), 0);
}

void test_iostream__write_limit_and_failed_write(void**) {
  Pair p(16);
  assert_int_equal(p.stream->set_write_limits(100, 50, 10, nullptr), kOk);
  std::string s(90, 'z');
  assert_int_equal(p.stream->write(s.data(), s.size()), kOk);
  assert_int_equal(p.stream->write(s.data(), s.size()), kBusy);  // over max_bytes
  // The peer goes away with bytes queued: the write callback learns it.
  int st = 1;
  assert_int_equal(p.stream->write("x", 1, [&](int r) { st = r; }), kOk);
  p.peer->close();
  p.pump();
  assert_true(p.stream->closed());
  assert_true(st != kOk && st != 1);
}

void test_iostream__close_after_write_lingers(void**) {
  // Everything queued is delivered, our side is ended (the peer reads EOF),
  // and what the peer still sends is drained until it ends too.
  Pair p(64);
  std::string s(1000, 'q');
  assert_int_equal(p.stream->write(s.data(), s.size()), kOk);
  p.stream->close_after_write(2000);
  assert_false(p.stream->closed());
  std::string got;
  while (!p.peer->peer_ended()) {
    got += p.take();
    p.pump();
  }
  got += p.take();
  assert_true(got == s);
  assert_false(p.stream->closed());  // lingering: still reading
  p.send("late bytes are discarded");
  p.pump();
  assert_false(p.stream->closed());
  p.peer->shutdown_write();
  p.pump();
  assert_true(p.stream->closed());
}

}  // namespace

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_iostream__read_until_byte_at_a_time),
      cmocka_unit_test(test_iostream__read_bytes_every_split),
      cmocka_unit_test(test_iostream__read_until_max_bytes),
      cmocka_unit_test(test_iostream__read_until_close_and_early_close),
      cmocka_unit_test(test_iostream__raw_mode_sees_every_byte),
      cmocka_unit_test(test_iostream__write_backpressure),
      cmocka_unit_test(test_iostream__write_limit_and_failed_write),
      cmocka_unit_test(test_iostream__close_after_write_lingers),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
