// squall's small status vocabulary for the core's I/O and parse paths (no
// exceptions there).  Values equal the public SQUALL_E* codes so capi/ maps
// them one to one (checked by static_asserts in capi/error.cc).
#pragma once

#include <string>
#include <string_view>

namespace squall {

enum Status : int {
  kOk = 0,
  kError = -1,
  kNoMem = -2,
  kInval = -3,
  kState = -4,
  kThread = -5,
  kClosed = -6,
  kNotFound = -7,
  kNotSup = -8,
  kAddrInUse = -9,
  kTLS = -10,
  kTimedOut = -11,
  kTooBig = -12,
  kIO = -13,
  kBusy = -14,
  kPerm = -15,
};

// Thread-local message describing the last failure on this thread.
void set_error(std::string_view msg);
void set_error_errno(std::string_view what, int err);
const char* last_error();
// Static English text for a status ("unknown error" for other values).
const char* status_text(int code);
// Map an errno value to a Status.
Status status_from_errno(int err);
// Convenience: set the message and return the code.
inline int fail(int code, std::string_view msg) {
  set_error(msg);
  return code;
}

// Library log (capi routes it to the user's sink).
enum LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kLogError = 3, kNone = 4 };
bool log_enabled(int level);
void log(int level, std::string_view msg);

}  // namespace squall
