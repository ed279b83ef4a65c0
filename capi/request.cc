// squall_request_* and squall_response_*: accessors (any thread, the request
// is immutable once dispatched) and the response calls (loop thread acts at
// once; other threads queue a command to the loop, in call order).
#include <string.h>

#include "capi/guard.h"
#include "capi/handles.h"
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

// Run op on the connection's loop thread: now if we are on it, else queued.
// queued_ret is what a queued call returns.
template <class Op>
int on_loop(Request* req, Op op) {
  HTTP1Connection* c = req->conn;
  const auto& tok = c->token();
  IOLoop* l;
  {
    std::lock_guard<std::mutex> lk(tok->mu);
    l = tok->loop;
    if (l && !l->in_loop_thread()) {
      if (!l->add_callback_threadsafe([c, op]() mutable { op(c); }))
        l = nullptr;
      else
        return c->is_closed() ? fail(kClosed, "client connection closed") : kOk;
    }
  }
  if (!l) return fail(kClosed, "the request's loop is gone");
  return op(c);
}

// The loop is gone: end the request without touching the loop.
int abandon(Request* req) {
  HTTP1Connection* c = req->conn;
  req->finished = true;
  if (req->dispatched) {
    req->dispatched = false;
    c->unref();
  }
  return fail(kClosed, "the request's loop is gone");
}

int check_resp(const squall_request* r) {
  if (!r) return fail(kInval, "request is NULL");
  if (R(r)->app_finished.load(std::memory_order_acquire))
    return fail(kState, "the response was already finished");
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

int finish_common(squall_request* req) {
  Request* r = R(req);
  if (r->app_finished.exchange(true, std::memory_order_acq_rel))
    return fail(kState, "the response was already finished");
  HTTP1Connection* c = r->conn;
  const auto& tok = c->token();
  {
    std::lock_guard<std::mutex> lk(tok->mu);
    IOLoop* l = tok->loop;
    if (!l) {
      // fall through to abandon below, outside the lock
    } else if (!l->in_loop_thread()) {
      bool closed = c->is_closed();
      if (l->add_callback_threadsafe([c] { c->finish(); }))
        return closed ? fail(kClosed, "client connection closed") : kOk;
    } else {
      goto direct;
    }
  }
  return abandon(r);
direct:
  return c->finish();
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
      case SQUALL_REQ_VERSION: return out_view(r->version_str, p, len);
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
    if (r->on_done_set.exchange(true)) return fail(kState, "on_done already registered");
    {
      std::lock_guard<std::mutex> lk(r->conn->token()->mu);
      if (!r->conn->token()->loop) {
        r->on_done_set.store(false);
        return fail(kClosed, "the request's loop is gone");
      }
    }
    on_loop(r, [fn, user_data](HTTP1Connection* c) -> int {
      c->set_on_done([fn, user_data](int st) { fn(st, user_data); });
      return kOk;
    });
    return kOk;  // registered: fn runs once (SQUALL_ECLOSED if the client is gone)
  });
}

SQUALL_API int squall_request_set_max_body_size(squall_request* req, int64_t max_bytes) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(req && max_bytes >= 0, "bad argument");
    Request* r = R(req);
    if (!r->in_hook) return fail(kState, "only inside the headers hook");
    r->max_body_size = uint64_t(max_bytes);
    return kOk;
  });
}

SQUALL_API int squall_request_set_body_timeout(squall_request* req, int64_t timeout_ms) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(req && timeout_ms >= 0, "bad argument");
    Request* r = R(req);
    if (!r->in_hook) return fail(kState, "only inside the headers hook");
    r->body_timeout_ms = timeout_ms;
    return kOk;
  });
}

SQUALL_API int squall_request_stream_body(squall_request* req, squall_body_fn fn, void* user_data,
                                          squall_release_fn release) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(req && fn, "request and fn are required");
    Request* r = R(req);
    if (!r->in_hook) return fail(kState, "only inside the headers hook");
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
    if (r->app_finished.load()) return fail(kState, "the response was already finished");
    IOStreamPtr s;
    HTTP1Connection* c = r->conn;
    r->app_finished.store(true);
    int rc = c->detach(&s);
    if (rc != kOk) {
      r->app_finished.store(false);
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

// ------------------------------------------------------------------ responses

SQUALL_API int squall_response_abort(squall_request* req) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(req, "request is NULL");
    Request* r = R(req);
    if (r->app_finished.exchange(true, std::memory_order_acq_rel))
      return fail(kState, "the response was already finished");
    HTTP1Connection* c = r->conn;
    const auto& tok = c->token();
    {
      std::lock_guard<std::mutex> lk(tok->mu);
      IOLoop* l = tok->loop;
      if (l && !l->in_loop_thread()) {
        if (l->add_callback_threadsafe([c] { c->abort(); })) return kOk;
      } else if (l) {
        goto direct;
      }
    }
    return abandon(r);
  direct:
    c->abort();
    return kOk;
  });
}

