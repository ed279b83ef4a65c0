/*
 * demo.c -- the seed's demo server, over squall's C API only.
 *
 *   GET <any path>        -> 200 text/plain "You requested <uri>\n"
 *   POST|PUT /echo        -> 200 with exactly the request body
 *   HEAD                  -> as GET without the body
 *
 * Flags: --address ADDR (127.0.0.1)  --port N (8888; 0 = ephemeral)
 *        --xheaders (trust X-Real-IP / X-Forwarded-For / X-Scheme)
 *        --tls-cert FILE --tls-key FILE (serve HTTPS; PEM chain and key)
 *        --tls-ca FILE (require client certificates signed by these CAs;
 *        --tls-client-auth request: ask for one without requiring it)
 * Stops on SIGINT/SIGTERM.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <squall/squall.h>

static squall_loop *g_loop;

static int span_eq(const char *p, size_t n, const char *s) {
  return n == strlen(s) && memcmp(p, s, n) == 0;
}

static void handle(squall_request *req, void *user_data) {
  const char *method, *path, *uri;
  size_t method_len, path_len, uri_len;
  (void)user_data;
  squall_request_get(req, SQUALL_REQ_METHOD, &method, &method_len);
  squall_request_get(req, SQUALL_REQ_PATH, &path, &path_len);
  squall_request_get(req, SQUALL_REQ_URI, &uri, &uri_len);

  if ((span_eq(method, method_len, "POST") ||
       span_eq(method, method_len, "PUT")) &&
      span_eq(path, path_len, "/echo")) {
    const void *body;
    size_t body_len;
    squall_request_body(req, &body, &body_len);
    squall_respond(req, 200, "application/octet-stream", SQUALL_NTS, body,
                   body_len);
    return;
  }
  if (span_eq(method, method_len, "GET") ||
      span_eq(method, method_len, "HEAD")) {
    /* HEAD: squall sends the headers (with this body's length), not the body.
     */
    char buf[256];
    char *out = buf;
    size_t n = uri_len + 15;
    if (n > sizeof buf) out = malloc(n);
    if (!out) {
      squall_respond(req, 500, NULL, 0, NULL, 0);
      return;
    }
    memcpy(out, "You requested ", 14);
    memcpy(out + 14, uri, uri_len);
    out[14 + uri_len] = '\n';
    squall_respond(req, 200, "text/plain", SQUALL_NTS, out, n);
    if (out != buf) free(out);
    return;
  }
  squall_response_status(req, 405, NULL, 0);
  squall_response_header(req, "Allow", SQUALL_NTS, "GET, HEAD, POST, PUT",
                         SQUALL_NTS);
  squall_response_header(req, "Content-Type", SQUALL_NTS, "text/plain",
                         SQUALL_NTS);
  squall_response_write(req, "Method Not Allowed\n", 19);
  squall_response_finish(req);
}

static void on_signal(int sig) {
  (void)sig;
  if (g_loop) squall_loop_stop(g_loop);
}

static int usage(const char *argv0) {
  fprintf(stderr,
          "usage: %s [--address ADDR] [--port N] [--xheaders]\n"
          "          [--tls-cert FILE --tls-key FILE [--tls-ca FILE]\n"
          "           [--tls-client-auth request|require]]\n",
          argv0);
  return 2;
}

int main(int argc, char **argv) {
  const char *address = "127.0.0.1";
  const char *tls_cert = NULL, *tls_key = NULL, *tls_ca = NULL;
  int port = 8888, xheaders = 0, client_auth = SQUALL_TLS_CLIENT_REQUIRE, i;
  squall_config *cfg;
  squall_server *srv;
  uint16_t bound = 0;

  for (i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--address") && i + 1 < argc) {
      address = argv[++i];
    } else if (!strcmp(argv[i], "--port") && i + 1 < argc) {
      char *end;
      long v = strtol(argv[++i], &end, 10);
      if (*end || v < 0 || v > 65535) return usage(argv[0]);
      port = (int)v;
    } else if (!strcmp(argv[i], "--xheaders")) {
      xheaders = 1;
    } else if (!strcmp(argv[i], "--tls-cert") && i + 1 < argc) {
      tls_cert = argv[++i];
    } else if (!strcmp(argv[i], "--tls-key") && i + 1 < argc) {
      tls_key = argv[++i];
    } else if (!strcmp(argv[i], "--tls-ca") && i + 1 < argc) {
      tls_ca = argv[++i];
    } else if (!strcmp(argv[i], "--tls-client-auth") && i + 1 < argc) {
      i++;
      if (!strcmp(argv[i], "request"))
        client_auth = SQUALL_TLS_CLIENT_REQUEST;
      else if (!strcmp(argv[i], "require"))
        client_auth = SQUALL_TLS_CLIENT_REQUIRE;
      else
        return usage(argv[0]);
    } else {
      return usage(argv[0]);
    }
  }

  if (squall_loop_new(&g_loop) != 0 || squall_config_new(&cfg) != 0) {
    fprintf(stderr, "demo: %s\n", squall_last_error());
    return 1;
  }
  squall_config_set_int(cfg, SQUALL_OPT_XHEADERS, xheaders);
  if (!tls_cert != !tls_key || (tls_ca && !tls_cert)) return usage(argv[0]);
  if ((tls_cert && squall_config_add_tls_cert(cfg, tls_cert, tls_key) != 0) ||
      (tls_ca && (squall_config_set_str(cfg, SQUALL_OPT_TLS_CLIENT_CA, tls_ca,
                                        SQUALL_NTS) != 0 ||
                  squall_config_set_int(cfg, SQUALL_OPT_TLS_CLIENT_AUTH,
                                        client_auth) != 0))) {
    fprintf(stderr, "demo: %s\n", squall_last_error());
    return 1;
  }
  if (squall_server_new(&srv, g_loop, cfg, handle, NULL, NULL) != 0) {
    fprintf(stderr, "demo: %s\n", squall_last_error());
    return 1;
  }
  squall_config_free(cfg);
  if (squall_server_listen(srv, address, SQUALL_NTS, port) != 0) {
    fprintf(stderr, "demo: listen %s:%d: %s\n", address, port,
            squall_last_error());
    return 1;
  }
  squall_server_port(srv, &bound);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  signal(SIGPIPE, SIG_IGN);
  printf("listening on %s://%s:%u/\n", tls_cert ? "https" : "http",
         strchr(address, ':') ? "[::1]" : address, bound);
  fflush(stdout);
  squall_loop_run(g_loop);
  squall_server_free(srv);
  squall_loop_free(g_loop);
  return 0;
}
