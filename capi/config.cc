// squall_config_*: typed, enum-keyed options over http::HTTPConfig, one
// table row per option (key, range, field).
#include "capi/guard.h"
#include "capi/handles.h"
#include "core/http/server.h"

using namespace squall;
using capi::guard;

namespace {

constexpr int64_t kMaxMs = int64_t(1) << 40;

// One row per integer option: key, range, and where the value lives (the
// accessor returns a reference of the field's own type).
struct IntOption {
  int key;
  int64_t lo, hi;
  int64_t (*get)(const http::HTTPConfig&);
  void (*set)(http::HTTPConfig&, int64_t);
};

#define SQ_INT_OPTION(key, lo, hi, field)                                      \
  IntOption {                                                                  \
    key, lo, hi, [](const http::HTTPConfig& c) { return int64_t(c.field); },   \
        [](http::HTTPConfig& c, int64_t v) { c.field = decltype(c.field)(v); } \
  }

const IntOption kIntOptions[] = {
    SQ_INT_OPTION(SQUALL_OPT_BACKLOG, 1, 65535, backlog),
    SQ_INT_OPTION(SQUALL_OPT_MAX_HEADER_SIZE, 256, 16 << 20, conn.limits.max_header_size),
    SQ_INT_OPTION(SQUALL_OPT_MAX_BODY_SIZE, 0, INT64_MAX, conn.max_body_size),
    SQ_INT_OPTION(SQUALL_OPT_CHUNK_SIZE, 1, 64 << 20, conn.chunk_size),
    SQ_INT_OPTION(SQUALL_OPT_HEADER_TIMEOUT_MS, 0, kMaxMs, conn.header_timeout_ms),
    SQ_INT_OPTION(SQUALL_OPT_BODY_TIMEOUT_MS, 0, kMaxMs, conn.body_timeout_ms),
    SQ_INT_OPTION(SQUALL_OPT_IDLE_TIMEOUT_MS, 0, kMaxMs, conn.idle_timeout_ms),
    SQ_INT_OPTION(SQUALL_OPT_NO_KEEP_ALIVE, 0, 1, conn.no_keep_alive),
    SQ_INT_OPTION(SQUALL_OPT_XHEADERS, 0, 1, conn.xheaders),
    SQ_INT_OPTION(SQUALL_OPT_DECOMPRESS_REQUEST, 0, 1, conn.decompress_request),
    SQ_INT_OPTION(SQUALL_OPT_MAX_HEADER_COUNT, 1, 100000, conn.limits.max_header_count),
    SQ_INT_OPTION(SQUALL_OPT_MAX_CONNECTIONS, 0, INT32_MAX, max_connections),
    SQ_INT_OPTION(SQUALL_OPT_REUSE_PORT, 0, 1, reuse_port),
    SQ_INT_OPTION(SQUALL_OPT_MAX_URI_SIZE, 16, 16 << 20, conn.limits.max_uri_size),
    SQ_INT_OPTION(SQUALL_OPT_ERROR_RATE, 0, 1000000, error_rate),
    SQ_INT_OPTION(SQUALL_OPT_NODELAY, 0, 1, conn.nodelay),
    SQ_INT_OPTION(SQUALL_OPT_WRITE_TIMEOUT_MS, 0, kMaxMs, conn.write_timeout_ms),
};
#undef SQ_INT_OPTION

const IntOption* find_int(int key) {
  for (const auto& o : kIntOptions)
    if (o.key == key) return &o;
  fail(kNotSup, "unknown integer option " + std::to_string(key));
  return nullptr;
}

}  // namespace

extern "C" {

SQUALL_API int squall_config_new(squall_config** out) {
  if (out) *out = nullptr;
  return guard([&]() -> int {
    SQ_CHECK_ARG(out, "out is NULL");
    *out = new squall_config();
    return kOk;
  });
}

SQUALL_API int squall_config_set_int(squall_config* cfg, int key, int64_t v) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(cfg, "config is NULL");
    const IntOption* o = find_int(key);
    if (!o) return kNotSup;
    if (v < o->lo || v > o->hi)
      return fail(kInval, "value " + std::to_string(v) + " out of range " + std::to_string(o->lo) +
                              ".." + std::to_string(o->hi) + " for option " + std::to_string(key));
    o->set(cfg->c, v);
    return kOk;
  });
}

SQUALL_API int squall_config_get_int(const squall_config* cfg, int key, int64_t* v) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(cfg && v, "NULL argument");
    const IntOption* o = find_int(key);
    if (!o) return kNotSup;
    *v = o->get(cfg->c);
    return kOk;
  });
}

SQUALL_API int squall_config_set_str(squall_config* cfg, int key, const char* s, size_t len) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(cfg, "config is NULL");
    SQ_CHECK_ARG(s || len == 0, "string is NULL");
    std::string_view v(s ? s : "", s ? capi::slen(s, len) : 0);
    switch (key) {
      case SQUALL_OPT_TRUSTED_DOWNSTREAM: {
        while (!v.empty()) {
          size_t c = v.find(',');
          std::string_view item = v.substr(0, c);
          while (!item.empty() && (item.front() == ' ' || item.front() == '\t'))
            item.remove_prefix(1);
          while (!item.empty() && (item.back() == ' ' || item.back() == '\t'))
            item.remove_suffix(1);
          if (!item.empty()) cfg->c.conn.trusted_downstream.emplace_back(item);
          if (c == std::string_view::npos) break;
          v.remove_prefix(c + 1);
        }
        return kOk;
      }
      default: return fail(kNotSup, "unknown string option " + std::to_string(key));
    }
  });
}

SQUALL_API void squall_config_free(squall_config* cfg) { delete cfg; }

}  // extern "C"
