/*
 * test_http_conn -- HTTP1Connection behaviour through the C API: pipelining
 * order, keep-alive rules per version, no_keep_alive, 100-continue, chunked
 * request bodies, response framing (chunked / close-delimited / none for
 * HEAD, 204 and 304).
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

/* Routes:
 *   /echo...     200 with the request body
 *   /stream...   200 written in three flushed pieces, then finish
 *   /204 /304    that status, no body
 *   /slow...     answered from another thread after 30 ms
 *   else         hu_default_handler ("METHOD URI BODYLEN\n")
 */
static int g_flush_done_ok;
static int g_flush_done_bad;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;

static void flush_done(int status, void *ud) {
  pthread_mutex_lock(&g_mu);
  if (status == 0)
    g_flush_done_ok++;
  else
    g_flush_done_bad++;
  pthread_mutex_unlock(&g_mu);
}

/* /big: 64 pieces of 64 KiB, each written from the previous flush's done
 * callback (backpressure), then finish. */
enum { BIG_PIECES = 64, BIG_PIECE = 65536 };
typedef struct big_state {
  squall_request *req;
  int sent;
} big_state;
static int g_big_done_ok;
static int g_big_done_bad;

static void big_next(int status, void *ud) {
  big_state *b = ud;
  pthread_mutex_lock(&g_mu);
  if (b->sent > 0) {
    if (status == 0)
      g_big_done_ok++;
    else
      g_big_done_bad++;
  }
  pthread_mutex_unlock(&g_mu);
  if (status != 0 || b->sent == BIG_PIECES) {
    squall_response_finish(b->req);
    free(b);
    return;
  }
  static unsigned char buf[BIG_PIECE];
  for (int j = 0; j < BIG_PIECE; j++)
    buf[j] = (unsigned char)(b->sent * 131 + j);
  b->sent++;
  squall_response_write(b->req, buf, sizeof buf);
  if (squall_response_flush(b->req, big_next, b) != 0) {
    squall_response_finish(b->req);
    free(b);
  }
}

static void router(hu_server *s, squall_request *req) {
  char path[256], uri[256];
  hu_req_field(req, SQUALL_REQ_PATH, path, sizeof path);
  hu_req_field(req, SQUALL_REQ_URI, uri, sizeof uri);
  if (strncmp(path, "/echo", 5) == 0) {
    hu_echo_handler(s, req);
  } else if (strncmp(path, "/stream", 7) == 0) {
    int rc = 0;
    rc |= squall_response_status(req, 200, NULL, 0);
    rc |= squall_response_header(req, "Content-Type", SQUALL_NTS, "text/plain",
                                 SQUALL_NTS);
    rc |= squall_response_write(req, "part1-", 6);
    rc |= squall_response_flush(req, flush_done, NULL);
    rc |= squall_response_write(req, "part2-", 6);
    rc |= squall_response_flush(req, flush_done, NULL);
    rc |= squall_response_write(req, "part3", 5);
    if (rc != 0) squall_response_write(req, "API-ERROR", 9);
    squall_response_finish(req);
  } else if (strcmp(path, "/big") == 0) {
    big_state *b = calloc(1, sizeof *b);
    b->req = req;
    squall_response_header(req, "Content-Type", SQUALL_NTS,
                           "application/octet-stream", SQUALL_NTS);
    big_next(0, b);
  } else if (strcmp(path, "/declared") == 0) {
    /* Streamed, but with a declared Content-Length: no chunking. */
    squall_response_header(req, "Content-Length", SQUALL_NTS, "10", SQUALL_NTS);
    squall_response_write(req, "01234", 5);
    squall_response_flush(req, NULL, NULL);
    squall_response_write(req, "56789", 5);
    squall_response_finish(req);
  } else if (strcmp(path, "/own-server") == 0) {
    squall_response_header(req, "Server", SQUALL_NTS, "mine", SQUALL_NTS);
    squall_response_header(req, "Date", SQUALL_NTS,
                           "Thu, 01 Jan 1970 00:00:00 GMT", SQUALL_NTS);
    squall_respond(req, 200, NULL, 0, "s", 1);
  } else if (strcmp(path, "/204") == 0) {
    squall_respond(req, 204, NULL, 0, NULL, 0);
  } else if (strcmp(path, "/304") == 0) {
    squall_respond(req, 304, NULL, 0, NULL, 0);
  } else if (strcmp(path, "/204stream") == 0) {
    squall_response_status(req, 204, NULL, 0);
    squall_response_flush(req, NULL, NULL);
    squall_response_finish(req);
  } else if (strncmp(path, "/slow", 5) == 0) {
    char body[300];
    int n = snprintf(body, sizeof body, "GET %s 0\n", uri);
    if (hu_respond_later(req, 30, 200, body, (size_t)n) != 0)
      squall_respond(req, 500, NULL, 0, NULL, 0);
  } else {
    hu_default_handler(s, req);
  }
}

