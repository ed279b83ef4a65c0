/*
 * demo.c -- the seed's demo server, over squall's C API only.
 *
 *   GET <any path>        -> 200 text/plain "You requested <uri>\n"
 *   POST|PUT /echo        -> 200 with exactly the request body
 *   HEAD                  -> as GET without the body
 *
 *   GET /whoami           -> remote_ip, protocol, host, pid, task, loop
 *   GET /sleep?ms=N       -> "slept" after N ms (the loop goes on meanwhile)
 *
 * Flags: --address ADDR (127.0.0.1)  --port N (8888; 0 = ephemeral)
 *        --xheaders (trust X-Real-IP / X-Forwarded-For / X-Scheme)
 *        --processes N (prefork, 0 = one per CPU; 1 default)
 *        --max-restarts N (children restarted at most N times, 100)
 *        --threads N (loops per process, 0 = one per CPU; 1 default)
 *        --grace-ms MS (drain time on SIGTERM/SIGINT, 10000)
 *        --tls-cert FILE --tls-key FILE (serve HTTPS; PEM chain and key)
 *        --tls-ca FILE (require client certificates signed by these CAs;
 *        --tls-client-auth request: ask for one without requiring it)
 *        --quiet (no access log)  --log-format text|json (text)
 * SIGTERM/SIGINT drain (in-flight requests finish) and stop; SIGUSR2 (one
 * process) restarts with no downtime: a new demo takes over the listening
 * sockets, then this one drains.  Sockets passed by systemd socket
 * activation (LISTEN_FDS) are used instead of --address/--port.
 *
 * Logs go to stderr, one line per event, in the shape of Tornado's
 * (tornado.access and tornado.general under its LogFormatter):
 *
 *   [I 261203 10:25:25 demo] 200 GET /hello (127.0.0.1) 0.52ms
 *   [W 261203 10:25:26 demo] 404 GET /nope (127.0.0.1) 0.31ms
 *   [W 261203 10:25:27 demo] 431 refused (127.0.0.1): limit: ...
 *
 * The first from the access hook, once per answered request (I below 400,
 * W for 4xx, E for 5xx); the second shape from the error hook when squall
 * itself refuses or drops a connection, saying why (malformed request,
 * limit, timeout, connection lost, application).  --quiet drops the access
 * lines only; --log-format json writes one JSON object per line instead.
 */
#define _POSIX_C_SOURCE 200809L /* localtime_r, gmtime_r */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <squall/squall.h>

static int g_json; /* --log-format json */

/* ------------------------------------------------------------------ logs */

/* A log line is built in one buffer and written with one fwrite.  Long
 * strings are cut (kShown bytes, then "...") so that what follows them
 * still fits: a line stays whole, and valid JSON. */
typedef struct line {
  char buf[4096];
  size_t len;
} line;
enum { kShown = 2048 };

static void put(line *l, const char *fmt, ...) {
  va_list ap;
  int n;
  if (l->len >= sizeof l->buf) return;
  va_start(ap, fmt);
  n = vsnprintf(l->buf + l->len, sizeof l->buf - l->len, fmt, ap);
  va_end(ap);
  if (n > 0) l->len += (size_t)n;
  if (l->len > sizeof l->buf - 2) l->len = sizeof l->buf - 2; /* truncated */
}

/* A JSON string: quotes, backslashes and bytes outside printable ASCII
 * escaped (bytes >= 0x80 as \u00XX: the line stays valid JSON). */
static void put_json_str(line *l, const char *s, size_t n) {
  size_t i, end;
  put(l, "\"");
  end = l->len + kShown;
  if (end > sizeof l->buf - 256) end = sizeof l->buf - 256; /* room after */
  for (i = 0; i < n && l->len < end; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c == '"' || c == '\\') {
      l->buf[l->len++] = '\\';
      l->buf[l->len++] = (char)c;
    } else if (c < 0x20 || c >= 0x7f) {
      put(l, "\\u%04x", c);
    } else {
      l->buf[l->len++] = (char)c;
    }
  }
  put(l, i < n ? "...\"" : "\"");
}

/* Start a line: "[I 261203 10:25:25 demo] " or '{"time":"...","level":"info"'.
 */
static void begin_line(line *l, char level) {
  /* The formatted second is kept: localtime_r and strftime once a second,
   * not once a line. */
  static __thread time_t last = (time_t)-1;
  static __thread char stamp[32];
  struct timeval tv;
  struct tm tm;
  l->len = 0;
  gettimeofday(&tv, NULL);
  if (tv.tv_sec != last) {
    last = tv.tv_sec;
    if (g_json)
      strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S",
               gmtime_r(&tv.tv_sec, &tm));
    else
      strftime(stamp, sizeof stamp, "%y%m%d %H:%M:%S",
               localtime_r(&tv.tv_sec, &tm));
  }
  if (g_json)
    put(l, "{\"time\":\"%s.%03ldZ\",\"level\":\"%s\"", stamp,
        (long)(tv.tv_usec / 1000),
        level == 'I'   ? "info"
        : level == 'W' ? "warning"
                       : "error");
  else
    put(l, "[%c %s demo] ", level, stamp);
}

