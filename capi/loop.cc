// squall_loop_* and squall_timer_*: the C face of core/ioloop.
#include "capi/guard.h"
#include "capi/handles.h"

#include <algorithm>

using namespace squall;
using capi::guard;

extern "C" {

SQUALL_API int squall_loop_new(squall_loop** out) {
  if (out) *out = nullptr;
  return guard([&]() -> int {
    SQ_CHECK_ARG(out, "out is NULL");
    auto* l = new squall_loop();
    if (!l->loop.ok()) {
      delete l;
      return fail(kError, "cannot create event_base/eventfd");
    }
    l->loop.user_data = l;
    *out = l;
    return kOk;
  });
}

SQUALL_API int squall_loop_run(squall_loop* loop) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(loop, "loop is NULL");
    return loop->loop.run();
  });
}

SQUALL_API int squall_loop_run_once(squall_loop* loop, int timeout_ms) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(loop, "loop is NULL");
    return loop->loop.run_once(timeout_ms < 0 ? -1 : timeout_ms);
  });
}

SQUALL_API int squall_loop_stop(squall_loop* loop) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(loop, "loop is NULL");
    loop->loop.stop();
    return kOk;
  });
}

SQUALL_API int squall_loop_call_soon(squall_loop* loop, squall_callback_fn fn, void* user_data) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(loop, "loop is NULL");
    SQ_CHECK_ARG(fn, "fn is NULL");
    if (!loop->loop.add_callback_threadsafe([fn, user_data] { fn(user_data); }))
      return fail(kClosed, "the loop is being freed");
    return kOk;
  });
}

SQUALL_API int squall_loop_poll(squall_loop* loop, int timeout_ms, squall_request** out, size_t cap,
                                size_t* n) {
  if (n) *n = 0;
  return guard([&]() -> int {
    SQ_CHECK_ARG(loop && out && n && cap > 0, "loop, out, n and cap > 0 are required");
    IOLoop& l = loop->loop;
    if (l.closed()) return fail(kClosed, "the loop is gone (freed or closed)");
    if (int r = l.pin_to_this_thread()) return r;
    if (l.running()) return fail(kState, "squall_loop_poll called from inside the loop");
    bool stopped = false;
    if (loop->ready_head == loop->ready.size()) {
      const int64_t deadline = timeout_ms > 0 ? monotonic_us() + int64_t(timeout_ms) * 1000 : 0;
      int wait = timeout_ms < 0 ? -1 : timeout_ms;
      for (;;) {
        if (int r = l.run_once(wait, &stopped)) return r;
        if (stopped || wait == 0 || loop->ready_head != loop->ready.size()) break;
        if (timeout_ms > 0) {
          int64_t left = deadline - monotonic_us();
          if (left <= 0) break;
          wait = int((left + 999) / 1000);
        }
      }
    }
    size_t avail = loop->ready.size() - loop->ready_head;
    size_t k = avail < cap ? avail : cap;
    if (k) {
      squall_request** from = loop->ready.data() + loop->ready_head;
      std::copy(from, from + k, out);
      loop->ready_head += k;
      if (loop->ready_head == loop->ready.size()) {
        loop->ready.clear();
        loop->ready_head = 0;
      }
    }
    *n = k;
    return stopped ? SQUALL_POLL_STOPPED : kOk;
  });
}

SQUALL_API int squall_loop_free(squall_loop* loop) {
  if (!loop) return kOk;
  return guard([&]() -> int {
    if (loop->loop.running()) return fail(kState, "cannot free a running loop");
    if (!loop->loop.in_loop_thread()) return fail(kThread, "the loop is bound to another thread");
    // Requests polled servers queued and nobody took: end them.
    while (loop->ready_head < loop->ready.size())
      squall_response_abort(loop->ready[loop->ready_head++]);
    loop->loop.close();
    delete loop;
    return kOk;
  });
}

static int make_timer(squall_timer** out, squall_loop* loop, int64_t ms, bool periodic,
                      squall_callback_fn fn, void* user_data, squall_release_fn release) {
  if (out) *out = nullptr;
  return guard([&]() -> int {
    SQ_CHECK_ARG(loop, "loop is NULL");
    SQ_CHECK_ARG(fn, "fn is NULL");
    if (periodic) SQ_CHECK_ARG(ms > 0, "interval must be > 0 ms");
    SQ_CHECK_ARG(ms >= 0 && ms <= int64_t(1) << 40, "delay out of range");
    if (int r = capi::check_loop(&loop->loop)) return r;
    auto rel = std::make_shared<capi::Releaser>(release, user_data);
    Callback cb = [fn, user_data] { fn(user_data); };
    TimerPtr t =
        periodic ? loop->loop.call_every(ms * 1000, cb) : loop->loop.call_later(ms * 1000, cb);
    if (out) {
      t->set_on_release([rel]() mutable { rel.reset(); });
      *out = new squall_timer{t};
    } else {
      // No handle holds the timer: its own release closure keeps it alive
      // until it fired or was cancelled (the loop holds only raw pointers).
      t->set_on_release([rel, t]() mutable { rel.reset(); });
    }
    rel.reset();  // the timer's on_release now holds the only reference
    return kOk;
  });
}

SQUALL_API int squall_loop_call_later(squall_timer** out, squall_loop* loop, int64_t delay_ms,
                                      squall_callback_fn fn, void* user_data,
                                      squall_release_fn release) {
  return make_timer(out, loop, delay_ms, false, fn, user_data, release);
}

SQUALL_API int squall_loop_call_every(squall_timer** out, squall_loop* loop, int64_t interval_ms,
                                      squall_callback_fn fn, void* user_data,
                                      squall_release_fn release) {
  return make_timer(out, loop, interval_ms, true, fn, user_data, release);
}

SQUALL_API int squall_timer_cancel(squall_timer* timer) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(timer, "timer is NULL");
    Timer* t = timer->t.get();
    if (t->orphaned()) return fail(kClosed, "the timer's loop is gone");
    if (int r = capi::check_loop(t->loop())) return r;
    t->cancel();
    return kOk;
  });
}

SQUALL_API void squall_timer_free(squall_timer* timer) {
  if (!timer) return;
  capi::guard_void([&] {
    timer->t->cancel();
    delete timer;
  });
}

}  // extern "C"
