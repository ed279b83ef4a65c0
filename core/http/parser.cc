// Counterpart of tornado/http1connection.py (_read_message, _read_body,
// _read_chunked_body) and tornado/httputil.py (parse_request_start_line,
// HTTPHeaders.parse), rewritten as a strict RFC 9112 parser that works in
// place on the connection buffer.
#include "core/http/parser.h"

#include <array>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace squall::http {

namespace {

// ---------------------------------------------------------------------------
// Character classes, one table lookup per byte.

enum : uint8_t {
  kTchar = 1,   // RFC 9110 5.6.2 token
  kValue = 2,   // field-vchar / SP / HTAB (RFC 9110 5.5), obs-text included
  kTarget = 4,  // request-target bytes we let through: VCHAR
  kHex = 8,
  kHost = 16,   // RFC 3986 reg-name minus ',' (see valid_host)
  kQdtext = 32  // RFC 9110 5.6.4 qdtext
};

constexpr std::array<uint8_t, 256> make_classes() {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    uint8_t v = 0;
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    const bool digit = c >= '0' && c <= '9';
    if (alpha || digit) v |= kTchar | kHost;
    for (char s : std::string_view("!#$%&'*+-.^_`|~"))
      if (c == static_cast<unsigned char>(s)) v |= kTchar;
    for (char s : std::string_view("-._~!$&'()*+;="))
      if (c == static_cast<unsigned char>(s)) v |= kHost;
    if (c == '\t' || c == ' ' || (c >= 0x21 && c != 0x7f)) v |= kValue;
    if (c >= 0x21 && c <= 0x7e) v |= kTarget;
    if (digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) v |= kHex;
    if (c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) ||
        (c >= 0x5d && c <= 0x7e) || c >= 0x80)
      v |= kQdtext;
    t[c] = v;
  }
  return t;
}

constexpr std::array<uint8_t, 256> kClass = make_classes();

inline bool has(char c, uint8_t cls) { return kClass[static_cast<unsigned char>(c)] & cls; }
inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
inline bool is_ows(char c) { return c == ' ' || c == '\t'; }
inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

// Name match for header names (already tokens) against a lowercase literal.
inline bool name_is(std::string_view name, std::string_view lit) {
  if (name.size() != lit.size()) return false;
  for (size_t i = 0; i < lit.size(); ++i)
    if (lower(name[i]) != lit[i]) return false;
  return true;
}

#if defined(__SSE2__)
// 16 bytes at a time; a set bit marks a byte that stops the scan.
inline unsigned stop_mask_value(const char* p) {
  // CTL (0x00-0x1f, signed compare minus the negatives = obs-text) or DEL.
  const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i ctl = _mm_andnot_si128(_mm_cmplt_epi8(b, _mm_setzero_si128()),
                                       _mm_cmplt_epi8(b, _mm_set1_epi8(0x20)));
  const __m128i del = _mm_cmpeq_epi8(b, _mm_set1_epi8(0x7f));
  return static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(ctl, del)));
}
inline unsigned stop_mask_target(const char* p) {
  // Anything below 0x21 or at/above 0x7f (negative as signed bytes).
  const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i low = _mm_cmplt_epi8(b, _mm_set1_epi8(0x21));
  const __m128i del = _mm_cmpeq_epi8(b, _mm_set1_epi8(0x7f));
  return static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(low, del)));
}
constexpr ptrdiff_t kWide = 16;
#else
// SWAR fallback, 8 bytes at a time: nonzero when some byte of x is below n
// (n <= 128), exact as an existence test; the byte loop then finds it.
constexpr uint64_t kOnes = 0x0101010101010101ull;
constexpr uint64_t kHigh = 0x8080808080808080ull;
inline uint64_t any_below(uint64_t x, uint8_t n) { return (x - kOnes * n) & ~x & kHigh; }
inline uint64_t any_equal(uint64_t x, uint8_t b) {
  const uint64_t y = x ^ (kOnes * b);
  return (y - kOnes) & ~y & kHigh;
}
inline uint64_t load8(const char* p) {
  uint64_t x;
  std::memcpy(&x, p, 8);
  return x;
}
inline unsigned stop_mask_value(const char* p) {
  const uint64_t x = load8(p);
  return (any_below(x, 0x20) | any_equal(x, 0x7f)) != 0;
}
inline unsigned stop_mask_target(const char* p) {
  const uint64_t x = load8(p);
  return (any_below(x, 0x21) | (x & kHigh) | any_equal(x, 0x7f)) != 0;
}
constexpr ptrdiff_t kWide = 8;
#endif

