/*
 * test_http_timeout -- header_timeout, body_timeout (server-wide and per
 * request from the headers hook) and idle_connection_timeout, with small
 * millisecond values.  Each test sets the timeout under test to 300 ms and
 * the others to 60 s, so the connection can only close within the test's
 * window if the right timer fired.  On a timeout the server may answer 408
 * or just close: the close is what is asserted (and, if a response came,
 * that it is a 408).
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

#define SHORT_MS 300
#define LONG_MS 60000
#define BIG (32 << 20) /* more than loopback's socket buffers hold */

static int64_t g_write_ms =
    LONG_MS; /* SQUALL_OPT_WRITE_TIMEOUT_MS of start() */
static char *g_big;

static void handler(hu_server *s, squall_request *req) {
  char path[256];
  hu_req_field(req, SQUALL_REQ_PATH, path, sizeof path);
  if (strcmp(path, "/slow") == 0) {
    /* Longer than every short timeout. */
    if (hu_respond_later(req, 2 * SHORT_MS + 200, 200, "slow", 4) != 0)
      squall_respond(req, 500, NULL, 0, NULL, 0);
  } else if (strcmp(path, "/big") == 0) {
    squall_respond(req, 200, NULL, 0, g_big, BIG);
  } else {
    hu_default_handler(s, req);
  }
}

static void hook(hu_server *s, squall_request *req) {
  char path[256];
  hu_req_field(req, SQUALL_REQ_PATH, path, sizeof path);
  if (strcmp(path, "/short-body") == 0)
    squall_request_set_body_timeout(req, SHORT_MS);
}

static hu_server *start(int64_t header_ms, int64_t body_ms, int64_t idle_ms) {
  hu_server *s = hu_server_new();
  assert_non_null(s);
  s->handler = handler;
  s->headers_hook = hook;
  s->want_error_hook = 1;
  assert_int_equal(
      squall_config_set_int(s->cfg, SQUALL_OPT_HEADER_TIMEOUT_MS, header_ms),
      0);
  assert_int_equal(
      squall_config_set_int(s->cfg, SQUALL_OPT_BODY_TIMEOUT_MS, body_ms), 0);
  assert_int_equal(
      squall_config_set_int(s->cfg, SQUALL_OPT_IDLE_TIMEOUT_MS, idle_ms), 0);
  assert_int_equal(
      squall_config_set_int(s->cfg, SQUALL_OPT_WRITE_TIMEOUT_MS, g_write_ms),
      0);
  int64_t v = 0;
  assert_int_equal(
      squall_config_get_int(s->cfg, SQUALL_OPT_HEADER_TIMEOUT_MS, &v), 0);
  assert_int_equal(v, header_ms);
  assert_int_equal(hu_server_start(s), 0);
  return s;
}

static void stop(hu_server *s) {
  assert_int_equal(hu_server_stop(s), 0);
  hu_server_free(s);
}

/* Wait for the close; whatever arrived before it must be nothing or one
 * 408 response.  Returns ms from t0 to the close. */
static int64_t expect_timeout_close(hu_conn *c, int64_t t0) {
  int closed = hu_wait_closed(c, HU_CLOSE_TIMEOUT_MS);
  int64_t at = hu_now_ms() - t0;
  if (!closed) fprintf(stderr, "still open %lld ms later\n", (long long)at);
  assert_true(closed);
  if (c->len > 0) {
    hu_response r;
    int rc = hu_read_response(c, &r, 0, 100);
    if (rc != HU_OK) hu_print_escaped("unexpected bytes: ", c->buf, c->len);
    assert_int_equal(rc, HU_OK);
    assert_int_equal(r.status, 408);
    hu_response_free(&r);
  }
  return at;
}

static void expect_timeout_reported(hu_server *s, uint64_t n) {
  assert_true(hu_server_wait_stat(s, SQUALL_STAT_TIMEOUTS, n, HU_TIMEOUT_MS) >=
              n);
  assert_true(hu_server_wait_errors(s, 1, HU_TIMEOUT_MS) >= 1);
  pthread_mutex_lock(&s->mu);
  int kind = s->errors[0].kind;
  pthread_mutex_unlock(&s->mu);
  assert_int_equal(kind, SQUALL_ERRKIND_TIMEOUT);
}

