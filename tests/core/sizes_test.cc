// What an idle keep-alive connection costs in objects (issue 13): the
// connection, its stream and its transport, bounded here so that a member
// added to one of them is a decision, not an accident.  Each bound is the
// size as measured when bench/README.md's "Idle connection memory" table
// was taken; raise it only with that table.  The request state (Block) is
// not here: an idle connection holds none (connection_test).
#include <event2/event_struct.h>

#include <csetjmp>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>

#include "core/http/connection.h"
#include "core/iostream.h"
#include "core/tls.h"
#include "core/transport.h"

// cmocka last: its fail() macro collides with std::basic_ios::fail.
extern "C" {
#include <cmocka.h>
}

using namespace squall;

namespace {

template <class T>
void check(const char* name, size_t bound) {
  std::printf("sizeof(%s) = %zu (bound %zu)\n", name, sizeof(T), bound);
  assert_true(sizeof(T) <= bound);
}

void test_sizes__idle_connection_objects(void**) {
  check<http::HTTP1Connection>("HTTP1Connection", 264);
  check<IOStream>("IOStream", 224);
  check<SocketTransport>("SocketTransport", 200);
  check<TLSTransport>("TLSTransport", 360);
  // For the table: libevent's event, and the Request a busy connection
  // takes from the pool.
  std::printf("sizeof(struct event) = %zu\n", sizeof(struct event));
  std::printf("sizeof(Request) = %zu\n", sizeof(http::Request));
}

}  // namespace

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sizes__idle_connection_objects),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
