// Counterpart of tornado/ioloop.py: IOLoop (over one libevent event_base),
// call_later/call_at timers on the monotonic clock, add_callback (loop
// thread) and add_callback_threadsafe (any thread, eventfd wake-up, coalesced),
// PeriodicCallback, run/stop/close, IOLoop::current() per thread.
#pragma once

#include <event2/event.h>
#include <event2/event_struct.h>
#include <pthread.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace squall {

using Callback = std::function<void()>;
class IOLoop;

// Monotonic clock in microseconds.
int64_t monotonic_us();
// Wall clock in microseconds since the epoch.
int64_t wall_us();

// Anything that holds loop resources registers itself so that closing the
// loop can orphan it (fds closed, events deleted, loop pointer cleared).
class LoopObject {
 public:
  virtual ~LoopObject() = default;
  // Called on the loop thread when the loop closes; after it the object
  // must not touch the loop again.
  virtual void loop_closing() = 0;

 private:
  friend class IOLoop;
  LoopObject* lo_prev_ = nullptr;
  LoopObject* lo_next_ = nullptr;
  bool lo_linked_ = false;
};

// A one-shot or periodic timer (call_later / PeriodicCallback).  Timers live
// in the loop's ordered map (deadline, sequence): equal deadlines fire in
// registration order, as Tornado's heap of (deadline, counter) does.
class Timer : public LoopObject, public std::enable_shared_from_this<Timer> {
 public:
  ~Timer() override;
  // Stop the timer; the callback will not run again.  on_release (if set)
  // runs once, deferred to the loop when cancelling from inside the callback.
  void cancel();
  bool active() const { return active_; }
  // The loop this timer belonged to is gone.
  bool orphaned() const { return loop_ == nullptr; }
  IOLoop* loop() const { return loop_; }
  // Runs exactly once when the timer will never fire again.
  void set_on_release(Callback cb) { on_release_ = std::move(cb); }

 private:
  friend class IOLoop;
  Timer() = default;
  void fire();
  void loop_closing() override;
  void finish();

  IOLoop* loop_ = nullptr;
  std::pair<int64_t, uint64_t> key_{0, 0};
  bool scheduled_ = false;
  bool active_ = false;
  bool running_ = false;
  bool released_ = false;
  bool periodic_ = false;
  int64_t interval_us_ = 0;
  int64_t next_us_ = 0;
  Callback cb_;
  Callback on_release_;
  std::shared_ptr<Timer> self_;  // the loop's reference while active
};
using TimerPtr = std::shared_ptr<Timer>;

class IOLoop {
 public:
  IOLoop();
  ~IOLoop();
  IOLoop(const IOLoop&) = delete;
  IOLoop& operator=(const IOLoop&) = delete;

  // True if construction succeeded (event_base and eventfd available).
  bool ok() const { return base_ != nullptr; }
  event_base* base() const { return base_; }

  // The loop running on (or last made current on) this thread, or nullptr.
  static IOLoop* current();

  // Run until stop().  Returns kState if already running.
  int run();
  // One iteration: run the before-wait list, then wait up to timeout_ms (-1
  // forever, 0 poll) and run what became ready.  *stopped (if given) tells
  // whether a stop() was requested before or during the pass (consumed).
  int run_once(int timeout_ms, bool* stopped = nullptr);
  // Binds the loop to the calling thread for its life (pull dispatch, whose
  // thread drives the loop by run_once calls): in_loop_thread() is then true
  // only there, also between passes, so other threads' calls queue through
  // add_callback_threadsafe.  kThread if another thread holds it already.
  int pin_to_this_thread();
  // Loop thread: run fn(arg) once, before the loop next waits in run_once
  // (the pull dispatch writes a pipelined burst's responses there), or at
  // close.
  void before_wait(void (*fn)(void*), void* arg) { before_wait_.push_back({fn, arg}); }
  // Thread-safe.  A stop before run makes the next run return at once.
  void stop();
  // Run iterations without waiting until no callback is pending and no
  // event is active (at most max_passes); for tests that drive in-memory
  // transports.  Loop thread, loop not running.
  void run_until_idle(int max_passes = 1000);
  // Close: runs pending callbacks, orphans every LoopObject.  Loop thread.
  void close();
  bool closed() const { return closed_; }
  bool running() const { return running_.load(std::memory_order_acquire); }
  // True when the calling thread may touch this loop: it is running on this
  // thread, or it is not running at all.
  bool in_loop_thread() const;
  bool pinned() const { return pinned_; }

  // Loop thread: run cb on the next iteration (never inside this call).
  void add_callback(Callback cb);
  // Any thread: queue cb in call order and wake the loop (one eventfd write
  // per batch).  Returns false if the loop is closing (cb not queued).
  bool add_callback_threadsafe(Callback cb);

  TimerPtr call_later(int64_t delay_us, Callback cb);
  TimerPtr call_at(int64_t when_monotonic_us, Callback cb);
  // PeriodicCallback: every interval_us, skipping missed ticks.
  TimerPtr call_every(int64_t interval_us, Callback cb);

  // Timer queue (used by Timer).
  void schedule_timer(Timer* t, int64_t deadline_us);
  void unschedule_timer(Timer* t);

  void register_object(LoopObject* o);
  void unregister_object(LoopObject* o);

  // "Sun, 06 Nov 1994 08:49:37 GMT", refreshed at most once a second.
  std::string_view http_date();
  // Pool of fixed-size read buffers shared by the loop's streams, so an idle
  // connection holds no buffer and an active one does not hit malloc.
  static constexpr size_t kBlockSize = 16 * 1024;
  char* take_block();
  void give_block(char* b);

  // A handle other threads may keep to reach this loop safely after it is
  // gone: post() fails once the loop closed.
  struct Token {
    std::mutex mu;
    IOLoop* loop = nullptr;
  };
  const std::shared_ptr<Token>& token() const { return token_; }
  // Any thread: queue cb on the token's loop; false if the loop is gone.
  static bool post(const std::shared_ptr<Token>& t, Callback cb);

  // Opaque slot for the C facade (squall_loop back pointer).
  void* user_data = nullptr;

 private:
  class Running;
  static void on_wake(evutil_socket_t fd, short, void* arg);
  static void on_timers(evutil_socket_t, short, void* arg);
  void arm_timer_event();
  void drain_callbacks();
  void run_before_wait();

  event_base* base_ = nullptr;
  int wake_fd_ = -1;
  struct event wake_ev_;
  std::mutex mu_;
  std::vector<Callback> pending_;
  std::vector<Callback> running_cbs_;
  bool wake_pending_ = false;  // guarded by mu_
  std::atomic<bool> running_{false};
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> closing_{false};
  bool closed_ = false;
  pthread_t runner_{};
  bool pinned_ = false;  // runner_ is the loop's thread for good
  std::vector<std::pair<void (*)(void*), void*>> before_wait_, before_wait_running_;
  LoopObject* objects_ = nullptr;
  int64_t date_sec_ = -1;
  char date_[40] = {0};
  std::map<std::pair<int64_t, uint64_t>, Timer*> timers_;
  uint64_t timer_seq_ = 0;
  struct event timer_ev_;
  int64_t timer_armed_at_ = INT64_MAX;
  std::vector<char*> free_blocks_;
  std::shared_ptr<Token> token_;
};

}  // namespace squall
