/* C side of the Go binding; see shim.h. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "shim.h"
#include "_cgo_export.h"

/* ------------------------------------------------------------ requests */

static void field(const squall_request *req, int f, const char **p,
                  size_t *len) {
  if (squall_request_get(req, f, p, len) != 0) {
    *p = "";
    *len = 0;
  }
}

void sqgo_request_info(const squall_request *req, sqgo_reqinfo *ri) {
  field(req, SQUALL_REQ_METHOD, &ri->method, &ri->method_len);
  field(req, SQUALL_REQ_URI, &ri->uri, &ri->uri_len);
  field(req, SQUALL_REQ_PATH, &ri->path, &ri->path_len);
  field(req, SQUALL_REQ_QUERY, &ri->query, &ri->query_len);
  field(req, SQUALL_REQ_VERSION, &ri->version, &ri->version_len);
  field(req, SQUALL_REQ_HOST, &ri->host, &ri->host_len);
  field(req, SQUALL_REQ_REMOTE_IP, &ri->remote_ip, &ri->remote_ip_len);
  field(req, SQUALL_REQ_PROTOCOL, &ri->protocol, &ri->protocol_len);
  if (squall_request_body(req, &ri->body, &ri->body_len) != 0) {
    ri->body = NULL;
    ri->body_len = 0;
  }
  if (squall_request_header_count(req, &ri->header_count) != 0)
    ri->header_count = 0;
}

int sqgo_request_tls(const squall_request *req, sqgo_tlsinfo *ti) {
  int rc = squall_request_get(req, SQUALL_REQ_TLS_VERSION, &ti->version,
                              &ti->version_len);
  if (rc != 0) return rc;
  field(req, SQUALL_REQ_TLS_CIPHER, &ti->cipher, &ti->cipher_len);
  field(req, SQUALL_REQ_TLS_SERVER_NAME, &ti->server_name,
        &ti->server_name_len);
  field(req, SQUALL_REQ_TLS_ALPN, &ti->alpn, &ti->alpn_len);
  field(req, SQUALL_REQ_TLS_PEER_SUBJECT, &ti->peer_subject,
        &ti->peer_subject_len);
  field(req, SQUALL_REQ_TLS_PEER_CERT, &ti->peer_cert, &ti->peer_cert_len);
  const char *r;
  size_t rlen;
  field(req, SQUALL_REQ_TLS_RESUMED, &r, &rlen);
  ti->resumed = rlen == 1 && r[0] == '1';
  return 0;
}

int sqgo_request_headers(const squall_request *req, char *out_raw,
                         size_t cap, size_t *count) {
  squall_header *out = (squall_header *)out_raw;
  size_t n = 0;
  int rc = squall_request_header_count(req, &n);
  if (rc != 0) return rc;
  *count = n;
  if (n > cap) n = cap;
  for (size_t i = 0; i < n; i++) {
    rc = squall_request_header_at(req, i, &out[i].name, &out[i].name_len,
                                  &out[i].value, &out[i].value_len);
    if (rc != 0) return rc;
  }
  return 0;
}

/* -------------------------------------------------------------- bridge */

struct sqgo_bridge {
  squall_loop *loop;
  squall_server *srv; /* loop thread; freed and cleared under smu */
  pthread_mutex_t smu; /* lets other threads use srv (reload_tls) */
  int fill_info;
  uintptr_t inline_handle; /* inline mode: Go's handle for direct calls */
  int yield_on;            /* inline mode: one Go P, yield after readying */
  int yield_scheduled;     /* inline mode, loop thread */
  int done_fired; /* poll mode, loop thread: a done callback ran in Go */
  /* inline mode, loop thread: requests waiting for the one Go call per
   * loop pass that serves them all (batch), and how many requests to
   * answer at once in their read pass instead (direct; see on_handler) */
  squall_request **iq;
  size_t iq_head, iq_n, iq_cap;
  int iq_scheduled, in_batch, batch_pending;
  long direct_left;
  int efd;

