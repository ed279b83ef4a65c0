/* httputil -- see httputil.h. */
#define _GNU_SOURCE
#include "httputil.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int64_t hu_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void hu_sleep_ms(int ms) {
  struct timespec ts;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (long)(ms % 1000) * 1000000L;
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

static void copy_span(char *out, size_t outsz, const char *p, size_t len) {
  if (outsz == 0) return;
  if (p == NULL) len = 0;
  if (len >= outsz) len = outsz - 1;
  if (len) memcpy(out, p, len);
  out[len] = '\0';
}

/* ---------------------------------------------------------------------- */
/* Server                                                                  */
/* ---------------------------------------------------------------------- */

int hu_req_field(const squall_request *req, int field, char *out,
                 size_t outsz) {
  const char *p = NULL;
  size_t len = 0;
  int rc = squall_request_get(req, field, &p, &len);
  copy_span(out, outsz, rc == 0 ? p : NULL, rc == 0 ? len : 0);
  return rc;
}

int hu_req_header(const squall_request *req, const char *name, char *out,
                  size_t outsz) {
  const char *p = NULL;
  size_t len = 0;
  int rc = squall_request_header(req, name, SQUALL_NTS, 0, &p, &len);
  copy_span(out, outsz, rc == 0 ? p : NULL, rc == 0 ? len : 0);
  return rc;
}

void hu_default_handler(hu_server *s, squall_request *req) {
  char method[32], uri[4096], body[4200];
  const void *data = NULL;
  size_t blen = 0;
  (void)s;
  hu_req_field(req, SQUALL_REQ_METHOD, method, sizeof method);
  hu_req_field(req, SQUALL_REQ_URI, uri, sizeof uri);
  if (squall_request_body(req, &data, &blen) != 0) blen = 0;
  int n = snprintf(body, sizeof body, "%s %s %zu\n", method, uri, blen);
  squall_respond(req, 200, "text/plain", SQUALL_NTS, body, (size_t)n);
}

static void on_handler(squall_request *req, void *ud) {
  hu_server *s = ud;
  char uri[4096];
  hu_req_field(req, SQUALL_REQ_URI, uri, sizeof uri);
  pthread_mutex_lock(&s->mu);
  if (s->handler_calls < HU_MAX_RECORDS)
    s->paths[s->handler_calls] = strdup(uri);
  s->handler_calls++;
  pthread_cond_broadcast(&s->cv);
  pthread_mutex_unlock(&s->mu);
  if (s->handler)
    s->handler(s, req);
  else
    hu_default_handler(s, req);
}

static void on_headers(squall_request *req, void *ud) {
  hu_server *s = ud;
  pthread_mutex_lock(&s->mu);
  s->headers_hook_calls++;
  pthread_cond_broadcast(&s->cv);
  pthread_mutex_unlock(&s->mu);
  s->headers_hook(s, req);
}

static void on_access(const char *method, size_t method_len, const char *target,
                      size_t target_len, int status, uint64_t bytes_sent,
                      uint64_t duration_us, const char *peer, size_t peer_len,
                      void *ud) {
  hu_server *s = ud;
  pthread_mutex_lock(&s->mu);
  if (s->access_calls < 64) {
    hu_access_rec *a = &s->access[s->access_calls];
    copy_span(a->method, sizeof a->method, method, method_len);
    copy_span(a->target, sizeof a->target, target, target_len);
    copy_span(a->peer, sizeof a->peer, peer, peer_len);
    a->status = status;
    a->bytes_sent = bytes_sent;
    a->duration_us = duration_us;
  }
  s->access_calls++;
  pthread_cond_broadcast(&s->cv);
  pthread_mutex_unlock(&s->mu);
}

static void on_error(int kind, int http_status, const char *msg, size_t msg_len,
                     const char *peer, size_t peer_len, void *ud) {
  hu_server *s = ud;
  pthread_mutex_lock(&s->mu);
  if (s->error_calls < 64) {
    hu_error_rec *e = &s->errors[s->error_calls];
    e->kind = kind;
    e->http_status = http_status;
    copy_span(e->msg, sizeof e->msg, msg, msg_len);
    copy_span(e->peer, sizeof e->peer, peer, peer_len);
  }
  s->error_calls++;
  pthread_cond_broadcast(&s->cv);
  pthread_mutex_unlock(&s->mu);
}

