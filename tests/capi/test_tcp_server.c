/* test_tcp_server.c -- squall_tcp_server_*: binding (v4, v6, unix, fds),
 * stop/free, many connections, and EMFILE back-off.
 *
 * The server under test is a line-echo server written the way an
 * application would: each accepted stream reads a line, writes it back,
 * reads the next; its close callback frees the stream.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

#define MAX_CONNS 1024

struct srvfx;

struct conn {
  int released; /* first: tu_release_inc-compatible (not used directly) */
  squall_stream *s;
  struct srvfx *f;
  int slot;
};

struct srvfx {
  squall_loop *loop;
  tu_loop_thread *lt;
  squall_tcp_server *srv;
  int srv_released; /* atomic */
  uint16_t port;
  struct conn *conns[MAX_CONNS]; /* open connections, loop thread only */
  int accepted;                  /* atomic */
  int closed;                    /* atomic */
  int conn_released;             /* atomic */
  int rc[8];
  char peer[64];
  char tmpdir[256];
  char path[300];
};

/* ------------------------------------------------------------------------ */
/* The echo server                                                          */
/* ------------------------------------------------------------------------ */

static void on_line(int status, const char *data, size_t len, void *ud);

static void read_next(struct conn *c) {
  squall_stream_read_until(c->s, "\n", 1, 0, on_line, c);
}

static void on_line(int status, const char *data, size_t len, void *ud) {
  struct conn *c = (struct conn *)ud;
  if (status != SQUALL_OK) return; /* the close callback follows */
  if (squall_stream_write(c->s, data, len, NULL, NULL) == SQUALL_OK)
    read_next(c);
}

static void on_conn_close(int error, void *ud) {
  struct conn *c = (struct conn *)ud;
  c->f->conns[c->slot] = NULL;
  squall_stream_free(c->s);
  c->s = NULL;
  tu_atomic_add(&c->f->closed, 1);
}

static void on_conn_release(void *ud) {
  struct conn *c = (struct conn *)ud;
  tu_atomic_add(&c->f->conn_released, 1);
  free(c);
}

static void on_stream(squall_stream *s, const char *peer, size_t peer_len,
                      void *ud) {
  struct srvfx *f = (struct srvfx *)ud;
  struct conn *c;
  int i;
  for (i = 0; i < MAX_CONNS && f->conns[i]; i++) {
  }
  c = (struct conn *)calloc(1, sizeof *c);
  if (i == MAX_CONNS || !c) {
    free(c);
    squall_stream_free(s);
    return;
  }
  c->s = s;
  c->f = f;
  c->slot = i;
  f->conns[i] = c;
  if (peer_len < sizeof f->peer) {
    memcpy(f->peer, peer, peer_len);
    f->peer[peer_len] = '\0';
  }
  if (squall_stream_set_close_callback(s, on_conn_close, c, on_conn_release) !=
      SQUALL_OK) {
    f->conns[i] = NULL;
    squall_stream_free(s);
    free(c);
    return;
  }
  read_next(c);
  tu_atomic_add(&f->accepted, 1);
}

static void srv_release(void *ud) {
  tu_atomic_add(&((struct srvfx *)ud)->srv_released, 1);
}

/* ------------------------------------------------------------------------ */
/* Fixture                                                                  */
/* ------------------------------------------------------------------------ */

static int setup(void **state) {
  struct srvfx *f = (struct srvfx *)calloc(1, sizeof *f);
  const char *tmp = getenv("TMPDIR");
  assert_non_null(f);
  assert_int_equal(squall_loop_new(&f->loop), SQUALL_OK);
  assert_int_equal(
      squall_tcp_server_new(&f->srv, f->loop, on_stream, f, srv_release),
      SQUALL_OK);
  snprintf(f->tmpdir, sizeof f->tmpdir, "%s/squall-test-XXXXXX",
           tmp && *tmp ? tmp : "/tmp");
  assert_non_null(mkdtemp(f->tmpdir));
  snprintf(f->path, sizeof f->path, "%s/s.sock", f->tmpdir);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct srvfx *f = (struct srvfx *)*state;
  int i, accepted;
  if (f->lt) assert_int_equal(tu_loop_thread_stop(f->lt), SQUALL_OK);
  /* Close what is still open; the close callbacks free the streams. */
  for (i = 0; i < MAX_CONNS; i++)
    if (f->conns[i])
      assert_int_equal(squall_stream_close(f->conns[i]->s), SQUALL_OK);
  squall_tcp_server_free(f->srv);
  assert_int_equal(squall_loop_free(f->loop), SQUALL_OK);
  accepted = tu_atomic_get(&f->accepted);
  assert_int_equal(f->srv_released, 1);
  assert_int_equal(f->closed, accepted);
  assert_int_equal(f->conn_released, accepted);
  unlink(f->path);
  rmdir(f->tmpdir);
  free(f);
  return 0;
}

