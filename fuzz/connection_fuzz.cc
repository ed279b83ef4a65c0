// libFuzzer harness for a whole HTTP1Connection over the in-memory
// transport (tornado/http1connection.py's HTTP1ServerConnection end to end).
// The input is split by FuzzedDataProvider: the client's bytes come off the
// front; the choices -- how many bytes each write carries, when the loop
// runs, when the client reads, half-closes or closes, the pipe's capacity,
// and what the handler does with each request (answer now, later, streamed,
// abort, answer from the headers hook, break its own Content-Length) --
// come off the back.  The output is then read back as a client would and
// checked:
//   * every response is well framed (status line, field lines, then
//     Content-Length bytes, chunks or, last of all, bytes until the close);
//   * responses come in request order and at most one per request (each
//     handler response carries X-Seq, the request's dispatch number, and
//     the seq numbers on the wire are 0, 1, 2, ... with none repeated);
//   * a complete body is exactly the one the handler wrote;
//   * nothing follows a response that ends the connection (Connection:
//     close, close-delimited, or cut short);
//   * the connection object is destroyed once the client is gone.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/http/connection.h"
#include "core/http/delegate.h"
#include "core/transport.h"
#include "tests/core/counting_delegate.h"

using namespace squall;
using namespace squall::http;

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

enum Mode : uint8_t {
  kNow,          // whole answer, length from the body
  kNowLength,    // whole answer with its own Content-Length field
  kLater,        // answered by a later op
  kStreamed,     // a piece and a flush now, the rest by a later op
  kAbortNow,     // abort at once (no response)
  kNowClose,     // answer with Connection: close
  kBadLength,    // Content-Length larger than the body: framing broken
  kStreamAbort,  // a piece and a flush, then abort by a later op
  kModeCount
};

class FuzzDelegate final : public squall::test::CountingDelegate {
 public:
  explicit FuzzDelegate(FuzzedDataProvider* fdp) : fdp_(fdp) {}
  FuzzedDataProvider* fdp_;
  bool hook = false;  // wants_headers
  int next_seq = 0;
  std::map<int, std::string> expect;  // seq -> full body, when checkable
  bool truncation_ok = false;         // a response may be cut short
  // The client half-closed: an end of input while a response is under way
  // is the client going away (Tornado's on_connection_close), and the
  // connection closes under that response.
  bool client_shut = false;
  // The request the application holds (at most one: requests are handled
  // strictly in order), and what remains to do with it.
  Request* held = nullptr;
  int held_seq = -1;
  Mode held_mode = kNow;

  bool wants_headers() const override { return hook; }
  void headers_received(Request* r) override {
    // Sometimes answer before the body is read (Tornado's early 4xx).
    if (fdp_->ConsumeIntegralInRange<int>(0, 3) == 0) answer(r, next_seq++, kNow);
  }
  void request_received(Request* r) override {
    check(held == nullptr);  // one request at a time
    const Mode m = Mode(fdp_->ConsumeIntegralInRange<int>(0, kModeCount - 1));
    answer(r, next_seq++, m);
  }

  static std::string body_of(Request* r, int seq, int piece) {
    std::string b = "seq=" + std::to_string(seq) + " piece=" + std::to_string(piece) + " " +
                    std::string(r->head.method) + " " + std::to_string(r->body.size()) + "\n";
    if (piece == 1) b += std::string(size_t(seq * 37 % 300), 'x');
    return b;
  }

  void start(Request* r, int seq) {
    HTTP1Connection* c = r->conn;
    c->add_header("X-Seq", std::to_string(seq));
    if (r->head.method == "HEAD") c->add_header("X-Head", "1");
  }

  void answer(Request* r, int seq, Mode m) {
    HTTP1Connection* c = r->conn;
    const std::string b0 = body_of(r, seq, 0);
    switch (m) {
      case kNow:
      case kNowLength:
      case kNowClose:
        start(r, seq);
        if (m == kNowLength) c->add_header("Content-Length", std::to_string(b0.size()));
        if (m == kNowClose) c->add_header("Connection", "close");
        c->write(b0.data(), b0.size());
        expect[seq] = b0;
        c->finish();
        break;
      case kBadLength:
        start(r, seq);
        c->add_header("Content-Length", std::to_string(b0.size() + 5));
        c->write(b0.data(), b0.size());
        truncation_ok = true;
        c->finish();
        break;
      case kAbortNow:
        truncation_ok = true;
        c->abort();
        break;
      case kStreamed:
      case kStreamAbort:
        start(r, seq);
        c->write(b0.data(), b0.size());
        c->flush(nullptr);
        [[fallthrough]];
      case kLater:
        if (client_shut) truncation_ok = true;
        held = r;
        held_seq = seq;
        held_mode = m;
        break;
      default: break;
    }
  }