/* Headers hook: answer /deny at once with 403 (no 100 Continue, the body
 * is never read). */
static void deny_hook(hu_server *s, squall_request *req) {
  char path[256];
  hu_req_field(req, SQUALL_REQ_PATH, path, sizeof path);
  if (strcmp(path, "/deny") == 0)
    squall_respond(req, 403, "text/plain", SQUALL_NTS, "denied", 6);
}

static hu_server *start(int no_keep_alive) {
  hu_server *s = hu_server_new();
  assert_non_null(s);
  s->handler = router;
  s->headers_hook = deny_hook;
  if (no_keep_alive)
    assert_int_equal(squall_config_set_int(s->cfg, SQUALL_OPT_NO_KEEP_ALIVE, 1),
                     0);
  assert_int_equal(hu_server_start(s), 0);
  return s;
}

static void stop(hu_server *s) {
  assert_int_equal(hu_server_stop(s), 0);
  hu_server_free(s);
}

static void expect_response(hu_conn *c, int head, int status,
                            const char *body) {
  hu_response r;
  assert_int_equal(hu_read_response(c, &r, head, HU_TIMEOUT_MS), HU_OK);
  assert_int_equal(r.status, status);
  if (body) assert_string_equal(r.body, body);
  hu_response_free(&r);
}

static void test_http_conn__pipelined_100_in_order(void **state) {
  hu_server *s = start(0);
  char *req = malloc(100 * 64);
  size_t n = 0;
  for (int i = 0; i < 100; i++)
    n += (size_t)sprintf(req + n, "GET /p%d HTTP/1.1\r\nHost: a\r\n\r\n", i);
  hu_conn c;
  assert_int_equal(hu_connect(&c, s->port), 0);
  assert_int_equal(hu_send(&c, req, n), 0); /* one write */
  for (int i = 0; i < 100; i++) {
    hu_response r;
    char want[64];
    sprintf(want, "GET /p%d 0\n", i);
    int rc = hu_read_response(&c, &r, 0, HU_TIMEOUT_MS);
    if (rc != HU_OK) fprintf(stderr, "response %d: rc=%d\n", i, rc);
    assert_int_equal(rc, HU_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, want);
    hu_response_free(&r);
  }
  /* Nothing more, and the connection is still usable. */
  assert_true(hu_quiet(&c, 100));
  hu_send_str(&c, "GET /after HTTP/1.1\r\nHost: a\r\n\r\n");
  expect_response(&c, 0, 200, "GET /after 0\n");
  hu_close(&c);
  for (int i = 0; i < 100; i++) {
    char uri[64], want[64];
    sprintf(want, "/p%d", i);
    assert_int_equal(hu_server_uri_at(s, i, uri, sizeof uri), 0);
    assert_string_equal(uri, want);
  }
  assert_int_equal(hu_server_stat(s, SQUALL_STAT_CONNECTIONS_ACCEPTED), 1);
  free(req);
  stop(s);
}

/* A pipelined flood from a client that reads its responses late: the
 * server pauses and resumes reading without losing or reordering. */
enum { FLOOD_N = 20000 };
typedef struct flood {
  hu_conn *c;
  int rc;
} flood;

static void *flood_sender(void *arg) {
  flood *f = arg;
  char *buf = malloc((size_t)FLOOD_N * 48);
  size_t n = 0;
  for (int i = 0; i < FLOOD_N; i++)
    n += (size_t)sprintf(buf + n, "GET /f%d HTTP/1.1\r\nHost: a\r\n\r\n", i);
  f->rc = hu_send(f->c, buf, n);
  free(buf);
  return NULL;
}

static void test_http_conn__pipelined_flood(void **state) {
  hu_server *s = start(0);
  hu_conn c;
  assert_int_equal(hu_connect(&c, s->port), 0);
  flood f = {&c, -1};
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, flood_sender, &f), 0);
  hu_sleep_ms(300);
  for (int i = 0; i < FLOOD_N; i++) {
    hu_response r;
    char want[64];
    sprintf(want, "GET /f%d 0\n", i);
    int rc = hu_read_response(&c, &r, 0, 30000);
    if (rc != HU_OK || strcmp(r.body, want) != 0)
      fprintf(stderr, "response %d: rc=%d body=%s\n", i, rc,
              rc == HU_OK ? r.body : "");
    assert_int_equal(rc, HU_OK);
    assert_string_equal(r.body, want);
    hu_response_free(&r);
  }
  pthread_join(t, NULL);
  assert_int_equal(f.rc, 0);
  assert_true(hu_quiet(&c, 100));
  hu_close(&c);
  stop(s);
}