static void test_http_timeout__header_partial(void **state) {
  hu_server *s = start(SHORT_MS, LONG_MS, LONG_MS);
  hu_conn c;
  int64_t t0 = hu_now_ms();
  assert_int_equal(hu_connect(&c, s->port), 0);
  hu_send_str(&c, "GET / HTTP/1.1\r\nHost: a\r\n");
  int64_t at = expect_timeout_close(&c, t0);
  assert_true(at >= SHORT_MS - 50);
  hu_close(&c);
  expect_timeout_reported(s, 1);
  assert_int_equal(hu_server_calls(s), 0);
  stop(s);
}

/* The header timeout bounds the whole head: trickling a byte at a time
 * does not keep the connection alive (slowloris). */
static void test_http_timeout__header_slowloris(void **state) {
  hu_server *s = start(SHORT_MS, LONG_MS, LONG_MS);
  hu_conn c;
  const char *req =
      "GET /slowloris HTTP/1.1\r\nHost: a\r\nX-Long: "
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n";
  int64_t t0 = hu_now_ms();
  assert_int_equal(hu_connect(&c, s->port), 0);
  for (size_t i = 0; i < strlen(req) - 4 && !c.eof; i++) {
    if (hu_send(&c, req + i, 1) != 0) break;
    hu_fill(&c, 50);
  }
  expect_timeout_close(&c, t0);
  int64_t at = hu_now_ms() - t0;
  /* ~90 bytes at 50 ms each would take 4.5 s; it must end well before. */
  assert_true(at < 4000);
  hu_close(&c);
  assert_int_equal(hu_server_calls(s), 0);
  stop(s);
}

/* A connection that never sends a byte is closed by the header timeout
 * too (the idle timeout is 60 s here). */
static void test_http_timeout__header_no_bytes(void **state) {
  hu_server *s = start(SHORT_MS, LONG_MS, LONG_MS);
  hu_conn c;
  int64_t t0 = hu_now_ms();
  assert_int_equal(hu_connect(&c, s->port), 0);
  expect_timeout_close(&c, t0);
  hu_close(&c);
  stop(s);
}

/* Once the head is in, the header timer is off: a slow handler is fine. */
static void test_http_timeout__header_timer_stops_at_head(void **state) {
  hu_server *s = start(SHORT_MS, LONG_MS, LONG_MS);
  hu_conn c;
  hu_response r;
  assert_int_equal(hu_connect(&c, s->port), 0);
  hu_send_str(&c, "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");
  assert_int_equal(hu_read_response(&c, &r, 0, HU_TIMEOUT_MS), HU_OK);
  assert_int_equal(r.status, 200);
  assert_string_equal(r.body, "slow");
  hu_response_free(&r);
  /* Keep-alive, next request promptly. */
  hu_send_str(&c, "GET /next HTTP/1.1\r\nHost: a\r\n\r\n");
  assert_int_equal(hu_read_response(&c, &r, 0, HU_TIMEOUT_MS), HU_OK);
  assert_string_equal(r.body, "GET /next 0\n");
  hu_response_free(&r);
  hu_close(&c);
  assert_int_equal(hu_server_stat(s, SQUALL_STAT_TIMEOUTS), 0);
  stop(s);
}

