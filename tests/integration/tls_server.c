/*
 * tls_server.c -- the HTTPS server the TLS tests drive (test_tls.py).
 *
 *   GET  /<anything>  200 "You requested <uri>\n" with the request's TLS
 *                     fields as X-TLS-* headers and X-Full-URL
 *   GET  /pem         the client certificate (PEM), "" if none
 *   GET  /big?N       N bytes of 'x'
 *   GET  /stats       "tls_handshake_failures=N"
 *   POST /echo        the body
 *
 * Flags: --port N, then one or more --cert FILE --key FILE pairs (the first
 * is the default, the others are chosen by SNI), --ca FILE --client-auth
 * 0|1|2, --handshake-timeout-ms N, --min-version V, --password P (before
 * the --key it opens), --tickets 0|1.  Prints "port N" once listening.  SIGHUP reloads the same
 * files (prints "reloaded" or "reload failed: ..."); SIGTERM/SIGINT stop.
 * The error hook prints "error <kind> <status> <message>" lines to stderr.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <squall/squall.h>

#define MAX_CERTS 4

static squall_loop* g_loop;
static squall_server* g_srv;
static int g_argc;
static char** g_argv;

static void add_tls_header(squall_request* req, squall_header* h, size_t* n, const char* name,
                           int field) {
  const char* v;
  size_t len;
  if (squall_request_get(req, field, &v, &len) != 0) return;
  h[*n].name = name;
  h[*n].name_len = strlen(name);
  h[*n].value = v;
  h[*n].value_len = len;
  (*n)++;
}

static void handle(squall_request* req, void* user_data) {
  const char *method, *path, *uri, *query;
  size_t method_len, path_len, uri_len, query_len, n = 0;
  squall_header h[12];
  char buf[256];
  (void)user_data;
  squall_request_get(req, SQUALL_REQ_METHOD, &method, &method_len);
  squall_request_get(req, SQUALL_REQ_PATH, &path, &path_len);
  squall_request_get(req, SQUALL_REQ_URI, &uri, &uri_len);
  squall_request_get(req, SQUALL_REQ_QUERY, &query, &query_len);
  if (method_len == 4 && !memcmp(method, "POST", 4)) {
    const void* body;
    size_t len;
    squall_request_body(req, &body, &len);
    squall_respond(req, 200, "application/octet-stream", SQUALL_NTS, body, len);
    return;
  }
  if (path_len == 4 && !memcmp(path, "/pem", 4)) {
    const char* pem = "";
    size_t len = 0;
    squall_request_get(req, SQUALL_REQ_TLS_PEER_CERT, &pem, &len);
    squall_respond(req, 200, "text/plain", SQUALL_NTS, pem, len);
    return;
  }
  if (path_len == 4 && !memcmp(path, "/big", 4)) {
    size_t len = (size_t)strtoul(query, NULL, 10);
    char* body = malloc(len ? len : 1);
    if (!body) {
      squall_respond(req, 500, NULL, 0, NULL, 0);
      return;
    }
    memset(body, 'x', len);
    squall_respond(req, 200, "text/plain", SQUALL_NTS, body, len);
    free(body);
    return;
  }
  if (path_len == 6 && !memcmp(path, "/stats", 6)) {
    uint64_t v[SQUALL_STAT_COUNT] = {0};
    squall_server_stats(g_srv, v, SQUALL_STAT_COUNT);
    snprintf(buf, sizeof buf, "tls_handshake_failures=%llu",
             (unsigned long long)v[SQUALL_STAT_TLS_HANDSHAKE_FAILURES]);
    squall_respond(req, 200, "text/plain", SQUALL_NTS, buf, strlen(buf));
    return;
  }
  add_tls_header(req, h, &n, "X-Full-URL", SQUALL_REQ_FULL_URL);
  add_tls_header(req, h, &n, "X-Protocol", SQUALL_REQ_PROTOCOL);
  add_tls_header(req, h, &n, "X-TLS-Version", SQUALL_REQ_TLS_VERSION);
  add_tls_header(req, h, &n, "X-TLS-Cipher", SQUALL_REQ_TLS_CIPHER);
  add_tls_header(req, h, &n, "X-TLS-SNI", SQUALL_REQ_TLS_SERVER_NAME);
  add_tls_header(req, h, &n, "X-TLS-ALPN", SQUALL_REQ_TLS_ALPN);
  add_tls_header(req, h, &n, "X-TLS-Subject", SQUALL_REQ_TLS_PEER_SUBJECT);
  add_tls_header(req, h, &n, "X-TLS-Resumed", SQUALL_REQ_TLS_RESUMED);
  snprintf(buf, sizeof buf, "You requested %.*s\n", (int)uri_len, uri);
  squall_response_send(req, 200, h, n, buf, strlen(buf), SQUALL_SEND_FINISH);
}

static void on_error(int kind, int status, const char* msg, size_t msg_len, const char* peer,
                     size_t peer_len, void* user_data) {
  (void)peer;
  (void)peer_len;
  (void)user_data;
  fprintf(stderr, "error %d %d %.*s\n", kind, status, (int)msg_len, msg);
  fflush(stderr);
}

static int usage(void) {
  fprintf(stderr, "usage: tls_server --port N --cert F --key F [...]\n");
  return 2;
}

/* Build a config from the command line; 0 or the failing call's code. */
static int make_config(squall_config** out, int* port) {
  squall_config* cfg;
  const char* cert = NULL;
  int i, rc = 0;
  if (squall_config_new(&cfg) != 0) return -1;
  for (i = 1; i < g_argc && rc == 0; i++) {
    const char *a = g_argv[i], *v = i + 1 < g_argc ? g_argv[i + 1] : NULL;
    if (!v) {
      rc = SQUALL_EINVAL;
      break;
    }
    i++;
    if (!strcmp(a, "--port")) {
      *port = atoi(v);
    } else if (!strcmp(a, "--cert")) {
      cert = v;
    } else if (!strcmp(a, "--key") && cert) {
      rc = squall_config_add_tls_cert(cfg, cert, v);
      cert = NULL;
    } else if (!strcmp(a, "--password")) {
      rc = squall_config_set_tls_key_password(cfg, v);
    } else if (!strcmp(a, "--ca")) {
      rc = squall_config_set_str(cfg, SQUALL_OPT_TLS_CLIENT_CA, v, SQUALL_NTS);
    } else if (!strcmp(a, "--client-auth")) {
      rc = squall_config_set_int(cfg, SQUALL_OPT_TLS_CLIENT_AUTH, atoi(v));
    } else if (!strcmp(a, "--handshake-timeout-ms")) {
      rc = squall_config_set_int(cfg, SQUALL_OPT_TLS_HANDSHAKE_TIMEOUT_MS, atoi(v));
    } else if (!strcmp(a, "--min-version")) {
      rc = squall_config_set_str(cfg, SQUALL_OPT_TLS_MIN_VERSION, v, SQUALL_NTS);
    } else if (!strcmp(a, "--tickets")) {
      rc = squall_config_set_int(cfg, SQUALL_OPT_TLS_SESSION_TICKETS, atoi(v));
    } else {
      rc = SQUALL_EINVAL;
    }
  }
  if (rc != 0) {
    squall_config_free(cfg);
    return rc;
  }
  *out = cfg;
  return 0;
}

