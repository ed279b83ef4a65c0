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

int sqgo_request_headers(const squall_request *req, char *out_raw,
                         size_t cap, size_t *count) {
  sqgo_header *out = (sqgo_header *)out_raw;
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

enum { CMD_SEND = 1, CMD_ON_DONE = 2, CMD_CLOSE = 3, CMD_SHUTDOWN = 4, CMD_RESPOND = 5 };

typedef struct cmd {
  struct cmd *next;
  int kind, status, mode;
  squall_request *req;
  uintptr_t handle;
  int64_t arg;
  size_t hdrs_len, body_len;
  char data[]; /* hdrs, then body */
} cmd;

struct sqgo_bridge {
  squall_loop *loop;
  squall_server *srv; /* loop thread */
  int fill_info;
  uintptr_t inline_handle; /* inline mode: Go's handle for direct calls */
  int yield_on;            /* inline mode: one Go P, yield after readying */
  int yield_scheduled;     /* inline mode, loop thread */
  /* inline mode, loop thread: requests waiting for the one Go call per
   * loop pass that serves them all */
  squall_request **iq;
  size_t iq_head, iq_n, iq_cap;
  int iq_scheduled, in_batch, batch_pending;
  /* Request handles recently seen pipelining (a hint only: libsquall
   * reuses one handle per connection, so this names connections; a stale
   * or colliding entry merely picks the other path). */
  squall_request *pipelining[256];
  int efd;

  /* events for Go */
  pthread_mutex_t emu;
  sqgo_event *ev;
  size_t ev_n, ev_cap;
  int signaled;   /* efd written since the queue was last emptied */
  int ev_dead;    /* the loop is freed: no event follows */
  int ev_flush_scheduled; /* loop thread: signal at the end of the pass */

  /* commands for the loop */
  pthread_mutex_t cmu;
  cmd *head, *tail;
  int drain_scheduled;
  int deferring; /* Go is handling a batch: wake the loop at its end */
  int cmd_dead;  /* the loop stopped: commands are refused */

  /* loop thread only */
  long inflight; /* requests handed to Go and not finished */
  int stopping, shutdown_started;
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

void sqgo_bridge_yield_soon(sqgo_bridge *b) {
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

static void push_done_ex(sqgo_bridge *b, int status, uintptr_t handle,
                         int deferred) {
  sqgo_event e;
  memset(&e, 0, sizeof e);
  e.kind = SQGO_EV_DONE;
  e.status = status;
  e.handle = handle;
  push_event(b, &e, deferred);
}

/* From a loop callback. */
static void push_done(sqgo_bridge *b, int status, uintptr_t handle) {
  if (b->inline_handle) {
    sqgoGoDone(status, handle);
    if (b->yield_on) sqgo_bridge_yield_soon(b);
  } else {
    push_done_ex(b, status, handle, 1);
  }
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
  if (yield || (b->batch_pending && b->yield_on)) sqgo_bridge_yield_soon(b);
}

size_t sqgo_inline_take(uintptr_t bridge, char *out_raw, size_t cap) {
  sqgo_bridge *b = (sqgo_bridge *)bridge;
  squall_request **out = (squall_request **)out_raw;
  size_t n = b->iq_n < cap ? b->iq_n : cap;
  for (size_t i = 0; i < n; i++) out[i] = b->iq[(b->iq_head + i) % b->iq_cap];
  b->iq_head = (b->iq_head + n) % (b->iq_cap ? b->iq_cap : 1);
  b->iq_n -= n;
  return n;
}

static int iq_push(sqgo_bridge *b, squall_request *req) {
  if (b->iq_n == b->iq_cap) {
    size_t cap = b->iq_cap ? b->iq_cap * 2 : 64;
    squall_request **nq = malloc(cap * sizeof *nq);
    if (!nq) return -1;
    for (size_t i = 0; i < b->iq_n; i++) nq[i] = b->iq[(b->iq_head + i) % b->iq_cap];
    free(b->iq);
    b->iq = nq;
    b->iq_cap = cap;
    b->iq_head = 0;
  }
  b->iq[(b->iq_head + b->iq_n) % b->iq_cap] = req;
  b->iq_n++;
  return 0;
}

static size_t pipe_slot(const squall_request *req) {
  uint64_t x = (uint64_t)(uintptr_t)req;
  x ^= x >> 17;
  x *= 0x9E3779B97F4A7C15ull;
  return (size_t)(x >> 56);
}

static void on_handler(squall_request *req, void *user_data) {
  sqgo_bridge *b = user_data;
  if (b->inline_handle) {
    b->inflight++;
    if (b->in_batch) {
      /* Dispatched by a response finished in the batch: a pipelined
       * request on the same connection.  Answering it right here, inside
       * the connection's processing, lets the library gather the responses
       * of the following pipelined requests into one write. */
      b->pipelining[pipe_slot(req)] = req;
      if (sqgoGoHandler(req, b->inline_handle)) b->batch_pending = 1;
      return;
    }
    if (b->pipelining[pipe_slot(req)] == req) {
      /* A connection that pipelines: answer in its read pass, so that all
       * the responses to one burst leave in one write (a response finished
       * later, from the batch, is written on its own). */
      if (sqgoGoHandler(req, b->inline_handle) && b->yield_on)
        sqgo_bridge_yield_soon(b);
      return;
    }
    if (iq_push(b, req) != 0) { /* out of memory: answer 503 here */
      squall_respond(req, 503, NULL, 0, NULL, 0);
      b->inflight--;
      return;
    }
    if (!b->in_batch && !b->iq_scheduled) {
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
  b->inflight++;
  push_event(b, &e, 1);
}

static void on_done(int status, void *user_data) {
  cbctx *c = user_data;
  sqgo_bridge *b = c->b;
  uintptr_t h = c->handle;
  free(c);
  if (b->inline_handle) {
    sqgoGoDone(status, h);
    if (b->yield_on) sqgo_bridge_yield_soon(b);
  } else {
    push_done(b, status, h);
  }
}

static void maybe_stop(sqgo_bridge *b) {
  if (b->stopping && !b->srv && b->inflight == 0) squall_loop_stop(b->loop);
}

static void free_server(sqgo_bridge *b) {
  if (b->srv) {
    squall_server_free(b->srv);
    b->srv = NULL;
  }
  b->stopping = 1;
  maybe_stop(b);
}

static void on_shutdown_done(int status, void *user_data) {
  (void)status;
  free_server(user_data);
}

static uint32_t get32(const char *p) {
  uint32_t v;
  memcpy(&v, p, sizeof v);
  return v;
}

/* direct: called from Go on the loop thread; a failed flush is reported
 * by the return value, not by a done call back into Go. */
static int apply_send_parts(sqgo_bridge *b, cmd *c, const char *hdrs,
                            const char *body, int direct) {
  squall_request *req = c->req;
  int failed = 0, ret = 0;
  if (c->status > 0 && squall_response_status(req, c->status, NULL, 0) != 0)
    failed = 1;
  for (size_t off = 0; !failed && off + 8 <= c->hdrs_len;) {
    uint32_t nl = get32(hdrs + off), vl = get32(hdrs + off + 4);
    if (off + 8 + (size_t)nl + vl > c->hdrs_len) break;
    int rc = squall_response_header(req, hdrs + off + 8, nl, hdrs + off + 8 + nl, vl);
    if (rc != 0 && rc != SQUALL_EINVAL) failed = 1;
    off += 8 + (size_t)nl + vl;
  }
  if (!failed && c->body_len > 0 &&
      squall_response_write(req, body, c->body_len) != 0)
    failed = 1;
  switch (c->mode) {
    case SQGO_SEND_FLUSH: {
      int rc = SQUALL_ECLOSED;
      cbctx *ctx = NULL;
      if (c->handle) {
        ctx = malloc(sizeof *ctx);
        if (ctx) {
          ctx->b = b;
          ctx->handle = c->handle;
        }
      }
      if (!failed) rc = squall_response_flush(req, ctx ? on_done : NULL, ctx);
      if (rc != 0) {
        free(ctx);
        if (direct) return rc;
        if (c->handle) push_done(b, rc, c->handle);
      }
      break;
    }
    case SQGO_SEND_FINISH:
      ret = squall_response_finish(req); /* ends the request whatever happened */
      if (ret == SQUALL_ECLOSED) ret = 0;
      b->inflight--;
      maybe_stop(b);
      break;
  }
  return ret;
}

static void apply_send(sqgo_bridge *b, cmd *c) {
  apply_send_parts(b, c, c->data, c->data + c->hdrs_len, 0);
}

static void apply(sqgo_bridge *b, cmd *c) {
  switch (c->kind) {
    case CMD_SEND:
      apply_send(b, c);
      break;
    case CMD_ON_DONE: {
      cbctx *ctx = malloc(sizeof *ctx);
      int rc = SQUALL_ENOMEM;
      if (ctx) {
        ctx->b = b;
        ctx->handle = c->handle;
        rc = squall_request_on_done(c->req, on_done, ctx);
      }
      if (rc != 0) {
        free(ctx);
        push_done(b, rc, c->handle);
      }
      break;
    }
    case CMD_CLOSE:
      free_server(b);
      if (c->handle) push_done(b, 0, c->handle);
      break;
    case CMD_RESPOND:
      squall_respond(c->req, c->status, c->data, c->hdrs_len,
                     c->data + c->hdrs_len, c->body_len);
      b->inflight--;
      maybe_stop(b);
      break;
    case CMD_SHUTDOWN:
      if (b->srv && !b->shutdown_started) {
        b->shutdown_started = 1;
        if (squall_server_shutdown(b->srv, c->arg, on_shutdown_done, b) != 0)
          free_server(b);
      }
      break;
  }
}

static void drain(void *user_data) {
  sqgo_bridge *b = user_data;
  pthread_mutex_lock(&b->cmu);
  cmd *c = b->head;
  b->head = b->tail = NULL;
  b->drain_scheduled = 0;
  pthread_mutex_unlock(&b->cmu);
  while (c) {
    cmd *next = c->next;
    apply(b, c);
    free(c);
    c = next;
  }
}

static int push_cmd(sqgo_bridge *b, cmd *c) {
  int wake = 0;
  c->next = NULL;
  pthread_mutex_lock(&b->cmu);
  if (b->cmd_dead) {
    pthread_mutex_unlock(&b->cmu);
    free(c);
    return SQUALL_ECLOSED;
  }
  if (b->tail)
    b->tail->next = c;
  else
    b->head = c;
  b->tail = c;
  if (!b->drain_scheduled && !b->deferring) {
    b->drain_scheduled = 1;
    wake = 1;
  }
  /* call_soon under the lock: the loop cannot be freed meanwhile (the loop
   * goroutine takes this lock to refuse commands before freeing it). */
  if (wake && squall_loop_call_soon(b->loop, drain, b) != 0)
    b->drain_scheduled = 0;
  pthread_mutex_unlock(&b->cmu);
  return 0;
}

static cmd *new_cmd(int kind, squall_request *req, size_t extra) {
  cmd *c = malloc(sizeof *c + extra);
  if (!c) return NULL;
  memset(c, 0, sizeof *c);
  c->kind = kind;
  c->req = req;
  return c;
}

int sqgo_send(uintptr_t bridge, uintptr_t request, int status,
              const char *hdrs, size_t hdrs_len, const char *body,
              size_t body_len, int mode, uintptr_t handle) {
  sqgo_bridge *b = (sqgo_bridge *)bridge;
  squall_request *req = (squall_request *)request;
  if (tl_loop == b) { /* inline mode, on the loop thread: at once */
    cmd c;
    memset(&c, 0, sizeof c);
    c.kind = CMD_SEND;
    c.req = req;
    c.status = status;
    c.mode = mode;
    c.handle = handle;
    c.hdrs_len = hdrs_len;
    c.body_len = body_len;
    return apply_send_parts(b, &c, hdrs, body, 1);
  }
  cmd *c = new_cmd(CMD_SEND, req, hdrs_len + body_len);
  if (!c) return SQUALL_ENOMEM;
  c->status = status;
  c->mode = mode;
  c->handle = handle;
  c->hdrs_len = hdrs_len;
  c->body_len = body_len;
  if (hdrs_len) memcpy(c->data, hdrs, hdrs_len);
  if (body_len) memcpy(c->data + hdrs_len, body, body_len);
  return push_cmd(b, c);
}

int sqgo_on_done(sqgo_bridge *b, squall_request *req, uintptr_t handle) {
  if (tl_loop == b) { /* at once; a failure is returned, not called back */
    cbctx *ctx = malloc(sizeof *ctx);
    if (!ctx) return SQUALL_ENOMEM;
    ctx->b = b;
    ctx->handle = handle;
    int rc = squall_request_on_done(req, on_done, ctx);
    if (rc != 0) free(ctx);
    return rc;
  }
  cmd *c = new_cmd(CMD_ON_DONE, req, 0);
  if (!c) return SQUALL_ENOMEM;
  c->handle = handle;
  return push_cmd(b, c);
}

int sqgo_close(sqgo_bridge *b, uintptr_t handle) {
  cmd *c = new_cmd(CMD_CLOSE, NULL, 0);
  if (!c) return SQUALL_ENOMEM;
  c->handle = handle;
  return push_cmd(b, c);
}

int sqgo_respond(uintptr_t bridge, uintptr_t request, int code,
                 const char *ct, size_t ct_len, const char *body,
                 size_t body_len) {
  sqgo_bridge *b = (sqgo_bridge *)bridge;
  squall_request *req = (squall_request *)request;
  if (tl_loop == b) { /* inline mode, on the loop thread: at once */
    int rc = squall_respond(req, code, ct, ct_len, body, body_len);
    if (rc != SQUALL_ESTATE && rc != SQUALL_EINVAL) {
      b->inflight--;
      maybe_stop(b);
      return rc == SQUALL_ECLOSED ? 0 : rc;
    }
    /* refused: Go has already let the request go; end it anyway */
    squall_response_finish(req);
    b->inflight--;
    maybe_stop(b);
    return rc;
  }
  cmd *c = new_cmd(CMD_RESPOND, req, ct_len + body_len);
  if (!c) return SQUALL_ENOMEM;
  c->status = code;
  c->hdrs_len = ct_len; /* the content type */
  c->body_len = body_len;
  if (ct_len) memcpy(c->data, ct, ct_len);
  if (body_len) memcpy(c->data + ct_len, body, body_len);
  return push_cmd(b, c);
}

int sqgo_shutdown(sqgo_bridge *b, int64_t grace_ms) {
  cmd *c = new_cmd(CMD_SHUTDOWN, NULL, 0);
  if (!c) return SQUALL_ENOMEM;
  c->arg = grace_ms;
  return push_cmd(b, c);
}

void sqgo_bridge_kick(sqgo_bridge *b) {
  pthread_mutex_lock(&b->cmu);
  b->deferring = 0;
  if (b->head && !b->drain_scheduled && !b->cmd_dead) {
    if (squall_loop_call_soon(b->loop, drain, b) == 0) b->drain_scheduled = 1;
  }
  pthread_mutex_unlock(&b->cmu);
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
  pthread_mutex_unlock(&b->emu);
  if (n > 0) {
    pthread_mutex_lock(&b->cmu);
    b->deferring = 1;
    pthread_mutex_unlock(&b->cmu);
  }
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
  pthread_mutex_init(&b->cmu, NULL);
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

/* Called by the loop goroutine after squall_loop_run returned and before
 * squall_loop_free: commands are refused from now on (the stop condition
 * guarantees none is needed), then after the free no event follows. */
void sqgo_bridge_stop(sqgo_bridge *b) {
  if (b->srv) {
    squall_server_free(b->srv);
    b->srv = NULL;
  }
  pthread_mutex_lock(&b->cmu);
  b->cmd_dead = 1;
  cmd *c = b->head;
  b->head = b->tail = NULL;
  pthread_mutex_unlock(&b->cmu);
  while (c) {
    cmd *next = c->next;
    if (c->kind == CMD_SEND && c->mode == SQGO_SEND_FLUSH && c->handle)
      push_done_ex(b, SQUALL_ECLOSED, c->handle, 0);
    if ((c->kind == CMD_ON_DONE || c->kind == CMD_CLOSE) && c->handle)
      push_done_ex(b, SQUALL_ECLOSED, c->handle, 0);
    free(c);
    c = next;
  }
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
  pthread_mutex_destroy(&b->cmu);
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
