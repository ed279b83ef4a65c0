// Error state and library log (Tornado logs through the "tornado.*" logging
// channels; squall has one sink, replaceable through the C ABI).
#include "core/status.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <atomic>
#include <mutex>

#include "core/log_sink.h"

namespace squall {

namespace {
thread_local std::string tl_error;
}

void set_error(std::string_view msg) { tl_error.assign(msg.data(), msg.size()); }

void set_error_errno(std::string_view what, int err) {
  char buf[128];
  const char* s = strerror_r(err, buf, sizeof buf);
  tl_error.assign(what.data(), what.size());
  tl_error += ": ";
  tl_error += s;
}

const char* last_error() { return tl_error.c_str(); }

const char* status_text(int code) {
  switch (code) {
    case kOk: return "success";
    case kError: return "error";
    case kNoMem: return "out of memory";
    case kInval: return "invalid argument";
    case kState: return "invalid state for this call";
    case kThread: return "called from the wrong thread";
    case kClosed: return "closed";
    case kNotFound: return "not found";
    case kNotSup: return "not supported";
    case kAddrInUse: return "address in use";
    case kTLS: return "TLS error";
    case kTimedOut: return "timed out";
    case kTooBig: return "size limit exceeded";
    case kIO: return "I/O error";
    case kBusy: return "write buffer full";
    case kPerm: return "permission denied";
    default: return "unknown error";
  }
}

Status status_from_errno(int err) {
  switch (err) {
    case ENOMEM: return kNoMem;
    case EADDRINUSE: return kAddrInUse;
    case EACCES:
    case EPERM: return kPerm;
    case EINVAL: return kInval;
    case ETIMEDOUT: return kTimedOut;
    default: return kIO;
  }
}

// ---- log sink ----
namespace {
struct Sink {
  LogFn fn = nullptr;
  void* user_data = nullptr;
  void (*release)(void*) = nullptr;
  int min_level = kWarning;
};
std::mutex g_sink_mu;
std::shared_ptr<Sink> g_sink = std::make_shared<Sink>();
std::atomic<int> g_min_level{kWarning};
const char* level_name(int level) {
  switch (level) {
    case kDebug: return "DEBUG";
    case kInfo: return "INFO";
    case kWarning: return "WARNING";
    default: return "ERROR";
  }
}
}  // namespace

bool log_enabled(int level) { return level >= g_min_level.load(std::memory_order_relaxed); }

void log(int level, std::string_view msg) {
  if (!log_enabled(level)) return;
  std::shared_ptr<Sink> sink;
  {
    std::lock_guard<std::mutex> lk(g_sink_mu);
    sink = g_sink;
  }
  if (sink->fn) {
    sink->fn(level, msg.data(), msg.size(), sink->user_data);
  } else {
    fprintf(stderr, "squall: %s: %.*s\n", level_name(level), (int)msg.size(), msg.data());
  }
}

void set_log_sink(LogFn fn, int min_level, void* user_data, void (*release)(void*)) {
  auto s = std::shared_ptr<Sink>(new Sink, [](Sink* p) {
    if (p->release) p->release(p->user_data);
    delete p;
  });
  s->fn = fn;
  s->user_data = user_data;
  s->release = release;
  s->min_level = min_level;
  std::shared_ptr<Sink> old;
  {
    std::lock_guard<std::mutex> lk(g_sink_mu);
    old = std::move(g_sink);
    g_sink = std::move(s);
    g_min_level.store(min_level, std::memory_order_relaxed);
  }
  // old's release runs when the last in-flight log() call drops its copy.
}

}  // namespace squall
