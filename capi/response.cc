// squall_response_* and squall_respond: the response calls.  Each acts at
// once on the loop thread; from another thread it copies what it needs into
// one command for the loop (capi/on_loop.h).  Arguments are validated on the
// calling thread, before anything is applied or queued.
#include <string.h>

#include <string>
#include <vector>

#include "capi/guard.h"
#include "capi/on_loop.h"

using namespace squall;
using namespace squall::http;
using capi::Ends;
using capi::guard;
using capi::on_loop;

namespace {

inline Request* R(squall_request* r) { return reinterpret_cast<Request*>(r); }

int check_status(int code) {
  if (code < 100 || code > 999) return fail(kInval, "status code out of range 100..999");
  return kOk;
}

int check_header(std::string_view n, std::string_view v) {
  if (!is_token(n)) return fail(kInval, "header name is not an RFC 9110 token");
  if (!is_valid_field_value(v)) return fail(kInval, "header value contains CR, LF or NUL");
  // What the connection would refuse, refused before anything is applied.
  if (iequals(n, "Transfer-Encoding"))
    return fail(kInval, "squall frames responses itself; do not set Transfer-Encoding");
  if (iequals(n, "Content-Length") &&
      (v.empty() || v.size() > 18 || v.find_first_not_of("0123456789") != v.npos))
    return fail(kInval, "invalid Content-Length value");
  return kOk;
}

std::string_view view(const char* p, size_t len) {
  return p ? std::string_view(p, capi::slen(p, len)) : std::string_view();
}

// A whole response call, as squall_response_send describes it.
// Header fields are the caller's array (borrowed for the call; no
// allocation on the loop thread's path), or `one` for single-field calls.
struct Send {
  int status = 0;
  const squall_header* hs = nullptr;
  size_t nh = 0;
  squall_header one{};
  std::string_view body;
  unsigned flags = 0;
  bool respond = false;  // squall_respond: the one field, if any, is Content-Type

  void set_one(std::string_view name, std::string_view value) {
    one = {name.data(), name.size(), value.data(), value.size()};
    hs = &one;
    nh = 1;
  }
  std::string_view name(size_t i) const { return view(hs[i].name, hs[i].name_len); }
  std::string_view value(size_t i) const { return view(hs[i].value, hs[i].value_len); }

  // Apply on the loop thread.  Called there directly, a status or header
  // after the head was sent is refused (SQUALL_ESTATE, nothing applied);
  // queued from another thread it is too late to refuse: the fields are
  // dropped and the error hook told, and the rest is applied.  Otherwise
  // the first failure is returned; a FINISH or ABORT ends the request.
  int apply(HTTP1Connection* c, bool queued) const {
    if (flags & SQUALL_SEND_ABORT) {
      c->abort();
      return kOk;
    }
    const bool late_head = (status || nh) && c->head_sent();
    if (late_head && !queued) return fail(kState, "the response head was already sent");
    int rc = kOk;
    if (respond && !late_head && (!status || c->set_status(status, {}) == kOk)) {
      // The whole response in one call: the head and body are encoded
      // straight into the output (no field string, no body copy).
      return c->finish(nh ? value(0) : std::string_view(), body);
    }
    if (late_head) {
      c->report_application_error(
          "status or header fields given after the response head was "
          "sent were dropped");
    } else {
      if (status) rc = c->set_status(status, {});
      for (size_t i = 0; i < nh; i++) {
        int r = c->add_header(name(i), value(i));
        if (r != kOk && r != kClosed) {
          rc = r;
          break;
        }
        if (rc == kOk) rc = r;
      }
    }
    if (!body.empty() && (rc == kOk || rc == kClosed)) {
      int r = c->write(body.data(), body.size());
      if (rc == kOk) rc = r;
    }
    if (flags & SQUALL_SEND_FINISH) {
      int r = c->finish();
      return rc == kOk ? r : rc;
    }
    if (flags & SQUALL_SEND_FLUSH) {
      if (rc != kOk && rc != kClosed) return rc;
      int r = c->flush(nullptr);
      if (rc == kOk) rc = r;
    }
    return rc;
  }

  // A copy owning its bytes, for the loop: one buffer that holds the header
  // spans (offset, length) first, then the names, values and body.
  struct Owned {
    std::string bytes;
    int status = 0;
    unsigned flags = 0;
    size_t nh = 0;
    size_t body_off = 0, body_len = 0;

    void operator()(HTTP1Connection* c) const {
      const char* b = bytes.data();
      squall_header small[16];
      std::vector<squall_header> big;
      squall_header* hv = nh <= 16 ? small : (big.resize(nh), big.data());
      for (size_t i = 0; i < nh; i++) {
        size_t sp[4];
        memcpy(sp, b + i * sizeof sp, sizeof sp);
        hv[i] = {b + sp[0], sp[1], b + sp[2], sp[3]};
      }
      Send s;
      s.status = status;
      s.flags = flags;
      s.hs = hv;
      s.nh = nh;
      s.body = std::string_view(b + body_off, body_len);
      s.apply(c, true);
    }
  };
  Owned copy() const {
    Owned o;
    size_t total = nh * 4 * sizeof(size_t) + body.size();
    for (size_t i = 0; i < nh; i++) total += name(i).size() + value(i).size();
    o.bytes.resize(nh * 4 * sizeof(size_t));
    o.bytes.reserve(total);
    for (size_t i = 0; i < nh; i++) {
      std::string_view n = name(i), v = value(i);
      size_t sp[4] = {o.bytes.size(), n.size(), o.bytes.size() + n.size(), v.size()};
      memcpy(&o.bytes[i * sizeof sp], sp, sizeof sp);
      o.bytes.append(n.data(), n.size());
      o.bytes.append(v.data(), v.size());
    }
    o.body_off = o.bytes.size();
    o.body_len = body.size();
    o.bytes.append(body.data(), body.size());
    o.status = status;
    o.flags = flags;
    o.nh = nh;
    return o;
  }

