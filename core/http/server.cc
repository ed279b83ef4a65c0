// Counterpart of tornado/httpserver.py (HTTPServer).
#include "core/http/server.h"

#include "core/http/connection.h"
#include "core/status.h"

namespace squall::http {

HTTPServer::HTTPServer(IOLoop* loop, HTTPConfig config, ServerDelegate* app)
    : TCPServer(loop), config_(std::move(config)), app_(app) {
  // Every connection comes from a listener of this server, or (a group) of
  // the first loop's server, built from the same configuration.
  if (config_.conn.nodelay) {
    set_listener_nodelay(true);
    config_.conn.nodelay_inherited = true;
  }
}

HTTPServer::~HTTPServer() {
  stop();
  close_all();
  // Connections still alive (held by requests the application owns) forget us.
  for (auto* c : conns_) c->owner_gone();
  conns_.clear();
}

uint64_t HTTPServer::stat(int i) const {
  if (i == kStatAcceptPauses) return counters_.get(i) + accept_pauses();
  return counters_.get(i);
}

void HTTPServer::handle_stream(IOStreamPtr stream) {
  if (shutting_down_) {
    stream->close(0);
    return;
  }
  counters_.add(kStatAccepted);
  auto* c = new HTTP1Connection(&config_.conn, this, std::move(stream));
  c->list_index = conns_.size();
  conns_.push_back(c);
  c->start();
}

void HTTPServer::connection_opened(HTTP1Connection*) {
  open_++;
  counters_.add(kStatOpen);
  if (config_.max_connections && open_ >= config_.max_connections) {
    counters_.add(kStatAcceptPauses);
    pause_accepting();
  }
}

void HTTPServer::connection_closed(HTTP1Connection*) {
  if (open_ > 0) open_--;
  counters_.sub(kStatOpen);
  if (config_.max_connections && open_ < config_.max_connections && !shutting_down_)
    resume_accepting();
  if (shutting_down_) check_shutdown_done();
}

void HTTPServer::connection_destroyed(HTTP1Connection* c) {
  size_t i = c->list_index;
  if (i < conns_.size() && conns_[i] == c) {
    conns_[i] = conns_.back();
    conns_[i]->list_index = i;
    conns_.pop_back();
  }
}

void HTTPServer::close_all() {
  std::vector<HTTP1Connection*> v = conns_;
  for (auto* c : v) {
    c->ref();
    c->close_now(kClosed);
  }
  for (auto* c : v) c->unref();
}

void HTTPServer::orphan_server() {
  for (auto* c : conns_) c->owner_gone();
  conns_.clear();
  orphan();
}

void HTTPServer::report(int kind, int status, std::string_view msg, std::string_view peer) {
  int64_t now = monotonic_us();
  if (now - err_window_start_ >= 1000000) {
    err_window_start_ = now;
    err_in_window_ = 0;
  }
  if (config_.error_rate > 0 && err_in_window_ >= config_.error_rate) {
    err_suppressed_++;
    return;
  }
  err_in_window_++;
  std::string text(msg);
  if (err_suppressed_) {
    text += " (" + std::to_string(err_suppressed_) + " similar messages suppressed)";
    err_suppressed_ = 0;
  }
  if (app_->has_error_hook()) {
    app_->on_error(kind, status, text, peer);
  } else if (log_enabled(kInfo)) {
    log(kInfo, std::string(peer) + ": " + text);
  }
}

void HTTPServer::shutdown(int64_t grace_ms, std::function<void(int)> done) {
  stop(true);
  if (shutting_down_) {
    // A second shutdown only adds its callback.
    auto prev = std::move(shutdown_done_);
    shutdown_done_ = [prev, done](int st) {
      if (prev) prev(st);
      if (done) done(st);
    };
    check_shutdown_done();
    return;
  }
  shutting_down_ = true;
  shutdown_done_ = std::move(done);
  std::vector<HTTP1Connection*> v = conns_;
  for (auto* c : v) c->ref();
  for (auto* c : v)
    if (!c->is_closed() && c->idle_keep_alive()) c->close_now(kClosed);
  for (auto* c : v) c->unref();
  if (grace_ms >= 0 && loop()) {
    shutdown_timer_ = loop()->call_later(grace_ms * 1000, [this] {
      shutdown_timer_.reset();
      if (open_ == 0) return;
      close_all();
      auto d = std::move(shutdown_done_);
      shutdown_done_ = nullptr;
      if (d) d(kTimedOut);
    });
  }
  if (loop()) loop()->add_callback([this] { check_shutdown_done(); });
}

void HTTPServer::check_shutdown_done() {
  if (!shutting_down_ || open_ != 0 || !shutdown_done_) return;
  if (shutdown_timer_) {
    shutdown_timer_->cancel();
    shutdown_timer_.reset();
  }
  auto d = std::move(shutdown_done_);
  shutdown_done_ = nullptr;
  d(kOk);
}

}  // namespace squall::http
