// libFuzzer harness for core/http/body (tornado/httputil.py's
// parse_body_arguments, parse_multipart_form_data, parse_qs_bytes,
// parse_cookie, url_unescape, and the gzip decoder).  The first byte picks
// the parser.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/http/body.h"

using namespace squall::http;

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t which = data[0];
  std::vector<char> buf(data + 1, data + size);
  const std::string_view in(buf.data(), buf.size());
  std::vector<Pair> args;
  std::vector<UploadedFile> files;
  switch (which % 6) {
    case 0: {
      const std::string a = url_unescape(in, true);
      const std::string b = url_unescape(in, false);
      check(a.size() <= in.size() && a.size() == b.size());
      break;
    }
    case 1:
      parse_query(in, &args);
      for (const Pair& p : args) check(p.first.size() + p.second.size() <= in.size());
      break;
    case 2:
      parse_cookies(in, &args);
      for (const Pair& p : args) check(!p.first.empty());
      break;
    case 3: {
      // "boundary\n" then the body, parsed as multipart/form-data.
      const size_t nl = in.find('\n');
      if (nl == std::string_view::npos) break;
      std::string ct = "multipart/form-data; boundary=";
      ct.append(in.substr(0, nl));
      const std::string_view body = in.substr(nl + 1);
      parse_body_arguments(ct, body, &args, &files);
      for (const UploadedFile& f : files) {
        check(!f.filename.empty() && !f.field.empty());
        check(f.body.empty() || body.find(f.body) != std::string_view::npos);
      }
      for (const Pair& p : args)
        check(p.second.empty() || body.find(p.second) != std::string_view::npos);
      break;
    }
    case 4: {
      GzipDecoder d;
      std::string out;
      const size_t limit = (which >> 3) * 4096;
      // Feed in two halves: streaming must behave like one call.
      const size_t half = in.size() / 2;
      int r = d.feed(in.data(), half, &out, limit);
      if (r == 0) r = d.feed(in.data() + half, in.size() - half, &out, limit);
      check(r == 0 || r == -1 || r == -2);
      check(out.size() <= limit);
      break;
    }
    case 5:
      parse_body_arguments((which & 8) ? "application/x-www-form-urlencoded" : "text/plain", in,
                           &args, &files);
      check(files.empty());
      break;
  }
  return 0;
}
