// The one place a response is framed (after hyper's proto/h1/encode.rs):
// Content-Length, chunked or close-delimited framing, the no-body rules
// (HEAD, 1xx, 204, 304), the Date / Server / Connection defaults, and the
// count of every byte of the response.  The encoder appends to a buffer the
// connection owns (pipelined responses share one), or hands back a large
// final body to be written by reference after it; either way the bytes are
// counted here, so the access hook's byte count is the wire's.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace squall::http {

class ResponseEncoder {
 public:
  enum class Framing : uint8_t {
    kNone,     // not started, or a response that has no body
    kLength,   // Content-Length (known whole body, or set by the application)
    kChunked,  // Transfer-Encoding: chunked (HTTP/1.1, streamed)
    kClose     // close-delimited (HTTP/1.0, streamed): the connection ends it
  };

  // What the application set for the response.
  struct Head {
    int status = 200;
    std::string_view reason;  // empty: the standard phrase
    std::string_view fields;  // "Name: value\r\n" lines
    bool has_date = false, has_server = false, has_connection = false;
    int64_t declared_length = -1;   // Content-Length among the fields
    std::string_view content_type;  // non-empty: a Content-Type after the fields
  };

  // What is known of the exchange.
  struct Exchange {
    int version = 11;                    // of the request: 10 or 11
    bool head_request = false;           // HEAD: framing as for GET, no body bytes
    bool keep_alive = true;              // the connection may stay open after this
    std::string_view date;               // the loop's cached HTTP date
    std::string_view server = "squall";  // default Server value; empty: none
  };

  // Bodies at least this large are written by reference (body_ref), not
  // copied into the connection's buffer.
  static constexpr size_t kCopyLimit = 16 * 1024;

  // Decide the framing and append the head.  final_len >= 0: the whole body
  // is final_len bytes (Content-Length); < 0: the body is streamed.
  void begin(std::string& out, const Head& h, const Exchange& x, int64_t final_len);
  // Append body bytes in the chosen framing (dropped when there is no body).
  void body(std::string& out, std::string_view data);
  // The whole, final body under Content-Length: returns what to write after
  // out, by reference (empty when the response has no body).
  std::string_view body_ref(std::string_view data);
  // End the body (the last chunk when chunked).  False when a declared
  // Content-Length was not met: the framing is broken, close the connection.
  bool end(std::string& out);

  // A response of the library's own (an error): status with an empty body,
  // then close; the same default Date and Server fields as any response.
  static uint64_t simple(std::string& out, int status, std::string_view date,
                         std::string_view server);
  // An interim 1xx response (100 Continue).
  static uint64_t interim(std::string& out, int status);
  static const char* reason_phrase(int status);

  bool started() const { return started_; }
  Framing framing() const { return framing_; }
  // The connection may be kept open after this response (keep_alive given
  // to begin, unless the framing is close-delimited).
  bool keep_alive() const { return keep_alive_; }
  bool sends_body() const { return body_allowed_; }
  uint64_t body_bytes() const { return body_bytes_; }  // framing excluded
  uint64_t wire_bytes() const { return wire_bytes_; }  // every byte of it
  void reset() { *this = ResponseEncoder(); }

 private:
  void append(std::string& out, std::string_view s) {
    out.append(s.data(), s.size());
    wire_bytes_ += s.size();
  }

  bool started_ = false;
  bool body_allowed_ = false;
  bool keep_alive_ = true;
  Framing framing_ = Framing::kNone;
  int64_t declared_ = -1;
  uint64_t body_bytes_ = 0;
  uint64_t wire_bytes_ = 0;
};

}  // namespace squall::http