static void test_http_timeout__body(void **state) {
  hu_server *s = start(LONG_MS, SHORT_MS, LONG_MS);
  hu_conn c;
  int64_t t0 = hu_now_ms();
  assert_int_equal(hu_connect(&c, s->port), 0);
  hu_send_str(
      &c,
      "POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n0123456789");
  int64_t at = expect_timeout_close(&c, t0);
  assert_true(at >= SHORT_MS - 50);
  hu_close(&c);
  expect_timeout_reported(s, 1);
  /* Trickled chunked body: the timeout runs between reads (nginx's
   * client_body_timeout), so a body that keeps coming is never cut, however
   * long it takes in all (here 4x the timeout) ... */
  assert_int_equal(hu_connect(&c, s->port), 0);
  t0 = hu_now_ms();
  hu_send_str(
      &c, "POST /b HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
  while (hu_now_ms() - t0 < 4 * SHORT_MS) {
    assert_int_equal(hu_send_str(&c, "1\r\nx\r\n"), 0);
    hu_fill(&c, SHORT_MS / 6); /* the pacing of the trickle */
    assert_false(c.eof);
  }
  hu_send_str(&c, "0\r\n\r\n");
  hu_response tr;
  assert_int_equal(hu_read_response(&c, &tr, 0, HU_TIMEOUT_MS), HU_OK);
  assert_int_equal(tr.status, 200);
  hu_response_free(&tr);
  /* ... and a pause longer than the timeout inside a body is. */
  hu_send_str(&c,
              "POST /b HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: "
              "chunked\r\n\r\n1\r\nx\r\n");
  t0 = hu_now_ms();
  at = expect_timeout_close(&c, t0);
  assert_true(at >= SHORT_MS - 50);
  hu_close(&c);
  /* A body that arrives in time is served. */
  hu_response r;
  const char *ok =
      "POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc";
  assert_int_equal(hu_exchange(s->port, ok, strlen(ok), &r, NULL), HU_OK);
  assert_string_equal(r.body, "POST /b 3\n");
  hu_response_free(&r);
  assert_int_equal(hu_server_calls(s), 2);
  stop(s);
}

static void test_http_timeout__body_per_request(void **state) {
  hu_server *s = start(LONG_MS, LONG_MS, LONG_MS);
  hu_conn c;
  int64_t t0 = hu_now_ms();
  assert_int_equal(hu_connect(&c, s->port), 0);
  hu_send_str(
      &c,
      "POST /short-body HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\nab");
  expect_timeout_close(&c, t0);
  hu_close(&c);
  /* Other paths keep the server's 60 s. */
  assert_int_equal(hu_connect(&c, s->port), 0);
  hu_send_str(&c,
              "POST /other HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nab");
  assert_true(hu_quiet(&c, 2 * SHORT_MS + 200));
  hu_send_str(&c, "cd");
  hu_response r;
  assert_int_equal(hu_read_response(&c, &r, 0, HU_TIMEOUT_MS), HU_OK);
  assert_string_equal(r.body, "POST /other 4\n");
  hu_response_free(&r);
  hu_close(&c);
  assert_int_equal(hu_server_calls(s), 1);
  stop(s);
}

static void test_http_timeout__idle(void **state) {
  hu_server *s = start(LONG_MS, LONG_MS, SHORT_MS);
  hu_conn c;
  hu_response r;
  assert_int_equal(hu_connect(&c, s->port), 0);
  hu_send_str(&c, "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n");
  assert_int_equal(hu_read_response(&c, &r, 0, HU_TIMEOUT_MS), HU_OK);
  hu_response_free(&r);
  /* A slow handler does not count as idle. */
  hu_send_str(&c, "GET /slow HTTP/1.1\r\nHost: a\r\n\r\n");
  assert_int_equal(hu_read_response(&c, &r, 0, HU_TIMEOUT_MS), HU_OK);
  assert_string_equal(r.body, "slow");
  hu_response_free(&r);
  /* Then silence: closed after the idle timeout, without a response. */
  int64_t t0 = hu_now_ms();
  int closed = hu_wait_closed(&c, HU_CLOSE_TIMEOUT_MS);
  int64_t at = hu_now_ms() - t0;
  assert_true(closed);
  assert_true(at >= SHORT_MS - 100);
  assert_int_equal(c.len, 0);
  hu_close(&c);
  assert_true(hu_server_wait_stat(s, SQUALL_STAT_TIMEOUTS, 1, HU_TIMEOUT_MS) >=
              1);
  assert_int_equal(hu_server_calls(s), 2);
  stop(s);
}

/* Zero disables a timeout. */
static void test_http_timeout__zero_means_none(void **state) {
  hu_server *s = start(0, 0, 0);
  hu_conn c;
  assert_int_equal(hu_connect(&c, s->port), 0);
  hu_send_str(&c, "GET / HTTP/1.1\r\n");
  assert_true(hu_quiet(&c, 800));
  hu_send_str(&c, "Host: a\r\n\r\n");
  hu_response r;
  assert_int_equal(hu_read_response(&c, &r, 0, HU_TIMEOUT_MS), HU_OK);
  assert_int_equal(r.status, 200);
  hu_response_free(&r);
  hu_close(&c);
  stop(s);
}

/* The defaults for the open internet (SECURITY.md): nginx's 60 s header,
 * 60 s between body reads, 75 s keep-alive, 60 s write stall. */
static void test_http_timeout__defaults(void **state) {
  squall_config *cfg;
  assert_int_equal(squall_config_new(&cfg), 0);
  static const struct {
    int key;
    int64_t want;
  } d[] = {{SQUALL_OPT_HEADER_TIMEOUT_MS, 60000},
           {SQUALL_OPT_BODY_TIMEOUT_MS, 60000},
           {SQUALL_OPT_IDLE_TIMEOUT_MS, 75000},
           {SQUALL_OPT_WRITE_TIMEOUT_MS, 60000}};
  for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) {
    int64_t v = -1;
    assert_int_equal(squall_config_get_int(cfg, d[i].key, &v), 0);
    assert_int_equal(v, d[i].want);
  }
  assert_int_equal(squall_config_set_int(cfg, SQUALL_OPT_WRITE_TIMEOUT_MS, -1),
                   SQUALL_EINVAL);
  squall_config_free(cfg);
}