// Advance over bytes of class cls, kWide at a time while stop_mask finds no
// byte outside it (HTAB, the one allowed byte below SP in a field value, is
// stepped over when tab_ok).
template <unsigned (*stop_mask)(const char*), uint8_t cls, bool tab_ok>
inline const char* scan(const char* p, const char* end) {
  while (end - p >= kWide) {
    const unsigned m = stop_mask(p);
    if (m) {
#if defined(__SSE2__)
      p += __builtin_ctz(m);
      if (!tab_ok || *p != '\t') return p;
      ++p;
      continue;
#else
      break;
#endif
    }
    p += kWide;
  }
  while (p < end && has(*p, cls)) ++p;
  return p;
}

// field-value bytes (RFC 9110 5.5: VCHAR, SP, HTAB, obs-text).
inline const char* scan_value(const char* p, const char* end) {
  return scan<stop_mask_value, kValue, true>(p, end);
}

// request-target bytes: VCHAR only (no SP, CTL, DEL, >= 0x80).
inline const char* scan_target(const char* p, const char* end) {
  return scan<stop_mask_target, kTarget, false>(p, end);
}

long fail(ParseError* err, int status, const char* reason, bool limit = false) {
  if (err) {
    err->status = status;
    err->reason = reason;
    err->limit = limit;
  }
  return -1;
}

void skip_ows(std::string_view v, size_t* i) {
  while (*i < v.size() && is_ows(v[*i])) ++*i;
}

// quoted-string (RFC 9110 5.6.4) starting at v[*i] == '"'.
bool skip_quoted(std::string_view v, size_t* i) {
  size_t j = *i + 1;
  while (j < v.size()) {
    const char c = v[j];
    if (c == '"') {
      *i = j + 1;
      return true;
    }
    if (c == '\\') {
      // quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
      if (j + 1 >= v.size() || !has(v[j + 1], kValue)) return false;
      j += 2;
      continue;
    }
    if (!has(c, kQdtext)) return false;
    ++j;
  }
  return false;
}

size_t skip_token(std::string_view v, size_t i) {
  while (i < v.size() && has(v[i], kTchar)) ++i;
  return i;
}

// port = *DIGIT (RFC 3986 3.2.3), at most five of them.
bool valid_port(std::string_view h, size_t colon, bool port_required) {
  const size_t digits = h.size() - colon - 1;
  if (digits > 5 || (digits == 0 && port_required)) return false;
  for (size_t k = colon + 1; k < h.size(); ++k)
    if (!is_digit(h[k])) return false;
  return true;
}

// uri-host [ ":" port ] (RFC 9112 3.2, RFC 3986 3.2.2).  reg-name excludes
// ',' although RFC 3986 allows it: a Host with a comma reads as a list of
// two hosts to intermediaries that split fields on commas (RFC 9110 5.3).
// No userinfo: '@' is not a host byte (RFC 9110 4.2.4).
bool valid_host(std::string_view h, bool port_required) {
  const size_t n = h.size();
  size_t i = 0;
  // Common case: a plain reg-name or IPv4 address, one lookup per byte.
  while (i < n && has(h[i], kHost)) ++i;
  if (i == n) return n > 0 && !port_required;
  if (h[i] == ':') return i > 0 && valid_port(h, i, port_required);
  if (i == 0 && h[0] == '[') {
    // IP-literal: IPv6 hex groups, ':' and a dotted IPv4 tail.
    const size_t close = h.find(']');
    if (close == std::string_view::npos || close < 3) return false;
    bool colon = false;
    for (size_t k = 1; k < close; ++k) {
      const char c = h[k];
      if (c == ':') {
        colon = true;
      } else if (!has(c, kHex) && c != '.') {
        return false;
      }
    }
    if (!colon) return false;
    i = close + 1;
  } else {
    // reg-name with pct-encoded bytes.
    while (i < n && h[i] != ':') {
      if (h[i] == '%') {
        if (i + 2 >= n || !has(h[i + 1], kHex) || !has(h[i + 2], kHex)) return false;
        i += 3;
        continue;
      }
      if (!has(h[i], kHost)) return false;
      ++i;
    }
  }
  if (i == n) return !port_required;
  return h[i] == ':' && valid_port(h, i, port_required);
}

