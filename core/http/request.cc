// Counterpart of tornado/httputil.py HTTPServerRequest (arguments, files,
// cookies, full_url, request_time).
#include "core/http/request.h"

namespace squall::http {

namespace {
void rebase(std::string_view* v, const char* old_base, size_t len, const char* new_base) {
  if (v->data() >= old_base && v->data() + v->size() <= old_base + len && v->data())
    *v = std::string_view(new_base + (v->data() - old_base), v->size());
}
}  // namespace

void Request::adopt_head(const char* base, size_t len) {
  head_buf.assign(base, len);
  const char* nb = head_buf.data();
  for (auto* v : {&head.method, &head.target, &head.path, &head.query, &head.scheme,
                  &head.authority, &head.host})
    rebase(v, base, len, nb);
  for (auto& h : head.headers) {
    rebase(&h.name, base, len, nb);
    rebase(&h.value, base, len, nb);
  }
}

void Request::reset() {
  head.clear();
  body.clear();
  if (body.capacity() > 64 * 1024) body.shrink_to_fit();
  remote_ip.clear();
  host = host_name = {};
  body_sink = nullptr;
  body_sink_release.reset();
  status = 200;
  reason.clear();
  resp_headers.clear();
  resp_body.clear();
  if (resp_body.capacity() > 64 * 1024) resp_body.shrink_to_fit();
  has_date = has_server = has_connection = has_content_type = conn_close_header = false;
  declared_length = -1;
  headers_sent = chunked_out = close_delimited = finished = false;
  body_bytes_out = bytes_out = 0;
  on_done = nullptr;
  done_fired = false;
  app_finished.store(false, std::memory_order_relaxed);
  on_done_set.store(false, std::memory_order_relaxed);
  dispatched = in_hook = false;
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

void Request::parse_args() const {
  std::call_once(args_once_, [this] {
    parse_query(head.query, &query_args_);
    std::string_view ct;
    if (head.get("Content-Type", &ct) && !body.empty())
      parse_body_arguments(ct, body, &body_args_, &files_);
    all_args_ = query_args_;
    all_args_.insert(all_args_.end(), body_args_.begin(), body_args_.end());
  });
}

const std::vector<Pair>& Request::query_arguments() const {
  parse_args();
  return query_args_;
}
const std::vector<Pair>& Request::body_arguments() const {
  parse_args();
  return body_args_;
}
const std::vector<Pair>& Request::all_arguments() const {
  parse_args();
  return all_args_;
}
const std::vector<UploadedFile>& Request::files() const {
  parse_args();
  return files_;
}

const std::vector<Pair>& Request::cookies() const {
  std::call_once(cookies_once_, [this] {
    for (auto& h : head.headers)
      if (iequals(h.name, "Cookie")) parse_cookies(h.value, &cookies_);
  });
  return cookies_;
}

const std::string& Request::full_url() const {
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