/* Signals arrive here (blocked everywhere else): SIGHUP reloads. */
static void* signals(void* arg) {
  sigset_t* set = arg;
  for (;;) {
    int sig = 0, port = 0;
    squall_config* cfg;
    if (sigwait(set, &sig) != 0) continue;
    if (sig != SIGHUP) {
      squall_loop_stop(g_loop);
      return NULL;
    }
    if (make_config(&cfg, &port) != 0) {
      printf("reload failed: %s\n", squall_last_error());
    } else {
      if (squall_server_reload_tls(g_srv, cfg) == 0)
        printf("reloaded\n");
      else
        printf("reload failed: %s\n", squall_last_error());
      squall_config_free(cfg);
    }
    fflush(stdout);
  }
}

int main(int argc, char** argv) {
  static sigset_t set;
  squall_config* cfg;
  pthread_t th;
  uint16_t bound = 0;
  int port = 0;
  g_argc = argc;
  g_argv = argv;
  sigemptyset(&set);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, NULL);
  if (squall_loop_new(&g_loop) != 0) return 1;
  if (make_config(&cfg, &port) != 0) {
    fprintf(stderr, "tls_server: %s\n", squall_last_error());
    return usage();
  }
  if (squall_server_new(&g_srv, g_loop, cfg, handle, NULL, NULL) != 0 ||
      squall_server_set_error_hook(g_srv, on_error, NULL, NULL) != 0 ||
      squall_server_listen(g_srv, "127.0.0.1", SQUALL_NTS, port) != 0) {
    fprintf(stderr, "tls_server: %s\n", squall_last_error());
    return 1;
  }
  squall_config_free(cfg);
  squall_server_port(g_srv, &bound);
  pthread_create(&th, NULL, signals, &set);
  printf("port %u\n", bound);
  fflush(stdout);
  squall_loop_run(g_loop);
  squall_server_free(g_srv);
  squall_loop_free(g_loop);
  return 0;
}
