// HTTP1Connection over the in-memory transport, with a test delegate in
// place of HTTPServer: no socket, no sleep, no clock.  The test is the
// client; it chooses every byte split, reads (or does not read) the
// responses, and closes when it likes.
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <csetjmp>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/http/connection.h"
#include "core/http/delegate.h"
#include "core/status.h"
#include "core/transport.h"
#include "tests/core/pipe_peer.h"

// cmocka last: its fail() macro collides with std::basic_ios::fail.
extern "C" {
#include <cmocka.h>
}

using namespace squall;
using namespace squall::http;

namespace {

struct Finished {
  std::string target;
  int status;
  uint64_t bytes;
};

class TestDelegate final : public ConnectionDelegate {
 public:
  std::function<void(Request*)> on_request;
  std::function<void(Request*)> on_headers;
  std::vector<Finished> finished;
  std::vector<std::string> reports;
  int opened = 0, closed = 0, destroyed = 0, dispatched = 0;
  std::vector<HTTP1Connection*> conns;  // in the order they opened
  bool drain = false;
  Counters ctr;

  void connection_opened(HTTP1Connection* c) override {
    opened++;
    conns.push_back(c);
  }
  void connection_closed(HTTP1Connection*) override { closed++; }
  void connection_destroyed(HTTP1Connection*) override { destroyed++; }
  bool draining() const override { return drain; }
  void report(int kind, int status, std::string_view msg, std::string_view) override {
    reports.push_back(std::to_string(kind) + " " + std::to_string(status) + " " + std::string(msg));
  }
  Counters& counters() override { return ctr; }
  bool wants_headers() const override { return bool(on_headers); }
  void headers_received(Request* r) override { on_headers(r); }
  void request_received(Request* r) override {
    dispatched++;
    on_request(r);
  }
  bool wants_finished() const override { return true; }
  void request_finished(const Request& r, int status, uint64_t bytes, uint64_t,
                        std::string_view) override {
    finished.push_back({std::string(r.head.target), status, bytes});
  }
};

// Answers with the method, target and body, whole.
void echo(Request* r) {
  HTTP1Connection* c = r->conn;
  std::string b = std::string(r->head.method) + " " + std::string(r->head.target) + " " + r->body;
  c->add_header("Content-Type", "text/plain");
  c->write(b.data(), b.size());
  c->finish();
}

struct Client {
  IOLoop loop;
  ConnectionParams params;
  TestDelegate d;
  std::unique_ptr<MemoryTransport> peer;

