// squall_group_*: one HTTP server served by N loops on N threads, its
// graceful drain, signal handling and zero-downtime restart; and the
// process calls (squall_fork_processes, squall_task_id, squall_listen_fds).
//
// Balancing: by default loop 0 accepts and hands each new connection to the
// loop with the fewest open connections (counting hand-offs in flight), so
// N loops share the load evenly whatever the kernel's hash does; with
// SQUALL_OPT_REUSE_PORT each loop listens on its own SO_REUSEPORT socket
// and the kernel spreads connections (bench/scale measures both).
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "capi/guard.h"
#include "capi/handles.h"
#include "core/netutil.h"
#include "core/process.h"

using namespace squall;
using capi::guard;

struct squall_group {
  std::vector<squall_loop*> loops;
  std::vector<squall_server*> servers;
  std::unique_ptr<std::atomic<int>[]> handoffs;  // posted, not yet adopted, per loop
  std::vector<std::thread> threads;
  size_t next_rr = 0;  // loop 0 only
  void* user_data = nullptr;
  squall_release_fn release = nullptr;
  bool reuse_port = false;
  bool started = false;
  // Set by squall_group_free once the loop threads are joined: callbacks
  // still queued run inside squall_loop_free, after the servers are gone.
  bool freeing = false;
  // Shutdown: done runs once, when every server has drained.
  std::mutex mu;
  int draining = 0;
  int worst = 0;
  squall_done_fn done = nullptr;
  void* done_ud = nullptr;
  // Signals.
  std::thread sig_thread;
  int sig_pipe[2] = {-1, -1};  // wakes the signal thread at free
  int64_t grace_ms = 30000;
  std::vector<std::string> restart_argv;
};

namespace {

http::HTTPServer* srv_of(squall_server* s) { return static_cast<http::HTTPServer*>(s->tcp()); }

int check_group(const squall_group* g) {
  if (!g) return fail(kInval, "group is NULL");
  return kOk;
}

// The hand-off (loop 0, for each accepted connection): the loop with the
// fewest connections open or on their way takes it.
bool dispatch(squall_group* g, int fd) {
  size_t n = g->servers.size(), best = 0;
  uint64_t best_load = UINT64_MAX;
  // Ties go round: start the search one further each time.
  size_t start = g->next_rr++ % n;
  for (size_t k = 0; k < n; k++) {
    size_t i = (start + k) % n;
    uint64_t load = srv_of(g->servers[i])->stat(http::kStatOpen) +
                    uint64_t(g->handoffs[i].load(std::memory_order_relaxed));
    if (load < best_load) {
      best_load = load;
      best = i;
    }
  }
  if (best == 0) return false;
  http::HTTPServer* to = srv_of(g->servers[best]);
  std::atomic<int>* pending = &g->handoffs[best];
  pending->fetch_add(1, std::memory_order_relaxed);
  bool posted = IOLoop::post(g->loops[best]->loop.token(), [to, fd, pending] {
    pending->fetch_sub(1, std::memory_order_relaxed);
    to->adopt(fd);
  });
  if (!posted) {
    pending->fetch_sub(1, std::memory_order_relaxed);
    return false;  // that loop is gone: serve it here
  }
  return true;
}

void drained(squall_group* g, int st) {
  squall_done_fn fn = nullptr;
  void* ud = nullptr;
  int worst = 0;
  {
    std::lock_guard<std::mutex> lock(g->mu);
    if (st != 0) g->worst = st;
    if (--g->draining > 0) return;
    fn = g->done;
    ud = g->done_ud;
    worst = g->worst;
    g->done = nullptr;
  }
  if (fn) fn(worst, ud);
}

void stop_all(squall_group* g) {
  for (auto* l : g->loops) squall_loop_stop(l);
}

// A byte on SQUALL_READY_FD tells a predecessor (zero-downtime restart) that
// this process serves now.
void tell_ready() {
  const char* v = getenv("SQUALL_READY_FD");
  if (!v) return;
  int fd = atoi(v);
  unsetenv("SQUALL_READY_FD");
  if (fd > 2) {
    ssize_t w = write(fd, "1", 1);
    (void)w;
    close(fd);
  }
}

void signal_main(squall_group* g, sigset_t set) {
  bool draining = false;
  for (;;) {
    // sigwait with a way out: poll the wake pipe between short waits.
    timespec tick{0, 100 * 1000 * 1000};
    int sig = sigtimedwait(&set, nullptr, &tick);
    pollfd p{g->sig_pipe[0], POLLIN, 0};
    if (poll(&p, 1, 0) > 0) return;
    if (sig <= 0) continue;
    if (sig == SIGUSR2 && !g->restart_argv.empty() && !draining) {
      int ready[2];
      if (pipe2(ready, O_CLOEXEC) != 0) continue;
      std::vector<int> fds;
      for (auto* s : g->servers)
        for (int fd : srv_of(s)->listening_fds()) fds.push_back(fd);
      std::vector<int> pass = fds;
      pass.push_back(ready[1]);
      setenv("SQUALL_READY_FD", std::to_string(3 + fds.size()).c_str(), 1);
      int pid = exec_with_sockets(g->restart_argv, pass, int(fds.size()));
      unsetenv("SQUALL_READY_FD");
      close(ready[1]);
      char b = 0;
      pollfd rp{ready[0], POLLIN, 0};
      bool ok = pid > 0 && poll(&rp, 1, 30000) > 0 && read(ready[0], &b, 1) == 1;
      close(ready[0]);
      if (!ok) {
        log(kLogError, "restart: the new process did not start serving; this one goes on");
        continue;
      }
      log(kInfo, "restart: process " + std::to_string(pid) + " serves; draining this one");
      sig = SIGTERM;
    }
    if (sig == SIGTERM || sig == SIGINT) {
      if (draining) {
        stop_all(g);  // a second signal: stop now
        continue;
      }
      draining = true;
      squall_group_shutdown(
          g, g->grace_ms, [](int, void* ud) { stop_all(static_cast<squall_group*>(ud)); }, g);
    }
  }
}

}  // namespace