static void start(struct srvfx *f) {
  assert_int_equal(tu_loop_thread_start(&f->lt, f->loop), 0);
}

/* Send a line on a new or given connection and expect it back. */
static int echo_once(int fd, const char *line) {
  char buf[256];
  ssize_t n;
  if (tu_send_str(fd, line) != 0) return -1;
  n = tu_recv_until(fd, buf, sizeof buf, "\n", 1, 3000);
  if (n != (ssize_t)strlen(line) || memcmp(buf, line, (size_t)n) != 0)
    return -1;
  return 0;
}

static int echo_tcp(const char *host, uint16_t port, const char *line) {
  int rc, fd = tu_connect_tcp(host, port, 2000);
  if (fd < 0) return -1;
  rc = echo_once(fd, line);
  close(fd);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* Binding                                                                  */
/* ------------------------------------------------------------------------ */

static void test_tcp_server__dual_stack_port_zero(void **state) {
  struct srvfx *f = (struct srvfx *)*state;
  int fd;
  char want[64];
  assert_int_equal(squall_tcp_server_listen(f->srv, NULL, 0, 0), SQUALL_OK);
  assert_int_equal(squall_tcp_server_port(f->srv, &f->port), SQUALL_OK);
  assert_true(f->port > 0);
  start(f);
  assert_int_equal(echo_tcp("127.0.0.1", f->port, "v4\n"), 0);
  if (!tu_have_ipv6_loopback()) {
    print_message("no IPv6 loopback on this machine: v6 half skipped\n");
    return;
  }
  /* The same port number answers on ::1. */
  fd = tu_connect_tcp("::1", f->port, 2000);
  assert_true(fd >= 0);
  assert_int_equal(echo_once(fd, "v6\n"), 0);
  {
    struct sockaddr_in6 local;
    socklen_t len = sizeof local;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&local, &len), 0);
    snprintf(want, sizeof want, "[::1]:%u", ntohs(local.sin6_port));
  }
  assert_int_equal(tu_loop_thread_stop(f->lt), SQUALL_OK);
  f->lt = NULL;
  assert_string_equal(f->peer, want);
  close(fd);
}

/* Release for a second server whose user_data is the fixture. */
static int *g_local_released;
static void srv_release_local(void *ud) {
  tu_atomic_add(g_local_released, 1);
}

static void test_tcp_server__listen_empty_host_and_localhost(void **state) {
  struct srvfx *f = (struct srvfx *)*state;
  squall_tcp_server *other = NULL;
  int released = 0;
  uint16_t p2 = 0;
  /* "" means every address, like NULL. */
  assert_int_equal(squall_tcp_server_listen(f->srv, "", 0, 0), SQUALL_OK);
  assert_int_equal(squall_tcp_server_port(f->srv, &f->port), SQUALL_OK);
  /* "localhost" (its v4 and v6 addresses) on another server. */
  assert_int_equal(
      squall_tcp_server_new(&other, f->loop, on_stream, f, srv_release_local),
      SQUALL_OK);
  g_local_released = &released;
  assert_int_equal(squall_tcp_server_listen(other, "localhost", SQUALL_NTS, 0),
                   SQUALL_OK);
  assert_int_equal(squall_tcp_server_port(other, &p2), SQUALL_OK);
  assert_true(p2 > 0);
  start(f);
  assert_int_equal(echo_tcp("127.0.0.1", f->port, "empty\n"), 0);
  assert_int_equal(echo_tcp("127.0.0.1", p2, "localhost\n"), 0);
  assert_int_equal(tu_loop_thread_stop(f->lt), SQUALL_OK);
  f->lt = NULL;
  squall_tcp_server_free(other);
  assert_int_equal(squall_loop_run_once(f->loop, 0), SQUALL_OK);
  assert_int_equal(released, 1);
}