static void end_line(line *l) {
  put(l, g_json ? "}\n" : "\n");
  l->buf[l->len - 1] = '\n'; /* also when truncated */
  fwrite(l->buf, 1, l->len, stderr);
}

/* The client's address without the port: "127.0.0.1:5000" -> "127.0.0.1",
 * "[::1]:5000" -> "::1"; a unix socket peer stays as it is ("" -> "unix"). */
static void peer_host(const char *peer, size_t n, const char **host,
                      size_t *host_len) {
  const char *colon = NULL;
  size_t i;
  for (i = n; i > 0 && !colon; i--)
    if (peer[i - 1] == ':') colon = peer + i - 1;
  *host = peer;
  *host_len = n;
  if (n == 0) {
    *host = "unix";
    *host_len = 4;
  } else if (peer[0] == '[' && colon && colon > peer && colon[-1] == ']') {
    *host = peer + 1;
    *host_len = (size_t)(colon - peer) - 2;
  } else if (peer[0] != '/' && colon &&
             !memchr(peer, ':', (size_t)(colon - peer))) {
    *host_len = (size_t)(colon - peer);
  }
}

/* Access hook: Tornado's log_request, "200 GET /hello (127.0.0.1) 0.52ms". */
static void on_access(const char *method, size_t method_len, const char *target,
                      size_t target_len, int status, uint64_t bytes_sent,
                      uint64_t duration_us, const char *peer, size_t peer_len,
                      void *user_data) {
  line l;
  const char *host;
  size_t host_len;
  double ms = (double)duration_us / 1000.0;
  (void)user_data;
  peer_host(peer, peer_len, &host, &host_len);
  begin_line(&l, status == 0 || status >= 500 ? 'E'
                 : status >= 400              ? 'W'
                                              : 'I');
  if (g_json) {
    put(&l, ",\"status\":%d,\"method\":", status);
    put_json_str(&l, method, method_len);
    put(&l, ",\"uri\":");
    put_json_str(&l, target, target_len);
    put(&l, ",\"remote_ip\":");
    put_json_str(&l, host, host_len);
    put(&l, ",\"duration_ms\":%.2f,\"bytes\":%llu", ms,
        (unsigned long long)bytes_sent);
  } else {
    put(&l, "%d %.*s %.*s%s (%.*s) %.2fms", status, (int)method_len, method,
        (int)(target_len < kShown ? target_len : kShown), target,
        target_len > kShown ? "..." : "", (int)host_len, host, ms);
    if (status == 0) put(&l, " (no response: client gone or aborted)");
  }
  end_line(&l);
}

static const char *kind_name(int kind) {
  switch (kind) {
    case SQUALL_ERRKIND_PARSE:
      return "malformed request";
    case SQUALL_ERRKIND_LIMIT:
      return "limit";
    case SQUALL_ERRKIND_TIMEOUT:
      return "timeout";
    case SQUALL_ERRKIND_TLS:
      return "tls";
    case SQUALL_ERRKIND_IO:
      return "connection lost";
    case SQUALL_ERRKIND_APPLICATION:
      return "application";
    default:
      return "error";
  }
}

/* Error hook: why squall refused or dropped a connection,
 * "431 refused (127.0.0.1): limit: <squall's message>". */
static void on_error(int kind, int http_status, const char *msg, size_t msg_len,
                     const char *peer, size_t peer_len, void *user_data) {
  line l;
  const char *host;
  size_t host_len;
  char level = 'W';
  (void)user_data;
  if (kind == SQUALL_ERRKIND_APPLICATION || http_status >= 500) level = 'E';
  if (kind == SQUALL_ERRKIND_TIMEOUT && http_status == 0)
    level = 'I'; /* idle */
  peer_host(peer, peer_len, &host, &host_len);
  begin_line(&l, level);
  if (g_json) {
    put(&l, ",\"event\":\"%s\",\"status\":%d,\"kind\":\"%s\",\"remote_ip\":",
        http_status ? "refused" : "closed", http_status, kind_name(kind));
    put_json_str(&l, host, host_len);
    put(&l, ",\"message\":");
    put_json_str(&l, msg, msg_len);
  } else if (http_status) {
    put(&l, "%d refused (%.*s): %s: %.*s", http_status, (int)host_len, host,
        kind_name(kind), (int)(msg_len < kShown ? msg_len : kShown), msg);
  } else {
    put(&l, "closed (%.*s): %s: %.*s", (int)host_len, host, kind_name(kind),
        (int)(msg_len < kShown ? msg_len : kShown), msg);
  }
  end_line(&l);
}

