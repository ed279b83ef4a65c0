/*
 * test_group.c -- one server on N loops (squall_group_*): argument and
 * state errors, every loop serving, responses completed from a foreign
 * thread landing on the right connection, and a graceful shutdown that
 * lets the group be joined and freed.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"

/* A queue of requests answered by a worker thread (not a loop thread). */
#define QCAP 256
static struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  squall_request *q[QCAP];
  int head, tail, quit;
} g_q = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, {0}, 0, 0, 0};

static squall_group *g_group;
static int g_served[4];

static void handler(squall_request *req, void *ud) {
  squall_loop *loop = NULL;
  int i;
  (void)ud;
  squall_request_loop(req, &loop);
  i = squall_group_loop_index(g_group, loop);
  if (i >= 0 && i < 4) tu_atomic_add(&g_served[i], 1);
  pthread_mutex_lock(&g_q.mu);
  g_q.q[g_q.tail++ % QCAP] = req;
  pthread_cond_signal(&g_q.cv);
  pthread_mutex_unlock(&g_q.mu);
}

static void *worker(void *arg) {
  (void)arg;
  for (;;) {
    squall_request *req;
    const char *path;
    size_t len;
    pthread_mutex_lock(&g_q.mu);
    while (g_q.head == g_q.tail && !g_q.quit)
      pthread_cond_wait(&g_q.cv, &g_q.mu);
    if (g_q.head == g_q.tail) {
      pthread_mutex_unlock(&g_q.mu);
      return NULL;
    }
    req = g_q.q[g_q.head++ % QCAP];
    pthread_mutex_unlock(&g_q.mu);
    squall_request_get(req, SQUALL_REQ_PATH, &path, &len);
    squall_respond(req, 200, "text/plain", SQUALL_NTS, path, len);
  }
}

static int g_released, g_done_status = 1;

static void on_drained(int status, void *ud) {
  tu_atomic_set(&g_done_status, status);
  squall_group_stop(ud);
}

static void test_group__errors(void **state) {
  squall_group *g = NULL;
  squall_loop *other;
  (void)state;
  assert_int_equal(squall_group_new(&g, 2, NULL, NULL, NULL, NULL),
                   SQUALL_EINVAL);
  assert_int_equal(squall_group_new(&g, -1, NULL, handler, NULL, NULL),
                   SQUALL_EINVAL);
  assert_int_equal(
      squall_group_new(&g, 2, NULL, handler, &g_released, tu_release_inc), 0);
  assert_int_equal(squall_group_size(g), 2);
  assert_null(squall_group_loop(g, 2));
  assert_non_null(squall_group_server(g, 1));
  assert_int_equal(squall_loop_new(&other), 0);
  assert_int_equal(squall_group_loop_index(g, other), SQUALL_ENOTFOUND);
  assert_int_equal(squall_group_loop_index(g, squall_group_loop(g, 1)), 1);
  assert_int_equal(squall_loop_free(other), 0);
  assert_int_equal(squall_group_listen(g, "127.0.0.1", SQUALL_NTS, 0), 0);
  assert_int_equal(squall_group_start(g), 0);
  assert_int_equal(squall_group_start(g), SQUALL_ESTATE);
  assert_int_equal(squall_group_listen(g, "127.0.0.1", SQUALL_NTS, 0),
                   SQUALL_ESTATE);
  squall_group_free(g);
  assert_int_equal(g_released, 1);
}

static void test_group__foreign_thread_answers_the_right_connection(
    void **state) {
  enum { CONNS = 16, PER = 25 };
  int fds[CONNS], c, k;
  uint16_t port = 0;
  pthread_t th;
  char want[64], buf[512];
  (void)state;
  memset(g_served, 0, sizeof g_served);
  assert_int_equal(squall_group_new(&g_group, 2, NULL, handler, NULL, NULL), 0);
  assert_int_equal(squall_group_listen(g_group, "127.0.0.1", SQUALL_NTS, 0), 0);
  assert_int_equal(squall_group_port(g_group, &port), 0);
  assert_int_equal(pthread_create(&th, NULL, worker, NULL), 0);
  assert_int_equal(squall_group_start(g_group), 0);
  for (c = 0; c < CONNS; c++) {
    fds[c] = tu_connect_tcp("127.0.0.1", port, 5000);
    assert_true(fds[c] >= 0);
  }
  /* Interleave the connections so the worker answers them out of order. */
  for (k = 0; k < PER; k++) {
    for (c = 0; c < CONNS; c++) {
      snprintf(buf, sizeof buf, "GET /c%d/r%d HTTP/1.1\r\nHost: x\r\n\r\n", c,
               k);
      assert_int_equal(tu_send_str(fds[c], buf), 0);
    }
    for (c = 0; c < CONNS; c++) {
      ssize_t n;
      snprintf(want, sizeof want, "/c%d/r%d", c, k);
      n = tu_recv_until(fds[c], buf, sizeof buf - 1, want, strlen(want), 5000);
      assert_true(n > 0);
      buf[n] = 0;
      assert_non_null(strstr(buf, "200 OK"));
    }
  }
  for (c = 0; c < CONNS; c++) close(fds[c]);
  /* Both loops served (least-connections hand-off from loop 0). */
  assert_true(tu_atomic_get(&g_served[0]) > 0);
  assert_true(tu_atomic_get(&g_served[1]) > 0);
  assert_int_equal(tu_atomic_get(&g_served[0]) + tu_atomic_get(&g_served[1]),
                   CONNS * PER);
  /* Graceful shutdown, then join and free. */
  assert_int_equal(squall_group_shutdown(g_group, 2000, on_drained, g_group),
                   0);
  assert_int_equal(squall_group_join(g_group), 0);
  assert_int_equal(tu_atomic_get(&g_done_status), 0);
  squall_group_free(g_group);
  pthread_mutex_lock(&g_q.mu);
  g_q.quit = 1;
  pthread_cond_signal(&g_q.cv);
  pthread_mutex_unlock(&g_q.mu);
  pthread_join(th, NULL);
}

static void record_status(int status, void *ud) {
  *(int *)ud = status;
}

/* A shutdown that the loops never ran (asked after they stopped, or on a
 * group never started) must not touch the servers when squall_group_free
 * runs what is still queued on the loops (it frees the servers first), and
 * its done still runs once, with SQUALL_ECLOSED. */
static void test_group__shutdown_after_stop_then_free(void **state) {
  squall_group *g = NULL;
  int status = 1;
  (void)state;
  assert_int_equal(squall_group_new(&g, 2, NULL, handler, NULL, NULL), 0);
  assert_int_equal(squall_group_listen(g, "127.0.0.1", SQUALL_NTS, 0), 0);
  assert_int_equal(squall_group_start(g), 0);
  assert_int_equal(squall_group_stop(g), 0);
  assert_int_equal(squall_group_join(g), 0);
  assert_int_equal(squall_group_shutdown(g, 0, record_status, &status), 0);
  squall_group_free(g);
  assert_int_equal(status, SQUALL_ECLOSED);
  status = 1;
  assert_int_equal(squall_group_new(&g, 2, NULL, handler, NULL, NULL), 0);
  assert_int_equal(squall_group_shutdown(g, 0, record_status, &status), 0);
  squall_group_free(g);
  assert_int_equal(status, SQUALL_ECLOSED);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_group__errors),
      cmocka_unit_test(test_group__shutdown_after_stop_then_free),
      cmocka_unit_test(test_group__foreign_thread_answers_the_right_connection),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
