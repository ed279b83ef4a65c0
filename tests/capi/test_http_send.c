/* test_http_send.c -- squall_response_send, the one-crossing response call:
 * a whole response, a streamed one in pieces, validation that applies
 * nothing, the head-already-sent rule, abort, and calls from another
 * thread.  Handlers record return codes; the main thread asserts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "httputil.h"

#define MAX_RC 16

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static int g_rc[MAX_RC];
static int g_nrc;

static void record(int rc) {
  pthread_mutex_lock(&g_mu);
  if (g_nrc < MAX_RC) g_rc[g_nrc++] = rc;
  pthread_mutex_unlock(&g_mu);
}

static void reset_rc(void) {
  pthread_mutex_lock(&g_mu);
  g_nrc = 0;
  pthread_mutex_unlock(&g_mu);
}

static int rc_at(int i) {
  int v;
  pthread_mutex_lock(&g_mu);
  v = i < g_nrc ? g_rc[i] : 12345;
  pthread_mutex_unlock(&g_mu);
  return v;
}

/* Wait (bounded) until the handler recorded n return codes: the client
 * may see the answer before the call that sent it has returned. */
static int wait_rc(int n) {
  for (int i = 0; i < 5000; i++) {
    pthread_mutex_lock(&g_mu);
    int have = g_nrc;
    pthread_mutex_unlock(&g_mu);
    if (have >= n) return 1;
    hu_sleep_ms(1);
  }
  return 0;
}

static const squall_header k_two[] = {
    {"Content-Type", SQUALL_NTS, "text/plain", SQUALL_NTS},
    {"X-Two", 5, "2", 1},
};

static void whole_handler(hu_server *s, squall_request *req) {
  (void)s;
  record(squall_response_send(req, 201, k_two, 2, "created", 7,
                              SQUALL_SEND_FINISH));
}

static void streamed_handler(hu_server *s, squall_request *req) {
  (void)s;
  record(
      squall_response_send(req, 200, k_two, 2, "one,", 4, SQUALL_SEND_FLUSH));
  /* The head is out: a status or header now is refused, nothing applied,
   * and the request is not ended. */
  record(squall_response_send(req, 500, NULL, 0, "bad", 3, 0));
  record(squall_response_send(req, 0, k_two, 1, NULL, 0, SQUALL_SEND_FINISH));
  record(squall_response_send(req, 0, NULL, 0, "two,", 4, 0));
  record(squall_response_send(req, 0, NULL, 0, "three", 5, SQUALL_SEND_FINISH));
}

static void invalid_handler(hu_server *s, squall_request *req) {
  static const squall_header bad_name[] = {{"X-Ok", SQUALL_NTS, "1", 1},
                                           {"Bad Name", SQUALL_NTS, "v", 1}};
  static const squall_header bad_value[] = {{"X-Ok", SQUALL_NTS, "a\r\nb", 4}};
  static const squall_header bad_cl[] = {
      {"Content-Length", SQUALL_NTS, "1x", 2}};
  static const squall_header te[] = {
      {"Transfer-Encoding", SQUALL_NTS, "chunked", SQUALL_NTS}};
  (void)s;
  /* Each is refused whole: nothing is applied, the request goes on. */
  record(
      squall_response_send(req, 418, bad_name, 2, "no", 2, SQUALL_SEND_FINISH));
  record(squall_response_send(req, 418, bad_value, 1, "no", 2,
                              SQUALL_SEND_FINISH));
  record(
      squall_response_send(req, 418, bad_cl, 1, "no", 2, SQUALL_SEND_FINISH));
  record(squall_response_send(req, 418, te, 1, "no", 2, SQUALL_SEND_FINISH));
  record(squall_response_send(req, 99, NULL, 0, "no", 2, SQUALL_SEND_FINISH));
  record(squall_response_send(req, 1000, NULL, 0, "no", 2, SQUALL_SEND_FINISH));
  record(squall_response_send(req, 0, NULL, 0, "no", 2, 8));
  record(squall_response_send(req, 0, NULL, 0, "no", 2, SQUALL_SEND_ABORT));
  record(squall_response_send(req, 0, NULL, 0, NULL, 2, SQUALL_SEND_FINISH));
  record(squall_response_send(req, 0, NULL, 1, NULL, 0, SQUALL_SEND_FINISH));
  record(squall_response_send(NULL, 200, NULL, 0, NULL, 0, SQUALL_SEND_FINISH));
  /* Still ours, still 200 with no fields: answer for real. */
  record(squall_response_send(req, 0, NULL, 0, "fine", 4, SQUALL_SEND_FINISH));
}

static void abort_handler(hu_server *s, squall_request *req) {
  (void)s;
  record(
      squall_response_send(req, 200, NULL, 0, "partial", 7, SQUALL_SEND_FLUSH));
  record(squall_response_send(req, 0, NULL, 0, NULL, 0, SQUALL_SEND_ABORT));
}