  /* events for Go */
  pthread_mutex_t emu;
  sqgo_event *ev;
  size_t ev_n, ev_cap;
  int signaled;           /* efd written since the queue was last emptied */
  int ev_dead;            /* the loop is freed: no event follows */
  int ev_flush_scheduled; /* loop thread: signal at the end of the pass */

  /* lifecycle: call_soon on the loop only while it is not being freed */
  pthread_mutex_t lmu;
  int loop_dead; /* sqgo_bridge_stop ran */

  /* requests handed to Go and not finished (any thread ends them) */
  long inflight;       /* __atomic */
  int stopping;        /* __atomic: the server is gone, stop when idle */
  int shutdown_started; /* loop thread */

  /* One loop of a squall_group (Server.Loops > 1): the group owns the loop
   * and the server; dropping the server only forgets it. */
  struct sqgo_group *group;
};

typedef struct {
  sqgo_bridge *b;
  uintptr_t handle;
} cbctx;

/* The bridge whose loop runs on this thread (set before squall_loop_run;
 * the loop goroutine is locked to its thread). */
static __thread sqgo_bridge *tl_loop;

void sqgo_bridge_enter(sqgo_bridge *b) { tl_loop = b; }

static void yield_cb(void *user_data) {
  sqgo_bridge *b = user_data;
  b->yield_scheduled = 0;
  sqgoGoYield(b->inline_handle);
}

/* Inline mode, loop thread: call sqgoGoYield once at the end of the pass
 * (so that goroutines readied by the pass can run when Go has one P). */
static void yield_soon(sqgo_bridge *b) {
  if (b->yield_scheduled || !b->inline_handle) return;
  if (squall_loop_call_soon(b->loop, yield_cb, b) == 0) b->yield_scheduled = 1;
}

static void signal_efd(sqgo_bridge *b) {
  uint64_t one = 1;
  ssize_t r;
  do r = write(b->efd, &one, sizeof one);
  while (r < 0 && errno == EINTR);
}

/* Loop thread, end of the pass: one eventfd write for every event queued
 * during it (signalling at the first event would wake the Go side, on the
 * same CPU, once per request). */
static void flush_events(void *user_data) {
  sqgo_bridge *b = user_data;
  int wake = 0;
  b->ev_flush_scheduled = 0;
  pthread_mutex_lock(&b->emu);
  if (b->ev_n > 0 && !b->signaled) {
    b->signaled = 1;
    wake = 1;
  }
  pthread_mutex_unlock(&b->emu);
  if (wake) signal_efd(b);
}

/* Queue an event; deferred: signal at the end of the loop pass (loop thread
 * while it runs), else at once. */
static void push_event(sqgo_bridge *b, const sqgo_event *e, int deferred) {
  int wake = 0;
  pthread_mutex_lock(&b->emu);
  if (b->ev_n == b->ev_cap) {
    size_t cap = b->ev_cap ? b->ev_cap * 2 : 64;
    sqgo_event *nv = realloc(b->ev, cap * sizeof *nv);
    if (!nv) { /* out of memory: the event is lost */
      pthread_mutex_unlock(&b->emu);
      return;
    }
    b->ev = nv;
    b->ev_cap = cap;
  }
  b->ev[b->ev_n++] = *e;
  if (!deferred && !b->signaled) {
    b->signaled = 1;
    wake = 1;
  }
  pthread_mutex_unlock(&b->emu);
  if (wake) signal_efd(b);
  if (deferred && !b->ev_flush_scheduled) {
    if (squall_loop_call_soon(b->loop, flush_events, b) == 0)
      b->ev_flush_scheduled = 1;
    else
      flush_events(b);
  }
}

/* A done event for a Go handle, from a loop callback (deferred: on b's
 * loop thread; else from another loop of a group). */