/* Many simultaneous connections, each with one request. */
static void test_http_conn__many_connections(void **state) {
  hu_server *s = start(0);
  enum { N = 200 };
  hu_conn *c = calloc(N, sizeof *c);
  for (int i = 0; i < N; i++) {
    char req[128];
    assert_int_equal(hu_connect(&c[i], s->port), 0);
    sprintf(req, "GET /c%d HTTP/1.1\r\nHost: a\r\n\r\n", i);
    hu_send_str(&c[i], req);
  }
  for (int i = 0; i < N; i++) {
    char want[64];
    sprintf(want, "GET /c%d 0\n", i);
    expect_response(&c[i], 0, 200, want);
    hu_close(&c[i]);
  }
  free(c);
  assert_int_equal(hu_server_stat(s, SQUALL_STAT_CONNECTIONS_ACCEPTED), N);
  stop(s);
}

/* Handlers that answer later from another thread (odd ones slow) still get
 * their responses out in request order. */
static void test_http_conn__pipelined_async_in_order(void **state) {
  hu_server *s = start(0);
  char req[4096];
  size_t n = 0;
  for (int i = 0; i < 10; i++)
    n += (size_t)sprintf(req + n, "GET /%s%d HTTP/1.1\r\nHost: a\r\n\r\n",
                         i % 2 ? "slow" : "fast", i);
  hu_conn c;
  assert_int_equal(hu_connect(&c, s->port), 0);
  hu_send(&c, req, n);
  for (int i = 0; i < 10; i++) {
    char want[64];
    sprintf(want, "GET /%s%d 0\n", i % 2 ? "slow" : "fast", i);
    expect_response(&c, 0, 200, want);
  }
  hu_close(&c);
  stop(s);
}

/* Pipelined requests with bodies, chunked and not, interleaved. */
static void test_http_conn__pipelined_with_bodies(void **state) {
  hu_server *s = start(0);
  hu_conn c;
  assert_int_equal(hu_connect(&c, s->port), 0);
  hu_send_str(&c,
              "POST /echo1 HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n"
              "hello"
              "POST /echo2 HTTP/1.1\r\nHost: a\r\n"
              "Transfer-Encoding: chunked\r\n\r\n"
              "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n"
              "GET /x HTTP/1.1\r\nHost: a\r\n\r\n"
              "PUT /echo3 HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
  expect_response(&c, 0, 200, "hello");
  expect_response(&c, 0, 200, "abcdefg");
  expect_response(&c, 0, 200, "GET /x 0\n");
  expect_response(&c, 0, 200, "");
  hu_close(&c);
  stop(s);
}

static void test_http_conn__http11_keepalive_default(void **state) {
  hu_server *s = start(0);
  hu_conn c;
  hu_response r;
  assert_int_equal(hu_connect(&c, s->port), 0);
  hu_send_str(&c, "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n");
  assert_int_equal(hu_read_response(&c, &r, 0, HU_TIMEOUT_MS), HU_OK);
  assert_int_equal(r.status, 200);
  assert_int_equal(r.minor, 1);
  assert_false(r.close_delimited);
  char v[64];
  if (hu_header(&r, "Connection", v, sizeof v))
    assert_int_not_equal(strcasecmp(v, "close"), 0);
  hu_response_free(&r);
  assert_true(hu_quiet(&c, 300)); /* still open */
  hu_send_str(&c, "GET /2 HTTP/1.1\r\nHost: a\r\n\r\n");
  expect_response(&c, 0, 200, "GET /2 0\n");
  hu_close(&c);
  assert_int_equal(hu_server_stat(s, SQUALL_STAT_CONNECTIONS_ACCEPTED), 1);
  stop(s);
}

static void test_http_conn__http11_connection_close(void **state) {
  hu_server *s = start(0);
  hu_conn c;
  hu_response r;
  assert_int_equal(hu_connect(&c, s->port), 0);
  /* A request pipelined after the close must not be served. */
  hu_send_str(&c,
              "GET /1 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
              "GET /2 HTTP/1.1\r\nHost: a\r\n\r\n");
  assert_int_equal(hu_read_response(&c, &r, 0, HU_TIMEOUT_MS), HU_OK);
  assert_int_equal(r.status, 200);
  assert_string_equal(r.body, "GET /1 0\n");
  char v[64];
  assert_true(hu_header(&r, "Connection", v, sizeof v));
  assert_int_equal(strcasecmp(v, "close"), 0);
  hu_response_free(&r);
  assert_true(hu_wait_closed(&c, HU_CLOSE_TIMEOUT_MS));
  assert_int_equal(c.len, 0); /* no second response */
  hu_close(&c);
  assert_int_equal(hu_server_calls(s), 1);
  /* Connection tokens are case-insensitive and may be in a list. */
  assert_int_equal(hu_connect(&c, s->port), 0);
  hu_send_str(&c,
              "GET /3 HTTP/1.1\r\nHost: a\r\nConnection: foo, CLOSE\r\n\r\n");
  expect_response(&c, 0, 200, "GET /3 0\n");
  assert_true(hu_wait_closed(&c, HU_CLOSE_TIMEOUT_MS));
  hu_close(&c);
  stop(s);
}

static void test_http_conn__http10_closes(void **state) {
  hu_server *s = start(0);
  hu_conn c;
  hu_response r;
  assert_int_equal(hu_connect(&c, s->port), 0);
  hu_send_str(&c,
              "GET /1 HTTP/1.0\r\nHost: a\r\n\r\n"
              "GET /2 HTTP/1.0\r\nHost: a\r\n\r\n");
  assert_int_equal(hu_read_response(&c, &r, 0, HU_TIMEOUT_MS), HU_OK);
  assert_int_equal(r.status, 200);
  assert_string_equal(r.body, "GET /1 0\n");
  char v[64];
  if (hu_header(&r, "Connection", v, sizeof v))
    assert_int_not_equal(strcasecmp(v, "keep-alive"), 0);
  hu_response_free(&r);
  assert_true(hu_wait_closed(&c, HU_CLOSE_TIMEOUT_MS));
  assert_int_equal(c.len, 0);
  hu_close(&c);
  assert_int_equal(hu_server_calls(s), 1);
  stop(s);
}

static void test_http_conn__http10_keepalive(void **state) {
  hu_server *s = start(0);
  hu_conn c;
  hu_response r;
  char v[64];
  assert_int_equal(hu_connect(&c, s->port), 0);
  for (int i = 0; i < 3; i++) {
    char req[128], want[64];
    sprintf(req, "GET /k%d HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", i);
    sprintf(want, "GET /k%d 0\n", i);
    hu_send_str(&c, req);
    assert_int_equal(hu_read_response(&c, &r, 0, HU_TIMEOUT_MS), HU_OK);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, want);
    assert_true(r.has_content_length);
    assert_true(hu_header(&r, "Connection", v, sizeof v));
    assert_int_equal(strcasecmp(v, "keep-alive"), 0);
    hu_response_free(&r);
    assert_true(hu_quiet(&c, 200));
  }
  hu_close(&c);
  assert_int_equal(hu_server_stat(s, SQUALL_STAT_CONNECTIONS_ACCEPTED), 1);
  stop(s);
}