/* -------------------------------------------------------------- handler */

static int span_eq(const char *p, size_t n, const char *s) {
  return n == strlen(s) && memcmp(p, s, n) == 0;
}

/* GET /whoami: who served this request, for checking deployments. */
static squall_group *g_group;

static void whoami(squall_request *req) {
  const char *ip, *proto, *host;
  size_t ip_len, proto_len, host_len;
  char buf[512];
  squall_loop *loop = NULL;
  int n;
  squall_request_get(req, SQUALL_REQ_REMOTE_IP, &ip, &ip_len);
  squall_request_get(req, SQUALL_REQ_PROTOCOL, &proto, &proto_len);
  squall_request_get(req, SQUALL_REQ_HOST, &host, &host_len);
  squall_request_loop(req, &loop);
  n = snprintf(buf, sizeof buf,
               "remote_ip=%.*s\nprotocol=%.*s\nhost=%.*s\npid=%ld\n"
               "task=%d\nloop=%d\n",
               (int)ip_len, ip, (int)proto_len, proto, (int)host_len, host,
               (long)getpid(), squall_task_id(),
               squall_group_loop_index(g_group, loop));
  if (n < 0 || (size_t)n >= sizeof buf) n = 0;
  squall_respond(req, 200, "text/plain", SQUALL_NTS, buf, (size_t)n);
}

/* GET /sleep?ms=N: answer after N ms (at most a minute) without holding
 * the loop -- a handler that finishes later, from a timer. */
struct sleeper {
  squall_request *req;
  int done;
};

static void wake(void *user_data) {
  struct sleeper *s = user_data;
  s->done = 1;
  squall_respond(s->req, 200, "text/plain", SQUALL_NTS, "slept\n", 6);
}

static void wake_release(void *user_data) {
  struct sleeper *s = user_data;
  if (!s->done) squall_respond(s->req, 503, NULL, 0, NULL, 0);
  free(s);
}

