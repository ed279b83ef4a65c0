// Counterpart of the parsing inside tornado/http1connection.py and
// tornado/httputil.py (parse_request_start_line, HTTPHeaders.parse), made
// strict to RFC 9112.  Pure and in place: every string_view points into the
// caller's buffer; nothing here allocates except the header vector.
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
// section 2.2) and counted in head_size.  Bare LF line ends are accepted;
// bare CR, NUL, other control bytes, obs-fold, whitespace before ':' are
// rejected.  Host rules of RFC 9112 section 3.2, framing rules of section 6
// (TE + CL, conflicting CL, unknown codings -> 501) are enforced here;
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
// and discarded).  Chunk sizes are hex without sign/whitespace; overflow of
// 64 bits or more than 16 hex digits is an error.
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
// ASCII case-insensitive equality.
bool iequals(std::string_view a, std::string_view b);

}  // namespace squall::http