static void test_http_conn__no_keep_alive_option(void **state) {
  hu_server *s = start(1);
  hu_conn c;
  hu_response r;
  assert_int_equal(hu_connect(&c, s->port), 0);
  hu_send_str(&c,
              "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
              "GET /2 HTTP/1.1\r\nHost: a\r\n\r\n");
  assert_int_equal(hu_read_response(&c, &r, 0, HU_TIMEOUT_MS), HU_OK);
  assert_int_equal(r.status, 200);
  assert_string_equal(r.body, "GET /1 0\n");
  hu_response_free(&r);
  assert_true(hu_wait_closed(&c, HU_CLOSE_TIMEOUT_MS));
  assert_int_equal(c.len, 0);
  hu_close(&c);
  /* HTTP/1.0 keep-alive is refused too. */
  assert_int_equal(hu_connect(&c, s->port), 0);
  hu_send_str(&c, "GET /3 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  assert_int_equal(hu_read_response(&c, &r, 0, HU_TIMEOUT_MS), HU_OK);
  assert_int_equal(r.status, 200);
  char v[64];
  if (hu_header(&r, "Connection", v, sizeof v))
    assert_int_not_equal(strcasecmp(v, "keep-alive"), 0);
  hu_response_free(&r);
  assert_true(hu_wait_closed(&c, HU_CLOSE_TIMEOUT_MS));
  hu_close(&c);
  assert_int_equal(hu_server_calls(s), 2);
  stop(s);
}

static void test_http_conn__100_continue(void **state) {
  hu_server *s = start(0);
  hu_conn c;
  hu_response r;
  assert_int_equal(hu_connect(&c, s->port), 0);
  hu_send_str(&c,
              "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n"
              "Expect: 100-continue\r\n\r\n");
  /* The client waits: the 100 must come with no body sent. */
  assert_int_equal(hu_read_response(&c, &r, 0, HU_TIMEOUT_MS), HU_OK);
  assert_int_equal(r.status, 100);
  assert_int_equal(r.minor, 1);
  assert_int_equal(r.body_len, 0);
  hu_response_free(&r);
  assert_int_equal(hu_server_calls(s), 0);
  hu_send_str(&c, "hello world");
  expect_response(&c, 0, 200, "hello world");
  /* Same connection, a second 100-continue exchange. */
  hu_send_str(&c,
              "PUT /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
              "Expect: 100-Continue\r\n\r\n");
  expect_response(&c, 0, 100, NULL);
  hu_send_str(&c, "abc");
  expect_response(&c, 0, 200, "abc");
  hu_close(&c);

  /* Chunked body with 100-continue. */
  assert_int_equal(hu_connect(&c, s->port), 0);
  hu_send_str(&c,
              "POST /echo HTTP/1.1\r\nHost: a\r\n"
              "Transfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n");
  expect_response(&c, 0, 100, NULL);
  hu_send_str(&c, "4\r\nwiki\r\n0\r\n\r\n");
  expect_response(&c, 0, 200, "wiki");
  hu_close(&c);
  stop(s);
}

/* Body sent without waiting: whatever the server does about the 100, the
 * final response follows and the connection stays in sync. */
static void test_http_conn__100_continue_body_sent_at_once(void **state) {
  hu_server *s = start(0);
  hu_conn c;
  hu_response r;
  assert_int_equal(hu_connect(&c, s->port), 0);
  hu_send_str(&c,
              "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
              "Expect: 100-continue\r\n\r\nhello"
              "GET /next HTTP/1.1\r\nHost: a\r\n\r\n");
  assert_int_equal(hu_read_response(&c, &r, 0, HU_TIMEOUT_MS), HU_OK);
  if (r.status == 100) {
    hu_response_free(&r);
    assert_int_equal(hu_read_response(&c, &r, 0, HU_TIMEOUT_MS), HU_OK);
  }
  assert_int_equal(r.status, 200);
  assert_string_equal(r.body, "hello");
  hu_response_free(&r);
  expect_response(&c, 0, 200, "GET /next 0\n");
  hu_close(&c);
  stop(s);
}

/* The headers hook answers before the body is read: no 100, the final
 * response at once, the body never read, the connection closed. */
static void test_http_conn__100_continue_hook_answers_early(void **state) {
  hu_server *s = start(0);
  hu_conn c;
  hu_response r;
  assert_int_equal(hu_connect(&c, s->port), 0);
  hu_send_str(&c,
              "POST /deny HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n"
              "Expect: 100-continue\r\n\r\n");
  assert_int_equal(hu_read_response(&c, &r, 0, HU_TIMEOUT_MS), HU_OK);
  assert_int_equal(r.status, 403);
  assert_string_equal(r.body, "denied");
  hu_response_free(&r);
  assert_true(hu_wait_closed(&c, HU_CLOSE_TIMEOUT_MS));
  assert_int_equal(c.len, 0);
  hu_close(&c);
  /* Without a body, the early answer keeps the connection. */
  assert_int_equal(hu_connect(&c, s->port), 0);
  hu_send_str(&c, "GET /deny HTTP/1.1\r\nHost: a\r\n\r\n");
  expect_response(&c, 0, 403, "denied");
  assert_true(hu_quiet(&c, 200));
  hu_send_str(&c, "GET /ok HTTP/1.1\r\nHost: a\r\n\r\n");
  expect_response(&c, 0, 200, "GET /ok 0\n");
  hu_close(&c);
  assert_int_equal(hu_server_calls(s), 1);
  assert_int_equal(hu_server_count_uri(s, "/deny"), 0);
  stop(s);
}

/* RFC 9110 10.1.1: a server MUST ignore 100-continue from HTTP/1.0. */
static void test_http_conn__100_continue_ignored_for_http10(void **state) {
  hu_server *s = start(0);
  hu_conn c;
  assert_int_equal(hu_connect(&c, s->port), 0);
  hu_send_str(&c,
              "POST /echo HTTP/1.0\r\nContent-Length: 4\r\n"
              "Expect: 100-continue\r\n\r\n");
  /* Nothing (in particular no 100) until the body comes. */
  assert_true(hu_quiet(&c, 300));
  hu_send_str(&c, "data");
  expect_response(&c, 0, 200, "data");
  hu_close(&c);
  stop(s);
}

static void test_http_conn__chunked_request_body(void **state) {
  hu_server *s = start(0);
  hu_conn c;
  assert_int_equal(hu_connect(&c, s->port), 0);
  /* In pieces, split inside sizes, data and CRLFs, with an extension and
   * a trailer. */
  const char *pieces[] = {"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Enc",
                          "oding: chunked\r\n\r\n",
                          "5\r\nhel",
                          "lo\r",
                          "\n1",
                          "0;ext=1\r\n0123456789abcdef\r\n",
                          "0\r\nX-Trailer: yes\r\n",
                          "\r\n"};
  for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++) {
    hu_send_str(&c, pieces[i]);
    hu_sleep_ms(10);
  }
  expect_response(&c, 0, 200, "hello0123456789abcdef");
  /* A binary chunked body of 200 KB in 1000-byte chunks. */
  size_t total = 200 * 1000;
  char *req = malloc(total + 300 * 10 + 200);
  char *expect = malloc(total + 1);
  size_t n = (size_t)sprintf(req,
                             "POST /echo HTTP/1.1\r\nHost: a\r\n"
                             "Transfer-Encoding: chunked\r\n\r\n");
  for (size_t i = 0; i < total; i++) expect[i] = (char)(i * 7 + 3);
  for (size_t off = 0; off < total; off += 1000) {
    n += (size_t)sprintf(req + n, "3e8\r\n");
    memcpy(req + n, expect + off, 1000);
    n += 1000;
    req[n++] = '\r';
    req[n++] = '\n';
  }
  n += (size_t)sprintf(req + n, "0\r\n\r\n");
  hu_send(&c, req, n);
  hu_response r;
  assert_int_equal(hu_read_response(&c, &r, 0, HU_TIMEOUT_MS), HU_OK);
  assert_int_equal(r.status, 200);
  assert_int_equal(r.body_len, total);
  assert_memory_equal(r.body, expect, total);
  hu_response_free(&r);
  free(req);
  free(expect);
  hu_close(&c);
  stop(s);
}

