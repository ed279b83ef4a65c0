// The parser audit: RFC 9112 sections 2-7 and the request-smuggling
// literature (Kettle's desync research, the HTTP Garden's differential
// findings, "funky chunks", CVE write-ups for nginx, h2o, llhttp and Go
// net/http), one case per rule, each driven through a whole HTTP1Connection
// over the in-memory transport.  A case names its clause, the bytes a client
// sends, the statuses that must come back in order, whether the server must
// close, and what the handler must have seen.  Every case runs twice, once
// in one write and once a byte at a time, and both must give the same wire
// output.  The table of rules lives in core/http/parser.h's header comment.
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <csetjmp>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/http/connection.h"
#include "core/http/delegate.h"
#include "core/transport.h"
#include "tests/core/counting_delegate.h"
#include "tests/core/pipe_peer.h"

// cmocka last: its fail() macro collides with std::basic_ios::fail.
extern "C" {
#include <cmocka.h>
}

using namespace squall;
using namespace squall::http;
using namespace std::string_literals;

namespace {

class AuditDelegate final : public squall::test::CountingDelegate {
 public:
  std::vector<std::string> seen;  // what each dispatched request looked like
  void request_received(Request* r) override {
    // method target host=... body=... : the handler's view of the request.
    std::string s = std::string(r->head.method) + " " + std::string(r->head.target) +
                    " host=" + std::string(r->host) + " v=" + std::string(r->version) +
                    " body=" + r->body;
    seen.push_back(s);
    r->conn->write(s.data(), s.size());
    r->conn->finish();
  }
};

struct Outcome {
  std::vector<int> statuses;
  std::vector<std::string> seen;
  std::string wire;  // without Date
  bool closed = false;
};

std::string no_date(std::string s) {
  for (size_t at; (at = s.find("\r\nDate: ")) != std::string::npos;)
    s.erase(at + 2, s.find("\r\n", at + 2) - at);
  return s;
}

// Status codes of the responses in a wire, in order: each head, then its
// Content-Length bytes (every answer here has one, but the 1xx).
std::vector<int> statuses_of(const std::string& wire) {
  std::vector<int> out;
  size_t at = 0;
  while (at < wire.size()) {
    const size_t he = wire.find("\r\n\r\n", at);
    if (he == std::string::npos || wire.compare(at, 9, "HTTP/1.1 ") != 0) {
      out.push_back(-1);  // not a well-framed response
      break;
    }
    out.push_back(std::stoi(wire.substr(at + 9, 3)));
    const size_t cl = wire.find("\r\nContent-Length: ", at);
    at = he + 4;
    if (cl != std::string::npos && cl < he) at += std::stoul(wire.substr(cl + 18));
  }
  return out;
}

Outcome run(std::string_view in, size_t step, const ConnectionParams& params) {
  IOLoop loop;
  AuditDelegate d;
  auto ends = MemoryTransport::pair(&loop, 1 << 22);
  std::unique_ptr<MemoryTransport> peer = std::move(ends.second);
  (new HTTP1Connection(&params, &d, IOStream::create(&loop, std::move(ends.first))))->start();
  Outcome o;
  std::string wire;
  for (size_t at = 0; at < in.size() && !peer->peer_ended();) {
    std::string_view part = in.substr(at, step);
    iovec iov{const_cast<char*>(part.data()), part.size()};
    int err = 0;
    ssize_t n = peer->writev(&iov, 1, &err);
    if (n <= 0) break;  // the server closed its end
    at += size_t(n);
    loop.run_until_idle();
    wire += squall::test::read_all(peer.get(), &loop);
  }
  wire += squall::test::read_all(peer.get(), &loop);
  o.closed = peer->peer_ended();
  peer->close();
  loop.run_until_idle();
  assert_int_equal(d.destroyed, d.opened);
  o.wire = no_date(wire);
  o.statuses = statuses_of(o.wire);
  o.seen = d.seen;
  return o;
}

struct Case {
  const char* name;  // "RFC clause: rule"
  std::string in;
  std::vector<int> statuses;           // in order
  bool close;                          // the server closes (after the last response)
  std::vector<std::string> seen = {};  // handler's view; empty: not checked
};

const std::string H = "Host: a\r\n";
std::string post(const std::string& fields, const std::string& body = "") {
  return "POST /p HTTP/1.1\r\n" + H + fields + "\r\n" + body;
}
std::string chunked(const std::string& body) {
  return post("Transfer-Encoding: chunked\r\n", body);
}
const std::string kNext = "GET /next HTTP/1.1\r\n" + H + "\r\n";

const std::vector<Case>& cases() {
  static const std::vector<Case> k = {
      // ---- RFC 9112 2.2: message parsing, line ends
      {"2.2 CRLF-ended request is served",
       "GET / HTTP/1.1\r\n" + H + "\r\n",
       {200},
       false,
       {"GET / host=a v=HTTP/1.1 body="}},
      {"2.2 bare LF ends the request line: 400", "GET / HTTP/1.1\n" + H + "\r\n", {400}, true},
      {"2.2 bare LF ends a field line: 400", "GET / HTTP/1.1\r\nHost: a\n\r\n", {400}, true},
      {"2.2 bare LF ends the head: 400", "GET / HTTP/1.1\r\n" + H + "\n", {400}, true},
      {"2.2 bare LF hides a field (X: a<LF>Transfer-Encoding): 400",
       post("X: a\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n", "0\r\n\r\n"),
       {400},
       true},
      {"2.2 bare CR in the request line: 400", "GET / HTTP/1.1\rX\r\n" + H + "\r\n", {400}, true},
      {"2.2 bare CR in a field value: 400", "GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", {400}, true},
      {"2.2 bare CR ends the head: 400", "GET / HTTP/1.1\r\n" + H + "\r\r\n", {400}, true},
      {"2.2 one empty line (CRLF) before the request line is ignored",
       "\r\nGET / HTTP/1.1\r\n" + H + "\r\n",
       {200},
       false},
      {"2.2 a bare LF before the request line: 400",
       "\nGET / HTTP/1.1\r\n" + H + "\r\n",
       {400},
       true},
      {"2.2 whitespace-preceded line after the request line: 400",
       "GET / HTTP/1.1\r\n Host: a\r\n\r\n",
       {400},
       true},
      // ---- 2.3: HTTP-version
      {"2.3 version is case-sensitive (http/1.1): 400",
       "GET / http/1.1\r\n" + H + "\r\n",
       {400},
       true},
      {"2.3 two-digit minor (HTTP/1.10): 400", "GET / HTTP/1.10\r\n" + H + "\r\n", {400}, true},
      {"2.3 space before CRLF after the version: 400",
       "GET / HTTP/1.1 \r\n" + H + "\r\n",
       {400},
       true},
      {"2.3 HTTP/2.0 request line: 505", "GET / HTTP/2.0\r\n" + H + "\r\n", {505}, true},
      {"2.3 HTTP/0.9 version: 505", "GET / HTTP/0.9\r\n\r\n", {505}, true},
      {"2.3 + RFC 9110 6.2: HTTP/1.2 is served as 1.1",
       "GET / HTTP/1.2\r\n" + H + "\r\n",
       {200},
       false,
       {"GET / host=a v=HTTP/1.1 body="}},
      {"2.3 HTTP/1.0 without keep-alive closes after the response",
       "GET / HTTP/1.0\r\n\r\n" + kNext,
       {200},
       true},
      // ---- 3: request line
      {"3 two spaces after the method: 400", "GET  / HTTP/1.1\r\n" + H + "\r\n", {400}, true},
      {"3 HTAB as separator: 400", "GET\t/ HTTP/1.1\r\n" + H + "\r\n", {400}, true},
      {"3 no version (HTTP/0.9 style): 400", "GET /\r\n\r\n", {400}, true},
      {"3 empty method: 400", " / HTTP/1.1\r\n" + H + "\r\n", {400}, true},
      {"3 non-token method byte: 400", "GE(T / HTTP/1.1\r\n" + H + "\r\n", {400}, true},
      {"3.2 NUL in the request target: 400", "GET /a\0b HTTP/1.1\r\n"s + H + "\r\n", {400}, true},
      {"3.2 non-ASCII in the request target: 400",
       "GET /\xc3\xa9 HTTP/1.1\r\n" + H + "\r\n",
       {400},
       true},
      {"3.2 DEL in the request target: 400", "GET /\x7f HTTP/1.1\r\n" + H + "\r\n", {400}, true},
      {"3.2 target over max_uri_size: 414",
       "GET /" + std::string(9000, 'a') + " HTTP/1.1\r\n" + H + "\r\n",
       {414},
       true},
      {"3.2.4 asterisk-form only for OPTIONS: 400", "GET * HTTP/1.1\r\n" + H + "\r\n", {400}, true},
      {"3.2.3 authority-form only for CONNECT: 400",
       "GET a:80 HTTP/1.1\r\n" + H + "\r\n",
       {400},
       true},
      {"3.2 missing Host in HTTP/1.1: 400", "GET / HTTP/1.1\r\n\r\n", {400}, true},
      {"3.2 two Host fields: 400", "GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", {400}, true},
      {"3.2 invalid Host (space): 400", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", {400}, true},
      {"3.2 Host with a comma (two hosts to a proxy): 400",
       "GET / HTTP/1.1\r\nHost: a,b\r\n\r\n",
       {400},
       true},
      {"3.2 Host with userinfo: 400", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", {400}, true},
      {"3.2 HTTP/1.0 without Host is served",
       "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
       {200},
       false},
      {"3.2.2 absolute-form: the target's authority wins over Host",
       "GET http://b/x HTTP/1.1\r\nHost: a\r\n\r\n",
       {200},
       false,
       {"GET http://b/x host=b v=HTTP/1.1 body="}},
      // ---- 5: field syntax
      {"5.1 whitespace between field name and colon: 400",
       "GET / HTTP/1.1\r\nHost : a\r\n\r\n",
       {400},
       true},
      {"5.1 empty field name: 400", "GET / HTTP/1.1\r\n" + H + ": a\r\n\r\n", {400}, true},
      {"5.1 non-token byte in a field name: 400",
       "GET / HTTP/1.1\r\n" + H + "X(y: a\r\n\r\n",
       {400},
       true},
      {"5.1 field line without a colon: 400", "GET / HTTP/1.1\r\n" + H + "X\r\n\r\n", {400}, true},
      {"5.2 obs-fold in a request: 400",
       "GET / HTTP/1.1\r\n" + H + "X: a\r\n b\r\n\r\n",
       {400},
       true},
      {"5.2 obs-fold with HTAB: 400",
       "GET / HTTP/1.1\r\n" + H + "X: a\r\n\tb\r\n\r\n",
       {400},
       true},
      {"5.5 NUL in a field value: 400",
       "GET / HTTP/1.1\r\n"s + H + "X: a\0b\r\n\r\n"s,
       {400},
       true},
      {"5.5 control byte (0x01) in a field value: 400",
       "GET / HTTP/1.1\r\n" + H + "X: a\x01" + "b\r\n\r\n",
       {400},
       true},
      {"5.5 DEL in a field value: 400", "GET / HTTP/1.1\r\n" + H + "X: a\x7f\r\n\r\n", {400}, true},
      {"5.5 HTAB and obs-text in a field value are allowed",
       "GET / HTTP/1.1\r\n" + H + "X: a\tb\xff\r\n\r\n",
       {200},
       false},
      {"5 head over max_header_size: 431",
       "GET / HTTP/1.1\r\n" + H + "X: " + std::string(70000, 'a') + "\r\n\r\n",
       {431},
       true},
      {"5 more than max_header_count fields: 431",
       [] {
         std::string s = "GET / HTTP/1.1\r\n" + H;
         for (int i = 0; i < 101; i++) s += "X" + std::to_string(i) + ": y\r\n";
         return s + "\r\n";
       }(),
       {431},
       true},
      // ---- 6.1 / 6.3: Transfer-Encoding
      {"6.1 Transfer-Encoding with Content-Length: 400 (CL.TE / TE.CL)",
       post("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\nGET /smuggled"),
       {400},
       true},
      {"6.1 Transfer-Encoding in HTTP/1.0: 400",
       "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
       {400},
       true},
      {"6.3(4) a coding other than chunked last (gzip): 400",
       post("Transfer-Encoding: gzip\r\n"),
       {400},
       true},
      {"6.3(4) chunked, then another field's coding last: 400",
       post("Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n", "0\r\n\r\n"),
       {400},
       true},
      {"6.3(4) TE.TE obfuscation (xchunked): 400",
       post("Transfer-Encoding: xchunked\r\n", "0\r\n\r\n"),
       {400},
       true},
      {"6.1 chunked applied twice: 400",
       post("Transfer-Encoding: chunked, chunked\r\n"),
       {400},
       true},
      {"7 chunked with parameters: 400", post("Transfer-Encoding: chunked;q=1\r\n"), {400}, true},
      {"6.1 empty Transfer-Encoding: 400", post("Transfer-Encoding:\r\n"), {400}, true},
      {"6.1 empty list member (chunked, ): 400",
       post("Transfer-Encoding: chunked, \r\n"),
       {400},
       true},
      {"6.1 control byte in Transfer-Encoding (\\x0b): 400",
       post("Transfer-Encoding: \x0b"
            "chunked\r\n"),
       {400},
       true},
      {"6.1 a known coding before chunked (gzip, chunked): 501",
       post("Transfer-Encoding: gzip, chunked\r\n", "0\r\n\r\n"),
       {501},
       true},
      {"6.1 coding names are case-insensitive (CHUNKED)",
       post("Transfer-Encoding: CHUNKED\r\n", "3\r\nabc\r\n0\r\n\r\n"),
       {200},
       false,
       {"POST /p host=a v=HTTP/1.1 body=abc"}},
      // ---- 6.2 / 6.3: Content-Length
      {"6.2 Content-Length body is read exactly, the rest is the next request",
       post("Content-Length: 3\r\n", "abc" + kNext),
       {200, 200},
       false,
       {"POST /p host=a v=HTTP/1.1 body=abc", "GET /next host=a v=HTTP/1.1 body="}},
      {"6.2 leading zeros are digits (005)",
       post("Content-Length: 003\r\n", "abc"),
       {200},
       false,
       {"POST /p host=a v=HTTP/1.1 body=abc"}},
      {"6.2 signed Content-Length (+3): 400", post("Content-Length: +3\r\n", "abc"), {400}, true},
      {"6.2 negative Content-Length: 400", post("Content-Length: -1\r\n"), {400}, true},
      {"6.2 hex Content-Length: 400", post("Content-Length: 0x3\r\n", "abc"), {400}, true},
      {"6.2 space inside Content-Length: 400", post("Content-Length: 1 2\r\n"), {400}, true},
      {"6.2 empty Content-Length: 400", post("Content-Length:\r\n"), {400}, true},
      {"6.2 Content-Length over 2^63-1: 400",
       post("Content-Length: 9223372036854775808\r\n"),
       {400},
       true},
      {"6.2 Content-Length of 20 digits: 400",
       post("Content-Length: 18446744073709551621\r\n"),
       {400},
       true},
      {"6.3(5) conflicting Content-Length fields: 400",
       post("Content-Length: 3\r\nContent-Length: 4\r\n", "abcd"),
       {400},
       true},
      {"6.3(5) repeated identical Content-Length: 400 (as nginx, llhttp)",
       post("Content-Length: 3\r\nContent-Length: 3\r\n", "abc"),
       {400},
       true},
      {"6.3(5) Content-Length list (3, 3): 400",
       post("Content-Length: 3, 3\r\n", "abc"),
       {400},
       true},
      {"6.3(7) no framing fields: the body is empty, the bytes are the next request",
       "POST /p HTTP/1.1\r\n" + H + "\r\n" + kNext,
       {200, 200},
       false,
       {"POST /p host=a v=HTTP/1.1 body=", "GET /next host=a v=HTTP/1.1 body="}},
      {"6.3 Content-Length over max_body_size: 413, body unread",
       post("Content-Length: 104857601\r\n", "abc"),
       {413},
       true},
      // ---- 7.1: chunk size line
      {"7.1 chunked body then a pipelined request",
       chunked("3\r\nabc\r\n0\r\n\r\n" + kNext),
       {200, 200},
       false,
       {"POST /p host=a v=HTTP/1.1 body=abc", "GET /next host=a v=HTTP/1.1 body="}},
      {"7.1 chunk sizes are hex, any case, leading zeros allowed",
       chunked("0A\r\n0123456789\r\n00\r\n\r\n"),
       {200},
       false,
       {"POST /p host=a v=HTTP/1.1 body=0123456789"}},
      {"7.1 CRLF inside chunk data is data",
       chunked("4\r\n\r\n\r\n\r\n0\r\n\r\n"),
       {200},
       false,
       {"POST /p host=a v=HTTP/1.1 body=\r\n\r\n"}},
      {"7.1 bare LF ends a chunk-size line: 400", chunked("3\nabc\r\n0\r\n\r\n"), {400}, true},
      {"7.1 bare CR ends a chunk-size line: 400", chunked("3\rabc\r\n0\r\n\r\n"), {400}, true},
      {"7.1 bare LF after chunk data: 400", chunked("3\r\nabc\n0\r\n\r\n"), {400}, true},
      {"7.1 bare CR after chunk data: 400", chunked("3\r\nabc\r0\r\n\r\n"), {400}, true},
      {"7.1 data longer than the chunk size: 400", chunked("2\r\nabc\r\n0\r\n\r\n"), {400}, true},
      {"7.1 bare LF after the last chunk: 400", chunked("0\n\r\n"), {400}, true},
      {"7.1 signed chunk size (+3): 400", chunked("+3\r\nabc\r\n0\r\n\r\n"), {400}, true},
      {"7.1 negative chunk size: 400", chunked("-3\r\nabc\r\n0\r\n\r\n"), {400}, true},
      {"7.1 0x-prefixed chunk size: 400", chunked("0x3\r\nabc\r\n0\r\n\r\n"), {400}, true},
      {"7.1 whitespace before the chunk size: 400", chunked(" 3\r\nabc\r\n0\r\n\r\n"), {400}, true},
      {"7.1 whitespace after the chunk size without an extension: 400",
       chunked("3 \r\nabc\r\n0\r\n\r\n"),
       {400},
       true},
      {"7.1 empty chunk-size line: 400", chunked("\r\nabc\r\n0\r\n\r\n"), {400}, true},
      {"7.1 17 hex digits (a wrapping parser reads 5): 400",
       chunked("10000000000000005\r\nhello\r\n0\r\n\r\n"),
       {400},
       true},
      {"7.1 chunk size of 2^63: 400", chunked("8000000000000000\r\n"), {400}, true},
      {"7.1 NUL in a chunk size: 400", chunked("3\0\r\nabc\r\n0\r\n\r\n"s), {400}, true},
      {"7.1 chunked body over max_body_size: 413, not buffered",
       chunked("6400001\r\n" + std::string(1000, 'x')),
       {413},
       true},
      // ---- 7.1.1: chunk extensions
      {"7.1.1 extensions are parsed and ignored",
       chunked("3;a=b;c;d=\"q;\\\"x\"\r\nabc\r\n0;z\r\n\r\n"),
       {200},
       false,
       {"POST /p host=a v=HTTP/1.1 body=abc"}},
      {"7.1.1 BWS before ';' is allowed", chunked("3 ;a\r\nabc\r\n0\r\n\r\n"), {200}, false},
      {"7.1.1 bare LF ends an extension: 400", chunked("3;a\nabc\r\n0\r\n\r\n"), {400}, true},
      {"7.1.1 bare CR inside an extension: 400",
       chunked("3;a\rb\r\nabc\r\n0\r\n\r\n"),
       {400},
       true},
      {"7.1.1 empty extension name: 400", chunked("3;=b\r\nabc\r\n0\r\n\r\n"), {400}, true},
      {"7.1.1 unterminated quoted extension: 400",
       chunked("3;a=\"b\r\nabc\r\n0\r\n\r\n"),
       {400},
       true},
      {"7.1.1 control byte in an extension: 400",
       chunked("3;a\x01\r\nabc\r\n0\r\n\r\n"),
       {400},
       true},
      {"7.1.1 extension line over 4 KiB: 400",
       chunked("3;a=" + std::string(5000, 'b') + "\r\nabc\r\n0\r\n\r\n"),
       {400},
       true},
      // ---- 7.1.2: trailers
      {"7.1.2 trailer fields are read and discarded",
       chunked("3\r\nabc\r\n0\r\nX-Sum: 1\r\nContent-Length: 99\r\n\r\n" + kNext),
       {200, 200},
       false,
       {"POST /p host=a v=HTTP/1.1 body=abc", "GET /next host=a v=HTTP/1.1 body="}},
      {"7.1.2 bare LF ends a trailer field: 400", chunked("0\r\nX: 1\n\r\n"), {400}, true},
      {"7.1.2 bare LF ends the trailer section: 400", chunked("0\r\nX: 1\r\n\n"), {400}, true},
      {"7.1.2 bare CR in a trailer field: 400", chunked("0\r\nX: 1\rY\r\n\r\n"), {400}, true},
      {"7.1.2 obs-fold in the trailers: 400", chunked("0\r\nX: 1\r\n y\r\n\r\n"), {400}, true},
      {"7.1.2 whitespace before a trailer colon: 400", chunked("0\r\nX : 1\r\n\r\n"), {400}, true},
      {"7.1.2 NUL in a trailer value: 400", chunked("0\r\nX: \0\r\n\r\n"s), {400}, true},
      {"7.1.2 trailer section over 64 KiB: 400",
       chunked("0\r\nX: " + std::string(70 * 1024, 'a') + "\r\n\r\n"),
       {400},
       true},
      // ---- RFC 9110 10.1.1: Expect
      {"RFC 9110 10.1.1 an expectation other than 100-continue: 417",
       post("Expect: foo\r\nContent-Length: 0\r\n"),
       {417},
       true},
      {"RFC 9110 10.1.1 100-continue: interim 100, then the answer",
       post("Expect: 100-continue\r\nContent-Length: 3\r\n", "abc"),
       {100, 200},
       false},
      // ---- 9.6 / 9.3: persistence
      {"9.6 Connection: close: nothing after it is read",
       "GET / HTTP/1.1\r\n" + H + "Connection: close\r\n\r\n" + kNext,
       {200},
       true,
       {"GET / host=a v=HTTP/1.1 body="}},
      {"9.3 a rejected request ends the connection: the next is never read",
       "GET / HTTP/1.1\r\nHost: a\r\nBad Field: 1\r\n\r\n" + kNext,
       {400},
       true,
       {}},
  };
  return k;
}

void run_case(void** state) {
  const Case& c = *static_cast<const Case*>(*state);
  ConnectionParams params;
  Outcome whole = run(c.in, c.in.size(), params);
  Outcome bytes = run(c.in, 1, params);
  bool ok = whole.statuses == c.statuses && whole.closed == c.close &&
            (c.seen.empty() || whole.seen == c.seen) && whole.wire == bytes.wire &&
            whole.closed == bytes.closed;
  // The handler saw exactly the requests answered 2xx: a rejected one
  // (and whatever follows it) never reaches it.
  size_t served = 0;
  for (int st : c.statuses) served += st >= 200 && st < 300;
  ok = ok && whole.seen.size() == served;
  if (!ok) {
    std::string got;
    for (int s : whole.statuses) got += std::to_string(s) + " ";
    print_error("%s\n  statuses: %s(want %zu)  closed: %d (want %d)  dispatched: %zu\n", c.name,
                got.c_str(), c.statuses.size(), whole.closed, c.close, whole.seen.size());
    for (auto& s : whole.seen) print_error("  seen: %s\n", s.c_str());
    if (whole.wire != bytes.wire) print_error("  byte-at-a-time output differs\n");
  }
  assert_true(ok);
}

}  // namespace

int main() {
  const auto& k = cases();
  std::vector<CMUnitTest> tests;
  for (const Case& c : k)
    tests.push_back(CMUnitTest{c.name, run_case, nullptr, nullptr,
                               const_cast<void*>(static_cast<const void*>(&c))});
  return _cmocka_run_group_tests("parser_audit", tests.data(), tests.size(), nullptr, nullptr);
}