static void test_tcp_server__address_in_use(void **state) {
  struct srvfx *f = (struct srvfx *)*state;
  squall_tcp_server *other = NULL;
  int released = 0;
  assert_int_equal(squall_tcp_server_listen(f->srv, "127.0.0.1", SQUALL_NTS, 0),
                   SQUALL_OK);
  assert_int_equal(squall_tcp_server_port(f->srv, &f->port), SQUALL_OK);
  assert_int_equal(squall_tcp_server_new(&other, f->loop, on_stream, &released,
                                         tu_release_inc),
                   SQUALL_OK);
  assert_int_equal(
      squall_tcp_server_listen(other, "127.0.0.1", SQUALL_NTS, f->port),
      SQUALL_EADDRINUSE);
  assert_true(strlen(squall_last_error()) > 0);
  squall_tcp_server_free(other);
  start(f);
  assert_int_equal(echo_tcp("127.0.0.1", f->port, "still here\n"), 0);
  assert_int_equal(tu_loop_thread_stop(f->lt), SQUALL_OK);
  f->lt = NULL;
  assert_int_equal(squall_loop_run_once(f->loop, 0), SQUALL_OK);
  assert_int_equal(released, 1);
}

static void test_tcp_server__reuse_port(void **state) {
  struct srvfx *f = (struct srvfx *)*state;
  squall_tcp_server *other = NULL;
  int i;
  assert_int_equal(squall_tcp_server_set_reuse_port(f->srv, 1), SQUALL_OK);
  assert_int_equal(squall_tcp_server_listen(f->srv, "127.0.0.1", SQUALL_NTS, 0),
                   SQUALL_OK);
  assert_int_equal(squall_tcp_server_port(f->srv, &f->port), SQUALL_OK);
  assert_int_equal(squall_tcp_server_new(&other, f->loop, on_stream, f, NULL),
                   SQUALL_OK);
  assert_int_equal(squall_tcp_server_set_reuse_port(other, 1), SQUALL_OK);
  assert_int_equal(
      squall_tcp_server_listen(other, "127.0.0.1", SQUALL_NTS, f->port),
      SQUALL_OK);
  start(f);
  for (i = 0; i < 8; i++)
    assert_int_equal(echo_tcp("127.0.0.1", f->port, "shared\n"), 0);
  assert_int_equal(tu_loop_thread_stop(f->lt), SQUALL_OK);
  f->lt = NULL;
  squall_tcp_server_free(other);
}

static void test_tcp_server__backlog_setting(void **state) {
  struct srvfx *f = (struct srvfx *)*state;
  assert_int_equal(squall_tcp_server_set_backlog(f->srv, 0), SQUALL_EINVAL);
  assert_int_equal(squall_tcp_server_set_backlog(f->srv, 16), SQUALL_OK);
  assert_int_equal(squall_tcp_server_listen(f->srv, "127.0.0.1", SQUALL_NTS, 0),
                   SQUALL_OK);
  assert_int_equal(squall_tcp_server_port(f->srv, &f->port), SQUALL_OK);
  start(f);
  assert_int_equal(echo_tcp("127.0.0.1", f->port, "b\n"), 0);
}

/* ------------------------------------------------------------------------ */
/* Unix sockets                                                             */
/* ------------------------------------------------------------------------ */

static void unix_echo_check(struct srvfx *f) {
  int fd = tu_connect_unix(f->path);
  assert_true(fd >= 0);
  assert_int_equal(echo_once(fd, "over unix\n"), 0);
  assert_int_equal(echo_once(fd, "twice\n"), 0);
  close(fd);
}

