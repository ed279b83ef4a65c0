// Counterpart of tornado/httputil.py HTTPServerRequest (arguments, files,
// cookies, full_url, request_time).
#include "core/http/request.h"

namespace squall::http {

void RequestData::adopt_head(const char* base, size_t len) {
  // Room for the copies terminated() may append (path, host, host name).
  head_buf.reserve(len + 1 + head.path.size() + host.size() + host_name.size() + 3);
  head_buf.assign(base, len);  // a std::string keeps a NUL after its size
  char* nb = head_buf.data();
  // Repoint a view into head_buf (static strings stay where they are).
  auto move = [base, len, nb](std::string_view* v) {
    if (v->data() >= base && v->data() + v->size() <= base + len)
      *v = std::string_view(nb + (v->data() - base), v->size());
  };
  // Terminate in place the views followed by a byte no view includes: the
  // method (SP), the target and the query at its end (SP), each field name
  // (':') and value (OWS, CR or LF).  The others get terminated copies when
  // first asked for (terminated()).
  auto end_of = [nb, base](std::string_view v) { return nb + (v.data() - base) + v.size(); };
  for (auto* v : {&head.method, &head.target}) {
    *end_of(*v) = '\0';
    move(v);
  }
  for (auto* v :
       {&head.path, &head.query, &head.scheme, &head.authority, &head.host, &host, &host_name})
    move(v);
  for (auto& h : head.headers) {
    *end_of(h.name) = '\0';
    *end_of(h.value) = '\0';
    move(&h.name);
    move(&h.value);
  }
}

RequestData::Terminated RequestData::terminated() const {
  const std::string_view v[3] = {head.path, host, host_name};
  std::call_once(z_once_, [this, &v] {
    // Every view here points into head_buf (NUL-terminated) or at a static
    // string, so the byte after it can be read.
    auto& buf = const_cast<std::string&>(head_buf);
    for (int i = 0; i < 3; i++) {
      z_off_[i] = 0;
      if (!v[i].data() || v[i].data()[v[i].size()] == '\0') continue;
      z_off_[i] = uint32_t(buf.size());
      buf.append(v[i].data(), v[i].size());  // within the reserve: no view moves
      buf.push_back('\0');
    }
  });
  auto at = [this, &v](int i) {
    return z_off_[i] ? std::string_view(head_buf.data() + z_off_[i], v[i].size()) : v[i];
  };
  return {at(0), at(1), at(2)};
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
  new (&z_once_) std::once_flag;
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