static void push_done_on(sqgo_bridge *b, int status, uintptr_t handle,
                         int deferred) {
  if (b->inline_handle) {
    sqgoGoDone(status, handle);
    b->done_fired = 1;
    if (b->yield_on) yield_soon(b);
    return;
  }
  sqgo_event e;
  memset(&e, 0, sizeof e);
  e.kind = SQGO_EV_DONE;
  e.status = status;
  e.handle = handle;
  push_event(b, &e, deferred);
}

static void push_done(sqgo_bridge *b, int status, uintptr_t handle) {
  push_done_on(b, status, handle, 1);
}

/* Inline mode: one Go call per loop pass serves every request queued in
 * it, and the ones dispatched while it runs (pipelined requests follow as
 * soon as the previous response is finished). */
static void inline_batch(void *user_data) {
  sqgo_bridge *b = user_data;
  b->iq_scheduled = 0;
  if (b->iq_n == 0) return;
  b->in_batch = 1;
  b->batch_pending = 0;
  int yield = sqgoGoBatch(b->inline_handle);
  b->in_batch = 0;
  if (yield || (b->batch_pending && b->yield_on)) yield_soon(b);
}

size_t sqgo_inline_take(uintptr_t bridge, char *out_raw, size_t cap) {
  sqgo_bridge *b = (sqgo_bridge *)bridge;
  squall_request **out = (squall_request **)out_raw;
  size_t n = b->iq_n < cap ? b->iq_n : cap;
  for (size_t i = 0; i < n; i++) out[i] = b->iq[(b->iq_head + i) % b->iq_cap];
  if (b->iq_cap) b->iq_head = (b->iq_head + n) % b->iq_cap;
  b->iq_n -= n;
  return n;
}

static int iq_push(sqgo_bridge *b, squall_request *req) {
  if (b->iq_n == b->iq_cap) {
    size_t cap = b->iq_cap ? b->iq_cap * 2 : 64;
    squall_request **nq = malloc(cap * sizeof *nq);
    if (!nq) return -1;
    for (size_t i = 0; i < b->iq_n; i++)
      nq[i] = b->iq[(b->iq_head + i) % b->iq_cap];
    free(b->iq);
    b->iq = nq;
    b->iq_cap = cap;
    b->iq_head = 0;
  }
  b->iq[(b->iq_head + b->iq_n) % b->iq_cap] = req;
  b->iq_n++;
  return 0;
}

/* How many requests are answered in their read pass after pipelining was
 * last seen (see on_handler). */
#define DIRECT_SPAN 65536

static void on_handler(squall_request *req, void *user_data) {
  sqgo_bridge *b = user_data;
  __atomic_add_fetch(&b->inflight, 1, __ATOMIC_SEQ_CST);
  if (b->inline_handle) {
    /* Two ways to call Go.  Batch: queue the request and serve every
     * request of the loop pass in one Go call at its end (one cgo callback
     * per pass).  Direct: call Go here, inside the read pass of the
     * connection, so that the library gathers the responses to a pipelined
     * burst into one write (answered later, from the batch, the first
     * response of a burst goes out alone and the rest in a second write).
     * A request dispatched inside the batch is a pipelined one (the
     * library read it after the previous response on its connection was
     * finished): clients pipeline, so the next DIRECT_SPAN requests are
     * answered directly; then batching is tried again.  Which path a
     * request takes changes only the number of writes and Go calls. */
    if (b->in_batch || b->direct_left > 0) {
      int pending = sqgoGoHandler(req, b->inline_handle);
      if (b->in_batch) {
        b->direct_left = DIRECT_SPAN;
        if (pending) b->batch_pending = 1;
      } else {
        b->direct_left--;
        if (pending && b->yield_on) yield_soon(b);
      }
      return;
    }
    if (iq_push(b, req) != 0) { /* out of memory: answer in place */
      if (sqgoGoHandler(req, b->inline_handle) && b->yield_on) yield_soon(b);
      return;
    }
    if (!b->iq_scheduled) {
      if (squall_loop_call_soon(b->loop, inline_batch, b) == 0)
        b->iq_scheduled = 1;
      else
        inline_batch(b);
    }
    return;
  }
  sqgo_event e;
  e.kind = SQGO_EV_REQUEST;
  e.status = 0;
  e.req = req;
  e.handle = 0;
  if (b->fill_info)
    sqgo_request_info(req, &e.info);
  else
    memset(&e.info, 0, sizeof e.info);
  e.text = NULL;
  e.text_len = e.peer_len = 0;
  push_event(b, &e, 1);
}

