// A write to a socket whose peer is gone fails with an error code and
// raises no SIGPIPE: squall is a library, and the default disposition of
// SIGPIPE (terminate) belongs to the application.  The test keeps that
// default: a write that raised the signal would kill it.
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <csetjmp>
#include <string>

#include "core/ioloop.h"
#include "core/status.h"
#include "core/transport.h"

extern "C" {
#include <cmocka.h>
}

using namespace squall;

static void test_sigpipe__write_to_a_closed_peer_is_an_error(void**) {
  signal(SIGPIPE, SIG_DFL);
  IOLoop loop;
  int sv[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  SocketTransport t(&loop, sv[0]);
  close(sv[1]);
  std::string data(4096, 'x');
  iovec iov{data.data(), data.size()};
  int err = 0;
  ssize_t n = t.writev(&iov, 1, &err);
  assert_true(n < 0);
  assert_int_equal(err, kIO);  // EPIPE, as a status
}

int main() {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sigpipe__write_to_a_closed_peer_is_an_error),
  };
  return cmocka_run_group_tests(tests, nullptr, nullptr);
}