#define RELEASE_FN(name, field)     \
  static void name(void *ud) {      \
    hu_server *s = ud;              \
    pthread_mutex_lock(&s->mu);     \
    s->field++;                     \
    pthread_cond_broadcast(&s->cv); \
    pthread_mutex_unlock(&s->mu);   \
  }
RELEASE_FN(rel_handler, handler_release)
RELEASE_FN(rel_headers, headers_hook_release)
RELEASE_FN(rel_access, access_release)
RELEASE_FN(rel_error, error_release)

hu_server *hu_server_new(void) {
  hu_server *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  pthread_mutex_init(&s->mu, NULL);
  pthread_cond_init(&s->cv, NULL);
  if (squall_loop_new(&s->loop) != 0 || squall_config_new(&s->cfg) != 0) {
    if (s->loop) squall_loop_free(s->loop);
    free(s);
    return NULL;
  }
  return s;
}

static void *loop_thread(void *arg) {
  hu_server *s = arg;
  s->run_rc = squall_loop_run(s->loop);
  return NULL;
}

int hu_server_start(hu_server *s) {
  int rc =
      squall_server_new(&s->srv, s->loop, s->cfg, on_handler, s, rel_handler);
  if (rc != 0) return rc;
  if (s->headers_hook && (rc = squall_server_set_headers_hook(
                              s->srv, on_headers, s, rel_headers)) != 0)
    return rc;
  if (s->want_access_hook && (rc = squall_server_set_access_hook(
                                  s->srv, on_access, s, rel_access)) != 0)
    return rc;
  if (s->want_error_hook &&
      (rc = squall_server_set_error_hook(s->srv, on_error, s, rel_error)) != 0)
    return rc;
  if ((rc = squall_server_listen(s->srv, "127.0.0.1", SQUALL_NTS, 0)) != 0)
    return rc;
  if ((rc = squall_server_port(s->srv, &s->port)) != 0) return rc;
  if (s->port == 0) return SQUALL_ERROR;
  if (pthread_create(&s->thread, NULL, loop_thread, s) != 0)
    return SQUALL_ERROR;
  s->thread_started = 1;
  return 0;
}

static void stop_on_loop(void *arg) {
  hu_server *s = arg;
  squall_server_free(s->srv);
  s->srv = NULL;
  squall_loop_stop(s->loop);
}

int hu_server_stop(hu_server *s) {
  int ok = 1;
  if (!s->thread_started) return -1;
  if (squall_loop_call_soon(s->loop, stop_on_loop, s) != 0) ok = 0;
  pthread_join(s->thread, NULL);
  s->thread_started = 0;
  if (s->run_rc != 0) ok = 0;
  if (squall_loop_free(s->loop) != 0) ok = 0;
  s->loop = NULL;
  pthread_mutex_lock(&s->mu);
  if (s->handler_release != 1) ok = 0;
  if (s->headers_hook && s->headers_hook_release != 1) ok = 0;
  if (s->want_access_hook && s->access_release != 1) ok = 0;
  if (s->want_error_hook && s->error_release != 1) ok = 0;
  pthread_mutex_unlock(&s->mu);
  if (!ok)
    fprintf(stderr,
            "hu_server_stop: run_rc=%d releases handler=%d headers=%d "
            "access=%d error=%d\n",
            s->run_rc, s->handler_release, s->headers_hook_release,
            s->access_release, s->error_release);
  return ok ? 0 : -1;
}

void hu_server_free(hu_server *s) {
  if (!s) return;
  if (s->thread_started) hu_server_stop(s);
  if (s->srv) squall_server_free(s->srv);
  if (s->loop) squall_loop_free(s->loop);
  squall_config_free(s->cfg);
  for (int i = 0; i < HU_MAX_RECORDS; i++) free(s->paths[i]);
  pthread_mutex_destroy(&s->mu);
  pthread_cond_destroy(&s->cv);
  free(s);
}