  explicit Client(size_t capacity = 1 << 20, std::function<void(Request*)> h = echo) {
    d.on_request = std::move(h);
    auto ends = MemoryTransport::pair(&loop, capacity);
    peer = std::move(ends.second);
    auto stream = IOStream::create(&loop, std::move(ends.first));
    (new HTTP1Connection(&params, &d, stream))->start();
  }
  ~Client() {
    peer->close();
    loop.run_until_idle();
    assert_int_equal(d.destroyed, d.opened);
  }
  void send(std::string_view s) {
    while (!s.empty()) {
      iovec iov{const_cast<char*>(s.data()), s.size()};
      int err = 0;
      ssize_t n = peer->writev(&iov, 1, &err);
      assert_true(n > 0);
      s.remove_prefix(size_t(n));
      loop.run_until_idle();
    }
  }
  std::string take() { return squall::test::read_all(peer.get(), &loop); }
  void pump() { loop.run_until_idle(); }
};

// A parsed response off the wire.
struct Resp {
  int status = 0;
  std::string head, body;
  bool chunked = false, has_length = false, complete = false;
  size_t wire = 0;
};

std::string field(const std::string& head, const std::string& name) {
  std::string key = "\r\n" + name + ": ";
  size_t at = head.find(key);
  if (at == std::string::npos) return "";
  size_t e = head.find("\r\n", at + key.size());
  return head.substr(at + key.size(), e - at - key.size());
}

// Split a byte stream into responses; body_less: responses to HEAD.
std::vector<Resp> parse(std::string_view in, std::vector<bool> head_reqs = {}) {
  std::vector<Resp> out;
  while (!in.empty()) {
    Resp r;
    size_t he = in.find("\r\n\r\n");
    if (he == std::string_view::npos) break;
    r.head = std::string(in.substr(0, he + 4));
    r.status = std::stoi(r.head.substr(9, 3));
    size_t pos = he + 4;
    bool body_less = out.size() < head_reqs.size() && head_reqs[out.size()];
    std::string cl = field(r.head, "Content-Length");
    r.chunked = field(r.head, "Transfer-Encoding") == "chunked";
    if (body_less || r.status < 200 || r.status == 204 || r.status == 304) {
      r.complete = true;
    } else if (!cl.empty()) {
      r.has_length = true;
      size_t n = std::stoul(cl);
      if (in.size() - pos >= n) {
        r.body = std::string(in.substr(pos, n));
        pos += n;
        r.complete = true;
      } else {
        r.body = std::string(in.substr(pos));
        pos = in.size();
      }
    } else if (r.chunked) {
      for (;;) {
        size_t le = in.find("\r\n", pos);
        if (le == std::string_view::npos) {
          pos = in.size();
          break;
        }
        size_t n = std::stoul(std::string(in.substr(pos, le - pos)), nullptr, 16);
        if (n == 0) {
          if (in.substr(le + 2, 2) == "\r\n") {
            pos = le + 4;
            r.complete = true;
          } else {
            pos = in.size();
          }
          break;
        }
        if (in.size() < le + 2 + n + 2) {
          r.body += std::string(in.substr(le + 2));
          pos = in.size();
          break;
        }
        r.body += std::string(in.substr(le + 2, n));
        pos = le + 2 + n + 2;
      }
    } else {
      r.body = std::string(in.substr(pos));  // close-delimited
      pos = in.size();
    }
    r.wire = pos;
    out.push_back(r);
    in.remove_prefix(pos);
  }
  return out;
}

// Date changes once a second: compare responses without it.
std::string no_date(std::string s) {
  for (size_t at; (at = s.find("\r\nDate: ")) != std::string::npos;)
    s.erase(at + 2, s.find("\r\n", at + 2) - at);
  return s;
}

const std::string kBurst =
    "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
    "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
    "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    "3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: t\r\n\r\n"
    "HEAD /d HTTP/1.1\r\nHost: x\r\n\r\n"
    "GET /e HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";

void check_burst(const std::string& wire) {
  auto rs = parse(wire, {false, false, false, true, false});
  assert_int_equal(rs.size(), 5);
  const char* bodies[] = {"GET /a ", "POST /b hello", "POST /c abcde", "", "GET /e "};
  for (int i = 0; i < 5; i++) {
    assert_int_equal(rs[i].status, 200);
    assert_true(rs[i].complete);
    assert_string_equal(rs[i].body.c_str(), bodies[i]);
  }
  // HEAD: framed as the GET would be, no body bytes.
  assert_string_equal(field(rs[3].head, "Content-Length").c_str(), "8");
  assert_string_equal(field(rs[4].head, "Connection").c_str(), "close");
}

void test_connection__whole_burst(void**) {
  Client c;
  c.send(kBurst);
  std::string wire = c.take();
  check_burst(wire);
  assert_true(c.peer->peer_ended());  // Connection: close honoured
  assert_int_equal(c.d.dispatched, 5);
  assert_int_equal(c.d.finished.size(), 5);
  // The access count is each response's bytes on the wire.
  auto rs = parse(wire, {false, false, false, true, false});
  for (int i = 0; i < 5; i++) assert_int_equal(c.d.finished[i].bytes, rs[i].wire);
  assert_int_equal(c.d.ctr.get(kStatRequests), 5);
  assert_int_equal(c.d.ctr.get(kStatBytesIn), kBurst.size());
  assert_int_equal(c.d.ctr.get(kStatBytesOut), wire.size());
}

void test_connection__byte_at_a_time(void**) {
  Client c;
  for (char ch : kBurst) c.send(std::string_view(&ch, 1));
  check_burst(c.take());
  assert_int_equal(c.d.dispatched, 5);
}

void test_connection__every_split_of_a_pipelined_burst(void**) {
  std::string want;
  {
    Client c;
    c.send(kBurst);
    want = no_date(c.take());
  }
  for (size_t cut = 1; cut < kBurst.size(); cut++) {
    Client c;
    c.send(std::string_view(kBurst).substr(0, cut));
    c.send(std::string_view(kBurst).substr(cut));
    std::string got = no_date(c.take());
    if (got != want) fprintf(stderr, "split at %zu differs\n", cut);
    assert_true(got == want);
  }
}

void test_connection__early_close_before_dispatch(void**) {
  Client c;
  c.send("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc");
  c.peer->shutdown_write();
  c.pump();
  assert_int_equal(c.d.dispatched, 0);
  assert_true(c.peer->peer_ended());
  assert_true(c.take().empty());
}

void test_connection__client_gone_while_handling(void**) {
  Request* held = nullptr;
  Client c(1 << 20, [&](Request* r) { held = r; });
  std::vector<int> done;
  c.send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
  assert_non_null(held);
  held->conn->set_on_done([&](int st) { done.push_back(st); });
  c.peer->shutdown_write();
  c.pump();
  // Tornado's on_connection_close: the application learns it at once...
  assert_int_equal(done.size(), 1);
  assert_int_equal(done[0], kClosed);
  assert_true(held->conn->is_closed());
  // ...and still owns the request until it finishes it.
  assert_int_equal(c.d.destroyed, 0);
  assert_int_equal(held->conn->write("late", 4), kClosed);
  assert_int_equal(held->conn->finish(), kClosed);
  c.pump();
  assert_int_equal(c.d.destroyed, 1);
  assert_int_equal(c.d.finished.size(), 1);
  assert_int_equal(c.d.finished[0].status, 0);  // nothing was sent
}

void test_connection__write_backpressure(void**) {
  // A client that pipelines 200 requests for 8 KiB answers and reads
  // nothing: the connection stops reading requests once its output backs
  // up, and answers all of them, in order, once the client reads.
  const std::string body(8192, 'b');
  Client c(4096, [&](Request* r) {
    r->conn->write(body.data(), body.size());
    r->conn->finish();
  });
  std::string burst;
  for (int i = 0; i < 200; i++)
    burst += "GET /" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\n\r\n";
  // Write as much as the connection takes without reading anything.
  size_t sent = 0;
  auto push = [&] {
    for (;;) {
      iovec iov{burst.data() + sent, burst.size() - sent};
      int err = 0;
      ssize_t n = sent < burst.size() ? c.peer->writev(&iov, 1, &err) : 0;
      if (n <= 0) break;
      sent += size_t(n);
      c.pump();
    }
  };
  push();
  assert_true(c.d.dispatched > 0);
  assert_true(c.d.dispatched < 200);  // paused: answers are not read
  int paused_at = c.d.dispatched;
  c.pump();
  assert_int_equal(c.d.dispatched, paused_at);  // and it stays paused
  std::string wire;
  while (sent < burst.size() || wire.size() < 200 * body.size()) {
    std::string part = c.take();
    push();
    if (part.empty() && sent == burst.size()) break;
    wire += part;
  }
  assert_int_equal(c.d.dispatched, 200);
  auto rs = parse(wire);
  assert_int_equal(rs.size(), 200);
  for (int i = 0; i < 200; i++) {
    assert_true(rs[i].complete);
    assert_true(rs[i].body == body);
    assert_string_equal(c.d.finished[i].target.c_str(), ("/" + std::to_string(i)).c_str());
  }
}

// The encoder counts every byte of every response: whole and streamed
// bodies of 0 B, 1 B, 16 KiB - 1, 16 KiB, 16 KiB + 1 and 10 MiB.
void test_connection__encoder_counts_bytes(void**) {
  const size_t sizes[] = {0, 1, 16383, 16384, 16385, 10u << 20};
  for (int streamed = 0; streamed < 2; streamed++) {
    for (size_t n : sizes) {
      std::string body(n, 'x');
      for (size_t i = 0; i < n; i += 4093) body[i] = char('a' + i % 26);
      Client c(1 << 20, [&](Request* r) {
        if (streamed) {
          size_t half = n / 2;
          r->conn->write(body.data(), half);
          r->conn->flush(nullptr);
          r->conn->write(body.data() + half, n - half);
        } else {
          r->conn->write(body.data(), n);
        }
        r->conn->finish();
      });
      c.send("GET /n HTTP/1.1\r\nHost: x\r\n\r\n");
      std::string wire = c.take();
      auto rs = parse(wire);
      assert_int_equal(rs.size(), 1);
      assert_true(rs[0].complete);
      assert_true(rs[0].body == body);
      assert_int_equal(rs[0].chunked, streamed == 1);
      assert_int_equal(rs[0].has_length, streamed == 0);
      assert_int_equal(c.d.finished.size(), 1);
      if (c.d.finished[0].bytes != wire.size())
        fprintf(stderr, "size %zu streamed %d: counted %llu, wire %zu\n", n, streamed,
                (unsigned long long)c.d.finished[0].bytes, wire.size());
      assert_int_equal(c.d.finished[0].bytes, wire.size());
    }
  }
}

void test_connection__no_body_statuses(void**) {
  const int codes[] = {204, 304, 101};
  for (int code : codes) {
    Client c(1 << 20, [&](Request* r) {
      r->conn->set_status(code, {});
      r->conn->write("dropped", 7);
      r->conn->finish();
    });
    c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    std::string wire = c.take();
    assert_true(wire.find("dropped") == std::string::npos);
    assert_true(wire.find("Content-Length") == std::string::npos);
    assert_true(wire.find("Transfer-Encoding") == std::string::npos);
    assert_true(wire.size() >= 4 && wire.compare(wire.size() - 4, 4, "\r\n\r\n") == 0);
    assert_int_equal(c.d.finished[0].bytes, wire.size());
  }
}

void test_connection__http10_streamed_is_close_delimited(void**) {
  Client c(1 << 20, [&](Request* r) {
    r->conn->write("part1", 5);
    r->conn->flush(nullptr);
    r->conn->write("part2", 5);
    r->conn->finish();
  });
  c.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  std::string wire = c.take();
  assert_true(c.peer->peer_ended());
  assert_true(wire.find("Content-Length") == std::string::npos);
  assert_true(wire.find("Transfer-Encoding") == std::string::npos);
  assert_true(wire.compare(wire.size() - 10, 10, "part1part2") == 0);
}

void test_connection__abort_after_streaming_truncates(void**) {
  Client c(1 << 20, [&](Request* r) {
    r->conn->write("first chunk", 11);
    r->conn->flush(nullptr);
    r->conn->abort();
  });
  c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string wire = c.take();
  assert_true(c.peer->peer_ended());
  auto rs = parse(wire);
  assert_int_equal(rs.size(), 1);
  assert_true(rs[0].chunked);
  assert_string_equal(rs[0].body.c_str(), "first chunk");
  assert_false(rs[0].complete);  // no last chunk: reads as truncated
  assert_true(wire.find("0\r\n\r\n") == std::string::npos);
  assert_int_equal(c.d.reports.size(), 1);
}

void test_connection__abort_tells_on_done(void**) {
  std::vector<int> done;
  Client c(1 << 20, [&](Request* r) {
    r->conn->set_on_done([&](int st) { done.push_back(st); });
    r->conn->abort();
  });
  c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  c.pump();
  assert_int_equal(done.size(), 1);
  assert_int_equal(done[0], kClosed);
}

void test_connection__abort_stops_the_pipeline(void**) {
  // Requests read after an aborted one are not dispatched, and nothing
  // counts the aborted exchange as a sent response.
  Client c(1 << 20, [&](Request* r) {
    if (r->head.target == "/1")
      r->conn->abort();
    else
      echo(r);
  });
  c.send(
      "GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /3 HTTP/1.1\r\nHost: x\r\n\r\n");
  assert_true(c.take().empty());
  assert_true(c.peer->peer_ended());
  assert_int_equal(c.d.dispatched, 1);
  assert_int_equal(c.d.finished.size(), 1);
  assert_int_equal(c.d.finished[0].status, 0);
  assert_int_equal(c.d.ctr.get(kStat2xx), 0);
}

void test_connection__declared_length_mismatch_closes(void**) {
  Client c(1 << 20, [&](Request* r) {
    r->conn->add_header("Content-Length", "10");
    r->conn->write("short", 5);
    r->conn->finish();
  });
  c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n");
  c.take();
  assert_true(c.peer->peer_ended());
  assert_int_equal(c.d.dispatched, 1);  // nothing after a broken framing
  assert_int_equal(c.d.reports.size(), 1);
}

void test_connection__rejects_then_closes(void**) {
  Client c;
  c.send("GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\nGET /never HTTP/1.1\r\n\r\n");
  std::string wire = c.take();
  auto rs = parse(wire);
  assert_int_equal(rs.size(), 1);
  assert_int_equal(rs[0].status, 400);
  assert_string_equal(field(rs[0].head, "Connection").c_str(), "close");
  assert_string_equal(field(rs[0].head, "Content-Length").c_str(), "0");
  assert_int_equal(c.d.dispatched, 0);
  c.peer->shutdown_write();
  c.pump();
  assert_true(c.peer->peer_ended());
  assert_int_equal(c.d.ctr.get(kStatRejectedParse), 1);
}

// An idle keep-alive connection gives its request memory back (the Block)
// as soon as it is idle, takes it again with the first byte of the next
// head, and holds it while the application holds the request.
void test_connection__idle_holds_no_request(void**) {
  Request* held = nullptr;
  Client c(1 << 20, [&](Request* r) {
    if (r->head.target == "/later")
      held = r;  // answered below, after the pass
    else
      echo(r);
  });
  c.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
  HTTP1Connection* conn = c.d.conns.at(0);
  assert_int_equal(parse(c.take()).size(), 1);
  assert_false(conn->holds_request());
  c.send("GET /b HTTP/1.1\r\nHo");  // a partial head is request memory
  assert_true(conn->holds_request());
  c.send("st: x\r\n\r\n");
  assert_false(conn->holds_request());
  c.send("GET /later HTTP/1.1\r\nHost: x\r\n\r\n");
  assert_non_null(held);
  assert_true(conn->holds_request());
  echo(held);
  assert_false(conn->holds_request());
  auto rs = parse(c.take());
  assert_int_equal(rs.size(), 2);
  assert_string_equal(rs[1].body.c_str(), "GET /later ");
  assert_int_equal(c.d.finished.size(), 3);
}

// Connections of one loop thread share the request blocks: a second
// connection's request reuses the block the first gave back, with nothing
// of the first request left in it.
void test_connection__request_block_reused_clean(void**) {
  std::vector<Request*> seen;
  std::vector<size_t> fields;
  std::vector<HTTP1Connection*> owners;
  Client a(1 << 20, [&](Request* r) {
    seen.push_back(r);
    fields.push_back(r->head.headers.size());
    owners.push_back(r->conn);
    echo(r);
  });
  auto ends = MemoryTransport::pair(&a.loop);
  (new HTTP1Connection(&a.params, &a.d, IOStream::create(&a.loop, std::move(ends.first))))->start();
  a.send("POST /one HTTP/1.1\r\nHost: x\r\nX-A: 1\r\nContent-Length: 3\r\n\r\nabc");
  assert_int_equal(parse(a.take()).size(), 1);
  std::string req = "GET /two HTTP/1.1\r\nHost: y\r\n\r\n";
  iovec iov{req.data(), req.size()};
  int err = 0;
  assert_int_equal(ends.second->writev(&iov, 1, &err), ssize_t(req.size()));
  a.pump();
  auto rs = parse(squall::test::read_all(ends.second.get(), &a.loop));
  assert_int_equal(rs.size(), 1);
  assert_string_equal(rs[0].body.c_str(), "GET /two ");  // no body of /one
  assert_int_equal(seen.size(), 2);
  assert_ptr_equal(seen[0], seen[1]);  // the same block, from the pool
  assert_ptr_equal(owners[1], a.d.conns.at(1));
  assert_ptr_not_equal(owners[0], owners[1]);
  assert_int_equal(fields[0], 3);
  assert_int_equal(fields[1], 1);
  assert_false(a.d.conns[0]->holds_request());
  assert_false(a.d.conns[1]->holds_request());
  ends.second->close();
  a.pump();
}

void test_connection__large_head_byte_at_a_time(void**) {
  // A 60 KiB head arriving one byte at a time parses once it is complete,
  // and the resumable parser looks at each byte a bounded number of times.
  std::string head = "GET /big HTTP/1.1\r\nHost: x\r\n";
  int fields = 0;
  while (head.size() < 60 * 1024) {
    head += "X-Field-" + std::to_string(fields++) + ": " + std::string(500, 'v') + "\r\n";
  }
  head += "\r\n";
  size_t got_fields = 0;
  Client c(1 << 20, [&](Request* r) {
    got_fields = r->head.headers.size();
    echo(r);
  });
  c.params.limits.max_header_count = 1000;
  for (char ch : head) c.send(std::string_view(&ch, 1));
  assert_int_equal(c.d.dispatched, 1);
  assert_int_equal(got_fields, size_t(fields) + 1);
  auto rs = parse(c.take());
  assert_int_equal(rs.size(), 1);
  assert_int_equal(rs[0].status, 200);
}

}  // namespace

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_connection__whole_burst),
      cmocka_unit_test(test_connection__byte_at_a_time),
      cmocka_unit_test(test_connection__every_split_of_a_pipelined_burst),
      cmocka_unit_test(test_connection__early_close_before_dispatch),
      cmocka_unit_test(test_connection__client_gone_while_handling),
      cmocka_unit_test(test_connection__write_backpressure),
      cmocka_unit_test(test_connection__encoder_counts_bytes),
      cmocka_unit_test(test_connection__no_body_statuses),
      cmocka_unit_test(test_connection__http10_streamed_is_close_delimited),
      cmocka_unit_test(test_connection__abort_after_streaming_truncates),
      cmocka_unit_test(test_connection__abort_tells_on_done),
      cmocka_unit_test(test_connection__abort_stops_the_pipeline),
      cmocka_unit_test(test_connection__declared_length_mismatch_closes),
      cmocka_unit_test(test_connection__rejects_then_closes),
      cmocka_unit_test(test_connection__large_head_byte_at_a_time),
      cmocka_unit_test(test_connection__idle_holds_no_request),
      cmocka_unit_test(test_connection__request_block_reused_clean),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