SQUALL_API int squall_response_status(squall_request* req, int code, const char* reason,
                                      size_t reason_len) {
  return guard([&]() -> int {
    if (int r = check_resp(req)) return r;
    SQ_CHECK_ARG(code >= 100 && code <= 999, "status code out of range 100..999");
    std::string rs = reason ? std::string(reason, capi::slen(reason, reason_len)) : std::string();
    for (char ch : rs)
      if (ch == '\r' || ch == '\n' || ch == '\0') return fail(kInval, "reason contains CR, LF or NUL");
    return on_loop(R(req), [code, rs](HTTP1Connection* c) { return c->set_status(code, rs); });
  });
}

SQUALL_API int squall_response_header(squall_request* req, const char* name, size_t name_len,
                                      const char* value, size_t value_len) {
  return guard([&]() -> int {
    if (int r = check_resp(req)) return r;
    SQ_CHECK_ARG(name && (value || value_len == 0), "name/value is NULL");
    std::string n(name, capi::slen(name, name_len));
    std::string v = value ? std::string(value, capi::slen(value, value_len)) : std::string();
    if (!is_token(n)) return fail(kInval, "header name is not an RFC 9110 token");
    if (!is_valid_field_value(v)) return fail(kInval, "header value contains CR, LF or NUL");
    return on_loop(R(req), [n = std::move(n), v = std::move(v)](HTTP1Connection* c) {
      return c->add_header(n, v);
    });
  });
}

SQUALL_API int squall_response_write(squall_request* req, const void* data, size_t len) {
  return guard([&]() -> int {
    if (int r = check_resp(req)) return r;
    SQ_CHECK_ARG(data || len == 0, "data is NULL");
    HTTP1Connection* c = R(req)->conn;
    const auto& tok = c->token();
    {
      std::lock_guard<std::mutex> lk(tok->mu);
      if (tok->loop && tok->loop->in_loop_thread()) {
        // fast path below, outside the lock
      } else if (tok->loop) {
        std::string copy(static_cast<const char*>(data), len);
        if (tok->loop->add_callback_threadsafe([c, copy = std::move(copy)] {
              c->write(copy.data(), copy.size());
            }))
          return c->is_closed() ? fail(kClosed, "client connection closed") : kOk;
        return fail(kClosed, "the request's loop is gone");
      } else {
        return fail(kClosed, "the request's loop is gone");
      }
    }
    return c->write(static_cast<const char*>(data), len);
  });
}

SQUALL_API int squall_response_flush(squall_request* req, squall_done_fn done, void* user_data) {
  return guard([&]() -> int {
    if (int r = check_resp(req)) return r;
    return on_loop(R(req), [done, user_data](HTTP1Connection* c) {
      std::function<void(int)> d;
      if (done) d = [done, user_data](int st) { done(st, user_data); };
      int r = c->flush(std::move(d));
      return r == kClosed ? kClosed : r;
    });
  });
}

SQUALL_API int squall_response_finish(squall_request* req) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(req, "request is NULL");
    return finish_common(req);
  });
}

SQUALL_API int squall_respond(squall_request* req, int code, const char* content_type,
                              size_t ct_len, const void* body, size_t body_len) {
  return guard([&]() -> int {
    if (int r = check_resp(req)) return r;
    SQ_CHECK_ARG(code >= 100 && code <= 999, "status code out of range 100..999");
    SQ_CHECK_ARG(body || body_len == 0, "body is NULL");
    std::string_view ct;
    if (content_type) {
      ct = std::string_view(content_type, capi::slen(content_type, ct_len));
      if (!is_valid_field_value(ct)) return fail(kInval, "content type contains CR, LF or NUL");
    }
    Request* r = R(req);
    HTTP1Connection* c = r->conn;
    const auto& tok = c->token();
    bool direct = false;
    {
      std::lock_guard<std::mutex> lk(tok->mu);
      IOLoop* l = tok->loop;
      if (l && l->in_loop_thread()) {
        direct = true;
      } else if (l) {
        if (r->app_finished.exchange(true)) return fail(kState, "the response was already finished");
        bool closed = c->is_closed();
        std::string cts(ct), b(static_cast<const char*>(body), body_len);
        bool ok = l->add_callback_threadsafe([c, code, cts = std::move(cts), b = std::move(b)] {
          c->set_status(code, {});
          if (!cts.empty()) c->add_header("Content-Type", cts);
          c->write(b.data(), b.size());
          c->finish();
        });
        if (ok) return closed ? fail(kClosed, "client connection closed") : kOk;
        r->app_finished.store(false);
      }
    }
    if (!direct) {
      r->app_finished.store(true);
      return abandon(r);
    }
    if (r->app_finished.exchange(true)) return fail(kState, "the response was already finished");
    c->set_status(code, {});
    if (!ct.empty()) c->add_header("Content-Type", ct);
    c->write(static_cast<const char*>(body), body_len);
    return c->finish();
  });
}

}  // extern "C"