static void on_done(int status, void *user_data) {
  cbctx *c = user_data;
  sqgo_bridge *b = c->b;
  uintptr_t h = c->handle;
  free(c);
  push_done(b, status, h);
}

/* Loop thread. */
static void maybe_stop(sqgo_bridge *b) {
  if (__atomic_load_n(&b->stopping, __ATOMIC_SEQ_CST) && !b->srv &&
      __atomic_load_n(&b->inflight, __ATOMIC_SEQ_CST) == 0)
    squall_loop_stop(b->loop);
}

static void maybe_stop_cb(void *user_data) { maybe_stop(user_data); }

/* Loop thread: frees the server (waits for a reload_tls in progress). */
static void drop_server(sqgo_bridge *b) {
  pthread_mutex_lock(&b->smu);
  if (b->srv) {
    if (!b->group) squall_server_free(b->srv);
    b->srv = NULL;
  }
  pthread_mutex_unlock(&b->smu);
}

static void free_server(sqgo_bridge *b) {
  drop_server(b);
  __atomic_store_n(&b->stopping, 1, __ATOMIC_SEQ_CST);
  maybe_stop(b);
}

static void on_shutdown_done(int status, void *user_data) {
  (void)status;
  free_server(user_data);
}

/* Run fn on the loop thread unless the loop is stopping for good. */
static int lifecycle_call(sqgo_bridge *b, squall_callback_fn fn, void *arg) {
  int rc = SQUALL_ECLOSED;
  pthread_mutex_lock(&b->lmu);
  if (!b->loop_dead) rc = squall_loop_call_soon(b->loop, fn, arg);
  pthread_mutex_unlock(&b->lmu);
  return rc;
}

/* A request handed to Go has been finished (any thread). */
static void ended(sqgo_bridge *b) {
  /* seq_cst: either this sees stopping, or free_server sees inflight 0 */
  if (__atomic_sub_fetch(&b->inflight, 1, __ATOMIC_SEQ_CST) != 0 ||
      !__atomic_load_n(&b->stopping, __ATOMIC_SEQ_CST))
    return;
  if (tl_loop == b)
    maybe_stop(b);
  else
    lifecycle_call(b, maybe_stop_cb, b); /* after the finish queued before */
}

int sqgo_response_send(uintptr_t bridge, uintptr_t request, int status,
                       uintptr_t headers_raw, size_t n_headers,
                       const char *body, size_t len, unsigned flags,
                       uintptr_t done) {
  sqgo_bridge *b = (sqgo_bridge *)bridge;
  squall_request *req = (squall_request *)request;
  const squall_header *headers = (const squall_header *)headers_raw;
  if (flags & (SQUALL_SEND_FINISH | SQUALL_SEND_ABORT)) {
    int rc = squall_response_send(req, status, headers, n_headers, body, len,
                                  flags);
    if (rc == SQUALL_ESTATE) return rc; /* ended before: not ours to count */
    if (rc == SQUALL_EINVAL) {
      /* Refused, nothing applied; Go has let the request go: end it. */
      if (flags & SQUALL_SEND_ABORT)
        squall_response_abort(req);
      else
        squall_response_finish(req);
    }
    ended(b);
    return rc == SQUALL_ECLOSED ? 0 : rc;
  }
  if (!done)
    return squall_response_send(req, status, headers, n_headers, body, len,
                                flags);
  int rc = squall_response_send(req, status, headers, n_headers, body, len, 0);
  if (rc != 0) return rc;
  cbctx *ctx = malloc(sizeof *ctx);
  if (!ctx) return SQUALL_ENOMEM;
  ctx->b = b;
  ctx->handle = done;
  rc = squall_response_flush(req, on_done, ctx);
  /* SQUALL_ECLOSED: the connection is known to be gone, yet done still
   * runs (with SQUALL_ECLOSED) -- the loop outlives every request handed
   * to Go, so the library never drops the call for a missing loop here. */
  if (rc == 0 || rc == SQUALL_ECLOSED) return 0;
  free(ctx);
  return rc;
}

