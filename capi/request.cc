// squall_request_*: accessors (any thread: the request is immutable once
// dispatched), body and done hooks, detach.  The response calls live in
// capi/response.cc.
#include <string.h>

#include "capi/guard.h"
#include "capi/handles.h"
#include "capi/on_loop.h"
#include "core/http/connection.h"
#include "core/http/request.h"
#include "core/tls.h"

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
    case SQUALL_ARGS_ALL: return &r->arguments(Request::Args::kAll);
    case SQUALL_ARGS_QUERY: return &r->arguments(Request::Args::kQuery);
    case SQUALL_ARGS_BODY: return &r->arguments(Request::Args::kBody);
    default: return nullptr;
  }
}

// The (name, value) lists a request exposes: header fields, arguments,
// cookies.  One set of accessors serves all three.
std::string_view key_of(const HeaderField& h) { return h.name; }
std::string_view value_of(const HeaderField& h) { return h.value; }
std::string_view key_of(const Pair& p) { return p.first; }
std::string_view value_of(const Pair& p) { return p.second; }

template <class Fn>
int with_request(const squall_request* req, Fn fn) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(req, "request is NULL");
    return fn(R(req));
  });
}

template <class List>
int list_size(const List* l, size_t* count) {
  SQ_CHECK_ARG(l && count, "NULL argument or unknown source");
  *count = l->size();
  return kOk;
}

template <class List>
int list_at(const List* l, size_t index, const char** name, size_t* name_len, const char** value,
            size_t* value_len) {
  SQ_CHECK_ARG(l && name && name_len && value && value_len, "NULL argument or unknown source");
  if (index >= l->size()) return fail(kNotFound, "index past the end");
  out_view(key_of((*l)[index]), name, name_len);
  return out_view(value_of((*l)[index]), value, value_len);
}

// The nth value under name; eq compares names (case-insensitive for
// header fields, exact for arguments and cookies).
template <class List, class Eq>
int list_find(const List* l, const char* name, size_t name_len, size_t nth, const char** value,
              size_t* value_len, Eq eq) {
  SQ_CHECK_ARG(l && name && value && value_len, "NULL argument or unknown source");
  std::string_view n(name, capi::slen(name, name_len));
  for (const auto& item : *l) {
    if (eq(key_of(item), n) && nth-- == 0) return out_view(value_of(item), value, value_len);
  }
  return fail(kNotFound, "no such name");
}

bool same(std::string_view a, std::string_view b) { return a == b; }

// A change to the request's body intake: headers hook only.
template <class Fn>
int in_hook(squall_request* req, bool arg_ok, Fn fn) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(req && arg_ok, "bad argument");
    Request* r = R(req);
    if (!r->app.in_hook) return fail(kState, "only inside the headers hook");
    fn(r);
    return kOk;
  });
}

}  // namespace

namespace {
// A TLS field: SQUALL_ENOTFOUND on plain HTTP; "" when the session has none.
int tls_field(const Request* r, int field, const char** p, size_t* len) {
  const TLSInfo* t = r->tls;
  if (!t) return fail(kNotFound, "not a TLS connection");
  switch (field) {
    case SQUALL_REQ_TLS_VERSION: return out_view(t->version, p, len);
    case SQUALL_REQ_TLS_CIPHER: return out_view(t->cipher, p, len);
    case SQUALL_REQ_TLS_SERVER_NAME: return out_view(t->server_name, p, len);
    case SQUALL_REQ_TLS_ALPN: return out_view(t->alpn, p, len);
    case SQUALL_REQ_TLS_PEER_SUBJECT:
      return out_view(t->peer ? std::string_view(t->peer->subject) : std::string_view(), p, len);
    case SQUALL_REQ_TLS_PEER_CERT:
      return out_view(t->peer ? std::string_view(t->peer->pem) : std::string_view(), p, len);
    default: return out_view(t->resumed ? "1" : "0", p, len);
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
      case SQUALL_REQ_PATH: return out_view(r->terminated().path, p, len);
      case SQUALL_REQ_QUERY: return out_view(r->head.query, p, len);
      case SQUALL_REQ_VERSION: return out_view(r->version, p, len);
      case SQUALL_REQ_HOST: return out_view(r->terminated().host, p, len);
      case SQUALL_REQ_REMOTE_IP: return out_view(r->remote_ip, p, len);
      case SQUALL_REQ_PROTOCOL: return out_view(r->protocol, p, len);
      case SQUALL_REQ_FULL_URL: return out_view(r->full_url(), p, len);
      case SQUALL_REQ_HOST_NAME: return out_view(r->terminated().host_name, p, len);
      case SQUALL_REQ_TLS_VERSION:
      case SQUALL_REQ_TLS_CIPHER:
      case SQUALL_REQ_TLS_SERVER_NAME:
      case SQUALL_REQ_TLS_ALPN:
      case SQUALL_REQ_TLS_PEER_SUBJECT:
      case SQUALL_REQ_TLS_PEER_CERT:
      case SQUALL_REQ_TLS_RESUMED: return tls_field(r, field, p, len);
      default: return fail(kInval, "unknown request field " + std::to_string(field));
    }
  });
}

