// The one way the C facade reaches a request's loop thread: act at once when
// the caller is on it, else queue a command (owning copies of its data) to
// the loop in call order -- the loop is woken once per batch.
#pragma once

#include <mutex>
#include <utility>

#include "core/http/connection.h"
#include "core/http/request.h"
#include "core/status.h"

namespace squall::capi {

// What a call does to the application's part of the request:
//   kNo        nothing (status, header, write, flush): refused with
//              SQUALL_ECLOSED, and not applied, once the connection is gone
//   kYes       ends it (finish, respond, abort, send with FINISH/ABORT)
//   kRegister  registers a callback that must run once whatever happens to
//              the connection (on_done): applied even when it is gone
enum class Ends { kNo, kYes, kRegister };

// The loop is gone: end the request without touching the loop.
inline int abandon(http::Request* r) {
  http::HTTP1Connection* c = r->conn;
  r->out.finished = true;
  if (r->app.dispatched) {
    r->app.dispatched = false;
    c->unref();
  }
  return fail(kClosed, "the request's loop is gone");
}

// now(conn) runs on the loop thread with the caller's (borrowed) data;
// make_queued() is called instead on another thread and returns a callable
// taking the connection that owns copies of what it needs.  An ending call
// claims the request first (SQUALL_ESTATE if it was already ended); a call
// that finds the loop gone returns SQUALL_ECLOSED, having done nothing (an
// ending call ends the request).  A queued ending call returns
// SQUALL_ECLOSED if the connection is already known to be closed, else 0.
template <class Now, class MakeQueued>
int on_loop(http::Request* r, Ends ends, Now&& now, MakeQueued&& make_queued) {
  if (ends == Ends::kYes) {
    if (r->app.finished.exchange(true, std::memory_order_acq_rel))
      return fail(kState, "the response was already finished");
  } else if (r->app.finished.load(std::memory_order_acquire)) {
    return fail(kState, "the response was already finished");
  }
  http::HTTP1Connection* c = r->conn;
  if (ends == Ends::kNo && c->is_closed()) return fail(kClosed, "client connection closed");
  // The common case, the handler answering on its loop's thread: the loop
  // runs this very call stack, so it is alive; no lock needed.
  const auto& tok = c->token();
  if (IOLoop::runs_here(tok.get())) return now(c);
  {
    std::unique_lock<std::mutex> lk(tok->mu);
    IOLoop* l = tok->loop;
    if (l && l->in_loop_thread()) {
      lk.unlock();
      return now(c);
    }
    if (l) {
      bool closed = ends == Ends::kYes && c->is_closed();
      if (l->add_callback_threadsafe([c, q = make_queued()]() mutable { q(c); }))
        return closed ? fail(kClosed, "client connection closed") : kOk;
    }
  }
  if (ends == Ends::kYes) return abandon(r);
  return fail(kClosed, "the request's loop is gone");
}

}  // namespace squall::capi
