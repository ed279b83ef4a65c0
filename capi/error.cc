// Version, error text and the thread-local last error.
#include <string.h>

#include "capi/guard.h"
#include "core/log_sink.h"

using namespace squall;

static_assert(int(SQUALL_EINVAL) == int(kInval) && int(SQUALL_ECLOSED) == int(kClosed) &&
                  int(SQUALL_EBUSY) == int(kBusy) && int(SQUALL_ETOOBIG) == int(kTooBig) &&
                  int(SQUALL_EPERM) == int(kPerm) && int(SQUALL_EIO) == int(kIO),
              "core Status values must equal the public codes");

extern "C" {

SQUALL_API uint32_t squall_version(void) { return SQUALL_VERSION_NUM; }

SQUALL_API const char *squall_version_string(void) { return SQUALL_VERSION_STRING; }

SQUALL_API const char *squall_strerror(int code) {
  switch (code) {
    case SQUALL_OK: return "success";
    case SQUALL_ERROR: return "error";
    case SQUALL_ENOMEM: return "out of memory";
    case SQUALL_EINVAL: return "invalid argument";
    case SQUALL_ESTATE: return "invalid state for this call";
    case SQUALL_ETHREAD: return "called from the wrong thread";
    case SQUALL_ECLOSED: return "closed";
    case SQUALL_ENOTFOUND: return "not found";
    case SQUALL_ENOTSUP: return "not supported";
    case SQUALL_EADDRINUSE: return "address in use";
    case SQUALL_ETLS: return "TLS error";
    case SQUALL_ETIMEDOUT: return "timed out";
    case SQUALL_ETOOBIG: return "size limit exceeded";
    case SQUALL_EIO: return "I/O error";
    case SQUALL_EBUSY: return "write buffer full";
    case SQUALL_EPERM: return "permission denied";
    default: return "unknown error";
  }
}

SQUALL_API const char *squall_last_error(void) { return last_error(); }

SQUALL_API int squall_set_log(squall_log_fn fn, int min_level, void *user_data,
                              squall_release_fn release) {
  return capi::guard([&]() -> int {
    SQ_CHECK_ARG(min_level >= SQUALL_LOG_DEBUG && min_level <= SQUALL_LOG_NONE,
                 "log level out of range");
    set_log_sink(fn, min_level, user_data, release);
    return kOk;
  });
}

}  // extern "C"
