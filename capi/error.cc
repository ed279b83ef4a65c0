// Version, error text and the thread-local last error.
#include <string.h>

#include "capi/guard.h"
#include "core/log_sink.h"

using namespace squall;

static_assert(int(SQUALL_EINVAL) == int(kInval) && int(SQUALL_ECLOSED) == int(kClosed) &&
                  int(SQUALL_EBUSY) == int(kBusy) && int(SQUALL_ETOOBIG) == int(kTooBig) &&
                  int(SQUALL_EPERM) == int(kPerm) && int(SQUALL_EIO) == int(kIO) &&
                  int(SQUALL_ETLS) == int(kTLS),
              "core Status values must equal the public codes");

extern "C" {

SQUALL_API uint32_t squall_version(void) { return SQUALL_VERSION_NUM; }

SQUALL_API const char* squall_version_string(void) { return SQUALL_VERSION_STRING; }

SQUALL_API const char* squall_strerror(int code) { return status_text(code); }

SQUALL_API const char* squall_last_error(void) { return last_error(); }

SQUALL_API int squall_set_log(squall_log_fn fn, int min_level, void* user_data,
                              squall_release_fn release) {
  return capi::guard([&]() -> int {
    SQ_CHECK_ARG(min_level >= SQUALL_LOG_DEBUG && min_level <= SQUALL_LOG_NONE,
                 "log level out of range");
    set_log_sink(fn, min_level, user_data, release);
    return kOk;
  });
}

}  // extern "C"
