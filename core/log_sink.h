// Replaceable sink for squall::log (set through squall_set_log).
#pragma once
#include <memory>
#include <stddef.h>

namespace squall {
using LogFn = void (*)(int level, const char* msg, size_t len, void* user_data);
// The previous sink's release runs once no log() call uses it any more.
void set_log_sink(LogFn fn, int min_level, void* user_data, void (*release)(void*));
}  // namespace squall