static void test_tcp_server__unix_socket(void **state) {
  struct srvfx *f = (struct srvfx *)*state;
  struct stat st;
  uint16_t port = 1;
  assert_int_equal(
      squall_tcp_server_listen_unix(f->srv, f->path, SQUALL_NTS, 0600),
      SQUALL_OK);
  assert_int_equal(stat(f->path, &st), 0);
  assert_true(S_ISSOCK(st.st_mode));
  assert_int_equal(st.st_mode & 0777, 0600);
  /* No TCP socket: no port. */
  assert_int_not_equal(squall_tcp_server_port(f->srv, &port), SQUALL_OK);
  start(f);
  unix_echo_check(f);
}

static void test_tcp_server__unix_stale_socket_replaced(void **state) {
  struct srvfx *f = (struct srvfx *)*state;
  struct sockaddr_un sun;
  struct stat st;
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  assert_true(fd >= 0);
  memset(&sun, 0, sizeof sun);
  sun.sun_family = AF_UNIX;
  strcpy(sun.sun_path, f->path);
  assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof sun), 0);
  close(fd); /* the file stays: a stale socket */
  assert_int_equal(stat(f->path, &st), 0);
  assert_true(S_ISSOCK(st.st_mode));
  assert_int_equal(
      squall_tcp_server_listen_unix(f->srv, f->path, SQUALL_NTS, 0660),
      SQUALL_OK);
  start(f);
  unix_echo_check(f);
}

static void test_tcp_server__unix_regular_file_refused(void **state) {
  struct srvfx *f = (struct srvfx *)*state;
  char buf[32] = {0};
  FILE *fp = fopen(f->path, "w");
  assert_non_null(fp);
  fputs("keep me", fp);
  fclose(fp);
  assert_int_equal(
      squall_tcp_server_listen_unix(f->srv, f->path, SQUALL_NTS, 0600),
      SQUALL_EADDRINUSE);
  assert_true(strlen(squall_last_error()) > 0);
  fp = fopen(f->path, "r");
  assert_non_null(fp);
  assert_non_null(fgets(buf, sizeof buf, fp));
  fclose(fp);
  assert_string_equal(buf, "keep me");
}

/* ------------------------------------------------------------------------ */
/* add_socket, stop, free                                                   */
/* ------------------------------------------------------------------------ */

static int listening_socket(uint16_t *port) {
  struct sockaddr_in sin;
  socklen_t len = sizeof sin;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0 ||
      listen(fd, 16) != 0 ||
      getsockname(fd, (struct sockaddr *)&sin, &len) != 0) {
    close(fd);
    return -1;
  }
  *port = ntohs(sin.sin_port);
  return fd;
}

static void test_tcp_server__add_socket(void **state) {
  struct srvfx *f = (struct srvfx *)*state;
  uint16_t port = 0, got = 0;
  int fd = listening_socket(&port);
  int flags;
  int not_listening = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(fd >= 0);
  assert_int_equal(squall_tcp_server_add_socket(f->srv, not_listening),
                   SQUALL_EINVAL);
  close(not_listening);
  assert_int_equal(squall_tcp_server_add_socket(f->srv, -1), SQUALL_EINVAL);
  assert_int_equal(squall_tcp_server_add_socket(f->srv, fd), SQUALL_OK);
  flags = fcntl(fd, F_GETFL);
  assert_true(flags & O_NONBLOCK); /* made non-blocking */
  assert_int_equal(squall_tcp_server_port(f->srv, &got), SQUALL_OK);
  assert_int_equal(got, port);
  start(f);
  assert_int_equal(echo_tcp("127.0.0.1", port, "adopted\n"), 0);
  assert_int_equal(tu_loop_thread_stop(f->lt), SQUALL_OK);
  f->lt = NULL;
  /* The server owns fd: freed with it (nothing else opens fds here). */
  squall_tcp_server_free(f->srv);
  f->srv = NULL;
  assert_int_equal(squall_loop_run_once(f->loop, 0), SQUALL_OK);
  assert_int_equal(f->srv_released, 1);
  errno = 0;
  assert_int_equal(fcntl(fd, F_GETFD), -1);
  assert_int_equal(errno, EBADF);
}

static void stop_server_on_loop(void *arg) {
  struct srvfx *f = (struct srvfx *)arg;
  f->rc[0] = squall_tcp_server_stop(f->srv);
}

