// Counterpart of the response half of tornado/http1connection.py
// (write_headers, write, finish), in one place.
#include "core/http/encoder.h"

namespace squall::http {

namespace {

const char* phrase(int code) {
  switch (code) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 102: return "Processing";
    case 103: return "Early Hints";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 203: return "Non-Authoritative Information";
    case 204: return "No Content";
    case 205: return "Reset Content";
    case 206: return "Partial Content";
    case 300: return "Multiple Choices";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 421: return "Misdirected Request";
    case 422: return "Unprocessable Content";
    case 426: return "Upgrade Required";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
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

const char* ResponseEncoder::reason_phrase(int status) { return phrase(status); }

void ResponseEncoder::begin(std::string& out, const Head& h, const Exchange& x, int64_t final_len) {
  started_ = true;
  const size_t before = out.size();
  const int st = h.status;
  // RFC 9110 6.4.1 / 15.3.5 / 15.4.5: 1xx, 204 and 304 carry no body and
  // no framing; a HEAD response is framed as the GET one would be, without
  // the body (RFC 9110 9.3.2).
  const bool no_body = st < 200 || st == 204 || st == 304;
  body_allowed_ = !no_body && !x.head_request;
  keep_alive_ = x.keep_alive;
  declared_ = h.declared_length;
  out.append("HTTP/1.1 ", 9);
  append_uint(out, uint64_t(st));
  out += ' ';
  if (!h.reason.empty())
    out.append(h.reason.data(), h.reason.size());
  else
    out.append(phrase(st));
  out.append("\r\n", 2);
  out.append(h.fields.data(), h.fields.size());
  if (!h.has_date) {
    out.append("Date: ", 6);
    out.append(x.date.data(), x.date.size());
    out.append("\r\n", 2);
  }
  if (!h.has_server && !x.server.empty()) {
    out.append("Server: ", 8);
    out.append(x.server.data(), x.server.size());
    out.append("\r\n", 2);
  }
  if (no_body) {
    framing_ = Framing::kNone;
  } else if (declared_ >= 0) {
    framing_ = Framing::kLength;  // the application's Content-Length
  } else if (final_len >= 0) {
    framing_ = Framing::kLength;
    out.append("Content-Length: ", 16);
    append_uint(out, uint64_t(final_len));
    out.append("\r\n", 2);
  } else if (x.version == 11) {
    framing_ = Framing::kChunked;
    out.append("Transfer-Encoding: chunked\r\n");
  } else {
    framing_ = Framing::kClose;  // HTTP/1.0 without a length: EOF ends it
    keep_alive_ = false;
  }
  if (!h.has_connection) {
    if (!keep_alive_ && x.version == 11)
      out.append("Connection: close\r\n");
    else if (keep_alive_ && x.version == 10)
      out.append("Connection: keep-alive\r\n");
  }
  out.append("\r\n", 2);
  wire_bytes_ += out.size() - before;
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
  out.append(phrase(status));
  out.append("\r\n\r\n", 4);
  return out.size() - before;
}

}  // namespace squall::http
