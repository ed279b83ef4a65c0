// squall_config_*: typed, enum-keyed options over http::HTTPConfig, one
// table row per option (key, range, field).
#include "capi/guard.h"
#include "capi/handles.h"
#include "core/http/server.h"
#include "core/tls.h"

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

// The config's TLS options, made on first use and copied before a change
// when a server made from the config shares them (the ticket keys stay
// shared: they belong to the options' lineage).
TLSOptions& tls_of(http::HTTPConfig& c) {
  if (!c.tls)
    c.tls = std::make_shared<TLSOptions>();
  else if (c.tls.use_count() > 1)
    c.tls = std::make_shared<TLSOptions>(*c.tls);
  return *c.tls;
}

#define SQ_TLS_INT_OPTION(key, lo, hi, field, conv)                       \
  IntOption {                                                             \
    key, lo, hi,                                                          \
        [](const http::HTTPConfig& c) {                                   \
          static const TLSOptions d;                                      \
          return int64_t(c.tls ? c.tls->field : d.field);                 \
        },                                                                \
        [](http::HTTPConfig& c, int64_t v) { tls_of(c).field = conv(v); } \
  }

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
    SQ_TLS_INT_OPTION(SQUALL_OPT_TLS_CLIENT_AUTH, 0, 2, client_auth, ClientAuth),
    SQ_TLS_INT_OPTION(SQUALL_OPT_TLS_SESSION_TICKETS, 0, 1, session_tickets, bool),
    SQ_TLS_INT_OPTION(SQUALL_OPT_TLS_HANDSHAKE_TIMEOUT_MS, 0, kMaxMs, handshake_timeout_ms,
                      int64_t),
};
#undef SQ_TLS_INT_OPTION
#undef SQ_INT_OPTION

const IntOption* find_int(int key) {
  for (const auto& o : kIntOptions)
    if (o.key == key) return &o;
  fail(kNotSup, "unknown integer option " + std::to_string(key));
  return nullptr;
}

// Change the TLS options only if fn succeeds (a failed setter changes nothing).
template <class Fn>
int cow_tls(squall_config* cfg, Fn fn) {
  TLSOptions o = cfg->c.tls ? *cfg->c.tls : TLSOptions();
  if (int st = fn(o)) return st;
  cfg->c.tls = std::make_shared<TLSOptions>(std::move(o));  // servers keep theirs
  return kOk;
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
      case SQUALL_OPT_TLS_MIN_VERSION:
        return cow_tls(cfg, [&](TLSOptions& o) { return o.set_min_version(v); });
      case SQUALL_OPT_TLS_CIPHERS:
        return cow_tls(cfg, [&](TLSOptions& o) { return o.set_ciphers(v); });
      case SQUALL_OPT_TLS_CIPHERSUITES:
        return cow_tls(cfg, [&](TLSOptions& o) { return o.set_ciphersuites(v); });
      case SQUALL_OPT_TLS_CLIENT_CA:
        return cow_tls(cfg, [&](TLSOptions& o) { return o.set_client_ca(std::string(v)); });
      case SQUALL_OPT_SERVER_HEADER:
        if (!http::is_valid_field_value(v) || (!v.empty() && (v.front() == ' ' || v.back() == ' ')))
          return fail(kInval, "Server value has a control byte or surrounding space");
        cfg->c.conn.server.assign(v.data(), v.size());
        return kOk;
      default: return fail(kNotSup, "unknown string option " + std::to_string(key));
    }
  });
}

SQUALL_API int squall_config_add_tls_cert(squall_config* cfg, const char* cert_file,
                                          const char* key_file) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(cfg && cert_file && key_file, "config, certificate and key files are required");
    return cow_tls(cfg, [&](TLSOptions& o) { return o.add_cert_files(cert_file, key_file); });
  });
}

SQUALL_API int squall_config_add_tls_cert_pem(squall_config* cfg, const char* cert_pem,
                                              size_t cert_len, const char* key_pem,
                                              size_t key_len) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(cfg && cert_pem && key_pem, "config, certificate and key PEM are required");
    std::string_view c(cert_pem, capi::slen(cert_pem, cert_len));
    std::string_view k(key_pem, capi::slen(key_pem, key_len));
    return cow_tls(cfg, [&](TLSOptions& o) { return o.add_cert_pem(c, k); });
  });
}

SQUALL_API int squall_config_set_tls_key_password(squall_config* cfg, const char* password) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(cfg, "config is NULL");
    return cow_tls(cfg, [&](TLSOptions& o) {
      o.key_password = password ? password : "";
      return kOk;
    });
  });
}

SQUALL_API void squall_config_free(squall_config* cfg) { delete cfg; }

}  // extern "C"