static void free_server_on_loop(void *arg) {
  struct srvfx *f = (struct srvfx *)arg;
  squall_tcp_server_free(f->srv);
  f->srv = NULL;
}

static void run_stop_or_free(struct srvfx *f, void (*fn)(void *)) {
  int fd, fd2;
  assert_int_equal(squall_tcp_server_listen(f->srv, "127.0.0.1", SQUALL_NTS, 0),
                   SQUALL_OK);
  assert_int_equal(squall_tcp_server_port(f->srv, &f->port), SQUALL_OK);
  start(f);
  fd = tu_connect_tcp("127.0.0.1", f->port, 2000);
  assert_true(fd >= 0);
  assert_int_equal(echo_once(fd, "before\n"), 0);
  assert_int_equal(tu_loop_call_sync(f->loop, fn, f, 3000), 0);
  /* No longer accepting: connections are refused. */
  fd2 = tu_connect_tcp("127.0.0.1", f->port, 2000);
  assert_true(fd2 < 0);
  assert_int_equal(errno, ECONNREFUSED);
  /* The open stream stays. */
  assert_int_equal(echo_once(fd, "after\n"), 0);
  close(fd);
  assert_int_equal(tu_wait_int_ge(&f->closed, 1, 3000), 0);
}

static void test_tcp_server__stop_keeps_open_streams(void **state) {
  struct srvfx *f = (struct srvfx *)*state;
  run_stop_or_free(f, stop_server_on_loop);
  assert_int_equal(f->rc[0], SQUALL_OK);
  assert_int_equal(f->srv_released, 0);
}

static void test_tcp_server__free_keeps_open_streams(void **state) {
  struct srvfx *f = (struct srvfx *)*state;
  run_stop_or_free(f, free_server_on_loop);
  assert_int_equal(tu_wait_int_ge(&f->srv_released, 1, 3000), 0);
}

/* ------------------------------------------------------------------------ */
/* Load: many connections at once                                           */
/* ------------------------------------------------------------------------ */

#define BURST 300

static void test_tcp_server__many_concurrent_connections(void **state) {
  struct srvfx *f = (struct srvfx *)*state;
  int fds[BURST];
  int i;
  char line[32];
  assert_int_equal(squall_tcp_server_listen(f->srv, "127.0.0.1", SQUALL_NTS, 0),
                   SQUALL_OK);
  assert_int_equal(squall_tcp_server_port(f->srv, &f->port), SQUALL_OK);
  start(f);
  for (i = 0; i < BURST; i++) {
    fds[i] = tu_connect_tcp("127.0.0.1", f->port, 5000);
    assert_true(fds[i] >= 0);
  }
  for (i = 0; i < BURST; i++) {
    snprintf(line, sizeof line, "conn %d\n", i);
    assert_int_equal(tu_send_str(fds[i], line), 0);
  }
  for (i = 0; i < BURST; i++) {
    char buf[64];
    snprintf(line, sizeof line, "conn %d\n", i);
    assert_int_equal(tu_recv_until(fds[i], buf, sizeof buf, "\n", 1, 5000),
                     (ssize_t)strlen(line));
    assert_string_equal(buf, line);
  }
  for (i = 0; i < BURST; i++) close(fds[i]);
  assert_int_equal(tu_wait_int_ge(&f->closed, BURST, 5000), 0);
  assert_int_equal(tu_atomic_get(&f->accepted), BURST);
}

/* ------------------------------------------------------------------------ */
/* EMFILE                                                                   */
/* ------------------------------------------------------------------------ */

#define EMFILE_CLIENTS 200

static int read_byte(int fd, int timeout_ms) {
  struct pollfd p;
  char c;
  p.fd = fd;
  p.events = POLLIN;
  if (poll(&p, 1, timeout_ms) != 1) return -1;
  return read(fd, &c, 1) == 1 ? c : -1;
}

/* Child: open EMFILE_CLIENTS connections (non-blocking, so a full accept
 * queue does not block it), report, hold them until told, close, exit. */
