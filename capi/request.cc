// squall_request_*: accessors (any thread: the request is immutable once
// dispatched), body and done hooks, detach.  The response calls live in
// capi/response.cc.
#include <string.h>

#include "capi/guard.h"
#include "capi/handles.h"
#include "capi/on_loop.h"
#include "core/http/connection.h"
#include "core/http/request.h"

using namespace squall;
using namespace squall::http;
using capi::guard;

namespace {

inline Request* R(const squall_request* r) {
  return reinterpret_cast<Request*>(const_cast<squall_request*>(r));
}

int out_view(std::string_view v, const char** p, size_t* len) {
  if (!p || !len) return fail(kInval, "output pointer is NULL");
  *p = v.data() ? v.data() : "";
  *len = v.size();
  return kOk;
}

const std::vector<Pair>* args_of(const Request* r, int source) {
  switch (source) {
    case SQUALL_ARGS_ALL: return &r->all_arguments();
    case SQUALL_ARGS_QUERY: return &r->query_arguments();
    case SQUALL_ARGS_BODY: return &r->body_arguments();
    default: return nullptr;
  }
}

}  // namespace

extern "C" {

SQUALL_API int squall_request_get(const squall_request* req, int field, const char** p,
                                  size_t* len) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(req, "request is NULL");
    const Request* r = R(req);
    switch (field) {
      case SQUALL_REQ_METHOD: return out_view(r->head.method, p, len);
      case SQUALL_REQ_URI: return out_view(r->head.target, p, len);
      case SQUALL_REQ_PATH: return out_view(r->head.path, p, len);
      case SQUALL_REQ_QUERY: return out_view(r->head.query, p, len);
      case SQUALL_REQ_VERSION: return out_view(r->version, p, len);
      case SQUALL_REQ_HOST: return out_view(r->host, p, len);
      case SQUALL_REQ_REMOTE_IP: return out_view(r->remote_ip, p, len);
      case SQUALL_REQ_PROTOCOL: return out_view(r->protocol, p, len);
      case SQUALL_REQ_FULL_URL: return out_view(r->full_url(), p, len);
      case SQUALL_REQ_HOST_NAME: return out_view(r->host_name, p, len);
      default: return fail(kInval, "unknown request field " + std::to_string(field));
    }
  });
}

SQUALL_API int squall_request_header(const squall_request* req, const char* name, size_t name_len,
                                     size_t nth, const char** value, size_t* value_len) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(req && name && value && value_len, "NULL argument");
    std::string_view n(name, capi::slen(name, name_len));
    for (const auto& h : R(req)->head.headers) {
      if (iequals(h.name, n)) {
        if (nth == 0) return out_view(h.value, value, value_len);
        nth--;
      }
    }
    return fail(kNotFound, "no such header");
  });
}

SQUALL_API int squall_request_header_count(const squall_request* req, size_t* count) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(req && count, "NULL argument");
    *count = R(req)->head.headers.size();
    return kOk;
  });
}

SQUALL_API int squall_request_header_at(const squall_request* req, size_t index, const char** name,
                                        size_t* name_len, const char** value, size_t* value_len) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(req && name && name_len && value && value_len, "NULL argument");
    const auto& hs = R(req)->head.headers;
    if (index >= hs.size()) return fail(kNotFound, "header index past the end");
    out_view(hs[index].name, name, name_len);
    return out_view(hs[index].value, value, value_len);
  });
}

SQUALL_API int squall_request_body(const squall_request* req, const void** data, size_t* len) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(req && data && len, "NULL argument");
    const std::string& b = R(req)->body;
    *data = b.data();
    *len = b.size();
    return kOk;
  });
}

SQUALL_API int squall_request_argument(const squall_request* req, int source, const char* name,
                                       size_t name_len, size_t nth, const char** value,
                                       size_t* value_len) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(req && name && value && value_len, "NULL argument");
    const auto* args = args_of(R(req), source);
    SQ_CHECK_ARG(args, "unknown argument source");
    std::string_view n(name, capi::slen(name, name_len));
    for (const auto& a : *args) {
      if (a.first == n) {
        if (nth == 0) return out_view(a.second, value, value_len);
        nth--;
      }
    }
    return fail(kNotFound, "no such argument");
  });
}

SQUALL_API int squall_request_argument_count(const squall_request* req, int source,
                                             size_t* count) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(req && count, "NULL argument");
    const auto* args = args_of(R(req), source);
    SQ_CHECK_ARG(args, "unknown argument source");
    *count = args->size();
    return kOk;
  });
}

SQUALL_API int squall_request_argument_at(const squall_request* req, int source, size_t index,
                                          const char** name, size_t* name_len, const char** value,
                                          size_t* value_len) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(req && name && name_len && value && value_len, "NULL argument");
    const auto* args = args_of(R(req), source);
    SQ_CHECK_ARG(args, "unknown argument source");
    if (index >= args->size()) return fail(kNotFound, "argument index past the end");
    out_view((*args)[index].first, name, name_len);
    return out_view((*args)[index].second, value, value_len);
  });
}

SQUALL_API int squall_request_file_count(const squall_request* req, size_t* count) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(req && count, "NULL argument");
    *count = R(req)->files().size();
    return kOk;
  });
}