SQUALL_API int squall_request_header(const squall_request* req, const char* name, size_t name_len,
                                     size_t nth, const char** value, size_t* value_len) {
  return with_request(req, [&](const Request* r) {
    return list_find(&r->head.headers, name, name_len, nth, value, value_len, iequals);
  });
}

SQUALL_API int squall_request_header_count(const squall_request* req, size_t* count) {
  return with_request(req, [&](const Request* r) { return list_size(&r->head.headers, count); });
}

SQUALL_API int squall_request_header_at(const squall_request* req, size_t index, const char** name,
                                        size_t* name_len, const char** value, size_t* value_len) {
  return with_request(req, [&](const Request* r) {
    return list_at(&r->head.headers, index, name, name_len, value, value_len);
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
  return with_request(req, [&](const Request* r) {
    return list_find(args_of(r, source), name, name_len, nth, value, value_len, same);
  });
}

SQUALL_API int squall_request_argument_count(const squall_request* req, int source, size_t* count) {
  return with_request(req, [&](const Request* r) { return list_size(args_of(r, source), count); });
}

SQUALL_API int squall_request_argument_at(const squall_request* req, int source, size_t index,
                                          const char** name, size_t* name_len, const char** value,
                                          size_t* value_len) {
  return with_request(req, [&](const Request* r) {
    return list_at(args_of(r, source), index, name, name_len, value, value_len);
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
  return with_request(req, [&](const Request* r) {
    return list_find(&r->cookies(), name, name_len, 0, value, value_len, same);
  });
}

SQUALL_API int squall_request_cookie_count(const squall_request* req, size_t* count) {
  return with_request(req, [&](const Request* r) { return list_size(&r->cookies(), count); });
}

SQUALL_API int squall_request_cookie_at(const squall_request* req, size_t index, const char** name,
                                        size_t* name_len, const char** value, size_t* value_len) {
  return with_request(req, [&](const Request* r) {
    return list_at(&r->cookies(), index, name, name_len, value, value_len);
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
    auto reg = [fn, user_data](HTTP1Connection* c) -> int {
      c->set_on_done([fn, user_data](int st) { fn(st, user_data); });
      return kOk;
    };
    // 0: fn runs once (SQUALL_ECLOSED if the client is gone); else never.
    int rc = capi::on_loop(r, capi::Ends::kRegister, reg, [&] { return reg; });
    if (rc != kOk) r->app.on_done_set.store(false);
    return rc;
  });
}

SQUALL_API int squall_request_set_max_body_size(squall_request* req, int64_t max_bytes) {
  return in_hook(req, max_bytes >= 0, [&](Request* r) { r->max_body_size = uint64_t(max_bytes); });
}

SQUALL_API int squall_request_set_body_timeout(squall_request* req, int64_t timeout_ms) {
  return in_hook(req, timeout_ms >= 0, [&](Request* r) { r->body_timeout_ms = timeout_ms; });
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
    if (IOLoop::runs_here(tok.get())) {  // on its thread, inside its run: alive
      *out = static_cast<squall_loop*>(R(req)->conn->loop()->user_data);
      return kOk;
    }
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
