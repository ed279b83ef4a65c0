/*
 * test_http_thread -- the request/response lifetime rules of the C API:
 * responses written and finished from another thread, a client that
 * disconnects while the application holds the request (on_done gets
 * SQUALL_ECLOSED, writes return SQUALL_ECLOSED, finish still ends it),
 * on_done on success, header injection refused, and squall_request_detach
 * for an Upgrade.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "httputil.h"

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;

/* ---------------------------------------------------------------------- */
/* Shared state, under g_mu                                                */
/* ---------------------------------------------------------------------- */

static squall_request *g_held;   /* request held by /hold */
static int g_done_calls;         /* on_done calls */
static int g_done_status = 1;    /* last on_done status */
static int g_done_second_rc = 1; /* second on_done registration */
static int g_thread_rcs[16];     /* return codes seen by the worker thread */
static int g_thread_nrcs;
static int g_inject_rcs[32];
static int g_inject_n;
static int g_detach_rc = 1;
static int g_late_detach_rc = 1;
static int g_echo_freed;
static int g_echo_reads;
static hu_server *g_srv;

static void reset_globals(void) {
  pthread_mutex_lock(&g_mu);
  g_held = NULL;
  g_done_calls = 0;
  g_done_status = 1;
  g_done_second_rc = 1;
  g_thread_nrcs = 0;
  g_inject_n = 0;
  g_detach_rc = 1;
  g_late_detach_rc = 1;
  g_echo_freed = 0;
  g_echo_reads = 0;
  pthread_mutex_unlock(&g_mu);
}

static int get_int(int *p) {
  pthread_mutex_lock(&g_mu);
  int v = *p;
  pthread_mutex_unlock(&g_mu);
  return v;
}

/* Poll *p until it differs from `from` (or timeout); returns the value. */
static int wait_change(int *p, int from, int timeout_ms) {
  int64_t end = hu_now_ms() + timeout_ms;
  int v;
  while ((v = get_int(p)) == from && hu_now_ms() < end) hu_sleep_ms(5);
  return v;
}

/* The request /hold keeps, once its handler has stored it. */
static squall_request *wait_held(void) {
  int64_t end = hu_now_ms() + HU_TIMEOUT_MS;
  squall_request *req;
  for (;;) {
    pthread_mutex_lock(&g_mu);
    req = g_held;
    pthread_mutex_unlock(&g_mu);
    if (req || hu_now_ms() > end) return req;
    hu_sleep_ms(2);
  }
}

static void on_done(int status, void *ud) {
  pthread_mutex_lock(&g_mu);
  g_done_calls++;
  g_done_status = status;
  pthread_mutex_unlock(&g_mu);
}

/* ---------------------------------------------------------------------- */
/* Worker thread that answers /t                                           */
/* ---------------------------------------------------------------------- */

static void record_rc(int rc) {
  pthread_mutex_lock(&g_mu);
  if (g_thread_nrcs < 16) g_thread_rcs[g_thread_nrcs++] = rc;
  pthread_mutex_unlock(&g_mu);
}

static void *worker(void *arg) {
  squall_request *req = arg;
  char uri[256], body[512];
  /* Accessors are [any thread]. */
  hu_req_field(req, SQUALL_REQ_URI, uri, sizeof uri);
  hu_sleep_ms(50);
  int n = snprintf(body, sizeof body, "thread saw %s", uri);
  int stream = strstr(uri, "stream") != NULL;
  record_rc(squall_response_status(req, 201, NULL, 0));
  record_rc(
      squall_response_header(req, "X-From", SQUALL_NTS, "thread", SQUALL_NTS));
  record_rc(squall_response_write(req, body, (size_t)n));
  if (stream) {
    record_rc(squall_response_flush(req, NULL, NULL));
    hu_sleep_ms(20);
    record_rc(squall_response_write(req, " +more", 6));
  }
  record_rc(squall_response_finish(req));
  return NULL;
}

/* ---------------------------------------------------------------------- */
/* Detach / echo                                                           */
/* ---------------------------------------------------------------------- */

typedef struct echo {
  squall_stream *st;
} echo;

static void echo_free_cb(void *ud) {
  echo *e = ud;
  squall_stream_free(e->st);
  free(e);
  pthread_mutex_lock(&g_mu);
  g_echo_freed++;
  pthread_mutex_unlock(&g_mu);
}

