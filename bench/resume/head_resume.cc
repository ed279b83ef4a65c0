// Feeds a ~60 KiB request head one byte at a time to the head parser, the
// way a slow client's bytes reach HTTP1Connection, and prints the work
// done.  Mode "resume": HeadParser (what the connection uses); mode
// "restart": parse_request_head from byte 0 on every call (what the
// connection did before the parser resumed).  bench/resume/run.sh counts
// the instructions of each under callgrind.
#include <cstdio>
#include <cstring>
#include <string>

#include "core/http/parser.h"

using namespace squall::http;

int main(int argc, char** argv) {
  const bool resume = argc > 1 && strcmp(argv[1], "resume") == 0;
  const size_t target = argc > 2 ? size_t(atol(argv[2])) : 60 * 1024;
  std::string head = "GET /big HTTP/1.1\r\nHost: example.com\r\n";
  for (int n = 0; head.size() < target; n++)
    head += "X-Pad-" + std::to_string(n) + ": " + std::string(500, 'p') + "\r\n";
  head += "\r\n";
  ParseLimits lim;
  lim.max_header_count = 10000;
  lim.max_header_size = 1 << 20;
  HeadParser hp;
  RequestHead out;
  ParseError err;
  long r = 0;
  for (size_t i = 1; i <= head.size(); i++) {
    r = resume ? hp.parse(head.data(), i, lim, &out, &err)
               : parse_request_head(head.data(), i, lim, &out, &err);
    if (r != 0) break;
  }
  printf("%s: %zu-byte head, result %ld, %zu fields\n", resume ? "resume" : "restart",
         head.size(), r, out.headers.size());
  return r == long(head.size()) ? 0 : 1;
}