int sqgo_respond_ct(uintptr_t bridge, uintptr_t request, int status,
                    const char *ct, size_t ct_len, const char *body,
                    size_t len) {
  sqgo_bridge *b = (sqgo_bridge *)bridge;
  squall_request *req = (squall_request *)request;
  int rc = squall_respond(req, status, ct, ct_len, body, len);
  if (rc == SQUALL_ESTATE) return rc; /* ended before: not ours to count */
  if (rc == SQUALL_EINVAL) squall_response_finish(req); /* Go let it go */
  ended(b);
  return rc == SQUALL_ECLOSED ? 0 : rc;
}

int sqgo_on_done(sqgo_bridge *b, squall_request *req, uintptr_t handle) {
  cbctx *ctx = malloc(sizeof *ctx);
  if (!ctx) return SQUALL_ENOMEM;
  ctx->b = b;
  ctx->handle = handle;
  int rc = squall_request_on_done(req, on_done, ctx);
  if (rc != 0) free(ctx);
  return rc;
}

typedef struct {
  sqgo_bridge *b;
  uintptr_t handle;
  int64_t grace_ms;
} lifecycle;

static void close_cb(void *user_data) {
  lifecycle *l = user_data;
  sqgo_bridge *b = l->b;
  uintptr_t h = l->handle;
  free(l);
  free_server(b);
  if (h) push_done(b, 0, h);
}

static void shutdown_cb(void *user_data) {
  lifecycle *l = user_data;
  sqgo_bridge *b = l->b;
  int64_t grace = l->grace_ms;
  free(l);
  if (b->srv && !b->shutdown_started) {
    b->shutdown_started = 1;
    if (squall_server_shutdown(b->srv, grace, on_shutdown_done, b) != 0)
      free_server(b);
  }
}

static int lifecycle_push(sqgo_bridge *b, squall_callback_fn fn,
                          uintptr_t handle, int64_t grace_ms) {
  lifecycle *l = malloc(sizeof *l);
  if (!l) return SQUALL_ENOMEM;
  l->b = b;
  l->handle = handle;
  l->grace_ms = grace_ms;
  int rc = lifecycle_call(b, fn, l);
  if (rc != 0) free(l);
  return rc;
}

int sqgo_close(sqgo_bridge *b, uintptr_t handle) {
  return lifecycle_push(b, close_cb, handle, 0);
}

int sqgo_shutdown(sqgo_bridge *b, int64_t grace_ms) {
  return lifecycle_push(b, shutdown_cb, 0, grace_ms);
}

long sqgo_bridge_poll(sqgo_bridge *b, char *out_raw, size_t cap) {
  sqgo_event *out = (sqgo_event *)out_raw;
  pthread_mutex_lock(&b->emu);
  size_t n = b->ev_n < cap ? b->ev_n : cap;
  memcpy(out, b->ev, n * sizeof *out);
  if (n < b->ev_n)
    memmove(b->ev, b->ev + n, (b->ev_n - n) * sizeof *out);
  b->ev_n -= n;
  if (b->ev_n == 0) b->signaled = 0;
  int dead = b->ev_dead && n == 0;
  /* The last events after the kill: the poller waits on the eventfd next,
   * and no one signals it any more; keep it readable so that it polls
   * again and sees the end.  (Events flushed while the loop was freed used
   * up the kill's signal.) */
  int rewake = b->ev_dead && n > 0;
  pthread_mutex_unlock(&b->emu);
  if (rewake) signal_efd(b);
  return dead ? -1 : (long)n;
}