static void echo_read(int status, const char *data, size_t len, void *ud) {
  echo *e = ud;
  if (status != 0) {
    if (squall_loop_call_soon(g_srv->loop, echo_free_cb, e) != 0) {
      squall_stream_free(e->st);
      free(e);
    }
    return;
  }
  pthread_mutex_lock(&g_mu);
  g_echo_reads++;
  pthread_mutex_unlock(&g_mu);
  squall_stream_write(e->st, data, len, NULL, NULL);
  if (squall_stream_read_bytes(e->st, 65536, 1, echo_read, e) != 0)
    squall_loop_call_soon(g_srv->loop, echo_free_cb, e);
}

static const char k_101[] =
    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\n"
    "Connection: Upgrade\r\n\r\n";

/* ---------------------------------------------------------------------- */
/* Router                                                                  */
/* ---------------------------------------------------------------------- */

static void inject(int rc) {
  if (g_inject_n < 32) g_inject_rcs[g_inject_n++] = rc;
}

static void router(hu_server *s, squall_request *req) {
  char path[256];
  hu_req_field(req, SQUALL_REQ_PATH, path, sizeof path);
  if (strncmp(path, "/t", 2) == 0) {
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, worker, req) != 0)
      squall_respond(req, 500, NULL, 0, NULL, 0);
    pthread_attr_destroy(&attr);
  } else if (strcmp(path, "/hold") == 0) {
    int rc = squall_request_on_done(req, on_done, NULL);
    pthread_mutex_lock(&g_mu);
    g_held = req;
    pthread_mutex_unlock(&g_mu);
    if (rc != 0) fprintf(stderr, "on_done registration failed: %d\n", rc);
  } else if (strcmp(path, "/done") == 0) {
    int rc1 = squall_request_on_done(req, on_done, NULL);
    int rc2 = squall_request_on_done(req, on_done, NULL);
    pthread_mutex_lock(&g_mu);
    g_done_second_rc = rc1 == 0 ? rc2 : 999;
    pthread_mutex_unlock(&g_mu);
    squall_respond(req, 200, "text/plain", SQUALL_NTS, "done", 4);
  } else if (strcmp(path, "/inject") == 0) {
    pthread_mutex_lock(&g_mu);
    inject(squall_response_header(req, "X-A", SQUALL_NTS, "v\r\nInjected: 1",
                                  SQUALL_NTS));
    inject(squall_response_header(req, "X-A", SQUALL_NTS, "v\nInjected: 1",
                                  SQUALL_NTS));
    inject(squall_response_header(req, "X-A", SQUALL_NTS, "v\rx", SQUALL_NTS));
    inject(squall_response_header(req, "X-A", SQUALL_NTS, "v\0x", 3));
    inject(squall_response_header(req, "X A", SQUALL_NTS, "v", SQUALL_NTS));
    inject(squall_response_header(req, "X:A", SQUALL_NTS, "v", SQUALL_NTS));
    inject(squall_response_header(req, "", 0, "v", SQUALL_NTS));
    inject(squall_response_header(req, "Injected: 1\r\nX-A", SQUALL_NTS, "v",
                                  SQUALL_NTS));
    inject(squall_response_header(req, "X\x7f", SQUALL_NTS, "v", SQUALL_NTS));
    inject(squall_response_header(req, "X(A)", SQUALL_NTS, "v", SQUALL_NTS));
    inject(squall_response_header(req, "X-A\n", SQUALL_NTS, "v", SQUALL_NTS));
    inject(squall_response_status(req, 200, "OK\r\nInjected: 1", SQUALL_NTS));
    inject(squall_response_status(req, 99, NULL, 0));
    inject(squall_response_status(req, 1000, NULL, 0));
    inject(squall_response_header(NULL, "X-A", SQUALL_NTS, "v", SQUALL_NTS));
    /* Valid ones (a tab inside a value is allowed). */
    inject(squall_response_header(req, "X-Good", SQUALL_NTS,
                                  "fine value\twith tab", SQUALL_NTS));
    inject(squall_response_header(req, "X-Tok!#$%&'*+-.^_`|~9", SQUALL_NTS,
                                  "ok", SQUALL_NTS));
    inject(squall_response_status(req, 299, "Custom Reason", SQUALL_NTS));
    pthread_mutex_unlock(&g_mu);
    squall_response_write(req, "ok", 2);
    squall_response_finish(req);
  } else if (strcmp(path, "/upgrade") == 0) {
    squall_stream *st = NULL;
    int rc = squall_request_detach(req, &st);
    pthread_mutex_lock(&g_mu);
    g_detach_rc = rc;
    pthread_mutex_unlock(&g_mu);
    if (rc != 0) {
      squall_respond(req, 500, NULL, 0, NULL, 0);
      return;
    }
    echo *e = calloc(1, sizeof *e);
    e->st = st;
    squall_stream_write(st, k_101, sizeof k_101 - 1, NULL, NULL);
    if (squall_stream_read_bytes(st, 65536, 1, echo_read, e) != 0) {
      squall_stream_free(st);
      free(e);
    }
  } else if (strcmp(path, "/late-detach") == 0) {
    squall_stream *st = NULL;
    squall_response_write(req, "x", 1);
    int rc = squall_request_detach(req, &st);
    pthread_mutex_lock(&g_mu);
    g_late_detach_rc = rc;
    pthread_mutex_unlock(&g_mu);
    if (rc == 0) {
      squall_stream_free(st);
      return;
    }
    squall_response_finish(req);
  } else {
    hu_default_handler(s, req);
  }
}