int hu_server_finish(hu_server *s) {
  int rc = hu_server_stop(s);
  hu_server_free(s);
  return rc;
}

static void deadline_ts(struct timespec *ts, int timeout_ms) {
  clock_gettime(CLOCK_REALTIME, ts);
  ts->tv_sec += timeout_ms / 1000;
  ts->tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
  if (ts->tv_nsec >= 1000000000L) {
    ts->tv_sec++;
    ts->tv_nsec -= 1000000000L;
  }
}

static int wait_counter(hu_server *s, int *counter, int n, int timeout_ms) {
  struct timespec ts;
  deadline_ts(&ts, timeout_ms);
  pthread_mutex_lock(&s->mu);
  while (*counter < n) {
    if (pthread_cond_timedwait(&s->cv, &s->mu, &ts) == ETIMEDOUT) break;
  }
  int v = *counter;
  pthread_mutex_unlock(&s->mu);
  return v;
}

int hu_server_wait_calls(hu_server *s, int n, int timeout_ms) {
  return wait_counter(s, &s->handler_calls, n, timeout_ms);
}

int hu_server_wait_access(hu_server *s, int n, int timeout_ms) {
  return wait_counter(s, &s->access_calls, n, timeout_ms);
}

int hu_server_wait_errors(hu_server *s, int n, int timeout_ms) {
  return wait_counter(s, &s->error_calls, n, timeout_ms);
}

int hu_server_calls(hu_server *s) {
  pthread_mutex_lock(&s->mu);
  int v = s->handler_calls;
  pthread_mutex_unlock(&s->mu);
  return v;
}

int hu_server_count_uri(hu_server *s, const char *uri) {
  return hu_server_count_uri_since(s, uri, 0);
}

int hu_server_count_uri_since(hu_server *s, const char *uri, int from) {
  int n = 0;
  pthread_mutex_lock(&s->mu);
  for (int i = from < 0 ? 0 : from; i < s->handler_calls && i < HU_MAX_RECORDS;
       i++)
    if (s->paths[i] && strcmp(s->paths[i], uri) == 0) n++;
  pthread_mutex_unlock(&s->mu);
  return n;
}

int hu_server_uri_at(hu_server *s, int i, char *out, size_t outsz) {
  int rc = -1;
  pthread_mutex_lock(&s->mu);
  if (i >= 0 && i < s->handler_calls && i < HU_MAX_RECORDS && s->paths[i]) {
    copy_span(out, outsz, s->paths[i], strlen(s->paths[i]));
    rc = 0;
  }
  pthread_mutex_unlock(&s->mu);
  return rc;
}

uint64_t hu_server_stat(hu_server *s, int index) {
  uint64_t v[SQUALL_STAT_COUNT];
  if (index < 0 || index >= SQUALL_STAT_COUNT) return UINT64_MAX;
  if (squall_server_stats(s->srv, v, SQUALL_STAT_COUNT) != 0) return UINT64_MAX;
  return v[index];
}

uint64_t hu_server_wait_stat(hu_server *s, int index, uint64_t want,
                             int timeout_ms) {
  int64_t end = hu_now_ms() + timeout_ms;
  uint64_t v;
  for (;;) {
    v = hu_server_stat(s, index);
    if (v != UINT64_MAX && v >= want) return v;
    if (hu_now_ms() >= end) return v;
    hu_sleep_ms(5);
  }
}

struct run_on_loop {
  void (*fn)(void *);
  void *arg;
  hu_server *s;
  int done;
};

static void run_on_loop_cb(void *ud) {
  struct run_on_loop *r = ud;
  r->fn(r->arg);
  pthread_mutex_lock(&r->s->mu);
  r->done = 1;
  pthread_cond_broadcast(&r->s->cv);
  pthread_mutex_unlock(&r->s->mu);
}