static sqgo_result result(int rc) {
  sqgo_result r = {rc, NULL};
  if (rc != 0) {
    const char *m = squall_last_error();
    if (m && *m) r.msg = strdup(m);
  }
  return r;
}

sqgo_result sqgo_bridge_new(sqgo_bridge **out, squall_loop *loop,
                            int fill_info, uintptr_t inline_handle,
                            int yield_on, int *efd) {
  *out = NULL;
  sqgo_bridge *b = calloc(1, sizeof *b);
  if (!b) return result(SQUALL_ENOMEM);
  b->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (b->efd < 0) {
    free(b);
    sqgo_result r = {SQUALL_ERROR, strdup("eventfd failed")};
    return r;
  }
  pthread_mutex_init(&b->emu, NULL);
  pthread_mutex_init(&b->lmu, NULL);
  pthread_mutex_init(&b->smu, NULL);
  b->loop = loop;
  b->fill_info = fill_info;
  b->inline_handle = inline_handle;
  b->yield_on = yield_on;
  *efd = b->efd;
  *out = b;
  return result(0);
}

sqgo_result sqgo_bridge_server_new(sqgo_bridge *b, const squall_config *cfg) {
  return result(squall_server_new(&b->srv, b->loop, cfg, on_handler, b, NULL));
}

squall_server *sqgo_bridge_server(sqgo_bridge *b) { return b->srv; }

sqgo_result sqgo_bridge_server_new_polled(sqgo_bridge *b,
                                          const squall_config *cfg) {
  return result(squall_server_new_polled(&b->srv, b->loop, cfg));
}

long sqgo_poll(uintptr_t bridge, int timeout_ms, uintptr_t out_raw,
               size_t cap) {
  sqgo_bridge *b = (sqgo_bridge *)bridge;
  size_t n = 0;
  int rc = squall_loop_poll(b->loop, timeout_ms, (squall_request **)out_raw,
                            cap, &n);
  if (rc < 0) return rc;
  if (n) __atomic_add_fetch(&b->inflight, (long)n, __ATOMIC_SEQ_CST);
  long r = (long)n | (rc == SQUALL_POLL_STOPPED ? SQGO_POLL_STOPPED : 0);
  if (b->done_fired) {
    b->done_fired = 0;
    r |= SQGO_POLL_DONE;
  }
  return r;
}

/* Called by the loop goroutine after squall_loop_run returned and before
 * squall_loop_free: lifecycle calls are refused from now on (the stop
 * condition guarantees none is needed; those already queued run inside
 * squall_loop_free), then after the free no event follows. */
void sqgo_bridge_stop(sqgo_bridge *b) {
  drop_server(b);
  __atomic_store_n(&b->stopping, 1, __ATOMIC_SEQ_CST);
  pthread_mutex_lock(&b->lmu);
  b->loop_dead = 1;
  pthread_mutex_unlock(&b->lmu);
}

void sqgo_bridge_kill(sqgo_bridge *b) {
  int wake;
  pthread_mutex_lock(&b->emu);
  b->ev_dead = 1;
  wake = !b->signaled;
  b->signaled = 1;
  pthread_mutex_unlock(&b->emu);
  if (wake) signal_efd(b);
}

void sqgo_bridge_free(sqgo_bridge *b) {
  if (!b) return;
  free(b->iq);
  pthread_mutex_destroy(&b->emu);
  pthread_mutex_destroy(&b->lmu);
  pthread_mutex_destroy(&b->smu);
  free(b->ev);
  free(b);
}