  int run(squall_request* req) const {
    Ends ends = flags & (SQUALL_SEND_FINISH | SQUALL_SEND_ABORT) ? Ends::kYes : Ends::kNo;
    auto now = [&](HTTP1Connection* c) {
      int rc = apply(c, false);
      // Refused before anything was applied: the request is not ended.
      if (rc == kState && ends == Ends::kYes) R(req)->app.finished.store(false);
      return rc;
    };
    return on_loop(R(req), ends, now, [this] { return copy(); });
  }
};

// A call that only ends the response (finish or abort).
int send_flags(squall_request* req, unsigned flags) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(req, "request is NULL");
    Send s;
    s.flags = flags;
    return s.run(req);
  });
}

}  // namespace

extern "C" {

SQUALL_API int squall_response_status(squall_request* req, int code, const char* reason,
                                      size_t reason_len) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(req, "request is NULL");
    if (int rc = check_status(code)) return rc;
    std::string_view rs = view(reason, reason_len);
    if (rs.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos)
      return fail(kInval, "reason contains CR, LF or NUL");
    return on_loop(
        R(req), Ends::kNo, [&](HTTP1Connection* c) { return c->set_status(code, rs); },
        [&] {
          return [code, s = std::string(rs)](HTTP1Connection* c) { c->set_status(code, s); };
        });
  });
}

SQUALL_API int squall_response_header(squall_request* req, const char* name, size_t name_len,
                                      const char* value, size_t value_len) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(req, "request is NULL");
    SQ_CHECK_ARG(name && (value || value_len == 0 || value_len == SQUALL_NTS),
                 "name/value is NULL");
    Send s;
    s.set_one(view(name, name_len), view(value, value_len));
    if (int rc = check_header(s.name(0), s.value(0))) return rc;
    return s.run(req);
  });
}

SQUALL_API int squall_response_write(squall_request* req, const void* data, size_t len) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(req, "request is NULL");
    SQ_CHECK_ARG(data || len == 0, "data is NULL");
    Send s;
    s.body = std::string_view(static_cast<const char*>(data), len);
    if (len == 0) {
      // Nothing to write: still report the request's state.
      return on_loop(
          R(req), Ends::kNo, [](HTTP1Connection* c) { return c->write(nullptr, 0); },
          [] { return [](HTTP1Connection*) {}; });
    }
    return s.run(req);
  });
}

SQUALL_API int squall_response_flush(squall_request* req, squall_done_fn done, void* user_data) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(req, "request is NULL");
    auto flush = [done, user_data](HTTP1Connection* c) {
      std::function<void(int)> d;
      if (done) d = [done, user_data](int st) { done(st, user_data); };
      return c->flush(std::move(d));
    };
    return on_loop(R(req), Ends::kNo, flush, [&] { return flush; });
  });
}

SQUALL_API int squall_response_finish(squall_request* req) {
  return send_flags(req, SQUALL_SEND_FINISH);
}

SQUALL_API int squall_response_abort(squall_request* req) {
  return send_flags(req, SQUALL_SEND_ABORT);
}

SQUALL_API int squall_respond(squall_request* req, int code, const char* content_type,
                              size_t ct_len, const void* body, size_t body_len) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(req, "request is NULL");
    if (int rc = check_status(code)) return rc;
    SQ_CHECK_ARG(body || body_len == 0, "body is NULL");
    Send s;
    s.status = code;
    std::string_view ct = view(content_type, ct_len);
    if (!ct.empty()) {
      if (!is_valid_field_value(ct)) return fail(kInval, "content type contains CR, LF or NUL");
      s.set_one("Content-Type", ct);
    }
    s.respond = true;
    s.body = std::string_view(static_cast<const char*>(body), body_len);
    s.flags = SQUALL_SEND_FINISH;
    return s.run(req);
  });
}

SQUALL_API int squall_response_send(squall_request* req, int status, const squall_header* headers,
                                    size_t n_headers, const void* body, size_t len,
                                    unsigned flags) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(req, "request is NULL");
    SQ_CHECK_ARG(headers || n_headers == 0, "headers is NULL");
    SQ_CHECK_ARG(body || len == 0, "body is NULL");
    const unsigned known = SQUALL_SEND_FLUSH | SQUALL_SEND_FINISH | SQUALL_SEND_ABORT;
    SQ_CHECK_ARG((flags & ~known) == 0, "unknown flag");
    if (flags & SQUALL_SEND_ABORT) {
      SQ_CHECK_ARG(flags == SQUALL_SEND_ABORT && status == 0 && n_headers == 0 && len == 0,
                   "SQUALL_SEND_ABORT takes no status, header, body or other flag");
    }
    Send s;
    if (status != 0) {
      if (int rc = check_status(status)) return rc;
      s.status = status;
    }
    for (size_t i = 0; i < n_headers; i++) {
      const squall_header& h = headers[i];
      SQ_CHECK_ARG(h.name && (h.value || h.value_len == 0), "header name/value is NULL");
      if (int rc = check_header(view(h.name, h.name_len), view(h.value, h.value_len))) return rc;
    }
    s.hs = headers;
    s.nh = n_headers;
    s.body = std::string_view(static_cast<const char*>(body), len);
    s.flags = flags;
    return s.run(req);
  });
}

}  // extern "C"
