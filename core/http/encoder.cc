// Counterpart of the response half of tornado/http1connection.py
// (write_headers, write, finish), in one place.
#include "core/http/encoder.h"

#include <string.h>

#include "core/http/parser.h"

namespace squall::http {

namespace {

// string_view literals: the length is known (no strlen per response).
std::string_view phrase(int code) {
  using namespace std::string_view_literals;
  switch (code) {
    case 100: return "Continue"sv;
    case 101: return "Switching Protocols"sv;
    case 102: return "Processing"sv;
    case 103: return "Early Hints"sv;
    case 200: return "OK"sv;
    case 201: return "Created"sv;
    case 202: return "Accepted"sv;
    case 203: return "Non-Authoritative Information"sv;
    case 204: return "No Content"sv;
    case 205: return "Reset Content"sv;
    case 206: return "Partial Content"sv;
    case 300: return "Multiple Choices"sv;
    case 301: return "Moved Permanently"sv;
    case 302: return "Found"sv;
    case 303: return "See Other"sv;
    case 304: return "Not Modified"sv;
    case 307: return "Temporary Redirect"sv;
    case 308: return "Permanent Redirect"sv;
    case 400: return "Bad Request"sv;
    case 401: return "Unauthorized"sv;
    case 403: return "Forbidden"sv;
    case 404: return "Not Found"sv;
    case 405: return "Method Not Allowed"sv;
    case 406: return "Not Acceptable"sv;
    case 408: return "Request Timeout"sv;
    case 409: return "Conflict"sv;
    case 410: return "Gone"sv;
    case 411: return "Length Required"sv;
    case 412: return "Precondition Failed"sv;
    case 413: return "Content Too Large"sv;
    case 414: return "URI Too Long"sv;
    case 415: return "Unsupported Media Type"sv;
    case 416: return "Range Not Satisfiable"sv;
    case 417: return "Expectation Failed"sv;
    case 421: return "Misdirected Request"sv;
    case 422: return "Unprocessable Content"sv;
    case 426: return "Upgrade Required"sv;
    case 428: return "Precondition Required"sv;
    case 429: return "Too Many Requests"sv;
    case 431: return "Request Header Fields Too Large"sv;
    case 500: return "Internal Server Error"sv;
    case 501: return "Not Implemented"sv;
    case 502: return "Bad Gateway"sv;
    case 503: return "Service Unavailable"sv;
    case 504: return "Gateway Timeout"sv;
    case 505: return "HTTP Version Not Supported"sv;
    default: return "Unknown"sv;
  }
}

void append_uint(std::string& o, uint64_t v) {
  char buf[24];
  char* p = buf + sizeof buf;
  do {
    *--p = char('0' + v % 10);
    v /= 10;
  } while (v);
  o.append(p, size_t(buf + sizeof buf - p));
}

void append_hex(std::string& o, uint64_t v) {
  static const char digits[] = "0123456789abcdef";
  char buf[20];
  char* p = buf + sizeof buf;
  do {
    *--p = digits[v & 15];
    v >>= 4;
  } while (v);
  o.append(p, size_t(buf + sizeof buf - p));
}

}  // namespace

const char* ResponseEncoder::reason_phrase(int status) { return phrase(status).data(); }

namespace {
// Decimal digits of v, right-aligned in buf[24]; returns the first.
char* format_uint(char* end, uint64_t v) {
  char* p = end;
  do {
    *--p = char('0' + v % 10);
    v /= 10;
  } while (v);
  return p;
}

char* put(char* p, std::string_view s) {
  if (!s.empty()) memcpy(p, s.data(), s.size());  // an empty view may have no data
  return p + s.size();
}

// The last head written on this thread without fields of the application's
// own (the common case: status, Content-Type, a length).  The next response
// of the same status, type and length within the same second (Date) is the
// same bytes: they are copied whole, as the floor server sends a canned
// response.
// Plain arrays: a thread_local without a constructor, one TLS lookup.
struct LastHead {
  template <size_t N>
  struct Text {
    char s[N];
    size_t n;
    bool is(std::string_view v) const { return n == v.size() && equal_bytes(s, v.data(), n); }
    bool set(std::string_view v) {
      if (v.size() > N) return false;
      if (!v.empty()) memcpy(s, v.data(), v.size());
      n = v.size();
      return true;
    }
  };
  Text<256> bytes;
  Text<64> content_type;
  Text<40> date;
  Text<64> server;
  int status;
  uint64_t length;
  int shape;  // framing and Connection field, 0: nothing cached
};
thread_local LastHead last_head;

}  // namespace

void ResponseEncoder::begin(std::string& out, const Head& h, const Exchange& x, int64_t final_len) {
  started_ = true;
  const int st = h.status;
  // RFC 9110 6.4.1 / 15.3.5 / 15.4.5: 1xx, 204 and 304 carry no body and
  // no framing; a HEAD response is framed as the GET one would be, without
  // the body (RFC 9110 9.3.2).
  const bool no_body = st < 200 || st == 204 || st == 304;
  body_allowed_ = !no_body && !x.head_request;
  keep_alive_ = x.keep_alive;
  declared_ = h.declared_length;
  std::string_view length_field;  // "Content-Length: " or the chunked line
  uint64_t length = 0;
  if (no_body) {
    framing_ = Framing::kNone;
  } else if (declared_ >= 0) {
    framing_ = Framing::kLength;  // the application's Content-Length
  } else if (final_len >= 0) {
    framing_ = Framing::kLength;
    length_field = "Content-Length: ";
    length = uint64_t(final_len);
  } else if (x.version == 11) {
    framing_ = Framing::kChunked;
    length_field = "Transfer-Encoding: chunked";
  } else {
    framing_ = Framing::kClose;  // HTTP/1.0 without a length: EOF ends it
    keep_alive_ = false;
  }
  std::string_view connection;
  if (!h.has_connection) {
    if (!keep_alive_ && x.version == 11)
      connection = "Connection: close\r\n";
    else if (keep_alive_ && x.version == 10)
      connection = "Connection: keep-alive\r\n";
  }
  const bool date = !h.has_date, server = !h.has_server && !x.server.empty();
  const bool cacheable = h.reason.empty() && h.fields.empty();
  const int shape = 1 + int(framing_) * 64 + (connection.empty() ? 0 : connection.size() & 15) * 4 +
                    (date ? 2 : 0) + (server ? 1 : 0);
  LastHead* lp = &last_head;
  asm("" : "+r"(lp));  // one TLS lookup: GCC would repeat it after each call
  LastHead& last = *lp;
  if (cacheable && last.shape == shape && last.status == st && last.length == length &&
      last.content_type.is(h.content_type) && (!date || last.date.is(x.date)) &&
      (!server || last.server.is(x.server))) {
    if (framing_ == Framing::kLength && length < kCopyLimit && body_allowed_)
      out.reserve(out.size() + last.bytes.n + length);  // and the body: one growth
    out.append(last.bytes.s, last.bytes.n);
    wire_bytes_ += last.bytes.n;
    return;
  }
  // The head is sized first and written in place: one growth of out, no
  // append per piece.
  char sbuf[24], lbuf[24];
  char* const send = sbuf + sizeof sbuf;
  char* const lend = lbuf + sizeof lbuf;
  char* const sb = format_uint(send, uint64_t(st));
  const std::string_view status(sb, size_t(send - sb));
  std::string_view len_digits;
  if (!length_field.empty() && framing_ == Framing::kLength) {
    char* b = format_uint(lend, length);
    len_digits = std::string_view(b, size_t(lend - b));
  }
  const std::string_view reason = h.reason.empty() ? phrase(st) : h.reason;
  const size_t n = 9 + status.size() + 1 + reason.size() + 2 + h.fields.size() +
                   (h.content_type.empty() ? 0 : 14 + h.content_type.size() + 2) +
                   (date ? 6 + x.date.size() + 2 : 0) + (server ? 8 + x.server.size() + 2 : 0) +
                   (length_field.empty() ? 0 : length_field.size() + len_digits.size() + 2) +
                   connection.size() + 2;
  const size_t before = out.size();
  // Room for a small whole body too: one growth of out, not two.
  if (framing_ == Framing::kLength && length < kCopyLimit && body_allowed_)
    out.reserve(before + n + length);
  out.resize(before + n);
  char* p = out.data() + before;
  p = put(p, "HTTP/1.1 ");
  p = put(p, status);
  *p++ = ' ';
  p = put(p, reason);
  p = put(p, "\r\n");
  p = put(p, h.fields);
  if (!h.content_type.empty()) {
    p = put(p, "Content-Type: ");
    p = put(p, h.content_type);
    p = put(p, "\r\n");
  }
  if (date) {
    p = put(p, "Date: ");
    p = put(p, x.date);
    p = put(p, "\r\n");
  }
  if (server) {
    p = put(p, "Server: ");
    p = put(p, x.server);
    p = put(p, "\r\n");
  }
  if (!length_field.empty()) {
    p = put(p, length_field);
    p = put(p, len_digits);
    p = put(p, "\r\n");
  }
  p = put(p, connection);
  p = put(p, "\r\n");
  wire_bytes_ += n;
  last.shape = 0;
  if (cacheable && last.bytes.set(std::string_view(out.data() + before, n)) &&
      last.content_type.set(h.content_type) && last.date.set(date ? x.date : "") &&
      last.server.set(server ? x.server : "")) {
    last.status = st;
    last.length = length;
    last.shape = shape;
  }
}

void ResponseEncoder::body(std::string& out, std::string_view data) {
  if (!body_allowed_ || data.empty()) return;
  body_bytes_ += data.size();
  if (framing_ == Framing::kChunked) {
    const size_t before = out.size();
    append_hex(out, data.size());
    out.append("\r\n", 2);
    out.append(data.data(), data.size());
    out.append("\r\n", 2);
    wire_bytes_ += out.size() - before;
  } else {
    append(out, data);
  }
}

std::string_view ResponseEncoder::body_ref(std::string_view data) {
  if (!body_allowed_ || data.empty()) return {};
  body_bytes_ += data.size();
  wire_bytes_ += data.size();
  return data;
}

bool ResponseEncoder::end(std::string& out) {
  if (!body_allowed_) return true;
  if (framing_ == Framing::kChunked) append(out, std::string_view("0\r\n\r\n", 5));
  return declared_ < 0 || body_bytes_ == uint64_t(declared_);
}

uint64_t ResponseEncoder::simple(std::string& out, int status, std::string_view date,
                                 std::string_view server) {
  ResponseEncoder e;
  Head h;
  h.status = status;
  Exchange x;
  x.keep_alive = false;
  x.date = date;
  x.server = server;
  e.begin(out, h, x, 0);
  e.end(out);
  return e.wire_bytes();
}

uint64_t ResponseEncoder::interim(std::string& out, int status) {
  const size_t before = out.size();
  out.append("HTTP/1.1 ", 9);
  append_uint(out, uint64_t(status));
  out += ' ';
  const std::string_view r = phrase(status);
  out.append(r.data(), r.size());
  out.append("\r\n\r\n", 4);
  return out.size() - before;
}

}  // namespace squall::http