static hu_server *start(void) {
  reset_globals();
  hu_server *s = hu_server_new();
  assert_non_null(s);
  s->handler = router;
  s->want_access_hook = 1;
  assert_int_equal(hu_server_start(s), 0);
  g_srv = s;
  return s;
}

static void stop(hu_server *s) {
  assert_int_equal(hu_server_stop(s), 0);
  hu_server_free(s);
  g_srv = NULL;
}

static void test_http_thread__finish_from_other_thread(void **state) {
  hu_server *s = start();
  hu_conn c;
  hu_response r;
  char v[64];
  assert_int_equal(hu_connect(&c, s->port), 0);
  hu_send_str(&c, "GET /t1 HTTP/1.1\r\nHost: a\r\n\r\n");
  assert_int_equal(hu_read_response(&c, &r, 0, HU_TIMEOUT_MS), HU_OK);
  assert_int_equal(r.status, 201);
  assert_true(hu_header(&r, "X-From", v, sizeof v));
  assert_string_equal(v, "thread");
  assert_string_equal(r.body, "thread saw /t1");
  hu_response_free(&r);
  /* Streamed from the thread: chunked, keep-alive holds. */
  hu_send_str(&c, "GET /t2stream HTTP/1.1\r\nHost: a\r\n\r\n");
  assert_int_equal(hu_read_response(&c, &r, 0, HU_TIMEOUT_MS), HU_OK);
  assert_int_equal(r.status, 201);
  assert_true(r.chunked);
  assert_string_equal(r.body, "thread saw /t2stream +more");
  hu_response_free(&r);
  hu_send_str(&c, "GET /plain HTTP/1.1\r\nHost: a\r\n\r\n");
  assert_int_equal(hu_read_response(&c, &r, 0, HU_TIMEOUT_MS), HU_OK);
  assert_string_equal(r.body, "GET /plain 0\n");
  hu_response_free(&r);
  hu_close(&c);
  /* The worker records finish's code after finish returned: the response
   * may be read before that. */
  int64_t end = hu_now_ms() + HU_TIMEOUT_MS;
  while (get_int(&g_thread_nrcs) < 10 && hu_now_ms() < end) hu_sleep_ms(2);
  pthread_mutex_lock(&g_mu);
  int n = g_thread_nrcs;
  int rcs[16];
  memcpy(rcs, g_thread_rcs, sizeof rcs);
  pthread_mutex_unlock(&g_mu);
  assert_int_equal(n, 4 + 6);
  for (int i = 0; i < n; i++) {
    if (rcs[i] != 0) fprintf(stderr, "thread call %d returned %d\n", i, rcs[i]);
    assert_int_equal(rcs[i], 0);
  }
  stop(s);
}

