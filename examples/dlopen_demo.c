/*
 * dlopen_demo.c -- the seed's demo server (examples/demo.c) with libsquall
 * loaded at run time: the program is not linked against libsquall; it
 * dlopen()s "libsquall.so.0" (found by the dynamic loader's usual search:
 * LD_LIBRARY_PATH, the ld.so cache, the default directories; or the path
 * given with --lib), resolves every function it calls with dlsym into the
 * squall_<name>_pfn pointer types of squall.h, and checks squall_version()'s
 * major number before anything else.
 *
 *   GET <any path>        -> 200 text/plain "You requested <uri>\n"
 *   POST|PUT /echo        -> 200 with exactly the request body
 *   HEAD                  -> as GET without the body
 *
 * Flags: --address ADDR (127.0.0.1)  --port N (8888; 0 = ephemeral)
 *        --lib PATH (default libsquall.so.0)
 *        --test-routes: also serve the routes the tests use:
 *          GET /headers       X-Echo request header back as X-Echo-Back
 *          GET /fail          the handler fails: 500, and the failure goes
 *                             to the error hook (stderr "error hook: ...")
 *          GET /later?ms=N    answered N ms later from a timer
 *          GET /hold          never answered until the server is freed
 *          GET /stats         live requests and timers, open connections
 * Stops on SIGINT/SIGTERM: frees the server while held requests are
 * pending, then finishes them (their on_done reports the close) and prints
 * what the release callbacks and on_done saw.
 */
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <squall/squall.h>

/* The functions this program calls, as pointers filled by dlsym. */
static struct {
  squall_version_pfn version;
  squall_version_string_pfn version_string;
  squall_last_error_pfn last_error;
  squall_loop_new_pfn loop_new;
  squall_loop_run_pfn loop_run;
  squall_loop_run_once_pfn loop_run_once;
  squall_loop_stop_pfn loop_stop;
  squall_loop_free_pfn loop_free;
  squall_loop_call_later_pfn loop_call_later;
  squall_config_new_pfn config_new;
  squall_config_free_pfn config_free;
  squall_server_new_pfn server_new;
  squall_server_set_error_hook_pfn server_set_error_hook;
  squall_server_listen_pfn server_listen;
  squall_server_port_pfn server_port;
  squall_server_stats_pfn server_stats;
  squall_server_free_pfn server_free;
  squall_request_get_pfn request_get;
  squall_request_header_pfn request_header;
  squall_request_body_pfn request_body;
  squall_request_on_done_pfn request_on_done;
  squall_respond_pfn respond;
  squall_response_send_pfn response_send;
} sq;

/* name -> slot; POSIX's way of storing dlsym's void * into a function
 * pointer is through a void * lvalue of the same size. */
