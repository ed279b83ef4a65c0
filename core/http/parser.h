// Counterpart of the parsing inside tornado/http1connection.py and
// tornado/httputil.py (parse_request_start_line, HTTPHeaders.parse), made
// strict to RFC 9112.  Pure and in place: every string_view points into the
// caller's buffer; nothing here allocates except the header vector.
//
// Strictness table (RFC 9112 sections 2-7; each row is a case of
// tests/core/parser_audit_test.cc, which drives it through a connection).
// "400+close": the answer is that status with Connection: close and the
// connection ends; nothing after the bad byte is read as a request.
//
//   where                     input                                answer
//   ------------------------  -----------------------------------  ---------
//   any line end (2.2)        bare LF: request line, field lines,  400+close
//                             end of head, empty line before the
//                             request line, chunk-size line, after
//                             chunk data, trailer lines
//                             bare CR anywhere                     400+close
//   before request line       CRLF empty lines                     skipped
//   request line (3)          not exactly method SP target SP      400+close
//                             version (extra SP, HTAB, no version)
//                             non-token method byte                400+close
//   target (3.2)              byte outside VCHAR (NUL, CTL, SP,    400+close
//                             DEL, >= 0x80); '*' not for OPTIONS;
//                             authority-form not for CONNECT
//                             longer than max_uri_size             414+close
//   version (2.3)             not "HTTP/" DIGIT "." DIGIT          400+close
//                             (case, two digits, trailing SP)
//                             HTTP/1.x, x > 1 (RFC 9110 6.2)       as 1.1
//                             major other than 1                   505+close
//   Host (3.2)                missing in 1.1, repeated, invalid,   400+close
//                             with ',' or userinfo
//                             absolute-form target                 its authority wins
//   field line (5.1)          whitespace before ':', empty or      400+close
//                             non-token name, no ':'
//   obs-fold (5.2)            line starting with SP/HTAB           400+close
//   field value (5.5)         NUL, CTL but HTAB, DEL               400+close
//                             HTAB, obs-text (>= 0x80)             accepted
//   head size / count         > max_header_size / max_header_count 431+close
//   Transfer-Encoding (6.1)   with Content-Length                  400+close
//                             in HTTP/1.0                          400+close
//                             chunked not last (gzip, identity,    400+close
//                             xchunked, chunked then another field)
//                             chunked twice, with parameters,      400+close
//                             empty, empty list member, CTL
//                             other codings before chunked         501+close
//   Content-Length (6.2)      not 1*DIGIT (sign, hex, SP, empty,   400+close
//                             list "3, 3"), > 2^63-1
//                             a second field, equal or not (nginx) 400+close
//                             > max_body_size                      413+close, unread
//   no CL, no TE (6.3 (7))    body length 0; next bytes are the next request
//   chunk-size (7.1)          not 1*HEXDIG (sign, 0x, SP before,   400+close
//                             SP after without ';', empty), > 16
//                             digits, >= 2^63, data longer than size
//                             announced past max_body_size         413+close, unread
//   chunk-ext (7.1.1)         BWS ";" name [BWS "=" BWS token or   parsed, ignored
//                             quoted-string]
//                             anything else, a line > 4 KiB        400+close
//   trailers (7.1.2)          valid field lines                    read, discarded
//                             obs-fold, SP before ':', CTL, > 64K  400+close
//   Expect (RFC 9110 10.1.1)  100-continue (1.1)                   100 sent when read
//                             anything else                        417+close
//
// Why bare LF is refused although RFC 9112 2.2 lets a recipient accept it:
// squall is meant to sit behind proxies and load balancers, and a parser
// that ends lines where its proxy does not is how requests are smuggled (a
// proxy that reads "X: a<LF>Transfer-Encoding: chunked" as one field
// forwards a body squall would frame differently; Go's CVE-2025-22871 was
// bare LF in chunk-size lines).  Clients that send bare LF are rare; every
// browser, curl and HTTP library sends CRLF.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace squall::http {

struct ParseLimits {
  size_t max_header_size = 64 * 1024;  // whole head incl. request line; 431
  size_t max_header_count = 100;       // header fields; 431
  size_t max_uri_size = 8 * 1024;      // request target; 414
};

enum class TargetForm { kOrigin, kAbsolute, kAuthority, kAsterisk };

struct HeaderField {
  std::string_view name;   // as sent (case kept)
  std::string_view value;  // leading/trailing OWS stripped
};

struct RequestHead {
  std::string_view method;
  std::string_view target;     // request-target as sent
  std::string_view path;       // origin-form path, or path of absolute-form ("/" if empty)
  std::string_view query;      // after '?' without it; empty if none
  std::string_view scheme;     // absolute-form only ("http"), else empty
  std::string_view authority;  // absolute-form / authority-form host[:port]
  TargetForm form = TargetForm::kOrigin;
  int version = 11;  // 10 or 11
  std::vector<HeaderField> headers;

  // Derived by the parser (RFC 9112 section 6).
  std::string_view host;  // the single Host value (may be empty for 1.0)
  bool has_host = false;
  bool chunked = false;  // Transfer-Encoding: chunked (final coding)
  bool has_content_length = false;
  uint64_t content_length = 0;
  bool connection_close = false;       // Connection: close token
  bool connection_keep_alive = false;  // Connection: keep-alive token
  bool connection_upgrade = false;     // Connection: upgrade token
  bool expect_continue = false;        // Expect: 100-continue
  size_t head_size = 0;                // bytes of the head incl. blank line

