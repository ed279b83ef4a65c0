// squall_config_*: typed, enum-keyed setters over http::HTTPConfig.
#include "capi/guard.h"
#include "capi/handles.h"
#include "core/http/server.h"

using namespace squall;
using capi::guard;

struct squall_config {
  http::HTTPConfig c;
};

namespace squall::capi {
const http::HTTPConfig& config_of(const squall_config* cfg) { return cfg->c; }
}  // namespace squall::capi

namespace {
constexpr int64_t kMaxMs = int64_t(1) << 40;
}

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
    http::HTTPConfig& c = cfg->c;
    auto range = [&](int64_t lo, int64_t hi) -> int {
      if (v < lo || v > hi)
        return fail(kInval, "value " + std::to_string(v) + " out of range " + std::to_string(lo) +
                                ".." + std::to_string(hi) + " for option " + std::to_string(key));
      return kOk;
    };
    int r;
    switch (key) {
      case SQUALL_OPT_BACKLOG:
        if ((r = range(1, 65535))) return r;
        c.backlog = int(v);
        return kOk;
      case SQUALL_OPT_MAX_HEADER_SIZE:
        if ((r = range(256, 16 << 20))) return r;
        c.max_header_size = size_t(v);
        return kOk;
      case SQUALL_OPT_MAX_BODY_SIZE:
        if ((r = range(0, INT64_MAX))) return r;
        c.max_body_size = uint64_t(v);
        return kOk;
      case SQUALL_OPT_CHUNK_SIZE:
        if ((r = range(1, 64 << 20))) return r;
        c.chunk_size = size_t(v);
        return kOk;
      case SQUALL_OPT_HEADER_TIMEOUT_MS:
        if ((r = range(0, kMaxMs))) return r;
        c.header_timeout_ms = v;
        return kOk;
      case SQUALL_OPT_BODY_TIMEOUT_MS:
        if ((r = range(0, kMaxMs))) return r;
        c.body_timeout_ms = v;
        return kOk;
      case SQUALL_OPT_IDLE_TIMEOUT_MS:
        if ((r = range(0, kMaxMs))) return r;
        c.idle_timeout_ms = v;
        return kOk;
      case SQUALL_OPT_NO_KEEP_ALIVE:
        if ((r = range(0, 1))) return r;
        c.no_keep_alive = v != 0;
        return kOk;
      case SQUALL_OPT_XHEADERS:
        if ((r = range(0, 1))) return r;
        c.xheaders = v != 0;
        return kOk;
      case SQUALL_OPT_DECOMPRESS_REQUEST:
        if ((r = range(0, 1))) return r;
        c.decompress_request = v != 0;
        return kOk;
      case SQUALL_OPT_MAX_HEADER_COUNT:
        if ((r = range(1, 100000))) return r;
        c.max_header_count = size_t(v);
        return kOk;
      case SQUALL_OPT_MAX_CONNECTIONS:
        if ((r = range(0, INT32_MAX))) return r;
        c.max_connections = size_t(v);
        return kOk;
      case SQUALL_OPT_REUSE_PORT:
        if ((r = range(0, 1))) return r;
        c.reuse_port = v != 0;
        return kOk;
      case SQUALL_OPT_MAX_URI_SIZE:
        if ((r = range(16, 16 << 20))) return r;
        c.max_uri_size = size_t(v);
        return kOk;
      case SQUALL_OPT_ERROR_RATE:
        if ((r = range(0, 1000000))) return r;
        c.error_rate = int(v);
        return kOk;
      case SQUALL_OPT_NODELAY:
        if ((r = range(0, 1))) return r;
        c.nodelay = v != 0;
        return kOk;
      default:
        return fail(kNotSup, "unknown integer option " + std::to_string(key));
    }
  });
}

SQUALL_API int squall_config_get_int(const squall_config* cfg, int key, int64_t* v) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(cfg && v, "NULL argument");
    const http::HTTPConfig& c = cfg->c;
    switch (key) {
      case SQUALL_OPT_BACKLOG: *v = c.backlog; return kOk;
      case SQUALL_OPT_MAX_HEADER_SIZE: *v = int64_t(c.max_header_size); return kOk;
      case SQUALL_OPT_MAX_BODY_SIZE: *v = int64_t(c.max_body_size); return kOk;
      case SQUALL_OPT_CHUNK_SIZE: *v = int64_t(c.chunk_size); return kOk;
      case SQUALL_OPT_HEADER_TIMEOUT_MS: *v = c.header_timeout_ms; return kOk;
      case SQUALL_OPT_BODY_TIMEOUT_MS: *v = c.body_timeout_ms; return kOk;
      case SQUALL_OPT_IDLE_TIMEOUT_MS: *v = c.idle_timeout_ms; return kOk;
      case SQUALL_OPT_NO_KEEP_ALIVE: *v = c.no_keep_alive; return kOk;
      case SQUALL_OPT_XHEADERS: *v = c.xheaders; return kOk;
      case SQUALL_OPT_DECOMPRESS_REQUEST: *v = c.decompress_request; return kOk;
      case SQUALL_OPT_MAX_HEADER_COUNT: *v = int64_t(c.max_header_count); return kOk;
      case SQUALL_OPT_MAX_CONNECTIONS: *v = int64_t(c.max_connections); return kOk;
      case SQUALL_OPT_REUSE_PORT: *v = c.reuse_port; return kOk;
      case SQUALL_OPT_MAX_URI_SIZE: *v = int64_t(c.max_uri_size); return kOk;
      case SQUALL_OPT_ERROR_RATE: *v = c.error_rate; return kOk;
      case SQUALL_OPT_NODELAY: *v = c.nodelay; return kOk;
      default: return fail(kNotSup, "unknown integer option " + std::to_string(key));
    }
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
          while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
          while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
          if (!item.empty()) cfg->c.trusted_downstream.emplace_back(item);
          if (c == std::string_view::npos) break;
          v.remove_prefix(c + 1);
        }
        return kOk;
      }
      default:
        return fail(kNotSup, "unknown string option " + std::to_string(key));
    }
  });
}

SQUALL_API void squall_config_free(squall_config* cfg) { delete cfg; }

}  // extern "C"
