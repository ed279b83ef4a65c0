// fork_processes, task_id, socket activation and socket hand-over
// (core/process.h).
#include "core/process.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>

#include "core/status.h"

namespace squall {

namespace {

int g_task_id = -1;
bool g_forked = false;
constexpr int kForwarded[] = {SIGTERM, SIGINT, SIGHUP};

void say(const std::string& msg) {
  std::string line = "squall[" + std::to_string(getpid()) + "]: " + msg + "\n";
  ssize_t w = ::write(2, line.data(), line.size());
  (void)w;
}

std::string describe(int status) {
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "exited with status " + std::to_string(WEXITSTATUS(status));
}

}  // namespace

int task_id() { return g_task_id; }

int fork_processes(int n, int max_restarts, int* task_id_out) {
  if (g_forked) return fail(kState, "fork_processes was already called");
  if (!task_id_out) return fail(kInval, "task_id is NULL");
  if (n <= 0) {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    n = cpus > 0 ? int(cpus) : 1;
  }
  g_forked = true;
  // The parent takes its signals synchronously (blocked, sigtimedwait):
  // nothing is lost between a check and a wait, no handler runs.  Children
  // get the caller's mask back.
  sigset_t set, old;
  sigemptyset(&set);
  for (int sig : kForwarded) sigaddset(&set, sig);
  sigaddset(&set, SIGCHLD);
  sigprocmask(SIG_BLOCK, &set, &old);
  pid_t parent = getpid();
  std::map<pid_t, int> children;

  // Returns true in the child.
  auto start_child = [&](int id) -> bool {
    pid_t pid = fork();
    if (pid == 0) {
      sigprocmask(SIG_SETMASK, &old, nullptr);
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (getppid() != parent) _exit(1);  // the parent died before prctl
      g_task_id = id;
      *task_id_out = id;
      return true;
    }
    if (pid < 0) {
      say("fork failed: " + std::string(strerror(errno)));
      return false;
    }
    children[pid] = id;
    return false;
  };
  auto name = [](int id, pid_t pid) {
    return "child " + std::to_string(id) + " (pid " + std::to_string(pid) + ")";
  };

  for (int i = 0; i < n; i++)
    if (start_child(i)) return kOk;
  say("started " + std::to_string(children.size()) + " processes");

  int restarts = 0, last_failure = 0;
  bool stopping = false;
  for (;;) {
    int status = 0;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
      auto it = children.find(pid);
      if (it == children.end()) continue;
      int id = it->second;
      children.erase(it);
      if (!WIFSIGNALED(status) && WEXITSTATUS(status) == 0) {
        say(name(id, pid) + " exited normally");
        continue;
      }
      last_failure = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
      if (stopping) {
        say(name(id, pid) + " " + describe(status));
        continue;
      }
      if (++restarts > max_restarts) {
        say(name(id, pid) + " " + describe(status) + "; too many child restarts (" +
            std::to_string(max_restarts) + "), giving up");
        for (auto& [cpid, cid] : children) kill(cpid, SIGTERM);
        while (!children.empty()) {
          pid_t p = waitpid(-1, &status, 0);
          if (p < 0 && errno != EINTR) break;
          if (p > 0) children.erase(p);
        }
        exit(1);
      }
      say(name(id, pid) + " " + describe(status) + ", restarting");
      if (start_child(id)) return kOk;
    }
    if (children.empty()) break;
    timespec wait{1, 0};
    int sig = sigtimedwait(&set, nullptr, &wait);
    if (sig <= 0 || sig == SIGCHLD) continue;
    if (sig == SIGTERM || sig == SIGINT) stopping = true;
    for (auto& [cpid, id] : children) kill(cpid, sig);
  }
  exit(stopping ? last_failure : 0);
}

std::vector<InheritedSocket> listen_fds() {
  std::vector<InheritedSocket> out;
  const char* pid = getenv("LISTEN_PID");
  const char* n = getenv("LISTEN_FDS");
  if (!pid || !n || atol(pid) != long(getpid())) return out;
  int count = atoi(n);
  std::string names = getenv("LISTEN_FDNAMES") ? getenv("LISTEN_FDNAMES") : "";
  for (int i = 0; i < count; i++) {
    int fd = 3 + i;
    if (fcntl(fd, F_GETFD) < 0) continue;
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    std::string name;
    size_t c = names.find(':');
    name = names.substr(0, c);
    names = c == std::string::npos ? "" : names.substr(c + 1);
    out.push_back({fd, name});
  }
  unsetenv("LISTEN_PID");
  unsetenv("LISTEN_FDS");
  unsetenv("LISTEN_FDNAMES");
  return out;
}

int exec_with_sockets(const std::vector<std::string>& argv, const std::vector<int>& fds,
                      int n_listen) {
  if (argv.empty()) return fail(kInval, "argv is empty");
  pid_t pid = fork();
  if (pid < 0) {
    set_error_errno("fork", errno);
    return kError;
  }
  if (pid > 0) return int(pid);
  // Child: move the sockets to 3, 4, ... (through high numbers first, so no
  // move overwrites a socket not yet moved), keep them across exec.
  std::vector<int> high;
  for (int fd : fds) high.push_back(fcntl(fd, F_DUPFD_CLOEXEC, 1000));
  for (size_t i = 0; i < high.size(); i++) {
    if (high[i] < 0 || dup2(high[i], 3 + int(i)) < 0) _exit(127);
    close(high[i]);
  }
  std::string count = std::to_string(n_listen), me = std::to_string(getpid());
  setenv("LISTEN_FDS", count.c_str(), 1);
  setenv("LISTEN_PID", me.c_str(), 1);
  unsetenv("LISTEN_FDNAMES");
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  execv(args[0], args.data());
  say("exec " + argv[0] + " failed: " + strerror(errno));
  _exit(127);
}

}  // namespace squall
