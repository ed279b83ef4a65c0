/* test_http_abort.c -- squall_response_abort and squall_request_call_soon. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <string.h>

#include "httputil.h"

/* Streams one chunk, then aborts: the client must see the first chunk and
 * then the connection closing without the terminating zero-size chunk. */
static void abort_handler(hu_server *s, squall_request *req) {
  (void)s;
  assert_int_equal(squall_response_write(req, "partial", 7), SQUALL_OK);
  assert_int_equal(squall_response_flush(req, NULL, NULL), SQUALL_OK);
  assert_int_equal(squall_response_abort(req), SQUALL_OK);
}

static void test_http_abort__streamed_body_reads_truncated(void **state) {
  hu_server *s = hu_server_new();
  hu_conn c;
  (void)state;
  s->handler = abort_handler;
  assert_int_equal(hu_server_start(s), 0);
  assert_int_equal(hu_connect(&c, s->port), 0);
  assert_int_equal(hu_send_str(&c, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
  assert_int_equal(hu_wait_closed(&c, HU_CLOSE_TIMEOUT_MS), 1);
  assert_non_null(c.buf);
  c.buf[c.len < c.cap ? c.len : c.cap - 1] = 0;
  assert_non_null(strstr(c.buf, "Transfer-Encoding: chunked"));
  assert_non_null(strstr(c.buf, "7\r\npartial\r\n"));
  assert_null(strstr(c.buf, "\r\n0\r\n\r\n"));
  hu_close(&c);
  assert_int_equal(hu_server_stop(s), 0);
  hu_server_free(s);
}

struct soon {
  pthread_mutex_t mu;
  int ran;
  pthread_t loop_thread;
  int on_loop;
};

static void soon_cb(void *arg) {
  struct soon *so = arg;
  pthread_mutex_lock(&so->mu);
  so->ran++;
  so->on_loop = pthread_equal(pthread_self(), so->loop_thread);
  pthread_mutex_unlock(&so->mu);
}

static struct soon g_soon = {PTHREAD_MUTEX_INITIALIZER, 0, 0, 0};

static void *worker(void *arg) {
  squall_request *req = arg;
  /* From a foreign thread: the callback runs on the loop, then we answer. */
  assert_int_equal(squall_request_call_soon(req, soon_cb, &g_soon), SQUALL_OK);
  hu_sleep_ms(50);
  squall_respond(req, 200, "text/plain", SQUALL_NTS, "ok", 2);
  return NULL;
}

static void soon_handler(hu_server *s, squall_request *req) {
  pthread_t t;
  g_soon.loop_thread = s->thread;
  pthread_create(&t, NULL, worker, req);
  pthread_detach(t);
}

static void test_http_abort__request_call_soon_runs_on_loop(void **state) {
  hu_server *s = hu_server_new();
  hu_response r;
  (void)state;
  s->handler = soon_handler;
  assert_int_equal(hu_server_start(s), 0);
  assert_int_equal(
      hu_exchange(s->port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27, &r, NULL),
      0);
  assert_int_equal(r.status, 200);
  hu_response_free(&r);
  pthread_mutex_lock(&g_soon.mu);
  assert_int_equal(g_soon.ran, 1);
  assert_int_equal(g_soon.on_loop, 1);
  pthread_mutex_unlock(&g_soon.mu);
  assert_int_equal(hu_server_stop(s), 0);
  hu_server_free(s);
}

static void test_http_abort__bad_arguments(void **state) {
  (void)state;
  assert_int_equal(squall_response_abort(NULL), SQUALL_EINVAL);
  assert_int_equal(squall_request_call_soon(NULL, soon_cb, NULL),
                   SQUALL_EINVAL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_http_abort__streamed_body_reads_truncated),
      cmocka_unit_test(test_http_abort__request_call_soon_runs_on_loop),
      cmocka_unit_test(test_http_abort__bad_arguments),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