SQUALL_API int squall_request_file_at(const squall_request* req, size_t index, const char** field,
                                      size_t* field_len, const char** filename,
                                      size_t* filename_len, const char** content_type,
                                      size_t* content_type_len, const void** data,
                                      size_t* data_len) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(req, "request is NULL");
    const auto& files = R(req)->files();
    if (index >= files.size()) return fail(kNotFound, "file index past the end");
    const UploadedFile& f = files[index];
    if (field && field_len) out_view(f.field, field, field_len);
    if (filename && filename_len) out_view(f.filename, filename, filename_len);
    if (content_type && content_type_len) out_view(f.content_type, content_type, content_type_len);
    if (data && data_len) {
      *data = f.body.data();
      *data_len = f.body.size();
    }
    return kOk;
  });
}

SQUALL_API int squall_request_cookie(const squall_request* req, const char* name, size_t name_len,
                                     const char** value, size_t* value_len) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(req && name && value && value_len, "NULL argument");
    std::string_view n(name, capi::slen(name, name_len));
    for (const auto& c : R(req)->cookies())
      if (c.first == n) return out_view(c.second, value, value_len);
    return fail(kNotFound, "no such cookie");
  });
}

SQUALL_API int squall_request_cookie_count(const squall_request* req, size_t* count) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(req && count, "NULL argument");
    *count = R(req)->cookies().size();
    return kOk;
  });
}

SQUALL_API int squall_request_cookie_at(const squall_request* req, size_t index, const char** name,
                                        size_t* name_len, const char** value, size_t* value_len) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(req && name && name_len && value && value_len, "NULL argument");
    const auto& cs = R(req)->cookies();
    if (index >= cs.size()) return fail(kNotFound, "cookie index past the end");
    out_view(cs[index].first, name, name_len);
    return out_view(cs[index].second, value, value_len);
  });
}

SQUALL_API int squall_request_time(const squall_request* req, int64_t* start_unix_us,
                                   int64_t* elapsed_us) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(req, "request is NULL");
    if (start_unix_us) *start_unix_us = R(req)->start_wall_us;
    if (elapsed_us) *elapsed_us = monotonic_us() - R(req)->start_mono_us;
    return kOk;
  });
}

SQUALL_API int squall_request_on_done(squall_request* req, squall_done_fn fn, void* user_data) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(req && fn, "request and fn are required");
    Request* r = R(req);
    if (r->app.on_done_set.exchange(true)) return fail(kState, "on_done already registered");
    {
      std::lock_guard<std::mutex> lk(r->conn->token()->mu);
      if (!r->conn->token()->loop) {
        r->app.on_done_set.store(false);
        return fail(kClosed, "the request's loop is gone");
      }
    }
    auto reg = [fn, user_data](HTTP1Connection* c) -> int {
      c->set_on_done([fn, user_data](int st) { fn(st, user_data); });
      return kOk;
    };
    int rc = capi::on_loop(r, capi::Ends::kNo, reg, [&] { return reg; });
    if (rc == kState) r->app.on_done_set.store(false);
    return rc == kClosed ? kOk : rc;  // registered: fn runs once (ECLOSED if the client is gone)
  });
}

SQUALL_API int squall_request_set_max_body_size(squall_request* req, int64_t max_bytes) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(req && max_bytes >= 0, "bad argument");
    Request* r = R(req);
    if (!r->app.in_hook) return fail(kState, "only inside the headers hook");
    r->max_body_size = uint64_t(max_bytes);
    return kOk;
  });
}

SQUALL_API int squall_request_set_body_timeout(squall_request* req, int64_t timeout_ms) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(req && timeout_ms >= 0, "bad argument");
    Request* r = R(req);
    if (!r->app.in_hook) return fail(kState, "only inside the headers hook");
    r->body_timeout_ms = timeout_ms;
    return kOk;
  });
}

SQUALL_API int squall_request_stream_body(squall_request* req, squall_body_fn fn, void* user_data,
                                          squall_release_fn release) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(req && fn, "request and fn are required");
    Request* r = R(req);
    if (!r->app.in_hook) return fail(kState, "only inside the headers hook");
    if (int rc = capi::check_loop(r->conn->loop())) return rc;
    auto rel = std::shared_ptr<void>(user_data, [release](void* u) {
      if (release) release(u);
    });
    r->body_sink = [fn, user_data](const char* d, size_t n) -> int { return fn(d, n, user_data); };
    r->body_sink_release = rel;
    return kOk;
  });
}

SQUALL_API int squall_request_detach(squall_request* req, squall_stream** out) {
  if (out) *out = nullptr;
  return guard([&]() -> int {
    SQ_CHECK_ARG(req && out, "NULL argument");
    Request* r = R(req);
    if (int rc = capi::check_loop(r->conn->loop())) return rc;
    if (r->app.finished.load()) return fail(kState, "the response was already finished");
    IOStreamPtr s;
    HTTP1Connection* c = r->conn;
    r->app.finished.store(true);
    int rc = c->detach(&s);
    if (rc != kOk) {
      r->app.finished.store(false);
      return rc;
    }
    *out = new squall_stream{s};
    return kOk;
  });
}

SQUALL_API int squall_request_loop(const squall_request* req, squall_loop** out) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(req && out, "NULL argument");
    const auto& tok = R(req)->conn->token();
    std::lock_guard<std::mutex> lk(tok->mu);
    if (!tok->loop) return fail(kClosed, "the request's loop is gone");
    *out = static_cast<squall_loop*>(tok->loop->user_data);
    return kOk;
  });
}

SQUALL_API int squall_request_call_soon(squall_request* req, squall_callback_fn fn,
                                        void* user_data) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(req && fn, "request and fn are required");
    if (!IOLoop::post(R(req)->conn->token(), [fn, user_data] { fn(user_data); }))
      return fail(kClosed, "the request's loop is gone");
    return kOk;
  });
}

}  // extern "C"
