// Counterpart of tornado/httputil.py: parse_qs_bytes, parse_body_arguments,
// parse_multipart_form_data, url_unescape, and the cookie parser of
// HTTPServerRequest.cookies; plus gzip decoding for decompress_request
// (tornado's _GzipMessageDelegate).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace squall::http {

using Pair = std::pair<std::string, std::string>;

struct UploadedFile {
  std::string field;  // form field name
  std::string filename;
  std::string content_type;  // "application/unknown" if absent (Tornado)
  std::string body;
};

// Percent-decoding; plus_is_space for query strings and form bodies.
// Invalid escapes are kept literally (Tornado/urllib behaviour).
std::string url_unescape(std::string_view s, bool plus_is_space);

// "a=1&b=2&a=3" -> pairs in order; blank values kept; fields without '='
// are kept with an empty value.
void parse_query(std::string_view qs, std::vector<Pair>* out);

// Dispatch on Content-Type: application/x-www-form-urlencoded or
// multipart/form-data; boundary=...  Malformed bodies leave what was
// parsed so far and return false (the caller logs; Tornado logs a warning).
bool parse_body_arguments(std::string_view content_type, std::string_view body,
                          std::vector<Pair>* args, std::vector<UploadedFile>* files);

// "a=1; b=2" (several headers may be fed in turn) -> pairs; quoted values
// unquoted; malformed pairs skipped.
void parse_cookies(std::string_view header_value, std::vector<Pair>* out);

// Streaming gzip decoder with an output limit (zip-bomb guard).
class GzipDecoder {
 public:
  GzipDecoder();
  ~GzipDecoder();  // not copyable: impl_ is a unique_ptr
  // Append decompressed bytes of data to *out.  Returns 0, -1 on corrupt
  // input, -2 if *out would grow past max_output.
  int feed(const char* data, size_t len, std::string* out, size_t max_output);
  // True once the gzip trailer was seen.
  bool done() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace squall::http