#define SYM(field) \
  { "squall_" #field, (void **)&sq.field }
static const struct {
  const char *name;
  void **slot;
} symbols[] = {
    SYM(version),
    SYM(version_string),
    SYM(last_error),
    SYM(loop_new),
    SYM(loop_run),
    SYM(loop_run_once),
    SYM(loop_stop),
    SYM(loop_free),
    SYM(loop_call_later),
    SYM(config_new),
    SYM(config_free),
    SYM(server_new),
    SYM(server_set_error_hook),
    SYM(server_listen),
    SYM(server_port),
    SYM(server_stats),
    SYM(server_free),
    SYM(request_get),
    SYM(request_header),
    SYM(request_body),
    SYM(request_on_done),
    SYM(respond),
    SYM(response_send),
};

static int load_squall(const char *path) {
  void *so = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  size_t i;
  if (!so) {
    fprintf(stderr, "dlopen_demo: %s\n", dlerror());
    return -1;
  }
  /* Version first: the other symbols' types are only promised within a
   * major version. */
  *(void **)&sq.version = dlsym(so, "squall_version");
  if (!sq.version) {
    fprintf(stderr, "dlopen_demo: %s has no squall_version\n", path);
    return -1;
  }
  if (sq.version() >> 16 != SQUALL_VERSION_MAJOR) {
    fprintf(stderr, "dlopen_demo: %s is ABI major %u, this program needs %d\n",
            path, (unsigned)(sq.version() >> 16), SQUALL_VERSION_MAJOR);
    return -1;
  }
  for (i = 0; i < sizeof symbols / sizeof symbols[0]; i++) {
    *symbols[i].slot = dlsym(so, symbols[i].name);
    if (!*symbols[i].slot) {
      fprintf(stderr, "dlopen_demo: %s: missing %s\n", path, symbols[i].name);
      return -1;
    }
  }
  return 0; /* the library stays loaded until exit */
}

static squall_loop *g_loop;
static volatile sig_atomic_t g_stop;
static int test_routes;

/* Live-object counts the tests read through /stats. */
static long live_requests, live_timers, held_count;
static long done_ok, done_closed, server_released, hook_released;

enum { MAX_HELD = 64 };
static squall_request *held[MAX_HELD];

static int span_eq(const char *p, size_t n, const char *s) {
  return n == strlen(s) && memcmp(p, s, n) == 0;
}

static void on_done(int status, void *user_data) {
  (void)user_data;
  live_requests--;
  if (status == 0)
    done_ok++;
  else
    done_closed++;
}

/* /later: the request waits for a timer.  If the loop cancels the timer
 * (freed first), the release still ends the request. */
struct later {
  squall_request *req;
  int fired;
};

static void later_fire(void *user_data) {
  struct later *l = user_data;
  l->fired = 1;
  sq.respond(l->req, 200, "text/plain", SQUALL_NTS, "later\n", 6);
}

static void later_release(void *user_data) {
  struct later *l = user_data;
  if (!l->fired) sq.respond(l->req, 503, NULL, 0, NULL, 0);
  free(l);
  live_timers--;
}

static void error_hook(int kind, int http_status, const char *msg,
                       size_t msg_len, const char *peer, size_t peer_len,
                       void *user_data) {
  (void)user_data;
  fprintf(stderr, "error hook: kind=%d status=%d peer=%.*s: %.*s\n", kind,
          http_status, (int)peer_len, peer, (int)msg_len, msg);
}

static void hook_release(void *user_data) {
  (void)user_data;
  hook_released++;
}

static void server_release(void *user_data) {
  (void)user_data;
  server_released++;
}

/* A handler step that can fail, the way application code does: the demo's
 * /fail route reports an error instead of answering. */
static int answer_test_route(squall_request *req, const char *path,
                             size_t path_len, const char **why) {
  if (span_eq(path, path_len, "/headers")) {
    const char *v = "";
    size_t n = 0;
    squall_header h[2];
    sq.request_header(req, "X-Echo", SQUALL_NTS, 0, &v, &n);
    h[0].name = "X-Echo-Back";
    h[0].name_len = SQUALL_NTS;
    h[0].value = v;
    h[0].value_len = n;
    h[1].name = "Content-Type";
    h[1].name_len = SQUALL_NTS;
    h[1].value = "text/plain";
    h[1].value_len = SQUALL_NTS;
    sq.response_send(req, 200, h, 2, "headers\n", 8, SQUALL_SEND_FINISH);
    return 1;
  }
  if (span_eq(path, path_len, "/fail")) {
    *why = "the /fail route failed on purpose";
    return -1;
  }
  if (span_eq(path, path_len, "/later")) {
    const char *q;
    size_t qn;
    long ms = 50;
    struct later *l = malloc(sizeof *l);
    sq.request_get(req, SQUALL_REQ_QUERY, &q, &qn);
    if (qn > 3 && memcmp(q, "ms=", 3) == 0) ms = strtol(q + 3, NULL, 10);
    if (!l) {
      *why = "out of memory";
      return -1;
    }
    l->req = req;
    l->fired = 0;
    if (sq.loop_call_later(NULL, g_loop, ms, later_fire, l, later_release) !=
        0) {
      free(l);
      *why = sq.last_error();
      return -1;
    }
    live_timers++;
    return 1;
  }
  if (span_eq(path, path_len, "/hold")) {
    if (held_count == MAX_HELD) {
      *why = "too many held requests";
      return -1;
    }
    held[held_count++] = req;
    return 1;
  }
  return 0;
}

static squall_server *g_srv;

static void answer_stats(squall_request *req) {
  char buf[256];
  uint64_t st[SQUALL_STAT_COUNT] = {0};
  int n;
  sq.server_stats(g_srv, st, SQUALL_STAT_COUNT);
  /* This request is live too; report the others. */
  n = snprintf(buf, sizeof buf,
               "requests %ld\ntimers %ld\nheld %ld\nconnections %llu\n",
               live_requests - 1, live_timers, held_count,
               (unsigned long long)st[SQUALL_STAT_CONNECTIONS_OPEN]);
  sq.respond(req, 200, "text/plain", SQUALL_NTS, buf, (size_t)n);
}

static void handle(squall_request *req, void *user_data) {
  const char *method, *path, *uri;
  size_t method_len, path_len, uri_len;
  (void)user_data;
  if (sq.request_on_done(req, on_done, NULL) == 0) live_requests++;
  sq.request_get(req, SQUALL_REQ_METHOD, &method, &method_len);
  sq.request_get(req, SQUALL_REQ_PATH, &path, &path_len);
  sq.request_get(req, SQUALL_REQ_URI, &uri, &uri_len);

  if ((span_eq(method, method_len, "POST") ||
       span_eq(method, method_len, "PUT")) &&
      span_eq(path, path_len, "/echo")) {
    const void *body;
    size_t body_len;
    sq.request_body(req, &body, &body_len);
    sq.respond(req, 200, "application/octet-stream", SQUALL_NTS, body,
               body_len);
    return;
  }
  if (span_eq(method, method_len, "GET") ||
      span_eq(method, method_len, "HEAD")) {
    char buf[256];
    char *out = buf;
    size_t n = uri_len + 15;
    if (test_routes) {
      const char *why = "";
      int r;
      if (span_eq(path, path_len, "/stats")) {
        answer_stats(req);
        return;
      }
      r = answer_test_route(req, path, path_len, &why);
      if (r > 0) return;
      if (r < 0) {
        char msg[256];
        int m = snprintf(msg, sizeof msg, "handler failed for %.*s: %s",
                         (int)uri_len, uri, why);
        error_hook(SQUALL_ERRKIND_APPLICATION, 500, msg, (size_t)m, "", 0,
                   NULL);
        sq.respond(req, 500, "text/plain", SQUALL_NTS,
                   "Internal Server Error\n", 22);
        return;
      }
    }
    if (n > sizeof buf) out = malloc(n);
    if (!out) {
      sq.respond(req, 500, NULL, 0, NULL, 0);
      return;
    }
    memcpy(out, "You requested ", 14);
    memcpy(out + 14, uri, uri_len);
    out[14 + uri_len] = '\n';
    sq.respond(req, 200, "text/plain", SQUALL_NTS, out, n);
    if (out != buf) free(out);
    return;
  }
  {
    static const squall_header allow[2] = {
        {"Allow", SQUALL_NTS, "GET, HEAD, POST, PUT", SQUALL_NTS},
        {"Content-Type", SQUALL_NTS, "text/plain", SQUALL_NTS}};
    sq.response_send(req, 405, allow, 2, "Method Not Allowed\n", 19,
                     SQUALL_SEND_FINISH);
  }
}

static void on_signal(int sig) {
  (void)sig;
  g_stop = 1;
  if (g_loop) sq.loop_stop(g_loop);
}

static int usage(const char *argv0) {
  fprintf(stderr,
          "usage: %s [--address ADDR] [--port N] [--lib PATH] "
          "[--test-routes]\n",
          argv0);
  return 2;
}

int main(int argc, char **argv) {
  const char *address = "127.0.0.1", *lib = "libsquall.so.0";
  int port = 8888, i;
  squall_config *cfg;
  uint16_t bound = 0;
  long k;

  for (i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--address") && i + 1 < argc) {
      address = argv[++i];
    } else if (!strcmp(argv[i], "--port") && i + 1 < argc) {
      char *end;
      long v = strtol(argv[++i], &end, 10);
      if (*end || v < 0 || v > 65535) return usage(argv[0]);
      port = (int)v;
    } else if (!strcmp(argv[i], "--lib") && i + 1 < argc) {
      lib = argv[++i];
    } else if (!strcmp(argv[i], "--test-routes")) {
      test_routes = 1;
    } else {
      return usage(argv[0]);
    }
  }
  if (load_squall(lib) != 0) return 1;

  if (sq.loop_new(&g_loop) != 0 || sq.config_new(&cfg) != 0 ||
      sq.server_new(&g_srv, g_loop, cfg, handle, NULL, server_release) != 0 ||
      sq.server_set_error_hook(g_srv, error_hook, NULL, hook_release) != 0) {
    fprintf(stderr, "dlopen_demo: %s\n", sq.last_error());
    return 1;
  }
  sq.config_free(cfg);
  if (sq.server_listen(g_srv, address, SQUALL_NTS, port) != 0) {
    fprintf(stderr, "dlopen_demo: listen %s:%d: %s\n", address, port,
            sq.last_error());
    return 1;
  }
  sq.server_port(g_srv, &bound);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  signal(SIGPIPE, SIG_IGN);
  printf("listening on http://%s:%u/ (libsquall %s, loaded at run time)\n",
         strchr(address, ':') ? "[::1]" : address, bound, sq.version_string());
  fflush(stdout);
  while (!g_stop) sq.loop_run(g_loop);

  /* Free the server with requests still pending, then end them: their
   * responses find the connection closed, on_done reports the close. */
  sq.server_free(g_srv);
  for (k = 0; k < held_count; k++) {
    int rc = sq.respond(held[k], 200, NULL, 0, NULL, 0);
    if (rc != SQUALL_ECLOSED)
      fprintf(stderr, "dlopen_demo: held request answered with %d\n", rc);
  }
  sq.loop_run_once(g_loop, 0);
  sq.loop_free(g_loop);
  printf(
      "freed: server released %ld, hook released %ld, held %ld, "
      "done ok %ld, done closed %ld, live requests %ld\n",
      server_released, hook_released, held_count, done_ok, done_closed,
      live_requests);
  return 0;
}