extern "C" {

SQUALL_API int squall_group_new(squall_group** out, int n, const squall_config* cfg,
                                squall_handler_fn handler, void* user_data,
                                squall_release_fn release) {
  if (out) *out = nullptr;
  return guard([&]() -> int {
    SQ_CHECK_ARG(out && handler, "out and handler are required");
    SQ_CHECK_ARG(n >= 0 && n <= 1024, "loops out of range 0..1024");
    if (n == 0) {
      long cpus = sysconf(_SC_NPROCESSORS_ONLN);
      n = cpus > 0 ? int(cpus) : 1;
    }
    auto g = std::make_unique<squall_group>();
    g->handoffs.reset(new std::atomic<int>[size_t(n)]);
    for (int i = 0; i < n; i++) g->handoffs[i].store(0);
    g->reuse_port = cfg && cfg->c.reuse_port;
    for (int i = 0; i < n; i++) {
      squall_loop* l = nullptr;
      squall_server* s = nullptr;
      if (int st = squall_loop_new(&l)) {
        squall_group_free(g.release());
        return st;
      }
      g->loops.push_back(l);
      if (int st = squall_server_new(&s, l, cfg, handler, user_data, nullptr)) {
        std::string why = last_error();
        squall_group_free(g.release());
        return fail(st, why);
      }
      g->servers.push_back(s);
    }
    g->user_data = user_data;
    g->release = release;
    *out = g.release();
    return kOk;
  });
}

SQUALL_API int squall_group_size(const squall_group* g) {
  return g ? int(g->loops.size()) : fail(kInval, "group is NULL");
}

SQUALL_API squall_loop* squall_group_loop(squall_group* g, int i) {
  if (!g || i < 0 || size_t(i) >= g->loops.size()) return nullptr;
  return g->loops[size_t(i)];
}

SQUALL_API squall_server* squall_group_server(squall_group* g, int i) {
  if (!g || i < 0 || size_t(i) >= g->servers.size()) return nullptr;
  return g->servers[size_t(i)];
}

SQUALL_API int squall_group_loop_index(const squall_group* g, const squall_loop* loop) {
  if (!g || !loop) return fail(kInval, "group and loop are required");
  for (size_t i = 0; i < g->loops.size(); i++)
    if (g->loops[i] == loop) return int(i);
  return fail(kNotFound, "the loop is not one of the group's");
}

static int group_sockets_ready(squall_group* g) {
  if (!g->reuse_port && g->servers.size() > 1)
    srv_of(g->servers[0])->set_dispatch([g](int fd) { return dispatch(g, fd); });
  return kOk;
}

SQUALL_API int squall_group_listen(squall_group* g, const char* host, size_t host_len, int port) {
  return guard([&]() -> int {
    if (int st = check_group(g)) return st;
    if (g->started) return fail(kState, "listen before squall_group_start");
    if (!g->reuse_port) {
      if (int st = squall_server_listen(g->servers[0], host, host_len, port)) return st;
      return group_sockets_ready(g);
    }
    // One SO_REUSEPORT socket per loop, all on the port the first one got.
    for (size_t i = 0; i < g->servers.size(); i++) {
      if (int st = squall_server_listen(g->servers[i], host, host_len, port)) return st;
      if (port == 0) {
        uint16_t p = 0;
        squall_server_port(g->servers[i], &p);
        port = p;
      }
    }
    return kOk;
  });
}

SQUALL_API int squall_group_add_socket(squall_group* g, int fd) {
  return guard([&]() -> int {
    if (int st = check_group(g)) return st;
    if (g->started) return fail(kState, "add sockets before squall_group_start");
    if (int st = squall_server_add_socket(g->servers[0], fd)) return st;
    return group_sockets_ready(g);
  });
}

SQUALL_API int squall_group_port(const squall_group* g, uint16_t* port) {
  return guard([&]() -> int {
    if (int st = check_group(g)) return st;
    return squall_server_port(g->servers[0], port);
  });
}

SQUALL_API int squall_group_start(squall_group* g) {
  return guard([&]() -> int {
    if (int st = check_group(g)) return st;
    if (g->started) return fail(kState, "the group was already started");
    g->started = true;
    for (auto* l : g->loops) g->threads.emplace_back([l] { squall_loop_run(l); });
    tell_ready();
    return kOk;
  });
}

SQUALL_API int squall_group_shutdown(squall_group* g, int64_t grace_ms, squall_done_fn done,
                                     void* user_data) {
  return guard([&]() -> int {
    if (int st = check_group(g)) return st;
    {
      std::lock_guard<std::mutex> lock(g->mu);
      if (g->draining > 0) return fail(kState, "the group is already draining");
      g->draining = int(g->servers.size());
      g->worst = 0;
      g->done = done;
      g->done_ud = user_data;
    }
    // Loop 0 first stops accepting; the other loops' shutdowns are queued
    // from loop 0 behind any connection it handed them, so none is dropped.
    bool posted = IOLoop::post(g->loops[0]->loop.token(), [g, grace_ms] {
      if (g->freeing) {  // posted after the loops stopped: the servers are gone
        for (size_t i = 0; i < g->servers.size(); i++) drained(g, kClosed);
        return;
      }
      srv_of(g->servers[0])->shutdown(grace_ms, [g](int st) { drained(g, st); });
      for (size_t i = 1; i < g->servers.size(); i++) {
        int st = squall_server_shutdown(
            g->servers[i], grace_ms,
            [](int st, void* ud) { drained(static_cast<squall_group*>(ud), st); }, g);
        if (st != 0) drained(g, st);
      }
    });
    if (!posted) {
      std::lock_guard<std::mutex> lock(g->mu);
      g->draining = 0;
      return fail(kClosed, "the group's loops are gone");
    }
    return kOk;
  });
}

SQUALL_API int squall_group_stop(squall_group* g) {
  return guard([&]() -> int {
    if (int st = check_group(g)) return st;
    stop_all(g);
    return kOk;
  });
}

SQUALL_API int squall_group_join(squall_group* g) {
  return guard([&]() -> int {
    if (int st = check_group(g)) return st;
    for (auto& t : g->threads)
      if (t.joinable()) {
        if (t.get_id() == std::this_thread::get_id())
          return fail(kThread, "join from one of the group's loops");
        t.join();
      }
    return kOk;
  });
}

SQUALL_API int squall_group_handle_signals(squall_group* g, int64_t grace_ms,
                                           const char* const* restart_argv) {
  return guard([&]() -> int {
    if (int st = check_group(g)) return st;
    if (g->started) return fail(kState, "handle signals before squall_group_start");
    if (g->sig_thread.joinable()) return fail(kState, "signals are already handled");
    g->grace_ms = grace_ms;
    for (const char* const* a = restart_argv; a && *a; a++) g->restart_argv.emplace_back(*a);
    if (pipe2(g->sig_pipe, O_CLOEXEC) != 0) return fail(kError, "pipe failed");
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (!g->restart_argv.empty()) sigaddset(&set, SIGUSR2);
    // Blocked here, so in every thread started from now on (the loops).
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    g->sig_thread = std::thread(signal_main, g, set);
    return kOk;
  });
}

SQUALL_API void squall_group_free(squall_group* g) {
  if (!g) return;
  capi::guard_void([&] {
    if (g->sig_thread.joinable()) {
      ssize_t w = write(g->sig_pipe[1], "x", 1);
      (void)w;
      g->sig_thread.join();
    }
    for (int fd : g->sig_pipe)
      if (fd >= 0) close(fd);
    stop_all(g);
    for (auto& t : g->threads)
      if (t.joinable()) t.join();
    g->freeing = true;
    for (auto* s : g->servers) squall_server_free(s);
    for (auto* l : g->loops) squall_loop_free(l);
    if (g->release) g->release(g->user_data);
    delete g;
  });
}

SQUALL_API int squall_fork_processes(int n, int max_restarts, int* task_id) {
  return guard([&]() -> int { return fork_processes(n, max_restarts, task_id); });
}

SQUALL_API int squall_task_id(void) { return task_id(); }

SQUALL_API int squall_bind_sockets(const char* host, size_t host_len, int port, int backlog,
                                   int reuse_port, int* fds, size_t cap, size_t* n) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(n && fds && cap > 0, "fds, cap and n are required");
    SQ_CHECK_ARG(port >= 0 && port <= 65535, "port out of range 0..65535");
    SQ_CHECK_ARG(backlog > 0, "backlog must be positive");
    std::string h = host ? std::string(host, capi::slen(host, host_len)) : std::string();
    std::vector<int> v;
    if (int st = bind_sockets(port, h, AF_UNSPEC, backlog, reuse_port != 0, &v)) return st;
    if (v.size() > cap) {
      for (int fd : v) close(fd);
      return fail(kInval, "more sockets than cap (" + std::to_string(v.size()) + ")");
    }
    for (size_t i = 0; i < v.size(); i++) fds[i] = v[i];
    *n = v.size();
    return kOk;
  });
}

SQUALL_API int squall_listen_fds(int* fds, size_t cap, size_t* n) {
  return guard([&]() -> int {
    SQ_CHECK_ARG(n && (fds || cap == 0), "n is NULL");
    std::vector<InheritedSocket> v = listen_fds();
    *n = v.size();
    for (size_t i = 0; i < v.size() && i < cap; i++) fds[i] = v[i].fd;
    for (size_t i = cap; i < v.size(); i++) close(v[i].fd);
    return kOk;
  });
}

}  // extern "C"