// The Host field: the value last found valid on this thread is remembered
// (a client sends the same Host on every request), so the next one equal to
// it costs one comparison, not a scan.
bool valid_host_field(std::string_view v) {
  struct Last {
    char s[64];
    size_t n;
  };
  thread_local Last last;  // zero: nothing yet (v is never empty here)
  Last* lp = &last;
  asm("" : "+r"(lp));  // one TLS lookup
  if (v.size() == lp->n && equal_bytes(lp->s, v.data(), v.size())) return true;
  if (!valid_host(v, false)) return false;
  if (v.size() <= sizeof lp->s) {
    std::memcpy(lp->s, v.data(), v.size());
    lp->n = v.size();
  }
  return true;
}

// Content-Length = 1*DIGIT (RFC 9112 6.3), one value: a list such as
// "5, 5" (RFC 9110 8.6 lets a recipient collapse it) is refused, as nginx
// and llhttp do.  Capped at 2^63-1 so it fits every signed offset type.
bool parse_content_length(std::string_view v, uint64_t* out) {
  constexpr uint64_t kMax = 0x7fffffffffffffffull;
  if (v.empty()) return false;
  uint64_t x = 0;
  for (char c : v) {
    if (!is_digit(c)) return false;
    const uint64_t d = static_cast<uint64_t>(c - '0');
    if (x > (kMax - d) / 10) return false;
    x = x * 10 + d;
  }
  *out = x;
  return true;
}

using Framing = HeadParser::Framing;

// Transfer-Encoding = #transfer-coding (RFC 9112 6.1), where
// transfer-coding = token *( OWS ";" OWS token BWS "=" BWS
// ( token / quoted-string ) ).  Empty list members are refused: "chunked, "
// is how parsers are made to disagree about which coding is last.
bool parse_transfer_encoding(std::string_view v, Framing* f) {
  f->te = true;
  size_t i = 0;
  if (v.empty()) return false;
  for (;;) {
    const size_t s = i;
    i = skip_token(v, i);
    if (i == s) return false;
    const std::string_view coding = v.substr(s, i - s);
    bool params = false;
    for (;;) {
      size_t j = i;
      skip_ows(v, &j);
      if (j == v.size() || v[j] != ';') break;
      params = true;
      ++j;
      skip_ows(v, &j);
      const size_t ps = j;
      j = skip_token(v, j);
      if (j == ps) return false;
      skip_ows(v, &j);
      if (j == v.size() || v[j] != '=') return false;
      ++j;
      skip_ows(v, &j);
      if (j < v.size() && v[j] == '"') {
        if (!skip_quoted(v, &j)) return false;
      } else {
        const size_t vs = j;
        j = skip_token(v, j);
        if (j == vs) return false;
      }
      i = j;
    }
    if (name_is(coding, "chunked")) {
      if (params) return false;  // chunked takes no parameters (RFC 9112 7)
      if (f->chunked < 255) ++f->chunked;
      f->last_chunked = true;
    } else {
      f->other = true;
      f->last_chunked = false;
    }
    skip_ows(v, &i);
    if (i == v.size()) return true;
    if (v[i] != ',') return false;
    ++i;
    skip_ows(v, &i);
    if (i == v.size()) return false;
  }
}

// Calls fn(element) for each non-empty comma-separated member, OWS-trimmed.
template <typename Fn>
void for_each_member(std::string_view v, Fn fn) {
  size_t i = 0;
  while (i <= v.size()) {
    size_t j = v.find(',', i);
    if (j == std::string_view::npos) j = v.size();
    size_t a = i, b = j;
    while (a < b && is_ows(v[a])) ++a;
    while (b > a && is_ows(v[b - 1])) --b;
    if (b > a) fn(v.substr(a, b - a));
    i = j + 1;
  }
}

const std::string_view kSlash = "/";
const std::string_view kStar = "*";

// The Connection options squall acts on (RFC 9110 7.6.1).
void note_connection_option(std::string_view c, RequestHead* out) {
  static constexpr std::pair<std::string_view, bool RequestHead::*> kOptions[] = {
      {"close", &RequestHead::connection_close},
      {"keep-alive", &RequestHead::connection_keep_alive},
      {"upgrade", &RequestHead::connection_upgrade}};
  for (const auto& [token, flag] : kOptions)
    if (iequals(c, token)) out->*flag = true;
}

