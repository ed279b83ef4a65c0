// Tests for core/http/parser (tornado/test/httputil_test.py and
// http1connection_test.py counterparts): request-head parsing, framing and
// smuggling rejections, limits, and the chunked decoder.
#include <cstdarg>
#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <csetjmp>
#include <string>
#include <string_view>
#include <vector>

#include "core/http/encoder.h"
#include "core/http/parser.h"

// cmocka last: its fail() macro collides with std::basic_ios::fail.
extern "C" {
#include <cmocka.h>
}

using squall::http::ChunkedDecoder;
using squall::http::ParseError;
using squall::http::ParseLimits;
using squall::http::RequestHead;
using squall::http::TargetForm;
using namespace std::string_view_literals;

namespace {

// Parses s from a heap copy of exactly s.size() bytes, so ASan sees any
// read past the end.
long parse(std::string_view s, RequestHead* h, ParseError* e,
           const ParseLimits& lim = ParseLimits()) {
  // Only the return value and *e are meaningful afterwards: h's views
  // point into buf, which dies here.
  std::vector<char> buf(s.begin(), s.end());
  return squall::http::parse_request_head(buf.empty() ? "" : buf.data(), buf.size(), lim, h, e);
}

// 0 incomplete, 200 parsed, else the error status.
int status_of(std::string_view s, const ParseLimits& lim = ParseLimits()) {
  RequestHead h;
  ParseError e;
  const long r = parse(s, &h, &e, lim);
  if (r > 0) return 200;
  if (r == 0) return 0;
  return e.status;
}

std::string printable(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c >= 0x7f) {
      char b[8];
      snprintf(b, sizeof b, "\\x%02x", c);
      out += b;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// Full-input status, plus the incremental property: every strict prefix is
// either "incomplete" or the same error.
void check(std::string_view req, int want, int line, const ParseLimits& lim = ParseLimits()) {
  const int got = status_of(req, lim);
  if (got != want) {
    print_error("line %d: %s -> %d, want %d\n", line, printable(req).c_str(), got, want);
  }
  assert_int_equal(got, want);
  RequestHead h;
  ParseError e;
  long full = parse(req, &h, &e, lim);
  const size_t stop = full > 0 ? static_cast<size_t>(full) : req.size();
  // Every prefix of short inputs; a sample of long ones (quadratic).
  const size_t step = stop > 2048 ? stop / 256 : 1;
  for (size_t k = 0; k < stop; k += (stop - k <= 64 ? 1 : step)) {
    const int p = status_of(req.substr(0, k), lim);
    if (p != 0 && p != want) {
      print_error("line %d: prefix %zu of %s -> %d, want 0 or %d\n", line, k,
                  printable(req).c_str(), p, want);
    }
    assert_true(p == 0 || p == want);
    if (full > 0) assert_int_equal(p, 0);
  }
}
#define CHECK(req, want) check(req, want, __LINE__)
#define CHECK_LIM(req, want, lim) check(req, want, __LINE__, lim)

std::string req11(std::string_view headers) {
  std::string s = "POST / HTTP/1.1\r\nHost: a\r\n";
  s += headers;
  s += "\r\n";
  return s;
}

}  // namespace

// --------------------------------------------------------------- basics

static void test_parser__simple_get(void**) {
  const std::string buf =
      "GET /index.html?x=1&y=2 HTTP/1.1\r\n"
      "Host: example.com:8080\r\n"
      "User-Agent:  curl/8 \t\r\n"
      "Accept: */*\r\n"
      "X-Empty:\r\n"
      "\r\n"
      "BODY";
  RequestHead h;
  ParseError e;
  const long r = squall::http::parse_request_head(buf.data(), buf.size(), ParseLimits(), &h, &e);
  assert_int_equal(r, buf.size() - 4);
  assert_int_equal(h.head_size, buf.size() - 4);
  assert_true(h.method == "GET");
  assert_true(h.target == "/index.html?x=1&y=2");
  assert_true(h.path == "/index.html");
  assert_true(h.query == "x=1&y=2");
  assert_true(h.scheme.empty());
  assert_true(h.authority.empty());
  assert_true(h.form == TargetForm::kOrigin);
  assert_int_equal(h.version, 11);
  assert_true(h.has_host);
  assert_true(h.host == "example.com:8080");
  assert_int_equal(h.headers.size(), 4);
  assert_true(h.headers[1].name == "User-Agent");
  assert_true(h.headers[1].value == "curl/8");
  assert_true(h.headers[3].name == "X-Empty");
  assert_true(h.headers[3].value.empty());
  // Zero copy: views point into the buffer.
  assert_true(h.method.data() == buf.data());
  assert_true(h.headers[1].value.data() >= buf.data() &&
              h.headers[1].value.data() < buf.data() + buf.size());
  assert_false(h.chunked);
  assert_false(h.has_content_length);
  assert_false(h.connection_close);
  assert_false(h.expect_continue);
  std::string_view v;
  assert_true(h.get("user-agent", &v));
  assert_true(v == "curl/8");
  assert_true(h.get("ACCEPT", &v));
  assert_true(v == "*/*");
  assert_false(h.get("Cookie", &v));
  assert_true(v.empty());
}

static void test_parser__http10_and_bare_lf(void**) {
  const std::string buf = "GET / HTTP/1.0\r\nX: y\r\n\r\n";
  RequestHead h;
  ParseError e;
  const long r = squall::http::parse_request_head(buf.data(), buf.size(), ParseLimits(), &h, &e);
  assert_int_equal(r, buf.size());
  assert_int_equal(h.version, 10);
  assert_false(h.has_host);  // Host optional in 1.0
  assert_true(h.headers[0].value == "y");
  // A bare LF is no line end anywhere (see the table in parser.h).
  CHECK("GET / HTTP/1.0\nX: y\n\n", 400);
  CHECK("GET / HTTP/1.1\nHost: a\r\n\r\n", 400);
  CHECK("GET / HTTP/1.1\r\nHost: a\n\r\n", 400);
  CHECK("GET / HTTP/1.1\r\nHost: a\r\n\n", 400);
}

static void test_parser__no_headers_at_all(void**) {
  CHECK("GET / HTTP/1.0\r\n\r\n", 200);
  CHECK("GET / HTTP/1.1\r\n\r\n", 400);  // no Host
}

static void test_parser__leading_empty_lines(void**) {
  const std::string buf = "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
  RequestHead h;
  ParseError e;
  const long r = squall::http::parse_request_head(buf.data(), buf.size(), ParseLimits(), &h, &e);
  assert_int_equal(r, buf.size());  // skipped lines count in head_size
  assert_true(h.method == "GET");
  CHECK("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 200);
  CHECK("\r\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400);  // bare CR
  CHECK("\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400);      // bare LF
  CHECK(" \r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
  CHECK("\r\n", 0);
  // Bounded by max_header_size: a flood of empty lines is 431.
  ParseLimits lim;
  lim.max_header_size = 64;
  std::string crlfs;
  for (int i = 0; i < 50; i++) crlfs += "\r\n";
  CHECK_LIM(crlfs, 431, lim);
}

static void test_parser__pipelined(void**) {
  const std::string buf =
      "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /b HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /c HTTP/1.1\r\nHo";
  RequestHead h;
  ParseError e;
  size_t off = 0;
  long r = squall::http::parse_request_head(buf.data(), buf.size(), ParseLimits(), &h, &e);
  assert_int_equal(r, 28);
  assert_true(h.path == "/a");
  off += r;
  r = squall::http::parse_request_head(buf.data() + off, buf.size() - off, ParseLimits(), &h, &e);
  assert_int_equal(r, 28);
  assert_true(h.path == "/b");
  off += r;
  r = squall::http::parse_request_head(buf.data() + off, buf.size() - off, ParseLimits(), &h, &e);
  assert_int_equal(r, 0);
}

static void test_parser__reuse_keeps_capacity(void**) {
  std::string buf = "GET / HTTP/1.1\r\nHost: a\r\n";
  for (int i = 0; i < 40; ++i) buf += "X-" + std::to_string(i) + ": v\r\n";
  buf += "Connection: close\r\n\r\n";
  RequestHead h;
  ParseError e;
  assert_true(squall::http::parse_request_head(buf.data(), buf.size(), ParseLimits(), &h, &e) > 0);
  assert_int_equal(h.headers.size(), 42);
  assert_true(h.connection_close);
  const size_t cap = h.headers.capacity();
  const std::string small = "GET /x HTTP/1.0\r\n\r\n";
  assert_true(squall::http::parse_request_head(small.data(), small.size(), ParseLimits(), &h, &e) >
              0);
  assert_int_equal(h.headers.capacity(), cap);
  assert_int_equal(h.headers.size(), 0);
  assert_false(h.connection_close);  // derived fields reset
  assert_false(h.has_host);
  assert_int_equal(h.version, 10);
  h.clear();
  assert_int_equal(h.headers.capacity(), cap);
  assert_true(h.method.empty());
}

static void test_parser__obs_text_and_tabs_in_values(void**) {
  const std::string buf = "GET / HTTP/1.1\r\nHost: a\r\nX:\t\xc3\xa9t\xe9\tx y\t \r\n\r\n";
  RequestHead h;
  ParseError e;
  assert_true(squall::http::parse_request_head(buf.data(), buf.size(), ParseLimits(), &h, &e) > 0);
  assert_true(h.headers[1].value == "\xc3\xa9t\xe9\tx y");
  CHECK("GET / HTTP/1.1\r\nHost: a\r\nX: \x7f\r\n\r\n", 400);  // DEL
  CHECK("GET / HTTP/1.1\r\nHost: a\r\n\xc3\xa9: v\r\n\r\n", 400);
}

// Wide (SIMD/SWAR) scans: a byte of each class at every offset of long
// values and targets.
static void test_parser__wide_scan_positions(void**) {
  struct Case {
    char byte;
    int value_status;   // inside a field value
    int target_status;  // inside the request target
  };
  const Case cases[] = {
      {'\t', 200, 400},   {'\x80', 200, 400}, {'\xff', 200, 400}, {'\x00', 400, 400},
      {'\x1f', 400, 400}, {'\x7f', 400, 400}, {'\r', 400, 400},   {'~', 200, 200},
      {'"', 200, 200},    {'\x0b', 400, 400}, {'\x01', 400, 400},
  };
  for (const Case& c : cases) {
    for (size_t pos = 0; pos < 40; ++pos) {
      std::string v(40, 'a');
      v[pos] = c.byte;
      const std::string value_req =
          "GET / HTTP/1.1\r\nHost: a\r\nX: z" + v + "z\r\nY: " + v + "\r\n\r\n";
      const std::string target_req = "GET /" + v + " HTTP/1.1\r\nHost: a\r\n\r\n";
      const int vs = status_of(value_req);
      const int ts = status_of(target_req);
      if (vs != c.value_status || ts != c.target_status)
        print_error("byte 0x%02x at %zu: value %d target %d\n", static_cast<unsigned char>(c.byte),
                    pos, vs, ts);
      assert_int_equal(vs, c.value_status);
      assert_int_equal(ts, c.target_status);
    }
  }
  // Values with tabs are kept whole; trailing tabs trimmed.
  const std::string b = "GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(20, 'a') + "\t" +
                        std::string(20, 'b') + "\t\t\r\n\r\n";
  RequestHead h;
  ParseError e;
  assert_true(squall::http::parse_request_head(b.data(), b.size(), ParseLimits(), &h, &e) > 0);
  assert_int_equal(h.headers[1].value.size(), 41);
}

// --------------------------------------------------------- request line

static void test_parser__request_line_rejections(void**) {
  CHECK("GET /  HTTP/1.1\r\nHost: a\r\n\r\n", 400);
  CHECK("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
  CHECK("GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", 400);
  CHECK("GET /\tHTTP/1.1\r\nHost: a\r\n\r\n", 400);
  CHECK(" GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
  CHECK("GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400);
  CHECK("GET / HTTP/1.1\r\r\nHost: a\r\n\r\n", 400);
  CHECK("GET / HTTP/1.1\rHost: a\r\n\r\n", 400);
  CHECK("GET /\r\n\r\n", 400);  // HTTP/0.9 simple request
  CHECK("GET\r\n\r\n", 400);
  CHECK("GET / \r\n\r\n", 400);
  CHECK("G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
  CHECK("G\x00T / HTTP/1.1\r\nHost: a\r\n\r\n"sv, 400);
  CHECK("GET /\x00 HTTP/1.1\r\nHost: a\r\n\r\n"sv, 400);
  CHECK("GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n", 400);
  CHECK("GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n", 400);
  CHECK("GET /\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", 400);
  CHECK("GET /a\rb HTTP/1.1\r\nHost: a\r\n\r\n", 400);
  CHECK("GET /a\x0b HTTP/1.1\r\nHost: a\r\n\r\n", 400);
  CHECK("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"sv, 400);  // TLS hello
  // Unknown but well-formed methods parse (the server answers 405/501).
  CHECK("BREW /pot HTTP/1.1\r\nHost: a\r\n\r\n", 200);
}

static void test_parser__versions(void**) {
  CHECK("GET / HTTP/1.1\r\nHost: a\r\n\r\n", 200);
  CHECK("GET / HTTP/1.0\r\n\r\n", 200);
  CHECK("GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505);
  CHECK("GET / HTTP/3.0\r\nHost: a\r\n\r\n", 505);
  CHECK("GET / HTTP/0.9\r\n\r\n", 505);
  CHECK("GET / HTTP/1.2\r\nHost: a\r\n\r\n", 200);  // as 1.1 (RFC 9110 6.2)
  CHECK("GET / HTTP/9.9\r\n\r\n", 505);
  CHECK("GET / http/1.1\r\nHost: a\r\n\r\n", 400);
  CHECK("GET / HTTP/1.10\r\nHost: a\r\n\r\n", 400);
  CHECK("GET / HTTP/01.1\r\nHost: a\r\n\r\n", 400);
  CHECK("GET / HTTP/1\r\nHost: a\r\n\r\n", 400);
  CHECK("GET / HTTP/1.\r\nHost: a\r\n\r\n", 400);
  CHECK("GET / HTTP/1.x\r\nHost: a\r\n\r\n", 400);
  CHECK("GET / HTTP/2\r\nHost: a\r\n\r\n", 400);
  CHECK("GET / HTTPS/1.1\r\nHost: a\r\n\r\n", 400);
  CHECK("GET / HTTP 1.1\r\nHost: a\r\n\r\n", 400);
  CHECK("GET / HTTP/1,1\r\nHost: a\r\n\r\n", 400);
  CHECK("GET / HTTP/1.1x\r\nHost: a\r\n\r\n", 400);
  // The version check needs the whole line: "HTTP/2.0junk" is malformed.
  CHECK("GET / HTTP/2.0junk\r\n\r\n", 400);
  CHECK("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505);  // h2 preface
}

static void test_parser__target_forms(void**) {
  {
    const std::string b = "GET hTTp://Example.com:81/p/q?z=1 HTTP/1.1\r\nHost: other\r\n\r\n";
    RequestHead h;
    ParseError e;
    assert_true(squall::http::parse_request_head(b.data(), b.size(), ParseLimits(), &h, &e) > 0);
    assert_true(h.form == TargetForm::kAbsolute);
    assert_true(h.scheme == "hTTp");
    assert_true(h.authority == "Example.com:81");
    assert_true(h.path == "/p/q");
    assert_true(h.query == "z=1");
    assert_true(h.host == "other");
  }
  {
    const std::string b = "GET https://h HTTP/1.1\r\nHost: h\r\n\r\n";
    RequestHead h;
    ParseError e;
    assert_true(squall::http::parse_request_head(b.data(), b.size(), ParseLimits(), &h, &e) > 0);
    assert_true(h.scheme == "https");
    assert_true(h.authority == "h");
    assert_true(h.path == "/");
    assert_true(h.query.empty());
  }
  {
    const std::string b = "GET http://[::1]:8080?a HTTP/1.1\r\nHost: h\r\n\r\n";
    RequestHead h;
    ParseError e;
    assert_true(squall::http::parse_request_head(b.data(), b.size(), ParseLimits(), &h, &e) > 0);
    assert_true(h.authority == "[::1]:8080");
    assert_true(h.path == "/");
    assert_true(h.query == "a");
  }
  {
    const std::string b = "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n";
    RequestHead h;
    ParseError e;
    assert_true(squall::http::parse_request_head(b.data(), b.size(), ParseLimits(), &h, &e) > 0);
    assert_true(h.form == TargetForm::kAsterisk);
    assert_true(h.target == "*");
  }
  {
    const std::string b = "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n";
    RequestHead h;
    ParseError e;
    assert_true(squall::http::parse_request_head(b.data(), b.size(), ParseLimits(), &h, &e) > 0);
    assert_true(h.form == TargetForm::kAuthority);
    assert_true(h.authority == "example.com:443");
  }
  {
    const std::string b = "GET /?# HTTP/1.1\r\nHost: h\r\n\r\n";
    RequestHead h;
    ParseError e;
    assert_true(squall::http::parse_request_head(b.data(), b.size(), ParseLimits(), &h, &e) > 0);
    assert_true(h.path == "/");
    assert_true(h.query == "#");
  }
  CHECK("GET //double/slash HTTP/1.1\r\nHost: a\r\n\r\n", 200);
  CHECK("CONNECT [::1]:443 HTTP/1.1\r\nHost: a\r\n\r\n", 200);
  CHECK("GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400);
  CHECK("OPTIONS *x HTTP/1.1\r\nHost: a\r\n\r\n", 400);
  CHECK("options * HTTP/1.1\r\nHost: a\r\n\r\n", 400);
  CHECK("CONNECT example.com HTTP/1.1\r\nHost: a\r\n\r\n", 400);
  CHECK("CONNECT example.com: HTTP/1.1\r\nHost: a\r\n\r\n", 400);
  CHECK("CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
  CHECK("CONNECT http://a:1/ HTTP/1.1\r\nHost: a\r\n\r\n", 400);
  CHECK("GET example.com:80 HTTP/1.1\r\nHost: a\r\n\r\n", 400);
  CHECK("GET a HTTP/1.1\r\nHost: a\r\n\r\n", 400);
  CHECK("GET ?x HTTP/1.1\r\nHost: a\r\n\r\n", 400);
  CHECK("GET ftp://a/ HTTP/1.1\r\nHost: a\r\n\r\n", 400);
  CHECK("GET http:/a/ HTTP/1.1\r\nHost: a\r\n\r\n", 400);
  CHECK("GET http:// HTTP/1.1\r\nHost: a\r\n\r\n", 400);
  CHECK("GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n", 400);
  CHECK("GET http://u@evil/ HTTP/1.1\r\nHost: a\r\n\r\n", 400);
  CHECK("GET http://a:80@evil/ HTTP/1.1\r\nHost: a\r\n\r\n", 400);
  CHECK("GET http://a\\b/ HTTP/1.1\r\nHost: a\r\n\r\n", 400);
  CHECK("GET http://a:8x/ HTTP/1.1\r\nHost: a\r\n\r\n", 400);
  CHECK("GET http://[::1/ HTTP/1.1\r\nHost: a\r\n\r\n", 400);
  CHECK("GET http://a,b/ HTTP/1.1\r\nHost: a\r\n\r\n", 400);
  CHECK("GET httpx://a/ HTTP/1.1\r\nHost: a\r\n\r\n", 400);
  // Absolute-form still needs Host in 1.1 (RFC 9112 3.2).
  CHECK("GET http://a/ HTTP/1.1\r\n\r\n", 400);
  CHECK("GET http://a/ HTTP/1.0\r\n\r\n", 200);
}

// --------------------------------------------------------------- fields

static void test_parser__field_rejections(void**) {
  CHECK("GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400);
  CHECK("GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", 400);
  CHECK("GET / HTTP/1.1\r\nHost: a\r\nX Y: z\r\n\r\n", 400);
  CHECK("GET / HTTP/1.1\r\nHost: a\r\n: z\r\n\r\n", 400);
  CHECK("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 400);
  CHECK("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", 400);  // obs-fold
  CHECK("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n\tb\r\n\r\n", 400);
  CHECK("GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400);
  CHECK("GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", 400);  // bare CR
  CHECK("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\r\n\r\n", 400);
  CHECK("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n\r\r\n", 400);
  CHECK("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", 400);
  CHECK("GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n"sv, 400);  // NUL
  CHECK("GET / HTTP/1.1\r\nHost: a\r\nX\x00: b\r\n\r\n"sv, 400);
  CHECK("GET / HTTP/1.1\r\nHost: a\r\nX: \x01\r\n\r\n", 400);
  CHECK("GET / HTTP/1.1\r\nHost: a\r\nX: \x1f\r\n\r\n", 400);
  CHECK("GET / HTTP/1.1\r\nHost: a\r\nX: a\x0b\r\n\r\n", 400);
  CHECK("GET / HTTP/1.1\r\nHost: a\r\nX: a\x0c\r\n\r\n", 400);
  CHECK("GET / HTTP/1.1\r\nHost: a\r\nX(: a\r\n\r\n", 400);
  CHECK("GET / HTTP/1.1\r\nHost: a\r\n[X]: a\r\n\r\n", 400);
  CHECK("GET / HTTP/1.1\r\nHost: a\r\nX/Y: a\r\n\r\n", 400);
  CHECK("GET / HTTP/1.1\r\nHost: a\r\nX@: a\r\n\r\n", 400);
  CHECK("GET / HTTP/1.1\r\nHost: a\r\nX:: a\r\n\r\n", 200);  // value ": a"
  CHECK("GET / HTTP/1.1\r\nHost: a\r\nX-!#$%&'*+.^_`|~: a\r\n\r\n", 200);
}

// --------------------------------------------------------------- limits

static void test_parser__limits(void**) {
  ParseLimits lim;
  lim.max_uri_size = 16;
  lim.max_header_size = 256;
  lim.max_header_count = 3;
  const std::string ok16 = "/" + std::string(15, 'a');
  CHECK_LIM("GET " + ok16 + " HTTP/1.1\r\nHost: a\r\n\r\n", 200, lim);
  CHECK_LIM("GET " + ok16 + "b HTTP/1.1\r\nHost: a\r\n\r\n", 414, lim);
  // 414 before the line is complete.
  CHECK_LIM("GET " + ok16 + "b", 414, lim);
  CHECK_LIM("GET " + ok16, 0, lim);
  {
    RequestHead h;
    ParseError e;
    assert_int_equal(parse("GET /" + std::string(100, 'x'), &h, &e, lim), -1);
    assert_int_equal(e.status, 414);
    assert_true(e.limit);
  }
  // Header count.
  CHECK_LIM("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n", 200, lim);
  CHECK_LIM("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", 431, lim);
  {
    RequestHead h;
    ParseError e;
    assert_int_equal(parse("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n", &h, &e, lim), -1);
    assert_int_equal(e.status, 431);
    assert_true(e.limit);
  }
  // Whole head size: exactly at the limit is fine, one byte over is 431,
  // and an incomplete head past the limit is 431 at once.
  std::string head = "GET / HTTP/1.1\r\nHost: a\r\nX: ";
  head += std::string(256 - head.size() - 4, 'v');
  head += "\r\n\r\n";
  assert_int_equal(head.size(), 256);
  CHECK_LIM(head, 200, lim);
  std::string over = head;
  over.insert(over.size() - 4, "v");
  CHECK_LIM(over, 431, lim);
  {
    RequestHead h;
    ParseError e;
    std::string partial = "GET / HTTP/1.1\r\nX: " + std::string(300, 'v');
    assert_int_equal(parse(partial, &h, &e, lim), -1);
    assert_int_equal(e.status, 431);
    assert_true(e.limit);
    // A complete head followed by pipelined bytes beyond the limit is fine.
    std::string piped = head + std::string(1000, 'G');
    assert_int_equal(parse(piped, &h, &e, lim), 256);
  }
  {
    RequestHead h;
    ParseError e;
    assert_int_equal(parse("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", &h, &e), -1);
    assert_int_equal(e.status, 400);
    assert_false(e.limit);
    assert_true(e.reason != nullptr && e.reason[0] != '\0');
  }
  // Default limits: 8 KiB target.
  CHECK("GET /" + std::string(8 * 1024, 'a') + " HTTP/1.1\r\n", 414);
  CHECK("GET /" + std::string(8 * 1024 - 1, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n", 200);
  CHECK("GET / HTTP/1.1\r\nX: " + std::string(70 * 1024, 'a'), 431);
}

// ----------------------------------------------------------------- Host

static void test_parser__host(void**) {
  CHECK("GET / HTTP/1.1\r\n\r\n", 400);
  CHECK("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400);
  CHECK("GET / HTTP/1.1\r\nHost: a\r\nhOST: b\r\n\r\n", 400);
  CHECK("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n", 400);
  CHECK("GET / HTTP/1.1\r\nHost: a, b\r\n\r\n", 400);
  CHECK("GET / HTTP/1.1\r\nHost: a,b\r\n\r\n", 400);
  CHECK("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400);
  CHECK("GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", 400);
  CHECK("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400);
  CHECK("GET / HTTP/1.1\r\nHost: a\\b\r\n\r\n", 400);
  CHECK("GET / HTTP/1.1\r\nHost: a:b\r\n\r\n", 400);
  CHECK("GET / HTTP/1.1\r\nHost: a:123456\r\n\r\n", 400);
  CHECK("GET / HTTP/1.1\r\nHost: a:80:80\r\n\r\n", 400);
  CHECK("GET / HTTP/1.1\r\nHost: :80\r\n\r\n", 400);
  CHECK("GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400);
  CHECK("GET / HTTP/1.1\r\nHost: [zz]\r\n\r\n", 400);
  CHECK("GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n", 400);
  CHECK("GET / HTTP/1.1\r\nHost: a%2\r\n\r\n", 400);
  CHECK("GET / HTTP/1.1\r\nHost: http://a\r\n\r\n", 400);
  CHECK("GET / HTTP/1.1\r\nHost: a\xc3\xa9\r\n\r\n", 400);
  CHECK("GET / HTTP/1.1\r\nHost: a\tb\r\n\r\n", 400);
  CHECK("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", 200);
  CHECK("GET / HTTP/1.1\r\nHost: example.com:8080\r\n\r\n", 200);
  CHECK("GET / HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n", 200);
  CHECK("GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n", 200);
  CHECK("GET / HTTP/1.1\r\nHost: [2001:db8::1.2.3.4]\r\n\r\n", 200);
  CHECK("GET / HTTP/1.1\r\nHost: my_host-1.local\r\n\r\n", 200);
  CHECK("GET / HTTP/1.1\r\nHost: a%41\r\n\r\n", 200);
  CHECK("GET / HTTP/1.1\r\nHost:  example.com \r\n\r\n", 200);
  CHECK("GET / HTTP/1.1\r\nHost:\r\n\r\n", 200);  // empty: RFC 9112 3.2
  CHECK("GET / HTTP/1.0\r\n\r\n", 200);
  RequestHead h;
  ParseError e;
  const std::string b = "GET / HTTP/1.1\r\nHost:\r\n\r\n";
  assert_true(squall::http::parse_request_head(b.data(), b.size(), ParseLimits(), &h, &e) > 0);
  assert_true(h.has_host);
  assert_true(h.host.empty());
}

// ------------------------------------------------------- Content-Length

static void test_parser__content_length(void**) {
  auto cl_of = [](std::string_view headers) -> int64_t {
    const std::string b = req11(headers);
    RequestHead h;
    ParseError e;
    if (squall::http::parse_request_head(b.data(), b.size(), ParseLimits(), &h, &e) <= 0)
      return -e.status;
    return h.has_content_length ? static_cast<int64_t>(h.content_length) : -1;
  };
  assert_int_equal(cl_of("Content-Length: 5\r\n"), 5);
  assert_int_equal(cl_of("Content-Length: 0\r\n"), 0);
  assert_int_equal(cl_of("content-length:\t12 \r\n"), 12);
  assert_int_equal(cl_of("Content-Length: 005\r\n"), 5);
  assert_int_equal(cl_of("Content-Length: 9223372036854775807\r\n"), INT64_MAX);
  assert_int_equal(cl_of(""), -1);
  assert_int_equal(cl_of("Content-Length: 5\r\nContent-Length: 6\r\n"), -400);
  assert_int_equal(cl_of("Content-Length: 5, 6\r\n"), -400);
  assert_int_equal(cl_of("Content-Length: +5\r\n"), -400);
  assert_int_equal(cl_of("Content-Length: -5\r\n"), -400);
  assert_int_equal(cl_of("Content-Length: 0x5\r\n"), -400);
  assert_int_equal(cl_of("Content-Length: 5 5\r\n"), -400);
  assert_int_equal(cl_of("Content-Length: 5.0\r\n"), -400);
  assert_int_equal(cl_of("Content-Length: 5e1\r\n"), -400);
  assert_int_equal(cl_of("Content-Length: \r\n"), -400);
  assert_int_equal(cl_of("Content-Length: ,5\r\n"), -400);
  assert_int_equal(cl_of("Content-Length: 5,\r\n"), -400);
  assert_int_equal(cl_of("Content-Length: 5,,5\r\n"), -400);
  assert_int_equal(cl_of("Content-Length: \"5\"\r\n"), -400);
  assert_int_equal(cl_of("Content-Length: 9223372036854775808\r\n"), -400);
  assert_int_equal(cl_of("Content-Length: 18446744073709551621\r\n"), -400);
  assert_int_equal(cl_of("Content-Length: 99999999999999999999999\r\n"), -400);
  assert_int_equal(cl_of("Content-Length: \xd9\xa5\r\n"), -400);  // Arabic 5
  assert_int_equal(cl_of("Content-Length: 5\x0b\r\n"), -400);
  assert_int_equal(cl_of("Content-Length : 5\r\n"), -400);
  // Other spellings are not Content-Length.
  assert_int_equal(cl_of("Content_Length: 5\r\n"), -1);
  assert_int_equal(cl_of("Content-Length-X: 5\r\n"), -1);
}

// ---------------------------------------------------- Transfer-Encoding

static void test_parser__transfer_encoding(void**) {
  auto te = [](std::string_view headers) -> int {
    const std::string b = req11(headers);
    RequestHead h;
    ParseError e;
    if (squall::http::parse_request_head(b.data(), b.size(), ParseLimits(), &h, &e) <= 0)
      return e.status;
    return h.chunked ? 1 : 0;
  };
  assert_int_equal(te(""), 0);
  assert_int_equal(te("Transfer-Encoding: chunked\r\n"), 1);
  assert_int_equal(te("transfer-encoding: CHUNKED\r\n"), 1);
  assert_int_equal(te("Transfer-Encoding:\tchunked\t\r\n"), 1);
  assert_int_equal(te("Transfer-Encoding: gzip, chunked\r\n"), 501);
  assert_int_equal(te("Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"), 501);
  // Not ending in chunked: the length is unknown (RFC 9112 6.3 (4)): 400.
  assert_int_equal(te("Transfer-Encoding: gzip\r\n"), 400);
  assert_int_equal(te("Transfer-Encoding: deflate\r\n"), 400);
  assert_int_equal(te("Transfer-Encoding: compress\r\n"), 400);
  assert_int_equal(te("Transfer-Encoding: identity\r\n"), 400);
  assert_int_equal(te("Transfer-Encoding: xchunked\r\n"), 400);
  assert_int_equal(te("Transfer-Encoding: chunkedx\r\n"), 400);
  assert_int_equal(te("Transfer-Encoding: chunk\r\n"), 400);
  assert_int_equal(te("Transfer-Encoding: x;q=\"a,b\", chunked\r\n"), 501);
  assert_int_equal(te("Transfer-Encoding: chunked, identity\r\n"), 400);
  assert_int_equal(te("Transfer-Encoding: chunked, gzip\r\n"), 400);
  assert_int_equal(te("Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n"), 400);
  assert_int_equal(te("Transfer-Encoding: chunked, chunked\r\n"), 400);
  assert_int_equal(te("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"), 400);
  assert_int_equal(te("Transfer-Encoding: chunked, \r\n"), 400);
  assert_int_equal(te("Transfer-Encoding: , chunked\r\n"), 400);
  assert_int_equal(te("Transfer-Encoding: chunked,,\r\n"), 400);
  assert_int_equal(te("Transfer-Encoding:\r\n"), 400);
  assert_int_equal(te("Transfer-Encoding: \"chunked\"\r\n"), 400);
  assert_int_equal(te("Transfer-Encoding: chunked;a=b\r\n"), 400);
  assert_int_equal(te("Transfer-Encoding: chunked x\r\n"), 400);
  assert_int_equal(te("Transfer-Encoding: gzip;\r\n"), 400);
  assert_int_equal(te("Transfer-Encoding: gzip;q=\"x\r\n"), 400);
  assert_int_equal(te("Transfer-Encoding: \x0b"
                      "chunked\r\n"),
                   400);
  assert_int_equal(te("Transfer-Encoding: \x0c"
                      "chunked\r\n"),
                   400);
  assert_int_equal(te("Transfer-Encoding: chunked\x0b\r\n"), 400);
  assert_int_equal(te("Transfer-Encoding: chunked\r\n"
                      "Content-Length: 5\r\n"),
                   400);
  assert_int_equal(te("Content-Length: 5\r\n"
                      "Transfer-Encoding: chunked\r\n"),
                   400);
  assert_int_equal(te("Content-Length: 5\r\nTransfer-Encoding: gzip\r\n"), 400);
  assert_int_equal(te("Transfer-Encoding : chunked\r\n"), 400);
  assert_int_equal(te("Transfer-Encoding\t: chunked\r\n"), 400);
  assert_int_equal(te(" Transfer-Encoding: chunked\r\n"), 400);
  assert_int_equal(te("X: y\r\n Transfer-Encoding: chunked\r\n"), 400);
  assert_int_equal(te("X: y\r\n\tchunked\r\n"), 400);
  // Not Transfer-Encoding at all: ignored.
  assert_int_equal(te("Transfer_Encoding: chunked\r\n"), 0);
  assert_int_equal(te("Transfer-Encodings: chunked\r\n"), 0);
  // TE in HTTP/1.0 (RFC 9112 6.1).
  CHECK("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
  CHECK("POST / HTTP/1.0\r\nTransfer-Encoding: gzip\r\n\r\n", 400);
  CHECK("POST / HTTP/1.0\r\nContent-Length: 3\r\n\r\n", 200);
  assert_int_equal(te("Transfer-Encoding: chunked\x00\r\n"sv), 400);
}

static void test_parser__smuggling_matrix(void**) {
  // CL.TE / TE.CL
  CHECK(
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 13\r\n"
      "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nSMUGGLED",
      400);
  CHECK(
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
      "Content-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n",
      400);
  // TE.TE obfuscations.
  CHECK(req11("Transfer-Encoding: xchunked\r\nContent-Length: 4\r\n"), 400);
  CHECK(req11("Transfer-Encoding: chunked\r\nTransfer-encoding: x\r\n"), 400);
  CHECK(req11("Transfer-Encoding:\x0b"
              "chunked\r\n"),
        400);
  CHECK(req11("Transfer-Encoding\r\n : chunked\r\n"), 400);
  CHECK(req11("X: X\nTransfer-Encoding: chunked\r\n"), 400);  // LF is no line end
  CHECK(req11("X: X\rTransfer-Encoding: chunked\r\n"), 400);
  CHECK(req11("Transfer-Encoding: chunked\rX: y\r\n"), 400);
  CHECK(req11("Transfer-Encoding: chu\x00nked\r\n"sv), 400);
  CHECK(req11("Transfer-Encoding: chunked\r\n\r\n"), 200);
  CHECK(req11("Content-Length: 1\r\nContent-Length: 2\r\n"), 400);
  CHECK(req11("Content-Length: 1\r\nContent-length: 1\r\n"), 400);  // as nginx
  CHECK(req11("Content-Length:\x0c"
              "1\r\n"),
        400);
  // Duplicate Host is ambiguous for virtual hosting.
  CHECK("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);
  // Request line padding tricks.
  CHECK("GET / HTTP/1.1\r\n\r\nHost: a\r\n\r\n", 400);  // head ends, no Host
  CHECK("GET /\x0bHTTP/1.1\r\nHost: a\r\n\r\n", 400);
  CHECK("GET / HTTP/1.1\x00\r\nHost: a\r\n\r\n"sv, 400);
}

static void test_parser__connection_and_expect(void**) {
  auto parsed = [](std::string_view headers, RequestHead* h) -> int {
    static std::string keep;
    keep = req11(headers);
    ParseError e;
    return squall::http::parse_request_head(keep.data(), keep.size(), ParseLimits(), h, &e) > 0
               ? 200
               : e.status;
  };
  RequestHead h;
  assert_int_equal(parsed("Connection: close\r\n", &h), 200);
  assert_true(h.connection_close);
  assert_false(h.connection_keep_alive);
  assert_int_equal(parsed("Connection: Keep-Alive, Upgrade\r\n", &h), 200);
  assert_false(h.connection_close);
  assert_true(h.connection_keep_alive);
  assert_true(h.connection_upgrade);
  assert_int_equal(parsed("Connection: foo,,\t CLOSE \r\n", &h), 200);
  assert_true(h.connection_close);
  assert_int_equal(parsed("Connection: closed\r\n", &h), 200);
  assert_false(h.connection_close);
  assert_int_equal(parsed("Connection: upgrade\r\nConnection: keep-alive\r\n", &h), 200);
  assert_true(h.connection_upgrade);
  assert_true(h.connection_keep_alive);

  assert_int_equal(parsed("Expect: 100-continue\r\n", &h), 200);
  assert_true(h.expect_continue);
  assert_int_equal(parsed("Expect: 100-Continue\r\n", &h), 200);
  assert_true(h.expect_continue);
  assert_int_equal(parsed("", &h), 200);
  assert_false(h.expect_continue);
  assert_int_equal(parsed("Expect: 200-ok\r\n", &h), 417);
  assert_int_equal(parsed("Expect: 100-continue, foo\r\n", &h), 417);
  assert_int_equal(parsed("Expect: 100-continuex\r\n", &h), 417);
  // Framing errors win over the expectation.
  assert_int_equal(parsed("Expect: x\r\nContent-Length: a\r\n", &h), 400);

  const std::string b10 = "POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n";
  ParseError e;
  assert_true(squall::http::parse_request_head(b10.data(), b10.size(), ParseLimits(), &h, &e) > 0);
  assert_false(h.expect_continue);  // RFC 9110 10.1.1
}

static void test_parser__byte_by_byte_equals_one_shot(void**) {
  const std::string req =
      "\r\nPOST http://h:1/p?q HTTP/1.1\r\nHost: h:1\r\n"
      "Transfer-Encoding: chunked\r\nConnection: keep-alive\r\n"
      "Expect: 100-continue\r\nX: \t v \t\r\n\r\nbody";
  RequestHead one;
  ParseError e;
  const long r = squall::http::parse_request_head(req.data(), req.size(), ParseLimits(), &one, &e);
  assert_int_equal(r, req.size() - 4);
  std::string grow;
  RequestHead h;
  long got = 0;
  for (char c : req) {
    grow.push_back(c);
    got = squall::http::parse_request_head(grow.data(), grow.size(), ParseLimits(), &h, &e);
    if (got != 0) break;
  }
  assert_int_equal(got, r);
  assert_int_equal(grow.size(), r);
  assert_true(h.method == one.method);
  assert_true(h.path == "/p" && one.path == "/p");
  assert_true(h.query == "q");
  assert_true(h.authority == "h:1");
  assert_true(h.chunked && one.chunked);
  assert_true(h.expect_continue);
  assert_true(h.connection_keep_alive);
  assert_int_equal(h.headers.size(), one.headers.size());
  for (size_t i = 0; i < h.headers.size(); ++i) {
    assert_true(h.headers[i].name == one.headers[i].name);
    assert_true(h.headers[i].value == one.headers[i].value);
  }
}

static void test_parser__char_classes(void**) {
  using namespace squall::http;
  assert_true(is_tchar('a') && is_tchar('~') && is_tchar('!'));
  assert_false(is_tchar(' ') || is_tchar(':') || is_tchar('"') || is_tchar(0) || is_tchar(0x80) ||
               is_tchar('('));
  assert_true(is_token("Content-Type"));
  assert_false(is_token(""));
  assert_false(is_token("a b"));
  assert_true(is_valid_field_value("a b\tc\xff"));
  assert_true(is_valid_field_value(""));
  assert_false(is_valid_field_value("a\r\nb"));
  assert_false(is_valid_field_value("a\nb"));
  assert_false(is_valid_field_value("a\0b"sv));
  assert_false(is_valid_field_value("a\x7f"));
  assert_true(iequals("Content-LENGTH", "content-length"));
  assert_false(iequals("a", "ab"));
  assert_false(iequals("[", "{"));  // not a blind |0x20
}

// -------------------------------------------------------- chunked decoder

namespace {

struct Decoded {
  ChunkedDecoder::Result result = ChunkedDecoder::kNeedMore;
  std::string data;
  size_t consumed = 0;  // total bytes consumed across feeds
  int status = 0;
};

void sink(void* ctx, const char* d, size_t n) { static_cast<std::string*>(ctx)->append(d, n); }

// step == 0: one shot; else feed in slices of step bytes.
Decoded decode(std::string_view in, size_t step = 0) {
  Decoded out;
  ChunkedDecoder dec;
  std::vector<char> buf(in.begin(), in.end());
  size_t off = 0;
  ParseError e;
  do {
    const size_t n = step == 0 ? buf.size() - off : std::min(step, buf.size() - off);
    size_t used = 0;
    out.result = dec.feed(buf.data() + off, n, &used, sink, &out.data, &e);
    out.consumed += used;
    off += n;
    if (out.result != ChunkedDecoder::kNeedMore) break;
  } while (off < buf.size());
  if (out.result == ChunkedDecoder::kError) out.status = e.status;
  assert_int_equal(dec.total(), out.data.size());
  return out;
}

// Same outcome one-shot, byte-by-byte, and in 3-byte slices.
Decoded decode_all_ways(std::string_view in, int line) {
  Decoded a = decode(in);
  for (size_t step : {1, 2, 3, 7}) {
    Decoded b = decode(in, step);
    if (b.result != a.result || b.data != a.data ||
        (a.result != ChunkedDecoder::kError && b.consumed != a.consumed)) {
      print_error("line %d: step %zu differs on %s\n", line, step, printable(in).c_str());
      fail();
    }
  }
  return a;
}

void chunk_ok(std::string_view in, std::string_view want, size_t consumed, int line) {
  Decoded d = decode_all_ways(in, line);
  if (d.result != ChunkedDecoder::kDone || d.data != want || d.consumed != consumed) {
    print_error("line %d: %s -> result %d data '%s' consumed %zu\n", line, printable(in).c_str(),
                d.result, printable(d.data).c_str(), d.consumed);
    fail();
  }
}

void chunk_bad(std::string_view in, int line) {
  Decoded d = decode_all_ways(in, line);
  if (d.result != ChunkedDecoder::kError || d.status != 400) {
    print_error("line %d: %s accepted (result %d)\n", line, printable(in).c_str(), d.result);
    fail();
  }
}

#define CHUNK_OK(in, want) chunk_ok(in, want, std::string_view(in).size(), __LINE__)
#define CHUNK_BAD(in) chunk_bad(in, __LINE__)

// The encoder keeps the last head per thread and copies it whole when the
// status, type, length and Date match: every change must show.
std::string head_of(int status, std::string_view ct, std::string_view date, int64_t len,
                    std::string_view fields = {}, bool keep_alive = true) {
  squall::http::ResponseEncoder e;
  squall::http::ResponseEncoder::Head h;
  h.status = status;
  h.content_type = ct;
  h.fields = fields;
  squall::http::ResponseEncoder::Exchange x;
  x.date = date;
  x.keep_alive = keep_alive;
  std::string out = "prefix";
  e.begin(out, h, x, len);
  assert_int_equal(e.wire_bytes(), out.size() - 6);
  return out.substr(6);
}

void test_encoder__repeated_heads(void**) {
  const std::string_view d1 = "Thu, 01 Jan 2026 00:00:00 GMT", d2 = "Thu, 01 Jan 2026 00:00:01 GMT";
  const std::string first = head_of(200, "text/plain", d1, 14);
  assert_string_equal(first.c_str(),
                      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nDate: Thu, 01 Jan 2026 "
                      "00:00:00 GMT\r\nServer: squall\r\nContent-Length: 14\r\n\r\n");
  assert_string_equal(head_of(200, "text/plain", d1, 14).c_str(), first.c_str());
  assert_true(head_of(200, "text/plain", d1, 15).find("Content-Length: 15\r\n") !=
              std::string::npos);
  assert_true(head_of(200, "text/html", d1, 14).find("Content-Type: text/html\r\n") !=
              std::string::npos);
  assert_true(head_of(200, "text/plain", d2, 14).find(std::string(d2)) != std::string::npos);
  assert_true(head_of(404, "text/plain", d1, 14).rfind("HTTP/1.1 404 Not Found\r\n", 0) == 0);
  assert_true(head_of(200, "", d1, 14).find("Content-Type") == std::string::npos);
  assert_true(head_of(200, "text/plain", d1, 14, "X-A: b\r\n").find("X-A: b\r\n") !=
              std::string::npos);
  assert_true(head_of(200, "text/plain", d1, 14, {}, false).find("Connection: close\r\n") !=
              std::string::npos);
  assert_string_equal(head_of(200, "text/plain", d1, 14).c_str(), first.c_str());
  // A type longer than the cache holds is written, not cached.
  const std::string big(100, 'x');
  assert_true(head_of(200, big, d1, 14).find(big) != std::string::npos);
  assert_true(head_of(200, big, d1, 14).find(big) != std::string::npos);
}

// is_valid_field_value checks 8 bytes a step: a bad byte at every position
// of every length is found, and HTAB and obs-text pass.
void test_field_value__every_position(void**) {
  for (size_t n = 1; n <= 24; n++) {
    std::string ok(n, 'a');
    assert_true(squall::http::is_valid_field_value(ok));
    for (size_t i = 0; i < n; i++) {
      for (char bad : {'\r', '\n', '\0', '\x7f', '\x01', '\x1f'}) {
        std::string s = ok;
        s[i] = bad;
        assert_false(squall::http::is_valid_field_value(s));
      }
      for (char good : {'\t', ' ', '\x80', '\xff', '~'}) {
        std::string s = ok;
        s[i] = good;
        assert_true(squall::http::is_valid_field_value(s));
      }
    }
  }
}

}  // namespace

static void test_chunked__valid(void**) {
  CHUNK_OK("0\r\n\r\n", "");
  CHUNK_OK("5\r\nhello\r\n0\r\n\r\n", "hello");
  CHUNK_OK("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world");
  CHUNK_OK("A\r\n0123456789\r\n0\r\n\r\n", "0123456789");
  CHUNK_OK("a\r\n0123456789\r\n0\r\n\r\n", "0123456789");
  CHUNK_OK("0005\r\nhello\r\n000\r\n\r\n", "hello");
  CHUNK_OK("5\r\n\r\n\0\r\n\r\n0\r\n\r\n"sv, "\r\n\0\r\n"sv);  // binary data
  // Bare LF line ends, as in the head.
  // Extensions (RFC 9112 7.1.1).
  CHUNK_OK("5;a\r\nhello\r\n0\r\n\r\n", "hello");
  CHUNK_OK("5;a=b\r\nhello\r\n0;x=y\r\n\r\n", "hello");
  CHUNK_OK("5 ;a=b\r\nhello\r\n0\r\n\r\n", "hello");
  CHUNK_OK("5\t; a = b ;c;d=\"q \\\" ; x\"\r\nhello\r\n0\r\n\r\n", "hello");
  CHUNK_OK("5;a=\"\"\r\nhello\r\n0\r\n\r\n", "hello");
  // Trailers.
  CHUNK_OK("5\r\nhello\r\n0\r\nX-Sum: abc\r\nY:\r\n\r\n", "hello");
  CHUNK_OK("0\r\nX: a\tb \xff\r\n\r\n", "");
  // 16 hex digits is the ceiling.
  {
    ChunkedDecoder dec;
    size_t used = 0;
    ParseError e;
    const std::string s = "000000000000000a\r\n";
    assert_int_equal(dec.feed(s.data(), s.size(), &used, sink, nullptr, &e),
                     ChunkedDecoder::kNeedMore);
    assert_int_equal(used, s.size());
  }
  {
    ChunkedDecoder dec;
    size_t used = 0;
    ParseError e;
    const std::string s = "7fffffffffffffff\r\nab";
    std::string out;
    assert_int_equal(dec.feed(s.data(), s.size(), &used, sink, &out, &e),
                     ChunkedDecoder::kNeedMore);
    assert_true(out == "ab");
    assert_int_equal(dec.total(), 2);
  }
}

static void test_chunked__pipelined_leftover(void**) {
  const std::string body = "3\r\nabc\r\n0\r\nT: v\r\n\r\n";
  const std::string next = "GET / HTTP/1.1\r\n\r\n";
  Decoded d = decode(body + next);
  assert_int_equal(d.result, ChunkedDecoder::kDone);
  assert_int_equal(d.consumed, body.size());
  assert_true(d.data == "abc");
  d = decode(body + next, 1);
  assert_int_equal(d.consumed, body.size());
  // A decoder that is done consumes nothing more.
  ChunkedDecoder dec;
  size_t used = 99;
  ParseError e;
  std::string out;
  assert_int_equal(dec.feed(body.data(), body.size(), &used, sink, &out, &e),
                   ChunkedDecoder::kDone);
  assert_int_equal(dec.feed(next.data(), next.size(), &used, sink, &out, &e),
                   ChunkedDecoder::kDone);
  assert_int_equal(used, 0);
  // reset() starts a new body.
  dec.reset();
  assert_int_equal(dec.total(), 0);
  out.clear();
  assert_int_equal(dec.feed(body.data(), body.size(), &used, sink, &out, &e),
                   ChunkedDecoder::kDone);
  assert_true(out == "abc");
  assert_int_equal(dec.total(), 3);
}

static void test_chunked__invalid(void**) {
  CHUNK_BAD("\r\n");  // empty size
  CHUNK_BAD("0x5\r\nhello\r\n0\r\n\r\n");
  CHUNK_BAD("x\r\n");
  CHUNK_BAD("-5\r\nhello\r\n0\r\n\r\n");
  CHUNK_BAD("+5\r\nhello\r\n0\r\n\r\n");
  CHUNK_BAD(" 5\r\nhello\r\n0\r\n\r\n");
  CHUNK_BAD("5 \r\nhello\r\n0\r\n\r\n");
  CHUNK_BAD("5\t\r\nhello\r\n0\r\n\r\n");
  CHUNK_BAD("5 5\r\nhello\r\n0\r\n\r\n");
  CHUNK_BAD("5g\r\nhello\r\n0\r\n\r\n");
  CHUNK_BAD("5\rhello\r\n0\r\n\r\n");  // bare CR
  CHUNK_BAD("5\r\rhello\r\n0\r\n\r\n");
  CHUNK_BAD("5\x00\r\nhello\r\n0\r\n\r\n"sv);
  CHUNK_BAD("\xd9\xa5\r\nhello\r\n0\r\n\r\n");
  CHUNK_BAD("00000000000000005\r\nhello\r\n0\r\n\r\n");  // 17 digits
  CHUNK_BAD("10000000000000000\r\n");
  CHUNK_BAD("ffffffffffffffff\r\n");  // >= 2^63
  CHUNK_BAD("8000000000000000\r\n");
  // Data must be followed by exactly CRLF (or LF).
  CHUNK_BAD("5\r\nhelloXX0\r\n\r\n");
  CHUNK_BAD("5\r\nhello0\r\n\r\n");
  CHUNK_BAD("5\r\nhello\r\r\n0\r\n\r\n");
  CHUNK_BAD("5\r\nhello\rX0\r\n\r\n");
  CHUNK_BAD("5\r\nhello world\r\n0\r\n\r\n");  // TE.CL style overrun
  CHUNK_BAD("3\r\nhello\r\n0\r\n\r\n");
  // Extensions.
  CHUNK_BAD("5;\r\nhello\r\n0\r\n\r\n");
  CHUNK_BAD("5; \r\nhello\r\n0\r\n\r\n");
  CHUNK_BAD("5;a \r\nhello\r\n0\r\n\r\n");
  CHUNK_BAD("5;a=\r\nhello\r\n0\r\n\r\n");
  CHUNK_BAD("5;a=b \r\nhello\r\n0\r\n\r\n");
  CHUNK_BAD("5;=b\r\nhello\r\n0\r\n\r\n");
  CHUNK_BAD("5;a=b=c\r\nhello\r\n0\r\n\r\n");
  CHUNK_BAD("5;a=\"b\r\nhello\r\n0\r\n\r\n");  // unterminated quote
  CHUNK_BAD("5;a=\"b\"c\r\nhello\r\n0\r\n\r\n");
  CHUNK_BAD("5;a=\"b\x01\"\r\nhello\r\n0\r\n\r\n");
  CHUNK_BAD("5;a\rb\r\nhello\r\n0\r\n\r\n");  // bare CR in ext
  CHUNK_BAD("5;a\nhello\r\n0\r\n\r\n");       // bare LF ends an ext
  CHUNK_BAD("5;a=b\nhello\r\n0\r\n\r\n");
  CHUNK_BAD("5;a=\"b\"\nhello\r\n0\r\n\r\n");
  CHUNK_BAD("5\r\nhello\r\n0;a\n\r\n");
  CHUNK_BAD("5;a\nb\r\nhello\r\n0\r\n\r\n");
  CHUNK_BAD("5;a=b\rc\r\nhello\r\n0\r\n\r\n");
  CHUNK_BAD("5;a\x00\r\nhello\r\n0\r\n\r\n"sv);
  CHUNK_BAD("5;a\x7f\r\nhello\r\n0\r\n\r\n");
  CHUNK_BAD("5;a(b\r\nhello\r\n0\r\n\r\n");
  CHUNK_BAD("5,a\r\nhello\r\n0\r\n\r\n");
  // Trailers.
  CHUNK_BAD("0\r\nX : v\r\n\r\n");
  CHUNK_BAD("0\r\n: v\r\n\r\n");
  CHUNK_BAD("0\r\nX\r\n\r\n");
  CHUNK_BAD("0\r\nX: v\r\n folded\r\n\r\n");
  CHUNK_BAD("0\r\nX: v\rY\r\n\r\n");
  CHUNK_BAD("0\r\nX: \x00\r\n\r\n"sv);
  CHUNK_BAD("0\r\n\rX");
  CHUNK_BAD("0\r\nX: v\r\r\n");
  // Size line length bound.
  CHUNK_BAD("5;" + std::string(5000, 'a') + "\r\n");
  // Trailer bound (64 KiB).
  CHUNK_BAD("0\r\nX: " + std::string(70 * 1024, 'a') + "\r\n\r\n");
  {
    // An errored decoder stays errored.
    ChunkedDecoder dec;
    size_t used = 0;
    ParseError e;
    assert_int_equal(dec.feed("zz", 2, &used, sink, nullptr, &e), ChunkedDecoder::kError);
    assert_int_equal(e.status, 400);
    assert_int_equal(dec.feed("0\r\n\r\n", 5, &used, sink, nullptr, &e), ChunkedDecoder::kError);
  }
}

static void test_chunked__incomplete(void**) {
  Decoded d = decode("5\r\nhel");
  assert_int_equal(d.result, ChunkedDecoder::kNeedMore);
  assert_int_equal(d.consumed, 6);
  assert_true(d.data == "hel");
  d = decode("5\r\nhello\r\n0\r\n");
  assert_int_equal(d.result, ChunkedDecoder::kNeedMore);
  d = decode("5\r\nhello\r\n0\r\nX: y\r\n");
  assert_int_equal(d.result, ChunkedDecoder::kNeedMore);
  // Long sizes with extensions just under the bound still work.
  CHUNK_OK("1;" + std::string(4000, 'a') + "\r\nx\r\n0\r\n\r\n", "x");
  // Big trailer just under the bound.
  CHUNK_OK("0\r\nX: " + std::string(60 * 1024, 'a') + "\r\n\r\n", "");
}

// The resumable parser: a head fed one byte at a time (the buffer growing
// and moving as a read buffer does) gives the same result as a whole one,
// looks at each byte a bounded number of times, and still rejects a
// control byte in an unfinished line at once.
static void test_head_parser__resumes_linearly(void**) {
  std::string head = "POST /upload?x=1 HTTP/1.1\r\nHost: example.com:8080\r\n";
  int n = 0;
  while (head.size() < 60 * 1024)
    head += "X-Pad-" + std::to_string(n++) + ": " + std::string(700, 'p') + "\r\n";
  head += "Content-Length: 3\r\n\r\n";
  ParseLimits lim;
  lim.max_header_count = 1000;
  squall::http::HeadParser hp;
  RequestHead out;
  ParseError err;
  std::string buf;
  long r = 0;
  for (size_t i = 0; i < head.size(); i++) {
    std::string moved = buf;  // a new allocation: the bytes move every call
    moved.push_back(head[i]);
    buf.swap(moved);
    r = hp.parse(buf.data(), buf.size(), lim, &out, &err);
    if (i + 1 < head.size()) assert_int_equal(r, 0);
  }
  assert_int_equal(r, long(head.size()));
  assert_int_equal(out.headers.size(), size_t(n) + 2);
  assert_true(out.path == "/upload");
  assert_true(out.host == "example.com:8080");
  assert_true(out.headers[5].value == std::string(700, 'p'));
  assert_true(out.has_content_length && out.content_length == 3);
  // Linear: every byte was looked at no more than a few times (re-parsing
  // from byte 0 on every call would be ~ size^2 / 2 = 1.9e9 here).
  assert_true(hp.work() <= 3 * head.size());

  // A control byte in a line with no LF yet is refused at once.
  squall::http::HeadParser hp2;
  const char part[] = "GET / HTTP/1.1\r\nHost: x\r\nX-A: a";
  assert_int_equal(hp2.parse(part, sizeof part - 1, lim, &out, &err), 0);
  std::string bad = std::string(part, sizeof part - 1) + '\x01';
  assert_true(hp2.parse(bad.data(), bad.size(), lim, &out, &err) < 0);
  assert_int_equal(err.status, 400);
  // So is a head that outgrows max_header_size without a line end.
  squall::http::HeadParser hp3;
  lim.max_header_size = 1024;
  std::string big = "GET / HTTP/1.1\r\nHost: x\r\nX-A: ";
  assert_int_equal(hp3.parse(big.data(), big.size(), lim, &out, &err), 0);
  big += std::string(2000, 'a');
  assert_true(hp3.parse(big.data(), big.size(), lim, &out, &err) < 0);
  assert_int_equal(err.status, 431);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parser__simple_get),
      cmocka_unit_test(test_parser__http10_and_bare_lf),
      cmocka_unit_test(test_parser__no_headers_at_all),
      cmocka_unit_test(test_parser__leading_empty_lines),
      cmocka_unit_test(test_parser__pipelined),
      cmocka_unit_test(test_parser__reuse_keeps_capacity),
      cmocka_unit_test(test_parser__obs_text_and_tabs_in_values),
      cmocka_unit_test(test_parser__wide_scan_positions),
      cmocka_unit_test(test_parser__request_line_rejections),
      cmocka_unit_test(test_parser__versions),
      cmocka_unit_test(test_parser__target_forms),
      cmocka_unit_test(test_parser__field_rejections),
      cmocka_unit_test(test_parser__limits),
      cmocka_unit_test(test_parser__host),
      cmocka_unit_test(test_parser__content_length),
      cmocka_unit_test(test_parser__transfer_encoding),
      cmocka_unit_test(test_parser__smuggling_matrix),
      cmocka_unit_test(test_parser__connection_and_expect),
      cmocka_unit_test(test_parser__byte_by_byte_equals_one_shot),
      cmocka_unit_test(test_parser__char_classes),
      cmocka_unit_test(test_chunked__valid),
      cmocka_unit_test(test_chunked__pipelined_leftover),
      cmocka_unit_test(test_chunked__invalid),
      cmocka_unit_test(test_chunked__incomplete),
      cmocka_unit_test(test_head_parser__resumes_linearly),
      cmocka_unit_test(test_encoder__repeated_heads),
      cmocka_unit_test(test_field_value__every_position),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