static void test_http_conn__chunked_response_http11(void **state) {
  pthread_mutex_lock(&g_mu);
  g_flush_done_ok = g_flush_done_bad = 0;
  pthread_mutex_unlock(&g_mu);
  hu_server *s = start(0);
  hu_conn c;
  hu_response r;
  assert_int_equal(hu_connect(&c, s->port), 0);
  hu_send_str(&c, "GET /stream HTTP/1.1\r\nHost: a\r\n\r\n");
  assert_int_equal(hu_read_response(&c, &r, 0, HU_TIMEOUT_MS), HU_OK);
  assert_int_equal(r.status, 200);
  assert_true(r.chunked);
  assert_false(r.has_content_length);
  assert_string_equal(r.body, "part1-part2-part3");
  hu_response_free(&r);
  /* Keep-alive holds after a chunked response. */
  hu_send_str(&c, "GET /again HTTP/1.1\r\nHost: a\r\n\r\n");
  expect_response(&c, 0, 200, "GET /again 0\n");
  hu_close(&c);
  /* Both flush callbacks reported success. */
  int64_t end = hu_now_ms() + HU_TIMEOUT_MS;
  for (;;) {
    pthread_mutex_lock(&g_mu);
    int ok = g_flush_done_ok, bad = g_flush_done_bad;
    pthread_mutex_unlock(&g_mu);
    if (ok >= 2 || hu_now_ms() > end) {
      assert_int_equal(ok, 2);
      assert_int_equal(bad, 0);
      break;
    }
    hu_sleep_ms(5);
  }
  stop(s);
}