// Request-target forms (RFC 9112 3.2).  Sets path/query/scheme/authority.
bool classify_target(RequestHead* h) {
  const std::string_view t = h->target;
  const bool connect = h->method == "CONNECT";
  if (connect) {
    // authority-form only, and only for CONNECT (RFC 9112 3.2.3): a port is
    // required (RFC 9110 9.3.6).
    if (!valid_host(t, true)) return false;
    h->form = TargetForm::kAuthority;
    h->authority = t;
    return true;
  }
  if (t[0] == '/') {
    h->form = TargetForm::kOrigin;
    const size_t q = t.find('?');
    if (q == std::string_view::npos) {
      h->path = t;
    } else {
      h->path = t.substr(0, q);
      h->query = t.substr(q + 1);
    }
    return true;
  }
  if (t.size() == 1 && t[0] == '*') {
    // asterisk-form only for OPTIONS (RFC 9112 3.2.4).
    if (h->method != "OPTIONS") return false;
    h->form = TargetForm::kAsterisk;
    h->path = kStar;
    return true;
  }
  // absolute-form (RFC 9112 3.2.2): "http" / "https" "://" authority
  // path-abempty [ "?" query ].
  size_t s;
  if (t.size() > 7 && name_is(t.substr(0, 7), "http://")) {
    s = 4;
  } else if (t.size() > 8 && name_is(t.substr(0, 8), "https://")) {
    s = 5;
  } else {
    return false;
  }
  h->form = TargetForm::kAbsolute;
  h->scheme = t.substr(0, s);
  size_t a = s + 3;
  size_t e = a;
  while (e < t.size() && t[e] != '/' && t[e] != '?') ++e;
  h->authority = t.substr(a, e - a);
  // An empty host is invalid for http(s) URIs (RFC 9110 4.2.1).
  if (!valid_host(h->authority, false)) return false;
  const size_t q = t.find('?', e);
  const size_t pe = q == std::string_view::npos ? t.size() : q;
  h->path = pe > e ? t.substr(e, pe - e) : kSlash;
  if (q != std::string_view::npos) h->query = t.substr(q + 1);
  return true;
}

}  // namespace

bool is_tchar(unsigned char c) { return kClass[c] & kTchar; }

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!has(c, kTchar)) return false;
  return true;
}