/* A client that asks for a large answer and stops reading is cut once the
 * queued output has made no progress for the write timeout. */
/* A server with a SHORT_MS write timeout, and a client that has asked it
 * for BIG bytes. */
static hu_server *start_big(hu_conn *c) {
  g_write_ms = SHORT_MS;
  hu_server *s = start(LONG_MS, LONG_MS, LONG_MS);
  g_write_ms = LONG_MS;
  assert_int_equal(hu_connect(c, s->port), 0);
  assert_int_equal(hu_send_str(c, "GET /big HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
  return s;
}

static void test_http_timeout__write_stall(void **state) {
  hu_conn c;
  int64_t t0 = hu_now_ms();
  hu_server *s = start_big(&c);
  /* The server fills the socket buffers, then waits on a reader that
   * never comes: the close shows as a reset or an end once we look. */
  expect_timeout_reported(s, 1);
  int64_t at = hu_now_ms() - t0;
  assert_true(at >= SHORT_MS - 50);
  assert_true(at < HU_CLOSE_TIMEOUT_MS);
  hu_close(&c);
  stop(s);
}

/* A slow but steady reader is never cut: each period with progress
 * starts another. */
static void test_http_timeout__slow_reader_is_served(void **state) {
  hu_conn c;
  hu_server *s = start_big(&c);
  /* A read every SHORT_MS / 3, for three times the timeout. */
  int64_t t0 = hu_now_ms();
  int sips = 0;
  while (hu_now_ms() - t0 < 3 * SHORT_MS && !c.eof) {
    hu_fill(&c, 0);
    sips++;
    hu_sleep_ms(SHORT_MS / 3); /* the reader's pace */
  }
  assert_false(c.eof);
  assert_true(c.len < (size_t)BIG); /* the answer was still coming */
  /* Then the rest at full speed: the whole answer. */
  hu_response r;
  assert_int_equal(hu_read_response(&c, &r, 0, HU_TIMEOUT_MS), HU_OK);
  assert_int_equal(r.status, 200);
  assert_int_equal(r.body_len, BIG);
  assert_int_equal(hu_server_stat(s, SQUALL_STAT_TIMEOUTS), 0);
  hu_response_free(&r);
  hu_close(&c);
  stop(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_http_timeout__header_partial),
      cmocka_unit_test(test_http_timeout__header_slowloris),
      cmocka_unit_test(test_http_timeout__header_no_bytes),
      cmocka_unit_test(test_http_timeout__header_timer_stops_at_head),
      cmocka_unit_test(test_http_timeout__body),
      cmocka_unit_test(test_http_timeout__body_per_request),
      cmocka_unit_test(test_http_timeout__idle),
      cmocka_unit_test(test_http_timeout__zero_means_none),
      cmocka_unit_test(test_http_timeout__defaults),
      cmocka_unit_test(test_http_timeout__write_stall),
      cmocka_unit_test(test_http_timeout__slow_reader_is_served),
  };
  g_big = malloc(BIG);
  assert_non_null(g_big);
  memset(g_big, 'x', BIG);
  int rc = cmocka_run_group_tests(tests, NULL, NULL);
  free(g_big);
  return rc;
}
