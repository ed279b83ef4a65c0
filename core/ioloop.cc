// Counterpart of tornado/ioloop.py (IOLoop, PeriodicCallback).
#include "core/ioloop.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/time.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "core/status.h"

namespace squall {

namespace {
thread_local IOLoop* tl_current = nullptr;
}

int64_t monotonic_us() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

int64_t wall_us() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

namespace {
// A write to a socket whose peer left must fail with EPIPE, not end the
// process: SIGPIPE is ignored unless the application chose a handler.
// (Our own sockets use MSG_NOSIGNAL; OpenSSL's socket BIO uses write(2).)
void ignore_sigpipe_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa;
    if (sigaction(SIGPIPE, nullptr, &sa) == 0 && sa.sa_handler == SIG_DFL &&
        !(sa.sa_flags & SA_SIGINFO)) {
      signal(SIGPIPE, SIG_IGN);
    }
  });
}
}  // namespace

IOLoop::IOLoop() {
  ignore_sigpipe_once();
  event_config* cfg = event_config_new();
  if (!cfg) return;
  // One loop per thread and no libevent locking: the only cross-thread entry
  // is the eventfd below.
  event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
  // Timers on the precise monotonic clock (libevent defaults to the coarse one).
  event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
  base_ = event_base_new_with_config(cfg);
  event_config_free(cfg);
  if (!base_) return;
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) {
    event_base_free(base_);
    base_ = nullptr;
    return;
  }
  event_assign(&wake_ev_, base_, wake_fd_, EV_READ | EV_PERSIST, &IOLoop::on_wake, this);
  event_add(&wake_ev_, nullptr);
  evtimer_assign(&timer_ev_, base_, &IOLoop::on_timers, this);
  token_ = std::make_shared<Token>();
  token_->loop = this;
  if (!tl_current) tl_current = this;
}

bool IOLoop::post(const std::shared_ptr<Token>& t, Callback cb) {
  std::lock_guard<std::mutex> lk(t->mu);
  if (!t->loop) return false;
  return t->loop->add_callback_threadsafe(std::move(cb));
}

IOLoop::~IOLoop() {
  if (!closed_) close();
  for (char* b : free_blocks_) free(b);
  if (tl_current == this) tl_current = nullptr;
}

char* IOLoop::take_block() {
  if (!free_blocks_.empty()) {
    char* b = free_blocks_.back();
    free_blocks_.pop_back();
    return b;
  }
  return static_cast<char*>(malloc(kBlockSize));
}

void IOLoop::give_block(char* b) {
  if (free_blocks_.size() < 1024)
    free_blocks_.push_back(b);
  else
    free(b);
}

IOLoop* IOLoop::current() { return tl_current; }

bool IOLoop::in_loop_thread() const {
  if (!pinned_ && !running_.load(std::memory_order_acquire)) return true;
  return pthread_equal(runner_, pthread_self());
}

int IOLoop::pin_to_this_thread() {
  if (pinned_) {
    if (!pthread_equal(runner_, pthread_self()))
      return fail(kThread, "the loop is bound to another thread (its first poll)");
    return kOk;
  }
  if (running_.load()) return fail(kState, "loop is already running");
  runner_ = pthread_self();
  pinned_ = true;
  return kOk;
}

void IOLoop::run_before_wait() {
  while (!before_wait_.empty()) {
    before_wait_running_.swap(before_wait_);
    for (auto& [fn, arg] : before_wait_running_) fn(arg);
    before_wait_running_.clear();
  }
}

// Marks the loop as running on this thread for the life of a run call.
class IOLoop::Running {
 public:
  explicit Running(IOLoop* l) : loop_(l), prev_(tl_current) {
    l->runner_ = pthread_self();
    tl_current = l;
    l->running_.store(true, std::memory_order_release);
  }
  ~Running() {
    loop_->running_.store(false, std::memory_order_release);
    tl_current = prev_ ? prev_ : loop_;
  }
  static int check(const IOLoop* l) {
    if (!l->base_ || l->closed_) return fail(kClosed, "loop is closed");
    if (l->running_.load()) return fail(kState, "loop is already running");
    if (l->pinned_ && !pthread_equal(l->runner_, pthread_self()))
      return fail(kThread, "the loop is bound to another thread (its first poll)");
    return kOk;
  }

 private:
  IOLoop* loop_;
  IOLoop* prev_;
};

int IOLoop::run() {
  if (int rc = Running::check(this)) return rc;
  Running running(this);
  if (stop_requested_.exchange(false)) {
    // Tornado: a stop() before start makes the loop return after one pass.
    event_base_loop(base_, EVLOOP_NONBLOCK);
  } else {
    while (!stop_requested_.load()) {
      int r = event_base_loop(base_, EVLOOP_NO_EXIT_ON_EMPTY);
      if (r < 0) break;
      if (event_base_got_break(base_)) break;
    }
    stop_requested_.store(false);
  }
  return kOk;
}

