/*
 * squall_hello.c -- hello-world benchmark server over squall's C API.
 *
 *   squall_hello PORT [CERT KEY [TICKETS]]
 *
 * With CERT and KEY (PEM files) it serves HTTPS (bench/tls/run.sh); TICKETS
 * 0 turns session tickets off (full handshakes only).
 *
 * One loop on one thread, listening on 127.0.0.1:PORT; every request (any
 * method, any path) gets 200, Content-Type: text/plain, body
 * "Hello, world!\n", framed by Content-Length.  squall sets TCP_NODELAY on
 * accepted sockets itself.
 *
 * Signals: SIGTERM/SIGINT are blocked in every thread and taken by a small
 * thread in sigwait(), which calls squall_loop_stop (documented as callable
 * from any thread).  So no signal handler runs inside the loop: nothing
 * async-signal-unsafe happens, and the loop never sees EINTR from them (and
 * squall's loop keeps running through EINTR from anything else, e.g. a
 * debugger or strace attaching).  The helper thread sleeps in sigwait and
 * does no work while the server runs.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <squall/squall.h>

static const char BODY[] = "Hello, world!\n";
static const char CTYPE[] = "text/plain";

static void handle(squall_request *req, void *user_data) {
  (void)user_data;
  squall_respond(req, 200, CTYPE, sizeof CTYPE - 1, BODY, sizeof BODY - 1);
}

static void *signal_thread(void *arg) {
  squall_loop *loop = arg;
  sigset_t set;
  int sig = 0;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  while (sigwait(&set, &sig) != 0) {
  }
  squall_loop_stop(loop);
  return NULL;
}

int main(int argc, char **argv) {
  squall_loop *loop;
  squall_server *srv;
  squall_config *cfg = NULL;
  pthread_t tid;
  sigset_t set;
  char *end;
  long port;

  if (argc != 2 && argc != 4 && argc != 5) {
    fprintf(stderr, "usage: %s PORT [CERT KEY [TICKETS]]\n", argv[0]);
    return 2;
  }
  port = strtol(argv[1], &end, 10);
  if (*end || port < 0 || port > 65535) {
    fprintf(stderr, "squall_hello: bad port %s\n", argv[1]);
    return 2;
  }

  /* Block the stop signals before any thread exists, so all inherit it. */
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  signal(SIGPIPE, SIG_IGN);

  if (squall_loop_new(&loop) != 0) {
    fprintf(stderr, "squall_hello: loop: %s\n", squall_last_error());
    return 1;
  }
  if (argc >= 4 &&
      (squall_config_new(&cfg) != 0 || squall_config_add_tls_cert(cfg, argv[2], argv[3]) != 0 ||
       (argc == 5 &&
        squall_config_set_int(cfg, SQUALL_OPT_TLS_SESSION_TICKETS, atoi(argv[4])) != 0))) {
    fprintf(stderr, "squall_hello: tls: %s\n", squall_last_error());
    return 1;
  }
  if (squall_server_new(&srv, loop, cfg, handle, NULL, NULL) != 0) {
    fprintf(stderr, "squall_hello: server: %s\n", squall_last_error());
    return 1;
  }
  if (squall_server_listen(srv, "127.0.0.1", SQUALL_NTS, (int)port) != 0) {
    fprintf(stderr, "squall_hello: listen 127.0.0.1:%ld: %s\n", port, squall_last_error());
    return 1;
  }
  if (pthread_create(&tid, NULL, signal_thread, loop) != 0) {
    fprintf(stderr, "squall_hello: cannot start the signal thread\n");
    return 1;
  }
  squall_config_free(cfg);
  fprintf(stderr, "squall_hello: %s on %s://127.0.0.1:%ld/\n", squall_version_string(),
          argc >= 4 ? "https" : "http", port);

  squall_loop_run(loop);

  pthread_join(tid, NULL);
  squall_server_free(srv);
  squall_loop_free(loop);
  return 0;
}