static void emfile_child(uint16_t port, int cmd_fd, int ack_fd) {
  static int fds[EMFILE_CLIENTS];
  struct sockaddr_in sin;
  struct rlimit rl;
  int i;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  if (read_byte(cmd_fd, 20000) != 'g') _exit(2);
  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (i = 0; i < EMFILE_CLIENTS; i++) {
    fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (fds[i] < 0) _exit(3);
    if (connect(fds[i], (struct sockaddr *)&sin, sizeof sin) != 0 &&
        errno != EINPROGRESS)
      _exit(4);
  }
  if (write(ack_fd, "c", 1) != 1) _exit(5);
  if (read_byte(cmd_fd, 60000) != 'r') _exit(6);
  for (i = 0; i < EMFILE_CLIENTS; i++) close(fds[i]);
  _exit(0);
}

static void test_tcp_server__emfile_pauses_without_spinning(void **state) {
  struct srvfx *f = (struct srvfx *)*state;
  struct rlimit saved, low;
  int cmd[2], ack[2];
  pid_t pid;
  int status = -1, open_fds, accepted_during, served_again = 0;
  int64_t cpu0, wall0, cpu, wall, deadline;

  assert_int_equal(squall_tcp_server_listen(f->srv, "127.0.0.1", SQUALL_NTS, 0),
                   SQUALL_OK);
  assert_int_equal(squall_tcp_server_port(f->srv, &f->port), SQUALL_OK);
  assert_int_equal(pipe(cmd), 0);
  assert_int_equal(pipe(ack), 0);
  fflush(NULL);
  pid = fork(); /* before the loop thread exists */
  assert_true(pid >= 0);
  if (pid == 0) {
    close(cmd[1]);
    close(ack[0]);
    emfile_child(f->port, cmd[0], ack[1]);
  }
  close(cmd[0]);
  close(ack[1]);

  /* Leave the server room for ~20 connections. */
  assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
  open_fds = tu_count_open_fds();
  assert_true(open_fds > 0);
  low = saved;
  low.rlim_cur = (rlim_t)open_fds + 20;
  assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);

  start(f);
  assert_int_equal(write(cmd[1], "g", 1), 1);
  if (read_byte(ack[0], 20000) != 'c') {
    setrlimit(RLIMIT_NOFILE, &saved);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    fail_msg("client process did not connect");
  }
  tu_sleep_ms(300); /* the server fills its fds and hits EMFILE */
  cpu0 = tu_process_cpu_us();
  wall0 = tu_now_us();
  tu_sleep_ms(1500);
  cpu = tu_process_cpu_us() - cpu0;
  wall = tu_now_us() - wall0;
  accepted_during = tu_atomic_get(&f->accepted);

  /* Clients go away; the server must come back. */
  assert_int_equal(write(cmd[1], "r", 1), 1);
  assert_int_equal(waitpid(pid, &status, 0), pid);
  close(cmd[1]);
  close(ack[0]);
  deadline = tu_now_ms() + 20000;
  while (tu_now_ms() < deadline) {
    if (echo_tcp("127.0.0.1", f->port, "back again\n") == 0) {
      served_again = 1;
      break;
    }
    tu_sleep_ms(100);
  }
  assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);

  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  print_message("EMFILE window: %lld us CPU in %lld us wall, %d accepted\n",
                (long long)cpu, (long long)wall, accepted_during);
  assert_true(accepted_during >= 5); /* it did accept up to the limit */
  assert_true(accepted_during < EMFILE_CLIENTS);
  assert_true(cpu * 100 < wall * 30); /* paused, not spinning */
  assert_true(served_again);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_tcp_server__dual_stack_port_zero,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(
          test_tcp_server__listen_empty_host_and_localhost, setup, teardown),
      cmocka_unit_test_setup_teardown(test_tcp_server__address_in_use, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_tcp_server__reuse_port, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_tcp_server__backlog_setting, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_tcp_server__unix_socket, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(
          test_tcp_server__unix_stale_socket_replaced, setup, teardown),
      cmocka_unit_test_setup_teardown(
          test_tcp_server__unix_regular_file_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_tcp_server__add_socket, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_tcp_server__stop_keeps_open_streams,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_tcp_server__free_keeps_open_streams,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(
          test_tcp_server__many_concurrent_connections, setup, teardown),
      cmocka_unit_test_setup_teardown(
          test_tcp_server__emfile_pauses_without_spinning, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