/* ---------------------------------------------------- error hook, misc */

static void on_error(int kind, int http_status, const char *msg,
                     size_t msg_len, const char *peer, size_t peer_len,
                     void *user_data) {
  sqgo_bridge *b = user_data;
  sqgo_event e;
  memset(&e, 0, sizeof e);
  e.kind = SQGO_EV_ERROR;
  e.status = http_status;
  e.handle = (uintptr_t)kind;
  e.text = malloc(msg_len + peer_len + 1);
  if (!e.text) return;
  memcpy(e.text, msg, msg_len);
  memcpy(e.text + msg_len, peer, peer_len);
  e.text_len = msg_len;
  e.peer_len = peer_len;
  push_event(b, &e, 1);
}

int sqgo_bridge_error_hook(sqgo_bridge *b) {
  return squall_server_set_error_hook(b->srv, on_error, b, NULL);
}

sqgo_result sqgo_loop_new(squall_loop **out) {
  return result(squall_loop_new(out));
}

sqgo_result sqgo_server_listen(squall_server *srv, const char *host,
                               size_t host_len, int port) {
  return result(squall_server_listen(srv, host, host_len, port));
}

sqgo_result sqgo_server_add_socket(squall_server *srv, int fd) {
  return result(squall_server_add_socket(srv, fd));
}

sqgo_result sqgo_config_set_int(squall_config *cfg, int key, int64_t v) {
  return result(squall_config_set_int(cfg, key, v));
}

sqgo_result sqgo_config_set_str(squall_config *cfg, int key, const char *s,
                                size_t len) {
  return result(squall_config_set_str(cfg, key, s, len));
}

sqgo_result sqgo_config_add_tls_cert(squall_config *cfg, const char *cert_file,
                                     const char *key_file) {
  return result(squall_config_add_tls_cert(cfg, cert_file, key_file));
}

sqgo_result sqgo_config_add_tls_cert_pem(squall_config *cfg,
                                         const char *cert_pem, size_t cert_len,
                                         const char *key_pem, size_t key_len) {
  return result(
      squall_config_add_tls_cert_pem(cfg, cert_pem, cert_len, key_pem, key_len));
}

sqgo_result sqgo_config_set_tls_key_password(squall_config *cfg,
                                             const char *password) {
  return result(squall_config_set_tls_key_password(cfg, password));
}

sqgo_result sqgo_bridge_reload_tls(sqgo_bridge *b, const squall_config *cfg) {
  sqgo_result r;
  pthread_mutex_lock(&b->smu);
  if (b->srv) {
    r = result(squall_server_reload_tls(b->srv, cfg));
  } else {
    r.rc = SQUALL_ECLOSED;
    r.msg = strdup("the server is closed");
  }
  pthread_mutex_unlock(&b->smu);
  return r;
}

/* ------------------------------------------------------------- groups */

struct sqgo_group {
  squall_group *g;
  int n;
  sqgo_bridge **b; /* b[i] serves loop i; all set before start */
  uintptr_t done_handle; /* Go handle for the drain's done event, or 0 */
};

/* Any loop of the group: the request belongs to the bridge of its loop. */
static void group_handler(squall_request *req, void *user_data) {
  sqgo_group *gr = user_data;
  squall_loop *loop = NULL;
  int i = squall_request_loop(req, &loop) == 0
              ? squall_group_loop_index(gr->g, loop)
              : -1;
  if (i < 0 || i >= gr->n || !gr->b[i]) { /* cannot happen */
    squall_respond(req, 500, NULL, 0, NULL, 0);
    return;
  }
  on_handler(req, gr->b[i]);
}