/* Many connections, each request answered by its own thread at once. */
static void test_http_thread__many_threads_concurrently(void **state) {
  hu_server *s = start();
  enum { N = 24 };
  hu_conn c[N];
  for (int i = 0; i < N; i++) {
    char req[128];
    assert_int_equal(hu_connect(&c[i], s->port), 0);
    sprintf(req, "GET /t-%d HTTP/1.1\r\nHost: a\r\n\r\n", i);
    hu_send_str(&c[i], req);
  }
  for (int i = 0; i < N; i++) {
    hu_response r;
    char want[64];
    sprintf(want, "thread saw /t-%d", i);
    assert_int_equal(hu_read_response(&c[i], &r, 0, HU_TIMEOUT_MS), HU_OK);
    assert_int_equal(r.status, 201);
    assert_string_equal(r.body, want);
    hu_response_free(&r);
    hu_close(&c[i]);
  }
  stop(s);
}

static void test_http_thread__client_disconnects_mid_request(void **state) {
  hu_server *s = start();
  hu_conn c;
  assert_int_equal(hu_connect(&c, s->port), 0);
  hu_send_str(&c, "GET /hold?x=1 HTTP/1.1\r\nHost: a\r\n\r\n");
  squall_request *req = wait_held();
  assert_non_null(req);
  assert_int_equal(get_int(&g_done_calls), 0);
  hu_close(&c); /* the client goes away */

  /* on_done tells the application, with SQUALL_ECLOSED. */
  assert_int_equal(wait_change(&g_done_calls, 0, HU_TIMEOUT_MS), 1);
  assert_int_equal(get_int(&g_done_status), SQUALL_ECLOSED);

  /* The request is still valid: accessors work (from this thread). */
  char uri[64];
  assert_int_equal(hu_req_field(req, SQUALL_REQ_URI, uri, sizeof uri), 0);
  assert_string_equal(uri, "/hold?x=1");
  const char *p;
  size_t n;
  assert_int_equal(squall_request_argument(req, SQUALL_ARGS_QUERY, "x",
                                           SQUALL_NTS, 0, &p, &n),
                   0);
  assert_int_equal(n, 1);
  /* Writes report the loss. */
  assert_int_equal(squall_response_status(req, 200, NULL, 0), SQUALL_ECLOSED);
  assert_int_equal(
      squall_response_header(req, "X-A", SQUALL_NTS, "b", SQUALL_NTS),
      SQUALL_ECLOSED);
  assert_int_equal(squall_response_write(req, "late", 4), SQUALL_ECLOSED);
  assert_int_equal(squall_response_flush(req, NULL, NULL), SQUALL_ECLOSED);
  /* finish still ends it. */
  int rc = squall_response_finish(req);
  assert_true(rc == 0 || rc == SQUALL_ECLOSED);
  /* on_done ran once only. */
  hu_sleep_ms(50);
  assert_int_equal(get_int(&g_done_calls), 1);
  /* The connection is gone from the books; access hook saw status 0. */
  {
    int64_t end = hu_now_ms() + HU_TIMEOUT_MS;
    while (hu_server_stat(s, SQUALL_STAT_CONNECTIONS_OPEN) != 0 &&
           hu_now_ms() < end)
      hu_sleep_ms(5);
    assert_int_equal(hu_server_stat(s, SQUALL_STAT_CONNECTIONS_OPEN), 0);
  }
  if (hu_server_wait_access(s, 1, 2000) >= 1) {
    pthread_mutex_lock(&s->mu);
    int st = s->access[0].status;
    pthread_mutex_unlock(&s->mu);
    assert_int_equal(st, 0);
  }
  /* The server goes on serving. */
  hu_response r;
  const char *ok = "GET /next HTTP/1.1\r\nHost: a\r\n\r\n";
  assert_int_equal(hu_exchange(s->port, ok, strlen(ok), &r, NULL), HU_OK);
  assert_string_equal(r.body, "GET /next 0\n");
  hu_response_free(&r);
  stop(s);
}

/* on_done reports 0 once the response reached the kernel; a second
 * registration is refused. */
