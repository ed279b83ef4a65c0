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
  // Field names and values always point into the head (the parser's views,
  // untouched until now): moved without the range test.
  const ptrdiff_t delta = nb - base;
  for (auto& h : head.headers) {
    *end_of(h.name) = '\0';
    *end_of(h.value) = '\0';
    h.name = std::string_view(h.name.data() + delta, h.name.size());
    h.value = std::string_view(h.value.data() + delta, h.value.size());
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
  new (&z_once_) std::once_flag;
  if (Derived* d = derived_.get()) {  // kept for the next request: no malloc
    new (&d->args_once) std::once_flag;
    new (&d->cookies_once) std::once_flag;
    new (&d->url_once) std::once_flag;
    d->query_args.clear();
    d->body_args.clear();
    d->all_args.clear();
    d->cookies.clear();
    d->files.clear();
    d->full_url.clear();
  }
}

void RequestData::shed_data() {
  std::string().swap(head_buf);
  std::vector<HeaderField>().swap(head.headers);
  std::string().swap(body);
  std::string().swap(remote_ip);
  derived_.reset();
  new (&derived_once_) std::once_flag;
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

RequestData::Derived& RequestData::derived() const {
  std::call_once(derived_once_, [this] { derived_ = std::make_unique<Derived>(); });
  return *derived_;
}

void RequestData::parse_args() const {
  Derived& d = derived();
  std::call_once(d.args_once, [this, &d] {
    parse_query(head.query, &d.query_args);
    std::string_view ct;
    if (head.get("Content-Type", &ct) && !body.empty())
      parse_body_arguments(ct, body, &d.body_args, &d.files);
    d.all_args = d.query_args;
    d.all_args.insert(d.all_args.end(), d.body_args.begin(), d.body_args.end());
  });
}

const std::vector<Pair>& RequestData::arguments(Args source) const {
  parse_args();
  const Derived& d = *derived_;
  return source == Args::kQuery ? d.query_args : source == Args::kBody ? d.body_args : d.all_args;
}

const std::vector<UploadedFile>& RequestData::files() const {
  parse_args();
  return derived_->files;
}

const std::vector<Pair>& RequestData::cookies() const {
  Derived& d = derived();
  std::call_once(d.cookies_once, [this, &d] {
    for (auto& h : head.headers)
      if (iequals(h.name, "Cookie")) parse_cookies(h.value, &d.cookies);
  });
  return d.cookies;
}

const std::string& RequestData::full_url() const {
  Derived& d = derived();
  std::call_once(d.url_once, [this, &d] {
    std::string& u = d.full_url;
    u = protocol;
    u += "://";
    u.append(host.data(), host.size());
    if (head.form == TargetForm::kAbsolute) {
      u.append(head.path.data(), head.path.size());
      if (!head.query.empty()) {
        u += '?';
        u.append(head.query.data(), head.query.size());
      }
    } else if (head.form == TargetForm::kOrigin) {
      u.append(head.target.data(), head.target.size());
    }
  });
  return d.full_url;
}

}  // namespace squall::http
