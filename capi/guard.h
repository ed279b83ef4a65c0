// The one guard every exported function uses: catches every C++ exception
// (nothing unwinds into C), maps it to a SQUALL_E* code and a thread-local
// message, and gives the common argument/thread checks.
#pragma once

#include <string.h>

#include <new>
#include <stdexcept>

#include "core/ioloop.h"
#include "core/status.h"
#include "squall/squall.h"

namespace squall::capi {

template <class F>
inline int guard(F&& f) noexcept {
  try {
    return f();
  } catch (const std::bad_alloc&) {
    return fail(kNoMem, "out of memory");
  } catch (const std::exception& e) {
    return fail(kError, e.what());
  } catch (...) {
    return fail(kError, "unknown C++ exception");
  }
}

template <class F>
inline void guard_void(F&& f) noexcept {
  try {
    f();
  } catch (...) {
    log(kLogError, "exception in a free function ignored");
  }
}

// kOk if the calling thread may touch loop-thread state of loop.
inline int check_loop(IOLoop* loop) {
  if (!loop || loop->closed()) return fail(kClosed, "the loop is gone (freed or closed)");
  if (!loop->in_loop_thread())
    return fail(kThread, "loop-thread function called from another thread while the loop runs");
  return kOk;
}

#define SQ_CHECK_ARG(cond, msg)                                \
  do {                                                         \
    if (!(cond)) return ::squall::fail(::squall::kInval, msg); \
  } while (0)

// Releases user data exactly once when the last copy of the owning callback
// goes away (std::function copies share it).
struct Releaser {
  squall_release_fn release;
  void* user_data;
  Releaser(squall_release_fn r, void* u) : release(r), user_data(u) {}
  ~Releaser() {
    if (release) release(user_data);
  }
  Releaser(const Releaser&) = delete;
  Releaser& operator=(const Releaser&) = delete;
};

inline size_t slen(const char* s, size_t len) {
  return len == SQUALL_NTS ? (s ? strlen(s) : 0) : len;
}

}  // namespace squall::capi