static void sleep_then_answer(squall_request *req) {
  const char *q;
  size_t q_len;
  long ms;
  squall_loop *loop = NULL;
  struct sleeper *s = malloc(sizeof *s);
  squall_request_get(req, SQUALL_REQ_QUERY, &q, &q_len);
  ms = strtol(q + (q_len > 3 && !strncmp(q, "ms=", 3) ? 3 : q_len), NULL, 10);
  if (ms < 0 || ms > 60000) ms = 60000;
  if (!s || squall_request_loop(req, &loop) != 0) {
    free(s);
    squall_respond(req, 500, NULL, 0, NULL, 0);
    return;
  }
  s->req = req;
  s->done = 0;
  if (squall_loop_call_later(NULL, loop, ms, wake, s, wake_release) != 0) {
    free(s);
    squall_respond(req, 500, NULL, 0, NULL, 0);
  }
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
  if (span_eq(method, method_len, "GET") &&
      span_eq(path, path_len, "/whoami")) {
    whoami(req);
    return;
  }
  if (span_eq(method, method_len, "GET") && span_eq(path, path_len, "/sleep")) {
    sleep_then_answer(req);
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

static int usage(const char *argv0) {
  fprintf(stderr,
          "usage: %s [--address ADDR] [--port N] [--xheaders] [--quiet]\n"
          "          [--log-format text|json]\n"
          "          [--processes N [--max-restarts N]] [--threads N]\n"
          "          [--grace-ms MS]\n"
          "          [--tls-cert FILE --tls-key FILE [--tls-ca FILE]\n"
          "           [--tls-client-auth request|require]]\n",
          argv0);
  return 2;
}

static int parse_int(const char *s, long lo, long hi, int *out) {
  char *end;
  long v = strtol(s, &end, 10);
  if (*s == 0 || *end || v < lo || v > hi) return -1;
  *out = (int)v;
  return 0;
}

/* The TCP port of a listening socket (0 if not TCP). */
static unsigned socket_port(int fd) {
  struct sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0) return 0;
  if (ss.ss_family == AF_INET)
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
  if (ss.ss_family == AF_INET6)
    return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
  return 0;
}

static int fail(const char *what) {
  fprintf(stderr, "demo: %s: %s\n", what, squall_last_error());
  return 1;
}

int main(int argc, char **argv) {
  const char *address = "127.0.0.1";
  const char *tls_cert = NULL, *tls_key = NULL, *tls_ca = NULL;
  int port = 8888, xheaders = 0, client_auth = SQUALL_TLS_CLIENT_REQUIRE, i;
  int processes = 1, threads = 1, grace_ms = 10000, task = 0;
  int max_restarts = 100;
  int fds[16];
  size_t nfds = 0;
  char self[4096];
  const char *restart_argv[64];
  ssize_t self_len;
  int quiet = 0;
  squall_config *cfg;

  for (i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--address") && i + 1 < argc) {
      address = argv[++i];
    } else if (!strcmp(argv[i], "--port") && i + 1 < argc) {
      if (parse_int(argv[++i], 0, 65535, &port)) return usage(argv[0]);
    } else if (!strcmp(argv[i], "--processes") && i + 1 < argc) {
      if (parse_int(argv[++i], 0, 1024, &processes)) return usage(argv[0]);
    } else if (!strcmp(argv[i], "--max-restarts") && i + 1 < argc) {
      if (parse_int(argv[++i], 0, 1000000, &max_restarts))
        return usage(argv[0]);
    } else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
      if (parse_int(argv[++i], 0, 1024, &threads)) return usage(argv[0]);
    } else if (!strcmp(argv[i], "--grace-ms") && i + 1 < argc) {
      if (parse_int(argv[++i], 0, 86400000, &grace_ms)) return usage(argv[0]);
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
    } else if (!strcmp(argv[i], "--quiet")) {
      quiet = 1;
    } else if (!strcmp(argv[i], "--log-format") && i + 1 < argc) {
      i++;
      if (!strcmp(argv[i], "json"))
        g_json = 1;
      else if (!strcmp(argv[i], "text"))
        g_json = 0;
      else
        return usage(argv[0]);
    } else {
      return usage(argv[0]);
    }
  }
  if (!tls_cert != !tls_key || (tls_ca && !tls_cert) || argc > 60)
    return usage(argv[0]);

  /* The config first: TLS session-ticket keys made now are shared by every
   * process forked below and every loop. */
  if (squall_config_new(&cfg) != 0) return fail("config");
  squall_config_set_int(cfg, SQUALL_OPT_XHEADERS, xheaders);
  if ((tls_cert && squall_config_add_tls_cert(cfg, tls_cert, tls_key) != 0) ||
      (tls_ca && (squall_config_set_str(cfg, SQUALL_OPT_TLS_CLIENT_CA, tls_ca,
                                        SQUALL_NTS) != 0 ||
                  squall_config_set_int(cfg, SQUALL_OPT_TLS_CLIENT_AUTH,
                                        client_auth) != 0)))
    return fail("tls");

  /* Sockets from systemd or from the process this one replaces (SIGUSR2),
   * else bound here -- before forking, so that the children share them. */
  if (squall_listen_fds(fds, 16, &nfds) != 0) return fail("LISTEN_FDS");
  if (nfds == 0 && squall_bind_sockets(address, SQUALL_NTS, port, 1024, 0, fds,
                                       16, &nfds) != 0) {
    fprintf(stderr, "demo: listen %s:%d: %s\n", address, port,
            squall_last_error());
    return 1;
  }
  printf("listening on %s://%s:%u/\n", tls_cert ? "https" : "http",
         strchr(address, ':') ? "[::1]" : address, socket_port(fds[0]));
  fflush(stdout);

  if (processes != 1 &&
      squall_fork_processes(processes, max_restarts, &task) != 0)
    return fail("fork");
  /* Here in the only process, or in each child. */
  if (squall_group_new(&g_group, threads, cfg, handle, NULL, NULL) != 0)
    return fail("server");
  squall_config_free(cfg);
  for (i = 0; i < squall_group_size(g_group); i++) {
    squall_server *srv = squall_group_server(g_group, i);
    if ((!quiet &&
         squall_server_set_access_hook(srv, on_access, NULL, NULL) != 0) ||
        squall_server_set_error_hook(srv, on_error, NULL, NULL) != 0)
      return fail("hooks");
  }
  for (i = 0; i < (int)nfds; i++)
    if (squall_group_add_socket(g_group, fds[i]) != 0) return fail("socket");
  /* SIGTERM / SIGINT: drain, then exit.  SIGUSR2 (one process only):
   * start a new copy of this program on the same sockets, then drain. */
  self_len = readlink("/proc/self/exe", self, sizeof self - 1);
  restart_argv[0] = NULL;
  if (processes == 1 && self_len > 0) {
    self[self_len] = 0;
    restart_argv[0] = self;
    for (i = 1; i < argc; i++) restart_argv[i] = argv[i];
    restart_argv[argc] = NULL;
  }
  if (squall_group_handle_signals(g_group, grace_ms,
                                  restart_argv[0] ? restart_argv : NULL) != 0 ||
      squall_group_start(g_group) != 0)
    return fail("start");
  squall_group_join(g_group);
  squall_group_free(g_group);
  return 0;
}
