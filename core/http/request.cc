// Counterpart of tornado/httputil.py HTTPServerRequest (arguments, files,
// cookies, full_url, request_time).
#include "core/http/request.h"

namespace squall::http {

namespace {

struct HeadCopy {
  const char* base;
  size_t len;
  bool inside(std::string_view v) const {
    return v.data() && v.data() >= base && v.data() + v.size() <= base + len;
  }
};

}  // namespace

void RequestData::adopt_head(const char* base, size_t len) {
  const HeadCopy src{base, len};
  // Views that end inside another view (the path before '?', the scheme and
  // authority of an absolute-form target, a host name before ':') cannot be
  // terminated in place: they get a terminated copy after the head.  The
  // rest end where the target or a field value ends, or at SP or ':'.
  const char* tend = head.target.data() + head.target.size();
  const char* hend = head.host.data() ? head.host.data() + head.host.size() : nullptr;
  std::string_view* copies[5];
  int ncopies = 0;
  size_t extra = 0;
  for (auto* v : {&head.path, &head.scheme, &head.authority, &host, &host_name}) {
    const char* e = v->data() + v->size();
    if (src.inside(*v) && e != tend && e != hend) {
      copies[ncopies++] = v;
      extra += v->size() + 1;
    }
  }
  head_buf.clear();
  head_buf.reserve(len + 1 + extra);
  head_buf.append(base, len);
  head_buf.push_back('\0');
  char* nb = head_buf.data();
  // Repoint a view into head_buf; terminate it there if asked.
  auto move = [&](std::string_view* v, bool terminate) {
    if (!src.inside(*v)) return;
    size_t off = size_t(v->data() - base);
    *v = std::string_view(nb + off, v->size());
    if (terminate) nb[off + v->size()] = '\0';
  };
  auto copy = [&](std::string_view* v) {
    size_t off = head_buf.size();
    head_buf.append(v->data(), v->size());
    head_buf.push_back('\0');  // within the reserve: nb stays valid
    *v = std::string_view(nb + off, v->size());
  };
  for (int i = 0; i < ncopies; i++) copy(copies[i]);
  // In place: each of these is followed by a delimiter no view includes
  // (SP, ':', OWS, CR or LF), or ends where the target ends.
  move(&head.method, true);
  move(&head.target, true);
  move(&head.query, true);
  move(&head.path, true);
  move(&head.scheme, true);
  move(&head.authority, true);
  move(&head.host, true);
  move(&host, true);
  move(&host_name, true);
  for (auto& h : head.headers) {
    move(&h.name, true);
    move(&h.value, true);
  }
}

void RequestData::reset_data() {
  head.clear();
  body.clear();
  if (body.capacity() > 64 * 1024) body.shrink_to_fit();
  remote_ip.clear();
  protocol = version = host = host_name = {};
  // once_flags cannot be reset: re-create them in place.
  new (&args_once_) std::once_flag;
  new (&cookies_once_) std::once_flag;
  new (&url_once_) std::once_flag;
  query_args_.clear();
  body_args_.clear();
  all_args_.clear();
  cookies_.clear();
  files_.clear();
  full_url_.clear();
}

void ResponseState::reset() {
  status = 200;
  reason.clear();
  fields.clear();
  body.clear();
  if (body.capacity() > 64 * 1024) body.shrink_to_fit();
  has_date = has_server = has_connection = conn_close_header = false;
  declared_length = -1;
  finished = false;
  enc.reset();
  on_done = nullptr;
  done_fired = false;
}

void Request::reset() {
  reset_data();
  drop_body_sink();
  out.reset();
  app.reset();
}

void RequestData::parse_args() const {
  std::call_once(args_once_, [this] {
    parse_query(head.query, &query_args_);
    std::string_view ct;
    if (head.get("Content-Type", &ct) && !body.empty())
      parse_body_arguments(ct, body, &body_args_, &files_);
    all_args_ = query_args_;
    all_args_.insert(all_args_.end(), body_args_.begin(), body_args_.end());
  });
}

const std::vector<Pair>& RequestData::arguments(Args source) const {
  parse_args();
  return source == Args::kQuery ? query_args_ : source == Args::kBody ? body_args_ : all_args_;
}

const std::vector<UploadedFile>& RequestData::files() const {
  parse_args();
  return files_;
}

const std::vector<Pair>& RequestData::cookies() const {
  std::call_once(cookies_once_, [this] {
    for (auto& h : head.headers)
      if (iequals(h.name, "Cookie")) parse_cookies(h.value, &cookies_);
  });
  return cookies_;
}

const std::string& RequestData::full_url() const {
  std::call_once(url_once_, [this] {
    full_url_ = protocol;
    full_url_ += "://";
    full_url_.append(host.data(), host.size());
    if (head.form == TargetForm::kAbsolute) {
      full_url_.append(head.path.data(), head.path.size());
      if (!head.query.empty()) {
        full_url_ += '?';
        full_url_.append(head.query.data(), head.query.size());
      }
    } else if (head.form == TargetForm::kOrigin) {
      full_url_.append(head.target.data(), head.target.size());
    }
  });
  return full_url_;
}

}  // namespace squall::http
