// libFuzzer harness for parse_request_head (the request-head parsing of
// tornado/http1connection.py).  Checks invariants, not just crashes: views
// stay inside the head, framing is never ambiguous, and a prefix of an
// accepted head is always "incomplete" (incremental == one-shot).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "core/http/parser.h"

using namespace squall::http;

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

bool inside(std::string_view v, const char* b, size_t n) {
  if (v.empty()) return true;
  return v.data() >= b && v.data() + v.size() <= b + n;
}

long parse(const std::vector<char>& buf, size_t n, const ParseLimits& lim, RequestHead* h,
           ParseError* e) {
  return parse_request_head(buf.data(), n, lim, h, e);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ParseLimits lim;
  if (size > 0) {
    // Odd first byte: tiny limits so the 414/431 paths are reached.
    const uint8_t c = data[0];
    ++data;
    --size;
    if (c & 1) {
      lim.max_header_size = 32 + c;
      lim.max_uri_size = 4 + c / 4;
      lim.max_header_count = c % 8;
    }
  }
  // Exactly-sized heap copy so ASan flags any read past the end.
  std::vector<char> buf(data, data + size);
  RequestHead h;
  ParseError e;
  const long r = parse(buf, size, lim, &h, &e);
  if (r < 0) {
    const int s = e.status;
    check(s == 400 || s == 414 || s == 417 || s == 431 || s == 501 || s == 505);
    check(e.limit == (s == 414 || s == 431));
    check(e.reason != nullptr);
    return 0;
  }
  if (r == 0) {
    check(size <= lim.max_header_size);
    return 0;
  }
  const size_t n = static_cast<size_t>(r);
  const char* b = buf.data();
  check(n <= size && n <= lim.max_header_size && h.head_size == n);
  check(h.version == 10 || h.version == 11);
  check(is_token(h.method));
  check(!h.target.empty() && inside(h.target, b, n));
  check(h.target.size() <= lim.max_uri_size);
  check(inside(h.method, b, n) && inside(h.query, b, n) && inside(h.scheme, b, n) &&
        inside(h.authority, b, n) && inside(h.host, b, n));
  check(h.path == "/" || h.path == "*" || h.path.empty() || inside(h.path, b, n));
  check(h.headers.size() <= lim.max_header_count);
  for (const HeaderField& f : h.headers) {
    check(is_token(f.name) && inside(f.name, b, n));
    check(is_valid_field_value(f.value) && inside(f.value, b, n));
    if (!f.value.empty()) {
      check(f.value.front() != ' ' && f.value.front() != '\t');
      check(f.value.back() != ' ' && f.value.back() != '\t');
    }
  }
  // Never two framings at once (RFC 9112 6.3).
  check(!(h.chunked && h.has_content_length));
  check(!h.chunked || h.version == 11);
  check(h.version == 10 || h.has_host);
  check(!h.expect_continue || h.version == 11);
  // Incremental: every strict prefix is incomplete.
  RequestHead p;
  ParseError pe;
  for (size_t k : {size_t{0}, n / 3, n / 2, n - 1}) {
    std::vector<char> pre(buf.begin(), buf.begin() + k);
    check(parse(pre, k, lim, &p, &pe) == 0);
  }
  // Trailing bytes do not change the head.
  std::vector<char> exact(buf.begin(), buf.begin() + n);
  check(parse(exact, n, lim, &p, &pe) == r);
  check(p.headers.size() == h.headers.size() && p.chunked == h.chunked &&
        p.content_length == h.content_length);
  return 0;
}