  // Finish what the application holds (a later op, or the end of input).
  void release() {
    if (!held) return;
    Request* r = held;
    const int seq = held_seq;
    held = nullptr;
    HTTP1Connection* c = r->conn;
    if (held_mode == kStreamAbort) {
      truncation_ok = true;
      c->abort();
      return;
    }
    if (held_mode == kLater) start(r, seq);
    const std::string b1 = body_of(r, seq, 1);
    c->write(b1.data(), b1.size());
    if (held_mode == kLater)
      expect[seq] = b1;
    else
      expect[seq] = body_of(r, seq, 0) + b1;
    c->finish();
  }
};

// ------------------------------------------------- reading the output back

bool is_tchar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// Parses wire; traps on a violation.  truncation_ok: the last response may
// be incomplete.
void check_wire(const std::string& wire, const FuzzDelegate& d) {
  size_t pos = 0;
  int next = 0;
  bool ended = false;
  while (pos < wire.size()) {
    check(!ended);  // nothing after a response that ends the connection
    const size_t he = wire.find("\r\n\r\n", pos);
    if (he == std::string::npos) {
      check(d.truncation_ok);  // a head cut short
      return;
    }
    const std::string_view head(wire.data() + pos, he + 2 - pos);
    check(head.substr(0, 9) == "HTTP/1.1 " && head.size() >= 14);
    for (int i = 9; i < 12; i++) check(head[i] >= '0' && head[i] <= '9');
    check(head[12] == ' ');
    const int status = (head[9] - '0') * 100 + (head[10] - '0') * 10 + (head[11] - '0');
    check(status >= 100 && status <= 599);
    // Field lines.
    int64_t cl = -1;
    bool chunked = false, close = false, is_head = false;
    int seq = -1;
    size_t at = head.find("\r\n") + 2;
    while (at < head.size()) {
      const size_t le = head.find("\r\n", at);
      const std::string_view line = head.substr(at, le - at);
      const size_t colon = line.find(':');
      check(colon != std::string_view::npos && colon > 0);
      for (size_t i = 0; i < colon; i++) check(is_tchar(line[i]));
      check(colon + 1 < line.size() ? line[colon + 1] == ' ' : true);
      const std::string_view name = line.substr(0, colon);
      const std::string_view value = line.substr(std::min(line.size(), colon + 2));
      for (char ch : value) check(ch != '\r' && ch != '\n' && ch != '\0');
      if (iequals(name, "Content-Length")) {
        check(cl < 0 && !value.empty());
        cl = 0;
        for (char ch : value) {
          check(ch >= '0' && ch <= '9');
          cl = cl * 10 + (ch - '0');
        }
      } else if (iequals(name, "Transfer-Encoding")) {
        check(value == "chunked" && !chunked);
        chunked = true;
      } else if (iequals(name, "Connection")) {
        if (iequals(value, "close")) close = true;
      } else if (name == "X-Seq") {
        seq = std::stoi(std::string(value));
      } else if (name == "X-Head") {
        is_head = true;
      }
      at = le + 2;
    }
    check(!(chunked && cl >= 0));  // never both
    pos = he + 4;
    if (status < 200) {
      check(status == 100 && cl < 0 && !chunked && seq < 0);
      continue;
    }
    // Order: each handler response is the next request's; server-made
    // answers (4xx/5xx of the parser, limits, timeouts) end the connection.
    if (seq >= 0) {
      check(seq == next);
      next++;
      check(seq < d.next_seq);
    } else {
      check(close && status >= 400);
    }
    std::string body;
    bool complete = true;
    if (is_head || status == 204 || status == 304) {
      // No body, whatever the framing fields say (a HEAD answer may name
      // the chunked coding a GET would have had: RFC 9112 6.1).
    } else if (cl >= 0) {
      if (wire.size() - pos < size_t(cl)) {
        complete = false;
        body = wire.substr(pos);
        pos = wire.size();
      } else {
        body = wire.substr(pos, size_t(cl));
        pos += size_t(cl);
      }
    } else if (chunked) {
      for (;;) {
        const size_t le = wire.find("\r\n", pos);
        if (le == std::string::npos) {
          complete = false;
          pos = wire.size();
          break;
        }
        uint64_t n = 0;
        check(le > pos && le - pos <= 16);
        for (size_t i = pos; i < le; i++) {
          const char ch = wire[i];
          const int v = ch >= '0' && ch <= '9'   ? ch - '0'
                        : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                        : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                                 : -1;
          check(v >= 0);
          n = n * 16 + uint64_t(v);
        }
        if (n == 0) {
          if (wire.size() < le + 4) {
            complete = false;
            pos = wire.size();
          } else {
            check(wire.compare(le + 2, 2, "\r\n") == 0);
            pos = le + 4;
          }
          break;
        }
        if (wire.size() < le + 2 + n + 2) {
          complete = false;
          pos = wire.size();
          break;
        }
        body.append(wire, le + 2, n);
        check(wire.compare(le + 2 + n, 2, "\r\n") == 0);
        pos = le + 2 + n + 2;
      }
    } else {
      // Close-delimited: the rest of the wire.
      body = wire.substr(pos);
      pos = wire.size();
      close = true;
    }
    if (!complete) {
      check(d.truncation_ok && pos == wire.size());
      return;
    }
    if (seq >= 0 && !is_head) {
      auto it = d.expect.find(seq);
      if (it != d.expect.end()) check(body == it->second || d.truncation_ok);
    }
    if (close) ended = true;
  }
}