sqgo_result sqgo_group_new(sqgo_group **out, int n, const squall_config *cfg) {
  *out = NULL;
  sqgo_group *gr = calloc(1, sizeof *gr);
  if (!gr) return result(SQUALL_ENOMEM);
  sqgo_result r = result(squall_group_new(&gr->g, n, cfg, group_handler, gr,
                                          NULL));
  if (r.rc != 0) {
    free(gr);
    return r;
  }
  gr->n = squall_group_size(gr->g);
  gr->b = calloc((size_t)gr->n, sizeof *gr->b);
  if (!gr->b) {
    squall_group_free(gr->g);
    free(gr);
    return result(SQUALL_ENOMEM);
  }
  *out = gr;
  return r;
}

int sqgo_group_size(sqgo_group *gr) { return gr->n; }

squall_loop *sqgo_group_loop(sqgo_group *gr, int i) {
  return squall_group_loop(gr->g, i);
}

static void enter_cb(void *user_data) {
  sqgo_bridge *b = user_data;
  if (!b->loop_dead) tl_loop = b; /* not when freed unstarted */
}

int sqgo_group_attach(sqgo_group *gr, int i, sqgo_bridge *b) {
  /* Marks the loop's thread for b on its first pass (the group's thread
   * runs it; squall_loop_call_soon is [any thread]). */
  int rc = squall_loop_call_soon(b->loop, enter_cb, b);
  if (rc != 0) return rc;
  b->group = gr;
  b->srv = squall_group_server(gr->g, i);
  gr->b[i] = b;
  return 0;
}

sqgo_result sqgo_group_listen(sqgo_group *gr, const char *host,
                              size_t host_len, int port) {
  return result(squall_group_listen(gr->g, host, host_len, port));
}

sqgo_result sqgo_group_add_socket(sqgo_group *gr, int fd) {
  return result(squall_group_add_socket(gr->g, fd));
}

int sqgo_group_port(sqgo_group *gr, uint16_t *port) {
  return squall_group_port(gr->g, port);
}

sqgo_result sqgo_group_start(sqgo_group *gr) {
  return result(squall_group_start(gr->g));
}

/* On one loop of b: the server is drained; stop once Go finished every
 * request it holds. */
static void group_release_cb(void *user_data) { free_server(user_data); }

/* On one of the loops, once every server is drained. */
static void group_drained(int status, void *user_data) {
  sqgo_group *gr = user_data;
  uintptr_t h = __atomic_exchange_n(&gr->done_handle, 0, __ATOMIC_SEQ_CST);
  /* Forget the servers now (under each bridge's lock: no ReloadTLS after
   * Close or Shutdown returned); each loop stops on its own thread. */
  for (int i = 0; i < gr->n; i++) drop_server(gr->b[i]);
  for (int i = 0; i < gr->n; i++)
    if (lifecycle_call(gr->b[i], group_release_cb, gr->b[i]) != 0)
      free_server(gr->b[i]); /* cannot happen: no loop stops before */
  if (h) push_done_on(gr->b[0], status, h, 0); /* maybe not b0's thread */
}

int sqgo_group_shutdown(sqgo_group *gr, int64_t grace_ms, uintptr_t handle) {
  __atomic_store_n(&gr->done_handle, handle, __ATOMIC_SEQ_CST);
  int rc = squall_group_shutdown(gr->g, grace_ms, group_drained, gr);
  if (rc != 0) __atomic_store_n(&gr->done_handle, 0, __ATOMIC_SEQ_CST);
  return rc;
}

void sqgo_group_join(sqgo_group *gr) { squall_group_join(gr->g); }

void sqgo_group_end(sqgo_group *gr) {
  for (int i = 0; i < gr->n; i++)
    if (gr->b[i]) sqgo_bridge_stop(gr->b[i]);
  squall_group_free(gr->g); /* frees the loops: no callback follows */
  for (int i = 0; i < gr->n; i++)
    if (gr->b[i]) sqgo_bridge_kill(gr->b[i]);
  free(gr->b);
  free(gr);
}