bool is_valid_field_value(std::string_view s) {
  // 8 bytes a step: a word with no byte below 0x20 (CTL; HTAB is allowed,
  // checked one by one below) and no DEL is valid (bytes >= 0x80 are
  // obs-text).  The rest, and any doubtful word, byte by byte.
  constexpr uint64_t kOnes = 0x0101010101010101ull, kHigh = 0x8080808080808080ull;
  const char* p = s.data();
  const char* const end = p + s.size();
  for (; end - p >= 8; p += 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    const uint64_t below_space = (w - kOnes * 0x20) & ~w & kHigh;
    const uint64_t d = w ^ (kOnes * 0x7f);
    const uint64_t del = (d - kOnes) & ~d & kHigh;
    if (below_space | del) break;
  }
  for (; p < end; ++p)
    if (!has(*p, kValue)) return false;
  return true;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

void RequestHead::clear() {
  // One by one: a chained assignment reads the views back through memory.
  method = {};
  target = {};
  path = {};
  query = {};
  scheme = {};
  authority = {};
  host = {};
  form = TargetForm::kOrigin;
  version = 11;
  headers.clear();  // keeps capacity for the next request
  has_host = chunked = has_content_length = false;
  content_length = 0;
  connection_close = connection_keep_alive = connection_upgrade = false;
  expect_continue = false;
  head_size = 0;
}

void RequestHead::rebase(const char* old_base, size_t len, const char* new_base) {
  // Views outside [old_base, old_base + len) -- static strings such as the
  // "/" of an empty absolute path -- stay where they are.
  auto move = [&](std::string_view* v) {
    if (v->data() && v->data() >= old_base && v->data() + v->size() <= old_base + len)
      *v = std::string_view(new_base + (v->data() - old_base), v->size());
  };
  for (auto* v : {&method, &target, &path, &query, &scheme, &authority, &host}) move(v);
  for (auto& h : headers) {
    move(&h.name);
    move(&h.value);
  }
}

bool RequestHead::get(std::string_view name, std::string_view* value) const {
  for (const HeaderField& f : headers) {
    if (iequals(f.name, name)) {
      if (value) *value = f.value;
      return true;
    }
  }
  if (value) *value = {};
  return false;
}

long parse_request_head(const char* buf, size_t len, const ParseLimits& limits, RequestHead* out,
                        ParseError* err) {
  HeadParser p;
  return p.parse(buf, len, limits, out, err);
}

void HeadParser::reset() { *this = HeadParser(); }

namespace {
// A byte no head may hold anywhere (CTLs but HTAB, CR, LF; DEL): seeing
// one in a partial line is reason enough to parse it now and reject early.
inline bool never_in_head(unsigned char c) {
  return (c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f;
}
}  // namespace

long HeadParser::parse(const char* buf, size_t len, const ParseLimits& limits, RequestHead* out,
                       ParseError* err) {
  // Resuming: nothing new to parse unless a line was completed (a LF
  // arrived), a byte arrived that no head may hold, or a limit may be hit.
  if (waiting_ && len >= scanned_) {
    const char* from = buf + scanned_;
    const char* end = buf + len;
    bool go = memchr(from, '\n', size_t(end - from)) != nullptr || len > limits.max_header_size ||
              (!in_fields_ && len - line_ > limits.max_uri_size);
    for (const char* q = from; !go && q < end; ++q)
      go = never_in_head(static_cast<unsigned char>(*q));
    work_ += size_t(end - from);
    if (!go) {
      scanned_ = uint32_t(len);
      return 0;
    }
  }
  work_ += len - (in_fields_ ? line_ : 0);
  long r = parse_from(buf, len, limits, out, err);
  waiting_ = r == 0;
  scanned_ = uint32_t(len);
  if (r != 0) in_fields_ = false;  // complete or failed: the next head starts afresh
  return r;
}

long HeadParser::parse_from(const char* buf, size_t len, const ParseLimits& limits,
                            RequestHead* out, ParseError* err) {
  // Nothing past max_header_size can belong to an acceptable head, so scan
  // no further: running out of bytes there means 431.
  const bool truncated = len > limits.max_header_size;
  const char* const end = buf + (truncated ? limits.max_header_size : len);
  const char* p = buf;
  // Where the current field line starts, the fields so far and what they
  // said of the framing: kept in members only when the head is incomplete.
  const char* line = buf;
  size_t count = 0;
  Framing f;
  bool in_fields = in_fields_;
  auto need_more = [&]() -> long {
    base_ = buf;
    if (in_fields) {
      in_fields_ = true;
      line_ = uint32_t(line - buf);
      count_ = uint32_t(count);
      f_ = f;
    }
    return truncated ? fail(err, 431, "request head too large", true) : 0;
  };

  if (in_fields) {
    // The request line and the first count_ fields were parsed from these
    // bytes at base_; the buffer may have moved since.
    if (buf != base_) out->rebase(base_, line_, buf);
    p = line = buf + line_;
    count = count_;
    f = f_;
    goto fields;
  }
  out->clear();
  if (out->headers.capacity() < 8) out->headers.reserve(8);
  {
    // RFC 9112 2.2: ignore at least one empty line (CRLF) before the
    // request-line.
    while (p < end && (*p == '\r' || *p == '\n')) {
      if (*p == '\n') return fail(err, 400, "bare LF");
      if (p + 1 == end) return need_more();
      if (p[1] != '\n') return fail(err, 400, "bare CR");
      p += 2;
    }

    // request-line = method SP request-target SP HTTP-version (RFC 9112 3).
    const char* m = p;
    while (p < end && has(*p, kTchar)) ++p;
    if (p == end) return need_more();
    if (p == m || *p != ' ') return fail(err, 400, "bad method");
    out->method = std::string_view(m, p - m);
    const char* t = ++p;
    p = scan_target(p, end);
    const size_t tlen = p - t;
    if (tlen > limits.max_uri_size) return fail(err, 414, "request target too long", true);
    if (p == end) return need_more();
    if (tlen == 0 || *p != ' ') return fail(err, 400, "bad request target");
    out->target = std::string_view(t, tlen);
    ++p;

    // HTTP-version = "HTTP" "/" DIGIT "." DIGIT, case-sensitive (RFC 9112 2.3).
    if (end - p >= 10 && std::memcmp(p, "HTTP/1.1\r\n", 10) == 0) {
      p += 10;
    } else {
      static constexpr char kProto[] = "HTTP/";
      for (int i = 0; i < 5; ++i, ++p) {
        if (p == end) return need_more();
        if (*p != kProto[i]) return fail(err, 400, "bad HTTP version");
      }
      int major = 0, minor = 0;
      for (int i = 0; i < 3; ++i, ++p) {
        if (p == end) return need_more();
        if (i == 1 ? *p != '.' : !is_digit(*p)) return fail(err, 400, "bad HTTP version");
        if (i == 0) major = *p - '0';
        if (i == 2) minor = *p - '0';
      }
      if (p == end) return need_more();
      if (*p == '\n') return fail(err, 400, "bare LF");
      if (*p != '\r') return fail(err, 400, "bad HTTP version");
      if (++p == end) return need_more();
      if (*p != '\n') return fail(err, 400, "bare CR");
      ++p;
      // RFC 9110 6.2: a higher minor version of 1 is taken as 1.1.
      if (major != 1) return fail(err, 505, "HTTP version not supported");
      out->version = minor == 0 ? 10 : 11;
    }
    if (!classify_target(out)) return fail(err, 400, "bad request target");
  }

  // field-line = field-name ":" OWS field-value OWS (RFC 9112 5).
  in_fields = true;
fields:
  for (;;) {
    line = p;  // a need_more from here on resumes at this line
    if (p == end) return need_more();
    if (*p == '\r') {
      if (++p == end) return need_more();
      if (*p != '\n') return fail(err, 400, "bare CR");
      ++p;
      break;
    }
    if (*p == '\n') return fail(err, 400, "bare LF");
    const char* n = p;
    while (p < end && has(*p, kTchar)) ++p;
    if (p == end) return need_more();
    if (*p != ':' || p == n) {
      // RFC 9112 5.1: no whitespace between name and colon (400);
      // RFC 9112 5.2: obs-fold is rejected in requests.
      if (p == n && is_ows(*p)) return fail(err, 400, "obs-fold");
      return fail(err, 400, "bad field name");
    }
    const std::string_view name(n, p - n);
    ++p;
    while (p < end && is_ows(*p)) ++p;
    const char* v = p;
    p = scan_value(p, end);
    if (p == end) return need_more();
    const char* ve = p;
    if (*p != '\r') return fail(err, 400, *p == '\n' ? "bare LF" : "bad byte in field value");
    if (++p == end) return need_more();
    if (*p != '\n') return fail(err, 400, "bare CR");
    ++p;
    while (ve > v && is_ows(ve[-1])) --ve;
    const std::string_view value(v, ve - v);
    if (++count > limits.max_header_count) return fail(err, 431, "too many header fields", true);
    out->headers.push_back(HeaderField{name, value});

    switch (name.size()) {
      case 4:
        if (name_is(name, "host")) {
          // RFC 9112 3.2: exactly one Host, and a valid one.
          if (++f.hosts > 1) return fail(err, 400, "duplicate Host");
          if (!value.empty() && !valid_host_field(value)) return fail(err, 400, "bad Host");
          out->host = value;
          out->has_host = true;
        }
        break;
      case 6:
        if (name_is(name, "expect")) {
          // RFC 9110 10.1.1: only 100-continue is defined; others -> 417.
          for_each_member(value, [&](std::string_view e) {
            (iequals(e, "100-continue") ? out->expect_continue : f.expect_bad) = true;
          });
        }
        break;
      case 10:
        if (name_is(name, "connection")) {
          for_each_member(value, [&](std::string_view c) { note_connection_option(c, out); });
        }
        break;
      case 14:
        if (name_is(name, "content-length")) {
          // RFC 9112 6.3 (5) lets a recipient collapse identical repeats;
          // squall, like nginx and llhttp, refuses any second length.
          if (out->has_content_length) return fail(err, 400, "duplicate Content-Length");
          uint64_t cl;
          if (!parse_content_length(value, &cl)) return fail(err, 400, "bad Content-Length");
          out->has_content_length = true;
          out->content_length = cl;
        }
        break;
      case 17:
        if (name_is(name, "transfer-encoding") && !parse_transfer_encoding(value, &f))
          return fail(err, 400, "bad Transfer-Encoding");
        break;
      default: break;
    }
  }

  if (f.te) {
    // RFC 9112 6.1: TE in HTTP/1.0 means a faulty intermediary; TE with CL
    // is a smuggling attempt; RFC 9112 6.3 (4): chunked must be final.
    if (out->version == 10) return fail(err, 400, "Transfer-Encoding in HTTP/1.0");
    if (out->has_content_length) return fail(err, 400, "Transfer-Encoding with Content-Length");
    if (f.chunked > 1) return fail(err, 400, "chunked applied twice");
    if (!f.last_chunked) return fail(err, 400, "chunked is not the final coding");
  }
  if (out->version == 11 && !out->has_host) return fail(err, 400, "missing Host");
  if (f.te) {
    if (f.other) return fail(err, 501, "unsupported transfer coding");
    out->chunked = true;
  }
  if (f.expect_bad) return fail(err, 417, "unsupported expectation");
  // RFC 9110 10.1.1: a 100-continue in an HTTP/1.0 request is ignored.
  if (out->version == 10) out->expect_continue = false;

  out->head_size = static_cast<size_t>(p - buf);
  return static_cast<long>(out->head_size);
}

// ---------------------------------------------------------------------------
// ChunkedDecoder: RFC 9112 7.1.  A byte-driven state machine for the size,
// extension and trailer lines; chunk data goes to the sink in whole spans.

namespace {

enum ChunkState {
  kSize = 0,      // first hex digit of a chunk-size
  kSizeDigits,    // more hex digits
  kSizeBws,       // BWS after the size: only ';' may follow
  kExtName0,      // after ';': BWS then ext-name
  kExtName,       // in ext-name
  kExtNameBws,    // BWS after ext-name: '=' or ';' must follow
  kExtVal0,       // after '=': BWS then token / quoted-string
  kExtToken,      // in token ext-val
  kExtValBws,     // BWS after a value: ';' must follow
  kExtQuoted,     // in quoted-string
  kExtQuotedEsc,  // after '\' in quoted-string
  kExtQuotedEnd,  // after the closing '"'
  kSizeLf,        // CR seen at the end of the size line
  kData,          // chunk-data
  kDataCr,        // CRLF after chunk-data
  kDataLf,
  kTrailer0,  // start of a trailer line (or the final blank line)
  kTrailerName,
  kTrailerValue,
  kTrailerLf,
  kFinalLf,
  kChunkDone,
  kChunkError,
};

constexpr size_t kMaxSizeLine = 4096;
constexpr size_t kMaxTrailer = 64 * 1024;
constexpr uint64_t kMaxChunk = 0x7fffffffffffffffull;

// chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
// (RFC 9112 7.1.1), as a table: the next state for each class of byte in
// each state of the size line after the digits (kChunkError: refused,
// kStay: no change).  Whitespace is allowed only where BWS is; a bare LF
// is not accepted after an extension: proxies that read chunk-ext up to
// CRLF would take it as extension bytes and frame the body differently
// ("funky chunks").
enum ExtClass { kXTchar, kXOws, kXEq, kXSemi, kXQuote, kXCr, kXOther, kXCount };
constexpr uint8_t kStay = 0xff;
constexpr uint8_t E = kChunkError;
constexpr uint8_t kExtNext[kExtQuotedEnd - kSizeBws + 1][kXCount] = {
    //            tchar      OWS          '='       ';'        '"'         CR       other
    /* SizeBws */ {E, kStay, E, kExtName0, E, E, E},
    /* Name0   */ {kExtName, kStay, E, E, E, E, E},
    /* Name    */ {kStay, kExtNameBws, kExtVal0, kExtName0, E, kSizeLf, E},
    /* NameBws */ {E, kStay, kExtVal0, kExtName0, E, E, E},
    /* Val0    */ {kExtToken, kStay, E, E, kExtQuoted, E, E},
    /* Token   */ {kStay, kExtValBws, E, kExtName0, E, kSizeLf, E},
    /* ValBws  */ {E, kStay, E, kExtName0, E, E, E},
    /* Quoted  */ {E, E, E, E, E, E, E},
    /* QEsc    */ {E, E, E, E, E, E, E},
    /* QEnd    */ {E, kExtValBws, E, kExtName0, E, kSizeLf, E},
};

// The other line states: byte a leads to to_a, b to to_b, a byte of class
// keep to to_keep (kStay: no change); anything else is refused with why.
struct LineStep {
  char a;
  uint8_t to_a;
  char b;
  uint8_t to_b;
  uint8_t keep, to_keep;
  const char* why;
};
constexpr LineStep kNoStep{0, E, 0, E, 0, E, nullptr};
constexpr auto make_line_steps() {
  std::array<LineStep, kChunkError + 1> t{};
  for (auto& s : t) s = kNoStep;
  const char* const ext = "bad chunk extension";
  const char* const trailer = "bad trailer field";
  t[kExtQuoted] = {'"', kExtQuotedEnd, '\\', kExtQuotedEsc, kQdtext, kStay, ext};
  t[kExtQuotedEsc] = {0, E, 0, E, kValue, kExtQuoted, ext};
  // chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF; a bare LF is
  // no line end here or anywhere in the body's framing.
  t[kDataCr] = {'\r', kDataLf, '\r', kDataLf, 0, E, "missing CRLF after chunk data"};
  t[kDataLf] = {'\n', kSize, '\n', kSize, 0, E, "bare CR after chunk data"};
  // trailer-section = *( field-line CRLF ) CRLF; obs-fold, CTLs and empty
  // names are refused.
  t[kTrailer0] = {'\r', kFinalLf, '\r', kFinalLf, kTchar, kTrailerName, trailer};
  t[kTrailerName] = {':', kTrailerValue, ':', kTrailerValue, kTchar, kStay, trailer};
  t[kTrailerValue] = {'\r', kTrailerLf, '\r', kTrailerLf, kValue, kStay, trailer};
  t[kTrailerLf] = {'\n', kTrailer0, '\n', kTrailer0, 0, E, "bare CR in trailer"};
  t[kFinalLf] = {'\n', kChunkDone, '\n', kChunkDone, 0, E, "bare CR in trailer"};
  return t;
}
constexpr auto kLineSteps = make_line_steps();

inline int ext_class(char c) {
  if (has(c, kTchar)) return kXTchar;
  switch (c) {
    case ' ':
    case '\t': return kXOws;
    case '=': return kXEq;
    case ';': return kXSemi;
    case '"': return kXQuote;
    case '\r': return kXCr;
    default: return kXOther;
  }
}

}  // namespace

uint64_t ChunkedDecoder::remaining() const { return state_ == kData ? remaining_ : 0; }

void ChunkedDecoder::reset() {
  state_ = kSize;
  remaining_ = 0;
  total_ = 0;
  digits_ = 0;
  line_len_ = 0;
  trailer_bytes_ = 0;
}

ChunkedDecoder::Result ChunkedDecoder::feed(const char* data, size_t len, size_t* consumed,
                                            Sink sink, void* ctx, ParseError* err) {
  size_t i = 0;
  auto error = [&](const char* why) {
    state_ = kChunkError;
    *consumed = i;
    fail(err, 400, why);
    return kError;
  };
  if (state_ == kChunkDone) {
    *consumed = 0;
    return kDone;
  }
  if (state_ == kChunkError) {
    *consumed = 0;
    fail(err, 400, "chunked decoder failed earlier");
    return kError;
  }
  // End of the size line: data follows, or the trailer after last-chunk.
  auto size_line_done = [&]() {
    line_len_ = 0;
    state_ = remaining_ ? kData : kTrailer0;
  };

  while (i < len) {
    const char c = data[i];
    if (state_ <= kSizeLf && ++line_len_ > kMaxSizeLine) return error("chunk size line too long");
    switch (state_) {
      case kSize:
        if (!has(c, kHex)) return error("bad chunk size");
        digits_ = 0;
        remaining_ = 0;
        [[fallthrough]];
      case kSizeDigits:
        if (has(c, kHex)) {
          // chunk-size = 1*HEXDIG, at most 16 digits and below 2^63.
          if (++digits_ > 16) return error("chunk size too large");
          const uint64_t d = is_digit(c) ? c - '0' : (lower(c) - 'a' + 10);
          remaining_ = remaining_ << 4 | d;
          if (remaining_ > kMaxChunk) return error("chunk size too large");
          state_ = kSizeDigits;
        } else if (is_ows(c)) {
          state_ = kSizeBws;
        } else if (c == ';') {
          state_ = kExtName0;
        } else if (c == '\r') {
          state_ = kSizeLf;
        } else {
          return error("bad chunk size");
        }
        break;
      case kSizeBws:
      case kExtName0:
      case kExtName:
      case kExtNameBws:
      case kExtVal0:
      case kExtToken:
      case kExtValBws:
      case kExtQuotedEnd: {
        const uint8_t next = kExtNext[state_ - kSizeBws][ext_class(c)];
        if (next == kChunkError)
          return error(state_ == kSizeBws ? "bad chunk size" : "bad chunk extension");
        if (next != kStay) state_ = next;
        break;
      }
      case kSizeLf:
        if (c != '\n') return error("bare CR in chunk size line");
        size_line_done();
        break;
      case kData: {
        size_t n = len - i;
        if (n > remaining_) n = static_cast<size_t>(remaining_);
        if (total_ + n < total_) return error("body too large");
        if (sink) sink(ctx, data + i, n);
        total_ += n;
        remaining_ -= n;
        i += n;
        if (remaining_ == 0) state_ = kDataCr;
        continue;
      }
      default: {
        // The simple line states, from kLineSteps.
        const LineStep& ls = kLineSteps[state_];
        uint8_t next = c == ls.a                    ? ls.to_a
                       : c == ls.b                  ? ls.to_b
                       : ls.keep && has(c, ls.keep) ? ls.to_keep
                                                    : uint8_t(kChunkError);
        if (next == kChunkError) return error(ls.why ? ls.why : "bad chunked state");
        if (next != kStay) state_ = next;
        break;
      }
    }
    if (state_ >= kTrailer0 && ++trailer_bytes_ > kMaxTrailer) return error("trailer too large");
    ++i;
    if (state_ == kChunkDone) {
      *consumed = i;
      return kDone;
    }
  }
  *consumed = i;
  return kNeedMore;
}

}  // namespace squall::http