static void *thread_answers(void *arg) {
  squall_request *req = arg;
  static const squall_header h[] = {{"X-From", SQUALL_NTS, "thread", 6}};
  /* Off the loop thread: each call is one queued command, applied in order. */
  record(squall_response_send(req, 202, h, 1, "a", 1, SQUALL_SEND_FLUSH));
  record(squall_response_send(req, 0, NULL, 0, "b", 1, 0));
  record(squall_response_send(req, 0, NULL, 0, "c", 1, SQUALL_SEND_FINISH));
  return NULL;
}

static void thread_handler(hu_server *s, squall_request *req) {
  pthread_t t;
  (void)s;
  pthread_create(&t, NULL, thread_answers, req);
  pthread_detach(t);
}

static hu_server *start(hu_handler_fn h) {
  hu_server *s = hu_server_new();
  assert_non_null(s);
  s->handler = h;
  s->want_error_hook = 1;
  reset_rc();
  assert_int_equal(hu_server_start(s), 0);
  return s;
}

static void stop(hu_server *s) {
  assert_int_equal(hu_server_stop(s), 0);
  hu_server_free(s);
}

static void get(hu_server *s, hu_response *r) {
  static const char req[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  assert_int_equal(hu_exchange(s->port, req, sizeof req - 1, r, NULL), HU_OK);
}

static void test_http_send__whole_response_in_one_call(void **state) {
  hu_server *s = start(whole_handler);
  hu_response r;
  char v[64];
  (void)state;
  get(s, &r);
  assert_int_equal(r.status, 201);
  assert_true(r.has_content_length);
  assert_int_equal(r.body_len, 7);
  assert_memory_equal(r.body, "created", 7);
  assert_int_equal(hu_header(&r, "Content-Type", v, sizeof v), 1);
  assert_string_equal(v, "text/plain");
  assert_int_equal(hu_header(&r, "X-Two", v, sizeof v), 1);
  assert_string_equal(v, "2");
  hu_response_free(&r);
  assert_true(wait_rc(1));
  assert_int_equal(rc_at(0), SQUALL_OK);
  stop(s);
}

static void test_http_send__streamed_in_pieces(void **state) {
  hu_server *s = start(streamed_handler);
  hu_response r;
  (void)state;
  get(s, &r);
  assert_int_equal(r.status, 200);
  assert_true(r.chunked);
  assert_int_equal(r.body_len, 13);
  assert_memory_equal(r.body, "one,two,three", 13);
  hu_response_free(&r);
  assert_true(wait_rc(5));
  assert_int_equal(rc_at(0), SQUALL_OK);
  assert_int_equal(rc_at(1), SQUALL_ESTATE);
  assert_int_equal(rc_at(2), SQUALL_ESTATE);
  assert_int_equal(rc_at(3), SQUALL_OK);
  assert_int_equal(rc_at(4), SQUALL_OK);
  stop(s);
}

static void test_http_send__invalid_calls_apply_nothing(void **state) {
  hu_server *s = start(invalid_handler);
  hu_response r;
  int i;
  (void)state;
  get(s, &r);
  assert_int_equal(r.status, 200);
  assert_int_equal(r.body_len, 4);
  assert_memory_equal(r.body, "fine", 4);
  assert_null(strstr(r.head, "X-Ok"));
  assert_null(strstr(r.head, "418"));
  hu_response_free(&r);
  assert_true(wait_rc(12));
  for (i = 0; i < 11; i++) assert_int_equal(rc_at(i), SQUALL_EINVAL);
  assert_int_equal(rc_at(11), SQUALL_OK);
  stop(s);
}

static void test_http_send__abort_after_flush_truncates(void **state) {
  hu_server *s = start(abort_handler);
  hu_conn c;
  (void)state;
  assert_int_equal(hu_connect(&c, s->port), 0);
  assert_int_equal(hu_send_str(&c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
  assert_int_equal(hu_wait_closed(&c, HU_CLOSE_TIMEOUT_MS), 1);
  c.buf[c.len < c.cap ? c.len : c.cap - 1] = 0;
  assert_non_null(strstr(c.buf, "7\r\npartial\r\n"));
  assert_null(strstr(c.buf, "\r\n0\r\n\r\n"));
  hu_close(&c);
  assert_true(wait_rc(2));
  assert_int_equal(rc_at(0), SQUALL_OK);
  assert_int_equal(rc_at(1), SQUALL_OK);
  /* The error hook was told. */
  assert_true(hu_server_wait_errors(s, 1, HU_TIMEOUT_MS) >= 1);
  stop(s);
}

static void test_http_send__from_another_thread(void **state) {
  hu_server *s = start(thread_handler);
  hu_response r;
  char v[64];
  (void)state;
  get(s, &r);
  assert_int_equal(r.status, 202);
  assert_true(r.chunked);
  assert_int_equal(r.body_len, 3);
  assert_memory_equal(r.body, "abc", 3);
  assert_int_equal(hu_header(&r, "X-From", v, sizeof v), 1);
  assert_string_equal(v, "thread");
  hu_response_free(&r);
  stop(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_http_send__whole_response_in_one_call),
      cmocka_unit_test(test_http_send__streamed_in_pieces),
      cmocka_unit_test(test_http_send__invalid_calls_apply_nothing),
      cmocka_unit_test(test_http_send__abort_after_flush_truncates),
      cmocka_unit_test(test_http_send__from_another_thread),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