static void test_http_thread__on_done_success(void **state) {
  hu_server *s = start();
  hu_conn c;
  hu_response r;
  assert_int_equal(hu_connect(&c, s->port), 0);
  hu_send_str(&c, "GET /done HTTP/1.1\r\nHost: a\r\n\r\n");
  assert_int_equal(hu_read_response(&c, &r, 0, HU_TIMEOUT_MS), HU_OK);
  assert_string_equal(r.body, "done");
  hu_response_free(&r);
  assert_int_equal(wait_change(&g_done_calls, 0, HU_TIMEOUT_MS), 1);
  assert_int_equal(get_int(&g_done_status), 0);
  assert_int_equal(get_int(&g_done_second_rc), SQUALL_ESTATE);
  hu_close(&c);
  hu_sleep_ms(50);
  assert_int_equal(get_int(&g_done_calls), 1);
  stop(s);
}

static void test_http_thread__header_injection_refused(void **state) {
  hu_server *s = start();
  hu_conn c;
  hu_response r;
  char v[64];
  assert_int_equal(hu_connect(&c, s->port), 0);
  hu_send_str(&c, "GET /inject HTTP/1.1\r\nHost: a\r\n\r\n");
  assert_int_equal(hu_read_response(&c, &r, 0, HU_TIMEOUT_MS), HU_OK);
  assert_int_equal(r.status, 299);
  assert_non_null(strstr(r.head, "299 Custom Reason\r\n"));
  assert_null(strstr(r.head, "Injected"));
  assert_true(hu_header(&r, "X-Good", v, sizeof v));
  assert_string_equal(v, "fine value\twith tab");
  assert_true(hu_header(&r, "X-Tok!#$%&'*+-.^_`|~9", v, sizeof v));
  assert_int_equal(hu_header_count(&r, "X-A"), 0);
  assert_string_equal(r.body, "ok");
  hu_response_free(&r);
  hu_close(&c);
  pthread_mutex_lock(&g_mu);
  int n = g_inject_n;
  int rcs[32];
  memcpy(rcs, g_inject_rcs, sizeof rcs);
  pthread_mutex_unlock(&g_mu);
  assert_int_equal(n, 18);
  for (int i = 0; i < 15; i++) {
    if (rcs[i] != SQUALL_EINVAL)
      fprintf(stderr, "injection attempt %d returned %d\n", i, rcs[i]);
    assert_int_equal(rcs[i], SQUALL_EINVAL);
  }
  assert_int_equal(rcs[15], 0);
  assert_int_equal(rcs[16], 0);
  assert_int_equal(rcs[17], 0);
  stop(s);
}

/* From a foreign thread the same validation happens before queuing. */
static void test_http_thread__header_injection_from_thread(void **state) {
  hu_server *s = start();
  hu_conn c;
  hu_response r;
  assert_int_equal(hu_connect(&c, s->port), 0);
  hu_send_str(&c, "GET /hold HTTP/1.1\r\nHost: a\r\n\r\n");
  squall_request *req = wait_held();
  assert_non_null(req);
  assert_int_equal(squall_response_header(req, "X-A", SQUALL_NTS,
                                          "v\r\nInjected: 1", SQUALL_NTS),
                   SQUALL_EINVAL);
  assert_int_equal(
      squall_response_header(req, "Bad Name", SQUALL_NTS, "v", SQUALL_NTS),
      SQUALL_EINVAL);
  assert_int_equal(squall_response_status(req, 200, "a\nb", SQUALL_NTS),
                   SQUALL_EINVAL);
  assert_int_equal(
      squall_response_header(req, "X-Ok", SQUALL_NTS, "yes", SQUALL_NTS), 0);
  assert_int_equal(
      squall_respond(req, 200, "text/plain", SQUALL_NTS, "fine", 4), 0);
  assert_int_equal(hu_read_response(&c, &r, 0, HU_TIMEOUT_MS), HU_OK);
  assert_int_equal(r.status, 200);
  assert_null(strstr(r.head, "Injected"));
  assert_true(hu_header(&r, "X-Ok", NULL, 0));
  assert_string_equal(r.body, "fine");
  hu_response_free(&r);
  hu_close(&c);
  stop(s);
}