int hu_server_run_on_loop(hu_server *s, void (*fn)(void *), void *arg) {
  struct run_on_loop r = {fn, arg, s, 0};
  int rc = squall_loop_call_soon(s->loop, run_on_loop_cb, &r);
  if (rc != 0) return rc;
  if (wait_counter(s, &r.done, 1, 60000) < 1) {
    /* The callback still holds &r: we cannot return safely. */
    fprintf(stderr, "hu_server_run_on_loop: loop did not run fn in 60 s\n");
    abort();
  }
  return 0;
}

/* ---------------------------------------------------------------------- */
/* Client                                                                  */
/* ---------------------------------------------------------------------- */

int hu_connect(hu_conn *c, uint16_t port) {
  memset(c, 0, sizeof *c);
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (c->fd < 0) return -1;
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    close(c->fd);
    c->fd = -1;
    return -1;
  }
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return 0;
}

void hu_close(hu_conn *c) {
  if (c->fd >= 0) close(c->fd);
  c->fd = -1;
  free(c->buf);
  c->buf = NULL;
  c->len = c->cap = 0;
}

void hu_shutdown_write(hu_conn *c) {
  shutdown(c->fd, SHUT_WR);
}

int hu_send(hu_conn *c, const void *data, size_t len) {
  const char *p = data;
  while (len > 0) {
    ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

int hu_send_str(hu_conn *c, const char *s) {
  return hu_send(c, s, strlen(s));
}

int hu_fill(hu_conn *c, int timeout_ms) {
  if (c->eof) return 0;
  if (c->cap - c->len < 65536) {
    size_t ncap = c->cap ? c->cap * 2 : 131072;
    while (ncap - c->len < 65536) ncap *= 2;
    char *nb = realloc(c->buf, ncap + 1);
    if (!nb) return -1;
    c->buf = nb;
    c->cap = ncap;
  }
  struct pollfd pfd = {c->fd, POLLIN, 0};
  int pr;
  do {
    pr = poll(&pfd, 1, timeout_ms < 0 ? 0 : timeout_ms);
  } while (pr < 0 && errno == EINTR);
  if (pr <= 0) return -1;
  ssize_t n;
  do {
    n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
  } while (n < 0 && errno == EINTR);
  if (n == 0 || (n < 0 && (errno == ECONNRESET || errno == EPIPE))) {
    c->eof = 1;
    return 0;
  }
  if (n < 0) return -1;
  c->len += (size_t)n;
  c->total_in += (size_t)n;
  c->buf[c->len] = '\0';
  return (int)n;
}

int hu_wait_bytes(hu_conn *c, size_t n, int timeout_ms) {
  int64_t end = hu_now_ms() + timeout_ms;
  while (c->len < n) {
    int64_t left = end - hu_now_ms();
    if (left <= 0) return HU_ETIMEOUT;
    int r = hu_fill(c, (int)left);
    if (r == 0) return c->len >= n ? HU_OK : HU_ECLOSED;
  }
  return HU_OK;
}

void hu_consume(hu_conn *c, size_t n) {
  if (n >= c->len) {
    c->len = 0;
  } else {
    memmove(c->buf, c->buf + n, c->len - n);
    c->len -= n;
  }
  if (c->buf) c->buf[c->len] = '\0';
}

static const char *find_mem(const char *hay, size_t hlen, const char *needle,
                            size_t nlen) {
  if (nlen == 0 || hlen < nlen) return NULL;
  for (size_t i = 0; i + nlen <= hlen; i++)
    if (hay[i] == needle[0] && memcmp(hay + i, needle, nlen) == 0)
      return hay + i;
  return NULL;
}

/* Find header name in a head block; returns pointer to value start and its
 * length (trimmed), starting the search at line index *from (advanced). */
static int head_next_header(const char *head, size_t head_len, const char *name,
                            size_t *pos, const char **val, size_t *vlen) {
  size_t nlen = strlen(name);
  size_t i = *pos;
  if (i == 0) {
    /* skip status line */
    const char *e = find_mem(head, head_len, "\r\n", 2);
    if (!e) return 0;
    i = (size_t)(e - head) + 2;
  }
  while (i < head_len) {
    const char *line = head + i;
    const char *e = find_mem(line, head_len - i, "\r\n", 2);
    size_t llen = e ? (size_t)(e - line) : head_len - i;
    i += llen + 2;
    if (llen > nlen && line[nlen] == ':' &&
        strncasecmp(line, name, nlen) == 0) {
      const char *v = line + nlen + 1;
      size_t vl = llen - nlen - 1;
      while (vl && (*v == ' ' || *v == '\t')) v++, vl--;
      while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t')) vl--;
      *pos = i;
      *val = v;
      *vlen = vl;
      return 1;
    }
  }
  *pos = i;
  return 0;
}

int hu_header(const hu_response *r, const char *name, char *out, size_t outsz) {
  size_t pos = 0;
  const char *v;
  size_t vl;
  if (!r->head) return 0;
  if (!head_next_header(r->head, r->head_len, name, &pos, &v, &vl)) return 0;
  if (out) copy_span(out, outsz, v, vl);
  return 1;
}

int hu_header_count(const hu_response *r, const char *name) {
  size_t pos = 0;
  const char *v;
  size_t vl;
  int n = 0;
  if (!r->head) return 0;
  while (head_next_header(r->head, r->head_len, name, &pos, &v, &vl)) n++;
  return n;
}

void hu_response_free(hu_response *r) {
  free(r->head);
  free(r->body);
  memset(r, 0, sizeof *r);
}

static int has_token(const char *v, size_t vl, const char *tok) {
  size_t tl = strlen(tok);
  size_t i = 0;
  while (i < vl) {
    while (i < vl && (v[i] == ' ' || v[i] == '\t' || v[i] == ',')) i++;
    size_t s = i;
    while (i < vl && v[i] != ',') i++;
    size_t e = i;
    while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t')) e--;
    if (e - s == tl && strncasecmp(v + s, tok, tl) == 0) return 1;
  }
  return 0;
}

/* Try to parse one response from buf.  1: complete (*used set), 0: need
 * more, -1: bad. */
static int parse_response(const char *buf, size_t len, int eof, int head_req,
                          hu_response *r, size_t *used) {
  const char *end = find_mem(buf, len, "\r\n\r\n", 4);
  if (!end) {
    if (len >= 5 && memcmp(buf, "HTTP/", len < 5 ? len : 5) != 0) return -1;
    return 0;
  }
  size_t head_len = (size_t)(end - buf) + 2; /* keep last header's CRLF */
  size_t body_start = head_len + 2;
  if (head_len < 12 || memcmp(buf, "HTTP/1.", 7) != 0 ||
      !isdigit((unsigned char)buf[7]) || buf[8] != ' ' ||
      !isdigit((unsigned char)buf[9]) || !isdigit((unsigned char)buf[10]) ||
      !isdigit((unsigned char)buf[11]))
    return -1;
  memset(r, 0, sizeof *r);
  r->minor = buf[7] - '0';
  r->status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
  r->head = malloc(head_len + 1);
  memcpy(r->head, buf, head_len);
  r->head[head_len] = '\0';
  r->head_len = head_len;

  size_t pos = 0;
  const char *v;
  size_t vl;
  while (head_next_header(r->head, r->head_len, "Transfer-Encoding", &pos, &v,
                          &vl))
    if (has_token(v, vl, "chunked")) r->chunked = 1;
  pos = 0;
  if (head_next_header(r->head, r->head_len, "Content-Length", &pos, &v, &vl)) {
    char tmp[32];
    copy_span(tmp, sizeof tmp, v, vl);
    r->has_content_length = 1;
    r->content_length = atoll(tmp);
  }

  int no_body = head_req || (r->status >= 100 && r->status < 200) ||
                r->status == 204 || r->status == 304;
  if (no_body) {
    r->body = calloc(1, 1);
    *used = body_start;
    return 1;
  }
  if (r->chunked) {
    size_t i = body_start;
    size_t cap = 1024, blen = 0;
    char *body = malloc(cap);
    for (;;) {
      const char *le = find_mem(buf + i, len - i, "\r\n", 2);
      if (!le) goto need_more_chunked;
      char *ep;
      unsigned long long sz = strtoull(buf + i, &ep, 16);
      if (ep == buf + i || (ep != le && *ep != ';')) {
        free(body);
        goto bad;
      }
      i = (size_t)(le - buf) + 2;
      if (sz == 0) {
        /* trailers until an empty line */
        for (;;) {
          const char *te = find_mem(buf + i, len - i, "\r\n", 2);
          if (!te) goto need_more_chunked;
          size_t tl = (size_t)(te - (buf + i));
          i += tl + 2;
          if (tl == 0) break;
        }
        r->body = body;
        r->body[blen] = '\0';
        r->body_len = blen;
        *used = i;
        return 1;
      }
      if (len - i < sz + 2) goto need_more_chunked;
      if (memcmp(buf + i + sz, "\r\n", 2) != 0) {
        free(body);
        goto bad;
      }
      while (blen + sz + 1 > cap) cap *= 2;
      body = realloc(body, cap);
      memcpy(body + blen, buf + i, sz);
      blen += sz;
      i += sz + 2;
    }
  need_more_chunked:
    free(body);
    hu_response_free(r);
    return 0;
  }
  if (r->has_content_length) {
    size_t cl = (size_t)r->content_length;
    if (len - body_start < cl) {
      hu_response_free(r);
      return 0;
    }
    r->body = malloc(cl + 1);
    memcpy(r->body, buf + body_start, cl);
    r->body[cl] = '\0';
    r->body_len = cl;
    *used = body_start + cl;
    return 1;
  }
  /* close-delimited */
  if (!eof) {
    hu_response_free(r);
    return 0;
  }
  r->close_delimited = 1;
  r->body_len = len - body_start;
  r->body = malloc(r->body_len + 1);
  memcpy(r->body, buf + body_start, r->body_len);
  r->body[r->body_len] = '\0';
  *used = len;
  return 1;
bad:
  hu_response_free(r);
  return -1;
}

int hu_read_response(hu_conn *c, hu_response *r, int head_request,
                     int timeout_ms) {
  int64_t end = hu_now_ms() + timeout_ms;
  memset(r, 0, sizeof *r);
  for (;;) {
    size_t used = 0;
    int pr =
        c->len ? parse_response(c->buf, c->len, c->eof, head_request, r, &used)
               : 0;
    if (pr < 0) return HU_EBAD;
    if (pr > 0) {
      hu_consume(c, used);
      return HU_OK;
    }
    if (c->eof) return HU_ECLOSED;
    int64_t left = end - hu_now_ms();
    if (left <= 0) return HU_ETIMEOUT;
    hu_fill(c, (int)left);
  }
}

int hu_wait_closed(hu_conn *c, int timeout_ms) {
  int64_t end = hu_now_ms() + timeout_ms;
  while (!c->eof) {
    int64_t left = end - hu_now_ms();
    if (left <= 0) return 0;
    hu_fill(c, (int)left);
  }
  return 1;
}

int hu_quiet(hu_conn *c, int ms) {
  size_t before = c->len;
  int64_t end = hu_now_ms() + ms;
  while (!c->eof && c->len == before) {
    int64_t left = end - hu_now_ms();
    if (left <= 0) break;
    hu_fill(c, (int)left);
  }
  return !c->eof && c->len == before;
}

int hu_read_until_close(hu_conn *c, int *statuses, int max, int *closed,
                        int timeout_ms) {
  int n = 0;
  int64_t end = hu_now_ms() + timeout_ms;
  *closed = 0;
  for (;;) {
    hu_response r;
    int64_t left = end - hu_now_ms();
    if (left <= 0) left = 1;
    int rc = hu_read_response(c, &r, 0, (int)left);
    if (rc == HU_OK) {
      if (statuses && n < max) statuses[n] = r.status;
      n++;
      hu_response_free(&r);
      continue;
    }
    if (rc == HU_ECLOSED) *closed = 1;
    break;
  }
  return n;
}

int hu_exchange(uint16_t port, const void *raw, size_t len, hu_response *r,
                int *closed_after) {
  hu_conn c;
  memset(r, 0, sizeof *r);
  if (hu_connect(&c, port) != 0) return HU_ECLOSED;
  hu_send(&c, raw, len);
  int rc = hu_read_response(&c, r, 0, HU_TIMEOUT_MS);
  if (closed_after) *closed_after = hu_wait_closed(&c, HU_CLOSE_TIMEOUT_MS);
  hu_close(&c);
  return rc;
}

void hu_print_escaped(const char *prefix, const void *data, size_t len) {
  const unsigned char *p = data;
  size_t shown = len > 300 ? 300 : len;
  fprintf(stderr, "%s\"", prefix);
  for (size_t i = 0; i < shown; i++) {
    unsigned char ch = p[i];
    if (ch == '\r')
      fputs("\\r", stderr);
    else if (ch == '\n')
      fputs("\\n", stderr);
    else if (ch == '\t')
      fputs("\\t", stderr);
    else if (ch == '"' || ch == '\\')
      fprintf(stderr, "\\%c", ch);
    else if (ch < 0x20 || ch >= 0x7f)
      fprintf(stderr, "\\x%02x", ch);
    else
      fputc(ch, stderr);
  }
  fprintf(stderr, "\"%s\n", len > shown ? "..." : "");
}

int hu_check_reject(uint16_t port, const char *label, const void *raw,
                    size_t len, int status) {
  hu_conn c;
  hu_response r;
  int ok = 1;
  if (hu_connect(&c, port) != 0) {
    fprintf(stderr, "FAIL [%s]: cannot connect\n", label);
    return -1;
  }
  hu_send(&c, raw, len);
  int rc = hu_read_response(&c, &r, 0, HU_TIMEOUT_MS);
  int got = rc == HU_OK ? r.status : 0;
  if (rc != HU_OK || r.status != status) ok = 0;
  if (rc == HU_OK) hu_response_free(&r);
  /* Exactly one response, then the close. */
  int closed = hu_wait_closed(&c, HU_CLOSE_TIMEOUT_MS);
  int extra = 0;
  if (c.len > 0) {
    hu_response r2;
    if (hu_read_response(&c, &r2, 0, 100) == HU_OK) {
      extra = r2.status;
      hu_response_free(&r2);
    } else {
      extra = -1;
    }
  }
  if (!closed || extra) ok = 0;
  if (!ok) {
    fprintf(stderr,
            "FAIL [%s]: expected %d + close; got %s%d, closed=%d, "
            "extra response=%d\n",
            label, status, rc == HU_OK ? "status " : "no response, rc=",
            rc == HU_OK ? got : rc, closed, extra);
    hu_print_escaped("  request: ", raw, len);
  }
  hu_close(&c);
  return ok ? 0 : -1;
}

void hu_echo_handler(hu_server *s, squall_request *req) {
  const void *data = NULL;
  size_t len = 0;
  (void)s;
  if (squall_request_body(req, &data, &len) != 0) len = 0;
  squall_respond(req, 200, "application/octet-stream", SQUALL_NTS, data, len);
}

struct respond_later {
  squall_request *req;
  int delay_ms;
  int status;
  char *body;
  size_t len;
};

static void *respond_later_thread(void *arg) {
  struct respond_later *r = arg;
  hu_sleep_ms(r->delay_ms);
  squall_respond(r->req, r->status, "text/plain", SQUALL_NTS, r->body, r->len);
  free(r->body);
  free(r);
  return NULL;
}

int hu_respond_later(squall_request *req, int delay_ms, int status,
                     const char *body, size_t len) {
  struct respond_later *r = calloc(1, sizeof *r);
  pthread_t t;
  pthread_attr_t attr;
  if (!r) return -1;
  r->req = req;
  r->delay_ms = delay_ms;
  r->status = status;
  r->body = malloc(len + 1);
  memcpy(r->body, body, len);
  r->len = len;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  int rc = pthread_create(&t, &attr, respond_later_thread, r);
  pthread_attr_destroy(&attr);
  if (rc != 0) {
    free(r->body);
    free(r);
    return -1;
  }
  return 0;
}