int IOLoop::run_once(int timeout_ms, bool* stopped) {
  if (int rc = Running::check(this)) return rc;
  Running running(this);
  run_before_wait();
  if (timeout_ms == 0) {
    event_base_loop(base_, EVLOOP_NONBLOCK);
  } else {
    struct event* t = nullptr;
    if (timeout_ms > 0) {
      // A timer that only ends the wait.
      t = evtimer_new(
          base_, [](evutil_socket_t, short, void*) {}, nullptr);
      timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
      evtimer_add(t, &tv);
    }
    event_base_loop(base_, EVLOOP_ONCE);
    if (t) event_free(t);
  }
  bool s = stop_requested_.exchange(false);
  if (stopped) *stopped = s;
  return kOk;
}

void IOLoop::run_until_idle(int max_passes) {
  for (int i = 0; i < max_passes; i++) {
    run_once(0);
    std::lock_guard<std::mutex> lk(mu_);
    if (pending_.empty()) return;
  }
}

void IOLoop::stop() {
  stop_requested_.store(true);
  if (!base_) return;
  if (running_.load() && pthread_equal(runner_, pthread_self())) {
    event_base_loopbreak(base_);
    return;
  }
  add_callback_threadsafe([this] { event_base_loopbreak(base_); });
}

void IOLoop::add_callback(Callback cb) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    pending_.push_back(std::move(cb));
    if (wake_pending_) return;
    wake_pending_ = true;
  }
  // Same thread: activate the wake event without a syscall.
  event_active(&wake_ev_, EV_READ, 0);
}

bool IOLoop::add_callback_threadsafe(Callback cb) {
  if (closing_.load(std::memory_order_acquire)) return false;
  bool need_wake;
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (closed_) return false;
    pending_.push_back(std::move(cb));
    need_wake = !wake_pending_;
    wake_pending_ = true;
  }
  if (need_wake) {
    if (running_.load(std::memory_order_acquire) && pthread_equal(runner_, pthread_self())) {
      event_active(&wake_ev_, EV_READ, 0);
    } else {
      uint64_t one = 1;
      ssize_t r;
      do {
        r = write(wake_fd_, &one, sizeof one);
      } while (r < 0 && errno == EINTR);
    }
  }
  return true;
}

void IOLoop::on_wake(evutil_socket_t fd, short, void* arg) {
  auto* self = static_cast<IOLoop*>(arg);
  uint64_t v;
  while (read(fd, &v, sizeof v) > 0) {
  }
  self->drain_callbacks();
}

void IOLoop::drain_callbacks() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    running_cbs_.swap(pending_);
    wake_pending_ = false;
  }
  // Callbacks added while these run wait for the next iteration (Tornado).
  for (auto& cb : running_cbs_) {
    try {
      cb();
    } catch (...) {
      log(kLogError, "exception escaped a loop callback");
    }
  }
  running_cbs_.clear();
  if (running_cbs_.capacity() > 1024) running_cbs_.shrink_to_fit();
}

void IOLoop::close() {
  if (closed_) return;
  if (token_) {
    std::lock_guard<std::mutex> lk(token_->mu);
    token_->loop = nullptr;
  }
  closing_.store(true, std::memory_order_release);
  run_before_wait();
  // Run what is queued (exactly-once promise of call_soon); callbacks queued
  // by these run too, until the queue is empty.
  for (int rounds = 0; rounds < 1000; rounds++) {
    bool empty;
    {
      std::lock_guard<std::mutex> lk(mu_);
      empty = pending_.empty();
    }
    if (empty) break;
    drain_callbacks();
  }
  // Orphan everything still registered.
  while (objects_) {
    LoopObject* o = objects_;
    unregister_object(o);
    o->loop_closing();
  }
  {
    std::lock_guard<std::mutex> lk(mu_);
    closed_ = true;
  }
  drain_callbacks();  // anything the orphaning queued (releases)
  if (base_) {
    event_del(&wake_ev_);
    event_del(&timer_ev_);
    event_base_free(base_);
    base_ = nullptr;
  }
  if (wake_fd_ >= 0) ::close(wake_fd_);
  wake_fd_ = -1;
}

void IOLoop::register_object(LoopObject* o) {
  if (o->lo_linked_) return;
  o->lo_prev_ = nullptr;
  o->lo_next_ = objects_;
  if (objects_) objects_->lo_prev_ = o;
  objects_ = o;
  o->lo_linked_ = true;
}

void IOLoop::unregister_object(LoopObject* o) {
  if (!o->lo_linked_) return;
  if (o->lo_prev_)
    o->lo_prev_->lo_next_ = o->lo_next_;
  else
    objects_ = o->lo_next_;
  if (o->lo_next_) o->lo_next_->lo_prev_ = o->lo_prev_;
  o->lo_prev_ = o->lo_next_ = nullptr;
  o->lo_linked_ = false;
}

