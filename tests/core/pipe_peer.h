// The test's end of a MemoryTransport pair: read what the other end wrote.
#pragma once

#include <string>

#include "core/ioloop.h"
#include "core/transport.h"

namespace squall::test {

// Everything readable at peer now; with a loop, the loop runs after each
// read so that a writer held back by the pipe's capacity goes on.
inline std::string read_all(MemoryTransport* peer, IOLoop* pump = nullptr) {
  std::string out;
  char buf[65536];
  int err = 0;
  for (;;) {
    ssize_t n = peer->read(buf, sizeof buf, &err);
    if (n <= 0) break;
    out.append(buf, size_t(n));
    if (pump) pump->run_until_idle();
  }
  return out;
}

}  // namespace squall::test