  void clear();
  // Repoint every view into [old_base, old_base + len) to the same bytes at
  // new_base (the buffer moved).
  void rebase(const char* old_base, size_t len, const char* new_base);
  // First value of a header (case-insensitive name), or empty + false.
  bool get(std::string_view name, std::string_view* value) const;
};

struct ParseError {
  int status = 400;         // HTTP status to answer with
  const char* reason = "";  // short static text for logs
  bool limit = false;       // true for 413/414/431 (limit, not malformed)
};

// Parse a request head from buf[0..len).
//   > 0  complete: head_size bytes consumed, *out filled
//   == 0 incomplete so far and no error detected yet: read more
//   < 0  error: *err says which status to answer with (then close)
// Leading empty lines (CRLF) before the request line are skipped (RFC 9112
// section 2.2) and counted in head_size.  Bare LF and bare CR line ends,
// NUL, other control bytes, obs-fold, whitespace before ':' are rejected.
// Host rules of RFC 9112 section 3.2, framing rules of section 6 (TE + CL,
// repeated CL, chunked not last -> 400, unknown codings -> 501) are enforced;
// Expect other than 100-continue -> 417; version other than 1.0/1.1 -> 505
// (a well-formed HTTP/2+ or 0.9-looking line), malformed -> 400.
long parse_request_head(const char* buf, size_t len, const ParseLimits& limits, RequestHead* out,
                        ParseError* err);

// parse_request_head that resumes (picohttpparser's last_len, h2o's
// previous-length hint): after a call that returned 0, call again with the
// same bytes plus more (the buffer may have moved) and the same *out; it
// goes on at the first line it had not finished, and returns 0 at once
// while no line ends and no byte that no head may hold arrived.  Each byte
// is thus looked at a bounded number of times: feeding a head one byte at a
// time costs linear, not quadratic, work.  Errors are found at line
// granularity (or at once for control bytes); limits as parse_request_head.
class HeadParser {
 public:
  long parse(const char* buf, size_t len, const ParseLimits& limits, RequestHead* out,
             ParseError* err);
  void reset();
  // Bytes looked at since the last reset (the cost the resume bounds).
  uint64_t work() const { return work_; }

  // Framing facts gathered from the fields so far.
  struct Framing {
    bool te = false;      // a Transfer-Encoding field was seen
    uint8_t chunked = 0;  // times "chunked" was listed (saturating)
    bool last_chunked = false;
    bool other = false;  // some coding other than chunked
    uint8_t hosts = 0;   // Host fields seen (the second is refused)
    bool expect_bad = false;
  };

 private:
  long parse_from(const char* buf, size_t len, const ParseLimits& limits, RequestHead* out,
                  ParseError* err);
  // Offsets fit 32 bits: a head is at most max_header_size (<= 16 MiB).
  bool waiting_ = false;    // the last call returned 0
  bool in_fields_ = false;  // the request line is parsed
  Framing f_;
  uint32_t line_ = 0;           // offset of the first unfinished line
  uint32_t scanned_ = 0;        // bytes seen by the last call
  uint32_t count_ = 0;          // fields parsed
  const char* base_ = nullptr;  // where the buffer was
  uint64_t work_ = 0;
};

// Incremental decoder for Transfer-Encoding: chunked (RFC 9112 section 7.1),
// with chunk extensions (validated and ignored) and trailer fields (validated
// and discarded).  Every line ends in CRLF.  Chunk sizes are hex without sign/whitespace; overflow
// of 64 bits or more than 16 hex digits is an error.
class ChunkedDecoder {
 public:
  enum Result { kNeedMore = 0, kDone = 1, kError = -1 };
  using Sink = void (*)(void* ctx, const char* data, size_t len);

  // Feed bytes.  Decoded data is passed to sink (possibly several times).
  // *consumed is set to the bytes used: all of len for kNeedMore; up to the
  // end of the last chunk's trailer for kDone (the rest belongs to the next
  // request).  On kError, *err is filled (400).
  Result feed(const char* data, size_t len, size_t* consumed, Sink sink, void* ctx,
              ParseError* err);
  void reset();
  uint64_t total() const { return total_; }
  // Data bytes of the current chunk not yet fed, once its size line is
  // complete (0 elsewhere).
  uint64_t remaining() const;

 private:
  int state_ = 0;
  uint64_t remaining_ = 0;
  uint64_t total_ = 0;
  int digits_ = 0;
  size_t line_len_ = 0;  // bytes in current size/trailer line (bounded)
  size_t trailer_bytes_ = 0;
};

// Character classes (RFC 9110 section 5.6.2 and 5.5).
bool is_tchar(unsigned char c);
bool is_token(std::string_view s);
// A field value a response may carry: no CR, LF, NUL (other CTLs but HTAB too).
bool is_valid_field_value(std::string_view s);

// a[0..n) == b[0..n), 8 bytes a step: short strings without a memcmp call.
__attribute__((always_inline)) inline bool equal_bytes(const char* a, const char* b, size_t n) {
  if (n < 8) {
    for (size_t i = 0; i < n; i++)
      if (a[i] != b[i]) return false;
    return true;
  }
  uint64_t x, y;
  for (size_t i = 0; i + 8 <= n; i += 8) {
    __builtin_memcpy(&x, a + i, 8);
    __builtin_memcpy(&y, b + i, 8);
    if (x != y) return false;
  }
  __builtin_memcpy(&x, a + n - 8, 8);  // the tail, overlapping
  __builtin_memcpy(&y, b + n - 8, 8);
  return x == y;
}
// ASCII case-insensitive equality.
bool iequals(std::string_view a, std::string_view b);

}  // namespace squall::http
