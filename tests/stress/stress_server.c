/*
 * stress_server -- the server the stress tests (tests/stress/test_*.py)
 * run as a child process, so that they can measure its CPU time, its
 * memory and its descriptors from /proc, and set its RLIMIT_NOFILE.
 *
 *   stress_server [-n NOFILE] [-o KEY=VALUE]...
 *
 * -n sets RLIMIT_NOFILE (soft and hard, lowering or raising within the
 * hard limit; raising past it needs privilege).  -o sets an integer
 * squall option by its number (squall.h's enum squall_option).  Listens on
 * 127.0.0.1, port chosen by the system, prints "PORT <n>" on stdout once
 * serving, stops on SIGTERM.
 *
 * Routes: /big?N   answers N bytes ('x');
 *         anything else answers "ok <body length>\n" (the body, when there
 *         is one, is read whole by squall first, within max_body_size).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <squall/squall.h>

static char* g_big;
static size_t g_big_len;

static void handle(squall_request* req, void* user_data) {
  const char *path = NULL, *query = NULL;
  size_t path_len = 0, query_len = 0;
  (void)user_data;
  squall_request_get(req, SQUALL_REQ_PATH, &path, &path_len);
  squall_request_get(req, SQUALL_REQ_QUERY, &query, &query_len);
  if (path_len == 4 && memcmp(path, "/big", 4) == 0) {
    size_t n = (size_t)strtoul(query_len ? query : "0", NULL, 10);
    if (n > g_big_len) n = g_big_len;
    squall_respond(req, 200, "text/plain", 10, g_big, n);
    return;
  }
  const void* body = NULL;
  size_t body_len = 0;
  squall_request_body(req, &body, &body_len);
  char out[64];
  int n = snprintf(out, sizeof out, "ok %zu\n", body_len);
  squall_respond(req, 200, "text/plain", 10, out, (size_t)n);
}

static squall_server* g_srv;

static void* loop_thread(void* arg) {
  squall_loop_run(arg);
  squall_server_free(g_srv); /* on the loop's thread, once it stopped */
  return NULL;
}

int main(int argc, char** argv) {
  squall_loop* loop;
  squall_server* srv;
  squall_config* cfg;
  pthread_t tid;
  sigset_t set;
  uint16_t port = 0;

  if (squall_config_new(&cfg) != 0) return 1;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
      struct rlimit rl;
      rl.rlim_cur = rl.rlim_max = strtoul(argv[++i], NULL, 10);
      if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
        perror("stress_server: setrlimit");
        return 1;
      }
    } else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
      char* eq = strchr(argv[++i], '=');
      if (!eq || squall_config_set_int(cfg, atoi(argv[i]), strtoll(eq + 1, NULL, 10)) != 0) {
        fprintf(stderr, "stress_server: bad option %s: %s\n", argv[i], squall_last_error());
        return 2;
      }
    } else {
      fprintf(stderr, "usage: %s [-n NOFILE] [-o KEY=VALUE]...\n", argv[0]);
      return 2;
    }
  }
  g_big_len = 1 << 20;
  g_big = malloc(g_big_len);
  if (!g_big) return 1;
  memset(g_big, 'x', g_big_len);

  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  /* SIGPIPE keeps its default: squall must never raise it. */

  if (squall_loop_new(&loop) != 0 || squall_server_new(&srv, loop, cfg, handle, NULL, NULL) != 0 ||
      squall_server_listen(srv, "127.0.0.1", SQUALL_NTS, 0) != 0 ||
      squall_server_port(srv, &port) != 0) {
    fprintf(stderr, "stress_server: %s\n", squall_last_error());
    return 1;
  }
  squall_config_free(cfg);
  g_srv = srv;
  /* The loop runs on its own thread; this one waits for SIGTERM (blocked
   * in both) and stops it: no signal handler ever runs in the loop. */
  if (pthread_create(&tid, NULL, loop_thread, loop) != 0) return 1;
  printf("PORT %u\n", (unsigned)port);
  fflush(stdout);
  int sig = 0;
  while (sigwait(&set, &sig) != 0) {
  }
  squall_loop_stop(loop);
  pthread_join(tid, NULL);
  squall_loop_free(loop);
  free(g_big);
  return 0;
}