std::string_view IOLoop::http_date() {
  timeval tv;
  if (!base_ || event_base_gettimeofday_cached(base_, &tv) != 0) gettimeofday(&tv, nullptr);
  if (tv.tv_sec != date_sec_) {
    date_sec_ = tv.tv_sec;
    time_t t = tv.tv_sec;
    struct tm g;
    gmtime_r(&t, &g);
    strftime(date_, sizeof date_, "%a, %d %b %Y %H:%M:%S GMT", &g);
  }
  return date_;
}

// ---------------------------------------------------------------- timers

void IOLoop::schedule_timer(Timer* t, int64_t deadline) {
  if (t->scheduled_) timers_.erase(t->key_);
  t->key_ = {deadline, ++timer_seq_};
  timers_.emplace(t->key_, t);
  t->scheduled_ = true;
  if (deadline < timer_armed_at_) arm_timer_event();
}

void IOLoop::unschedule_timer(Timer* t) {
  if (!t->scheduled_) return;
  timers_.erase(t->key_);
  t->scheduled_ = false;
}

void IOLoop::arm_timer_event() {
  if (!base_) return;
  if (timers_.empty()) {
    event_del(&timer_ev_);
    timer_armed_at_ = INT64_MAX;
    return;
  }
  int64_t when = timers_.begin()->first.first;
  int64_t delay = when - monotonic_us();
  if (delay < 0) delay = 0;
  timeval tv{time_t(delay / 1000000), suseconds_t(delay % 1000000)};
  event_add(&timer_ev_, &tv);
  timer_armed_at_ = when;
}

void IOLoop::on_timers(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<IOLoop*>(arg);
  self->timer_armed_at_ = INT64_MAX;
  int64_t now = monotonic_us();
  // Timers scheduled by the callbacks below wait for the next pass.
  uint64_t last_seq = self->timer_seq_;
  std::vector<std::shared_ptr<Timer>> due;
  for (auto it = self->timers_.begin(); it != self->timers_.end() && it->first.first <= now;) {
    if (it->first.second > last_seq) {
      ++it;
      continue;
    }
    Timer* t = it->second;
    t->scheduled_ = false;
    due.push_back(t->shared_from_this());
    it = self->timers_.erase(it);
  }
  for (auto& t : due) {
    if (self->closed_) break;
    t->fire();
  }
  if (!self->closed_) self->arm_timer_event();
}

TimerPtr IOLoop::call_later(int64_t delay_us, Callback cb) {
  auto t = std::shared_ptr<Timer>(new Timer());
  t->loop_ = this;
  t->cb_ = std::move(cb);
  register_object(t.get());
  t->self_ = t;
  t->active_ = true;
  schedule_timer(t.get(), monotonic_us() + (delay_us < 0 ? 0 : delay_us));
  return t;
}

TimerPtr IOLoop::call_at(int64_t when, Callback cb) {
  return call_later(when - monotonic_us(), std::move(cb));
}

TimerPtr IOLoop::call_every(int64_t interval_us, Callback cb) {
  auto t = call_later(interval_us, std::move(cb));
  t->periodic_ = true;
  t->interval_us_ = interval_us;
  t->next_us_ = t->key_.first;
  return t;
}

Timer::~Timer() {
  if (loop_) {
    loop_->unschedule_timer(this);
    loop_->unregister_object(this);
  }
}

void Timer::fire() {
  if (!active_) return;
  running_ = true;
  if (periodic_) {
    try {
      cb_();
    } catch (...) {
      log(kLogError, "exception escaped a periodic callback");
    }
    running_ = false;
    if (active_ && loop_) {
      // Skip missed ticks: the next deadline is the first multiple of the
      // interval after now (Tornado's PeriodicCallback._update_next).
      int64_t now = monotonic_us();
      next_us_ += interval_us_;
      if (next_us_ <= now) {
        int64_t missed = (now - next_us_) / interval_us_ + 1;
        next_us_ += missed * interval_us_;
      }
      loop_->schedule_timer(this, next_us_);
    } else {
      finish();
    }
    return;
  }
  active_ = false;
  try {
    cb_();
  } catch (...) {
    log(kLogError, "exception escaped a timer callback");
  }
  running_ = false;
  finish();
}

void Timer::finish() {
  if (released_) return;
  released_ = true;
  auto keep = std::move(self_);  // may be the last reference: drop at the end
  cb_ = nullptr;
  if (loop_) {
    loop_->unschedule_timer(this);
    loop_->unregister_object(this);
  }
  Callback r = std::move(on_release_);
  on_release_ = nullptr;
  if (r) r();
}

void Timer::cancel() {
  if (!active_) return;
  active_ = false;
  if (loop_) loop_->unschedule_timer(this);
  if (running_) return;  // fire() finishes (and releases) after cb returns
  if (loop_) {
    // Release deferred so it never runs inside the caller's frame.
    auto self = shared_from_this();
    loop_->add_callback([self] { self->finish(); });
  } else {
    finish();
  }
}

void Timer::loop_closing() {
  active_ = false;
  if (loop_) loop_->unschedule_timer(this);
  loop_ = nullptr;
  finish();
}

}  // namespace squall