static void test_http_conn__close_delimited_response_http10(void **state) {
  hu_server *s = start(0);
  hu_conn c;
  hu_response r;
  assert_int_equal(hu_connect(&c, s->port), 0);
  hu_send_str(&c, "GET /stream HTTP/1.0\r\n\r\n");
  assert_int_equal(hu_read_response(&c, &r, 0, HU_TIMEOUT_MS), HU_OK);
  assert_int_equal(r.status, 200);
  assert_false(r.chunked);
  assert_false(r.has_content_length);
  assert_true(r.close_delimited);
  assert_string_equal(r.body, "part1-part2-part3");
  hu_response_free(&r);
  hu_close(&c);
  /* Even if the 1.0 client asked for keep-alive: no length, so close. */
  assert_int_equal(hu_connect(&c, s->port), 0);
  hu_send_str(&c, "GET /stream HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  assert_int_equal(hu_read_response(&c, &r, 0, HU_TIMEOUT_MS), HU_OK);
  assert_false(r.chunked);
  assert_true(r.close_delimited);
  assert_string_equal(r.body, "part1-part2-part3");
  hu_response_free(&r);
  hu_close(&c);
  stop(s);
}

/* A large response streamed with flush callbacks to a client that is slow
 * to start reading: every byte arrives, in order, and every done callback
 * reports success. */
static void test_http_conn__streamed_backpressure(void **state) {
  hu_server *s = start(0);
  hu_conn c;
  hu_response r;
  assert_int_equal(hu_connect(&c, s->port), 0);
  hu_send_str(&c, "GET /big HTTP/1.1\r\nHost: a\r\n\r\n");
  hu_sleep_ms(300); /* let the socket fill up */
  assert_int_equal(hu_read_response(&c, &r, 0, 30000), HU_OK);
  assert_int_equal(r.status, 200);
  assert_true(r.chunked);
  assert_int_equal(r.body_len, (size_t)BIG_PIECES * BIG_PIECE);
  for (int i = 0; i < BIG_PIECES; i++)
    for (int j = 0; j < BIG_PIECE; j++)
      if ((unsigned char)r.body[(size_t)i * BIG_PIECE + j] !=
          (unsigned char)(i * 131 + j)) {
        fprintf(stderr, "byte %d of piece %d differs\n", j, i);
        fail();
      }
  hu_response_free(&r);
  /* Keep-alive afterwards. */
  hu_send_str(&c, "GET /after HTTP/1.1\r\nHost: a\r\n\r\n");
  expect_response(&c, 0, 200, "GET /after 0\n");
  hu_close(&c);
  pthread_mutex_lock(&g_mu);
  int ok = g_big_done_ok, bad = g_big_done_bad;
  pthread_mutex_unlock(&g_mu);
  assert_int_equal(ok, BIG_PIECES);
  assert_int_equal(bad, 0);
  stop(s);
}

/* Content-Length declared by the application frames a streamed
 * response, for HTTP/1.1 and for HTTP/1.0 keep-alive. */
static void test_http_conn__declared_length_streamed(void **state) {
  hu_server *s = start(0);
  hu_conn c;
  hu_response r;
  assert_int_equal(hu_connect(&c, s->port), 0);
  hu_send_str(&c, "GET /declared HTTP/1.1\r\nHost: a\r\n\r\n");
  assert_int_equal(hu_read_response(&c, &r, 0, HU_TIMEOUT_MS), HU_OK);
  assert_false(r.chunked);
  assert_true(r.has_content_length);
  assert_int_equal(r.content_length, 10);
  assert_string_equal(r.body, "0123456789");
  hu_response_free(&r);
  hu_send_str(&c, "GET /x HTTP/1.1\r\nHost: a\r\n\r\n");
  expect_response(&c, 0, 200, "GET /x 0\n");
  hu_close(&c);
  assert_int_equal(hu_connect(&c, s->port), 0);
  hu_send_str(&c, "GET /declared HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  assert_int_equal(hu_read_response(&c, &r, 0, HU_TIMEOUT_MS), HU_OK);
  assert_false(r.close_delimited);
  assert_string_equal(r.body, "0123456789");
  hu_response_free(&r);
  assert_true(hu_quiet(&c, 200));
  hu_send_str(&c, "GET /y HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  expect_response(&c, 0, 200, "GET /y 0\n");
  hu_close(&c);
  stop(s);
}

/* Date and Server are added unless the application set them (once). */
static void test_http_conn__date_and_server_headers(void **state) {
  hu_server *s = start(0);
  hu_conn c;
  hu_response r;
  char v[128];
  assert_int_equal(hu_connect(&c, s->port), 0);
  hu_send_str(&c,
              "GET / HTTP/1.1\r\nHost: a\r\n\r\n"
              "GET /own-server HTTP/1.1\r\nHost: a\r\n\r\n");
  assert_int_equal(hu_read_response(&c, &r, 0, HU_TIMEOUT_MS), HU_OK);
  assert_int_equal(hu_header_count(&r, "Date"), 1);
  assert_true(hu_header(&r, "Date", v, sizeof v));
  /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
  assert_int_equal(strlen(v), 29);
  assert_string_equal(v + 25, " GMT");
  assert_int_equal(hu_header_count(&r, "Server"), 1);
  hu_response_free(&r);
  assert_int_equal(hu_read_response(&c, &r, 0, HU_TIMEOUT_MS), HU_OK);
  assert_int_equal(hu_header_count(&r, "Server"), 1);
  assert_true(hu_header(&r, "Server", v, sizeof v));
  assert_string_equal(v, "mine");
  assert_int_equal(hu_header_count(&r, "Date"), 1);
  assert_true(hu_header(&r, "Date", v, sizeof v));
  assert_string_equal(v, "Thu, 01 Jan 1970 00:00:00 GMT");
  hu_response_free(&r);
  hu_close(&c);
  stop(s);
}

/* HEAD, 204 and 304 carry no body: a pipelined request after each parses
 * cleanly only if not a byte of body was sent. */
static void test_http_conn__no_body_responses(void **state) {
  hu_server *s = start(0);
  hu_conn c;
  hu_response r;
  assert_int_equal(hu_connect(&c, s->port), 0);
  hu_send_str(&c,
              "HEAD /h HTTP/1.1\r\nHost: a\r\n\r\n"
              "GET /after1 HTTP/1.1\r\nHost: a\r\n\r\n"
              "HEAD /stream HTTP/1.1\r\nHost: a\r\n\r\n"
              "GET /after2 HTTP/1.1\r\nHost: a\r\n\r\n"
              "GET /204 HTTP/1.1\r\nHost: a\r\n\r\n"
              "GET /after3 HTTP/1.1\r\nHost: a\r\n\r\n"
              "GET /304 HTTP/1.1\r\nHost: a\r\n\r\n"
              "GET /after4 HTTP/1.1\r\nHost: a\r\n\r\n"
              "GET /204stream HTTP/1.1\r\nHost: a\r\n\r\n"
              "GET /after5 HTTP/1.1\r\nHost: a\r\n\r\n");
  /* HEAD of a plain response. */
  assert_int_equal(hu_read_response(&c, &r, 1, HU_TIMEOUT_MS), HU_OK);
  assert_int_equal(r.status, 200);
  hu_response_free(&r);
  expect_response(&c, 0, 200, "GET /after1 0\n");
  /* HEAD of a streamed response: no chunk bytes either. */
  assert_int_equal(hu_read_response(&c, &r, 1, HU_TIMEOUT_MS), HU_OK);
  assert_int_equal(r.status, 200);
  hu_response_free(&r);
  expect_response(&c, 0, 200, "GET /after2 0\n");
  /* 204: no body, no Content-Length (RFC 9110 8.6), not chunked. */
  assert_int_equal(hu_read_response(&c, &r, 0, HU_TIMEOUT_MS), HU_OK);
  assert_int_equal(r.status, 204);
  assert_false(r.has_content_length);
  assert_false(r.chunked);
  hu_response_free(&r);
  expect_response(&c, 0, 200, "GET /after3 0\n");
  assert_int_equal(hu_read_response(&c, &r, 0, HU_TIMEOUT_MS), HU_OK);
  assert_int_equal(r.status, 304);
  assert_false(r.chunked);
  hu_response_free(&r);
  expect_response(&c, 0, 200, "GET /after4 0\n");
  assert_int_equal(hu_read_response(&c, &r, 0, HU_TIMEOUT_MS), HU_OK);
  assert_int_equal(r.status, 204);
  assert_false(r.chunked);
  assert_false(r.has_content_length);
  hu_response_free(&r);
  expect_response(&c, 0, 200, "GET /after5 0\n");
  assert_true(hu_quiet(&c, 100));
  hu_close(&c);
  stop(s);
}

/* A HEAD response advertises what GET would (Content-Length of the body
 * the handler gave) but sends none of it. */
static void test_http_conn__head_keeps_length(void **state) {
  hu_server *s = start(0);
  hu_conn c;
  hu_response r;
  assert_int_equal(hu_connect(&c, s->port), 0);
  hu_send_str(&c, "HEAD /abc HTTP/1.1\r\nHost: a\r\n\r\n");
  assert_int_equal(hu_read_response(&c, &r, 1, HU_TIMEOUT_MS), HU_OK);
  assert_int_equal(r.status, 200);
  if (r.has_content_length)
    assert_int_equal(r.content_length, (long long)strlen("HEAD /abc 0\n"));
  hu_response_free(&r);
  assert_true(hu_quiet(&c, 200)); /* no body bytes trail the head */
  hu_close(&c);
  stop(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_http_conn__pipelined_100_in_order),
      cmocka_unit_test(test_http_conn__pipelined_async_in_order),
      cmocka_unit_test(test_http_conn__many_connections),
      cmocka_unit_test(test_http_conn__pipelined_flood),
      cmocka_unit_test(test_http_conn__pipelined_with_bodies),
      cmocka_unit_test(test_http_conn__http11_keepalive_default),
      cmocka_unit_test(test_http_conn__http11_connection_close),
      cmocka_unit_test(test_http_conn__http10_closes),
      cmocka_unit_test(test_http_conn__http10_keepalive),
      cmocka_unit_test(test_http_conn__no_keep_alive_option),
      cmocka_unit_test(test_http_conn__100_continue),
      cmocka_unit_test(test_http_conn__100_continue_body_sent_at_once),
      cmocka_unit_test(test_http_conn__100_continue_hook_answers_early),
      cmocka_unit_test(test_http_conn__100_continue_ignored_for_http10),
      cmocka_unit_test(test_http_conn__chunked_request_body),
      cmocka_unit_test(test_http_conn__chunked_response_http11),
      cmocka_unit_test(test_http_conn__close_delimited_response_http10),
      cmocka_unit_test(test_http_conn__streamed_backpressure),
      cmocka_unit_test(test_http_conn__declared_length_streamed),
      cmocka_unit_test(test_http_conn__date_and_server_headers),
      cmocka_unit_test(test_http_conn__no_body_responses),
      cmocka_unit_test(test_http_conn__head_keeps_length),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