std::string read_some(MemoryTransport* peer, size_t max) {
  std::string out;
  char buf[4096];
  int err = 0;
  while (out.size() < max) {
    ssize_t n = peer->read(buf, std::min(sizeof buf, max - out.size()), &err);
    if (n <= 0) break;
    out.append(buf, size_t(n));
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider fdp(data, size);
  IOLoop loop;
  ConnectionParams params;
  // Small limits now and then so the 413/414/431 paths are reached.
  const uint8_t cfg = fdp.ConsumeIntegral<uint8_t>();
  if (cfg & 1) {
    params.limits.max_header_size = 256;
    params.limits.max_uri_size = 64;
    params.limits.max_header_count = 4;
    params.max_body_size = 64;
  }
  const size_t capacity = (cfg & 2) ? 64 + size_t(cfg) * 8 : 1 << 20;
  FuzzDelegate d(&fdp);
  d.hook = cfg & 4;

  auto ends = MemoryTransport::pair(&loop, capacity);
  std::unique_ptr<MemoryTransport> peer = std::move(ends.second);
  (new HTTP1Connection(&params, &d, IOStream::create(&loop, std::move(ends.first))))->start();

  std::string wire;
  bool client_closed = false, client_shut = false;
  // Bytes the pipe had no room for yet wait here, as in a client's socket.
  std::string unsent;
  auto push = [&] {
    bool moved = false;
    while (!unsent.empty() && !client_shut) {
      iovec iov{unsent.data(), unsent.size()};
      int err = 0;
      ssize_t w = peer->writev(&iov, 1, &err);
      if (w <= 0) break;
      unsent.erase(0, size_t(w));
      moved = true;
    }
    return moved;
  };
  // The client's bytes come off the front, the ops off the back.
  while (fdp.remaining_bytes() > 0 && !client_closed) {
    switch (fdp.ConsumeIntegralInRange<int>(0, 7)) {
      case 0:
      case 1:
      case 2:  // the next n bytes join what the client has to send
        if (!client_shut)
          unsent += fdp.ConsumeBytesAsString(fdp.ConsumeIntegralInRange<size_t>(1, 512));
        push();
        break;
      case 3:
        loop.run_until_idle();
        push();
        break;
      case 4:  // the client reads some of what is there
        wire += read_some(peer.get(), fdp.ConsumeIntegralInRange<size_t>(1, 1 << 16));
        break;
      case 5: d.release(); break;
      case 6:
        peer->shutdown_write();
        client_shut = d.client_shut = true;
        if (d.held) d.truncation_ok = true;
        break;
      case 7:
        if (fdp.ConsumeBool()) {
          // The client goes away for good; whatever was not read is lost.
          d.truncation_ok = true;
          client_closed = true;
        }
        break;
    }
  }
  if (!client_closed) {
    // Let everything settle: the handler finishes what it holds, the client
    // reads to the end; a small pipe needs a pass per pipe-full, so go on
    // while bytes move.
    for (int i = 0; i < 100000; i++) {
      const bool pushed = push();
      loop.run_until_idle();
      const bool held = d.held != nullptr;
      d.release();
      const std::string got = read_some(peer.get(), SIZE_MAX);
      wire += got;
      if (got.empty() && !held && !pushed) break;
    }
    loop.run_until_idle();
    wire += read_some(peer.get(), SIZE_MAX);
  }
  // SQUALL_FUZZ_TRACE=1: show what the client read (to study an input).
  static const bool trace = getenv("SQUALL_FUZZ_TRACE") != nullptr;
  if (trace) fprintf(stderr, "--- %d dispatched, wire:\n%s\n---\n", d.next_seq, wire.c_str());
  check_wire(wire, d);
  // The client goes; the held request (if any) ends; nothing leaks.
  peer->close();
  loop.run_until_idle();
  d.release();
  loop.run_until_idle();
  check(d.destroyed == d.opened);
  return 0;
}
