// Counterpart of tornado/process.py: fork_processes (bind first, fork, then
// serve: the children share the listening sockets), task_id, and the
// parent's supervision of its children -- plus what a server process needs
// around it: systemd socket activation (LISTEN_FDS) and handing listening
// sockets to a re-executed successor (zero-downtime restart).
#pragma once

#include <string>
#include <vector>

namespace squall {

// Fork n children (n <= 0: one per CPU).  Returns in each child with
// *task_id set to 0..n-1 (kOk).  The parent never returns: it waits,
// restarts a child that died by a signal or exited non-zero (up to
// max_restarts in all, after which it stops the others and exits 1 with a
// message), forwards SIGTERM / SIGINT / SIGHUP to the children
// (after SIGTERM or SIGINT it restarts nothing), and exits 0 once every
// child exited cleanly (or with the last child's failure after a stop).
// Children get SIGTERM if the parent dies (PR_SET_PDEATHSIG).  kState if
// called twice; call it before creating loops or threads.
int fork_processes(int n, int max_restarts, int* task_id);

// The child's task id, or -1 outside fork_processes' children.
int task_id();

// Listening sockets passed by systemd (LISTEN_PID == getpid(), LISTEN_FDS,
// LISTEN_FDNAMES) or by a predecessor: fds from 3, marked close-on-exec.
// The variables are removed from the environment once read (so children
// do not take them).  Empty when none are for this process.
struct InheritedSocket {
  int fd;
  std::string name;  // LISTEN_FDNAMES entry ("" if none)
};
std::vector<InheritedSocket> listen_fds();

// Start argv[0] (a path, execv) in a forked child with fds moved to 3, 4,
// ... and the first n_listen of them named in LISTEN_FDS / LISTEN_PID (as
// systemd would); the rest are passed along unnamed.  The caller goes on
// (drains) while its successor starts: returns the child's pid, or a
// negative status.
int exec_with_sockets(const std::vector<std::string>& argv, const std::vector<int>& fds,
                      int n_listen);

}  // namespace squall
