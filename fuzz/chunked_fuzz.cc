// libFuzzer harness for ChunkedDecoder (tornado/http1connection.py
// _read_chunked_body).  Differential: the input fed in one piece and in
// slices of a fuzzer-chosen size must decode to the same bytes, outcome and
// consumed count.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/http/parser.h"

using namespace squall::http;

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void sink(void* ctx, const char* d, size_t n) {
  check(n > 0);
  static_cast<std::string*>(ctx)->append(d, n);
}

struct Run {
  ChunkedDecoder::Result result = ChunkedDecoder::kNeedMore;
  std::string out;
  size_t consumed = 0;
};

Run run(const std::vector<char>& in, size_t step) {
  Run r;
  ChunkedDecoder dec;
  size_t off = 0;
  ParseError e;
  do {
    const size_t n = step ? std::min(step, in.size() - off) : in.size() - off;
    // Each slice in its own exactly-sized buffer for ASan.
    std::vector<char> slice(in.begin() + off, in.begin() + off + n);
    size_t used = 0;
    r.result = dec.feed(slice.data(), n, &used, sink, &r.out, &e);
    check(used <= n);
    if (r.result == ChunkedDecoder::kNeedMore) check(used == n);
    if (r.result == ChunkedDecoder::kError) check(e.status == 400);
    r.consumed += used;
    off += n;
    if (r.result != ChunkedDecoder::kNeedMore) break;
  } while (off < in.size());
  check(dec.total() == r.out.size());
  return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t step = 1 + data[0] % 16;
  std::vector<char> in(data + 1, data + size);
  const Run a = run(in, 0);
  const Run b = run(in, step);
  check(a.result == b.result);
  check(a.out == b.out);
  if (a.result == ChunkedDecoder::kDone) {
    check(a.consumed == b.consumed);
    // Nothing past the final CRLF was taken, and the end is a line end.
    check(a.consumed >= 3 && in[a.consumed - 1] == '\n');
  }
  return 0;
}
