// A ConnectionDelegate for the socket-free tests and fuzz/connection_fuzz:
// counts connections opened and destroyed, lends counters, reports and
// hooks nothing; a test overrides request_received (and what else it needs).
#pragma once

#include "core/http/delegate.h"

namespace squall::test {

class CountingDelegate : public http::ConnectionDelegate {
 public:
  int opened = 0, destroyed = 0;
  http::Counters ctr;

  void connection_opened(http::HTTP1Connection*) override { opened++; }
  void connection_closed(http::HTTP1Connection*) override {}
  void connection_destroyed(http::HTTP1Connection*) override { destroyed++; }
  bool draining() const override { return false; }
  void report(int, int, std::string_view, std::string_view) override {}
  http::Counters& counters() override { return ctr; }
  bool wants_headers() const override { return false; }
  void headers_received(http::Request*) override {}
  bool wants_finished() const override { return false; }
  void request_finished(const http::Request&, int, uint64_t, uint64_t, std::string_view) override {}

 protected:
  ~CountingDelegate() = default;
};

}  // namespace squall::test
