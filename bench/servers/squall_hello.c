/*
 * squall_hello.c -- hello-world benchmark server over squall's C API.
 *
 *   squall_hello [--loops N] [--processes N] [--reuse-port] PORT [CERT KEY [TICKETS]]
 *
 * With CERT and KEY (PEM files) it serves HTTPS (bench/tls/run.sh); TICKETS
 * 0 turns session tickets off (full handshakes only).
 *
 * Listens on 127.0.0.1:PORT; every request (any method, any path) gets 200,
 * Content-Type: text/plain, body "Hello, world!\n", framed by
 * Content-Length.  squall sets TCP_NODELAY on accepted sockets itself.
 *
 * Scale out (bench/scale/run.sh), through the C ABI's "Scale out" calls:
 *   --loops N      one server served by N loops on N threads (a group,
 *                  squall_group_*; default 1).  By default loop 0 accepts
 *                  and hands each connection to the least-loaded loop;
 *   --reuse-port   instead one SO_REUSEPORT socket per loop (per process
 *                  with --processes), SQUALL_OPT_REUSE_PORT = 1;
 *   --processes N  prefork (squall_fork_processes): the socket is bound
 *                  first and shared by the N children (with --reuse-port
 *                  each child binds its own after the fork instead).
 * At exit each process prints, for each of its loops, one line on stderr:
 *   squall_hello: served pid=P task=T loop=L requests=R
 * (task -1 without --processes), so a benchmark can tell the share each
 * loop and process served.  Each loop counts in its own slot, written only
 * by that loop's thread and read after the loops were joined.
 *
 * Signals: squall_group_handle_signals turns SIGTERM / SIGINT into a short
 * graceful drain on a thread of its own (nothing runs in a signal handler);
 * with --processes the parent forwards them to the children.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <squall/squall.h>

static const char BODY[] = "Hello, world!\n";
static const char CTYPE[] = "text/plain";

enum { MAX_LOOPS = 64 };
/* One counter per loop, a cache line each, so loops never share a line. */
static struct {
  unsigned long long n;
  char pad[64 - sizeof(unsigned long long)];
} served[MAX_LOOPS];
static squall_group *group;

static void handle(squall_request *req, void *user_data) {
  squall_loop *loop = NULL;
  int i;
  (void)user_data;
  if (squall_request_loop(req, &loop) == 0 && (i = squall_group_loop_index(group, loop)) >= 0)
    served[i].n++;
  squall_respond(req, 200, CTYPE, sizeof CTYPE - 1, BODY, sizeof BODY - 1);
}

static int fail(const char *what) {
  fprintf(stderr, "squall_hello: %s: %s\n", what, squall_last_error());
  return 1;
}

static int count_arg(const char *s, int max) {
  char *end;
  long v = strtol(s, &end, 10);
  return (*end || v < 1 || v > max) ? -1 : (int)v;
}

static int usage(const char *argv0) {
  fprintf(stderr,
          "usage: %s [--loops N] [--processes N] [--reuse-port] PORT [CERT KEY [TICKETS]]\n",
          argv0);
  return 2;
}

int main(int argc, char **argv) {
  squall_config *cfg = NULL;
  int loops = 1, processes = 1, reuse_port = 0, task = -1, fd = -1, i;
  size_t nfds = 0;
  const char *cert = NULL, *key = NULL, *tickets = NULL;
  char *end;
  long port;

  for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
    if (strcmp(argv[i], "--reuse-port") == 0)
      reuse_port = 1;
    else if (strcmp(argv[i], "--loops") == 0 && i + 1 < argc)
      loops = count_arg(argv[++i], MAX_LOOPS);
    else if (strcmp(argv[i], "--processes") == 0 && i + 1 < argc)
      processes = count_arg(argv[++i], 1024);
    else
      return usage(argv[0]);
    if (loops < 0 || processes < 0) return usage(argv[0]);
  }
  argc -= i - 1;
  argv += i - 1;
  if (argc != 2 && argc != 4 && argc != 5) return usage(argv[-(i - 1)]);
  port = strtol(argv[1], &end, 10);
  if (*end || port < 0 || port > 65535) {
    fprintf(stderr, "squall_hello: bad port %s\n", argv[1]);
    return 2;
  }
  if (argc >= 4) {
    cert = argv[2];
    key = argv[3];
    tickets = argc == 5 ? argv[4] : NULL;
  }

  /* Made before the fork, so that TLS session-ticket keys are shared. */
  if (squall_config_new(&cfg) != 0 ||
      squall_config_set_int(cfg, SQUALL_OPT_REUSE_PORT, reuse_port) != 0)
    return fail("config");
  if (cert && (squall_config_add_tls_cert(cfg, cert, key) != 0 ||
               (tickets && squall_config_set_int(cfg, SQUALL_OPT_TLS_SESSION_TICKETS,
                                                 atoi(tickets)) != 0)))
    return fail("tls");

  /* Prefork sharing one socket: bind first, then fork (Tornado's way). */
  if (processes > 1 && !reuse_port &&
      squall_bind_sockets("127.0.0.1", SQUALL_NTS, (int)port, 1024, 0, &fd, 1, &nfds) != 0)
    return fail("listen");
  if (processes > 1 && squall_fork_processes(processes, 0, &task) != 0) return fail("fork");

  /* Here in the only process, or in each child. */
  if (squall_group_new(&group, loops, cfg, handle, NULL, NULL) != 0) return fail("group");
  squall_config_free(cfg);
  if (nfds == 1 ? squall_group_add_socket(group, fd) != 0
                : squall_group_listen(group, "127.0.0.1", SQUALL_NTS, (int)port) != 0) {
    fprintf(stderr, "squall_hello: listen 127.0.0.1:%ld: %s\n", port, squall_last_error());
    return 1;
  }
  if (squall_group_handle_signals(group, 1000, NULL) != 0 || squall_group_start(group) != 0)
    return fail("start");
  if (task <= 0)
    fprintf(stderr, "squall_hello: %s on %s://127.0.0.1:%ld/ (%d process(es) x %d loop(s)%s)\n",
            squall_version_string(), cert ? "https" : "http", port, processes, loops,
            reuse_port ? ", SO_REUSEPORT" : "");

  squall_group_join(group);
  for (i = 0; i < loops; i++)
    fprintf(stderr, "squall_hello: served pid=%ld task=%d loop=%d requests=%llu\n", (long)getpid(),
            task, i, served[i].n);
  squall_group_free(group);
  return 0;
}