static void test_http_thread__detach_upgrade_echo(void **state) {
  hu_server *s = start();
  hu_conn c;
  hu_response r;
  assert_int_equal(hu_connect(&c, s->port), 0);
  /* Bytes right after the head must stay readable on the stream. */
  hu_send_str(&c,
              "GET /upgrade HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\n"
              "Upgrade: echo\r\n\r\nhello");
  assert_int_equal(hu_read_response(&c, &r, 0, HU_TIMEOUT_MS), HU_OK);
  assert_int_equal(r.status, 101);
  hu_response_free(&r);
  assert_int_equal(get_int(&g_detach_rc), 0);
  assert_int_equal(hu_wait_bytes(&c, 5, HU_TIMEOUT_MS), HU_OK);
  assert_int_equal(c.len, 5);
  assert_memory_equal(c.buf, "hello", 5);
  hu_consume(&c, 5);
  /* Raw bytes that look like HTTP are just echoed now. */
  const char *raw = "GET / HTTP/1.1\r\n\r\n\0\x01\xff";
  size_t rl = sizeof("GET / HTTP/1.1\r\n\r\n\0\x01\xff") - 1;
  hu_send(&c, raw, rl);
  assert_int_equal(hu_wait_bytes(&c, rl, HU_TIMEOUT_MS), HU_OK);
  assert_memory_equal(c.buf, raw, rl);
  hu_consume(&c, rl);
  assert_true(hu_quiet(&c, 100));
  hu_close(&c);
  /* The application's stream sees the close and frees it. */
  assert_int_equal(wait_change(&g_echo_freed, 0, HU_TIMEOUT_MS), 1);
  /* Only the upgrade reached the handler: the echoed "GET /" did not. */
  assert_int_equal(hu_server_calls(s), 1);
  stop(s);
}

static void test_http_thread__detach_after_response_refused(void **state) {
  hu_server *s = start();
  hu_response r;
  const char *req = "GET /late-detach HTTP/1.1\r\nHost: a\r\n\r\n";
  assert_int_equal(hu_exchange(s->port, req, strlen(req), &r, NULL), HU_OK);
  assert_int_equal(r.status, 200);
  assert_string_equal(r.body, "x");
  hu_response_free(&r);
  int rc = get_int(&g_late_detach_rc);
  assert_true(rc == SQUALL_ESTATE || rc == SQUALL_EINVAL);
  stop(s);
}

static void free_server_on_loop(void *arg) {
  hu_server *s = arg;
  squall_server_free(s->srv);
  s->srv = NULL;
}

/* The server is freed while the application holds a request: the
 * connection closes, on_done reports SQUALL_ECLOSED, the request stays
 * readable, writes return SQUALL_ECLOSED and finish still ends it. */
static void test_http_thread__server_freed_while_request_held(void **state) {
  hu_server *s = start();
  hu_conn c;
  assert_int_equal(hu_connect(&c, s->port), 0);
  hu_send_str(&c, "GET /hold HTTP/1.1\r\nHost: a\r\n\r\n");
  squall_request *req = wait_held();
  assert_non_null(req);
  assert_int_equal(hu_server_run_on_loop(s, free_server_on_loop, s), 0);
  assert_true(hu_wait_closed(&c, HU_CLOSE_TIMEOUT_MS));
  hu_close(&c);
  assert_int_equal(wait_change(&g_done_calls, 0, HU_TIMEOUT_MS), 1);
  assert_int_equal(get_int(&g_done_status), SQUALL_ECLOSED);
  char uri[64];
  assert_int_equal(hu_req_field(req, SQUALL_REQ_URI, uri, sizeof uri), 0);
  assert_string_equal(uri, "/hold");
  assert_int_equal(squall_response_write(req, "x", 1), SQUALL_ECLOSED);
  int rc = squall_response_finish(req);
  assert_true(rc == 0 || rc == SQUALL_ECLOSED);
  stop(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_http_thread__finish_from_other_thread),
      cmocka_unit_test(test_http_thread__many_threads_concurrently),
      cmocka_unit_test(test_http_thread__client_disconnects_mid_request),
      cmocka_unit_test(test_http_thread__on_done_success),
      cmocka_unit_test(test_http_thread__header_injection_refused),
      cmocka_unit_test(test_http_thread__header_injection_from_thread),
      cmocka_unit_test(test_http_thread__server_freed_while_request_held),
      cmocka_unit_test(test_http_thread__detach_upgrade_echo),
      cmocka_unit_test(test_http_thread__detach_after_response_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
