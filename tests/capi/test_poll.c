/*
 * test_poll.c -- the pull-style dispatch (squall_server_new_polled,
 * squall_loop_poll): requests taken into the caller's array, answered on
 * the polling thread and from another thread, a pipelined burst's
 * responses held back until the burst is answered, timeouts, stop, the
 * thread binding, and requests left queued when the loop is freed.
 *
 * The client and the poller share the main thread where they can: the
 * kernel completes connections and buffers requests without the server,
 * so every step is deterministic.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"

typedef struct {
  squall_loop *loop;
  squall_server *srv;
  uint16_t port;
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  assert_non_null(f);
  assert_int_equal(squall_loop_new(&f->loop), 0);
  assert_int_equal(squall_server_new_polled(&f->srv, f->loop, NULL), 0);
  assert_int_equal(squall_server_listen(f->srv, "127.0.0.1", SQUALL_NTS, 0), 0);
  assert_int_equal(squall_server_port(f->srv, &f->port), 0);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  squall_server_free(f->srv);
  assert_int_equal(squall_loop_free(f->loop), 0);
  free(f);
  return 0;
}

/* Poll until n requests were taken (or 5 s), appending to reqs. */
static size_t poll_n(squall_loop *loop, squall_request **reqs, size_t n) {
  size_t got = 0;
  int64_t end = tu_now_ms() + 5000;
  while (got < n && tu_now_ms() < end) {
    size_t k = 0;
    int rc = squall_loop_poll(loop, 100, reqs + got, n - got, &k);
    assert_true(rc == 0);
    got += k;
  }
  return got;
}

static void path_of(squall_request *req, char *out, size_t cap) {
  const char *p;
  size_t len;
  assert_int_equal(squall_request_get(req, SQUALL_REQ_PATH, &p, &len), 0);
  assert_true(len < cap);
  memcpy(out, p, len);
  out[len] = 0;
}

static void answer_path(squall_request *req) {
  char path[64];
  path_of(req, path, sizeof path);
  assert_int_equal(
      squall_respond(req, 200, "text/plain", SQUALL_NTS, path, strlen(path)),
      0);
}

/* Count complete "HTTP/1.1 200" responses whose bodies are the paths. */
static void expect_responses(int fd, const char *const *paths, int n) {
  for (int i = 0; i < n; i++) {
    char head[1024];
    char body[64];
    ssize_t h = tu_recv_until(fd, head, sizeof head, "\r\n\r\n", 4, 5000);
    assert_true(h > 0);
    assert_non_null(strstr(head, "HTTP/1.1 200"));
    size_t blen = strlen(paths[i]);
    char cl[64];
    snprintf(cl, sizeof cl, "Content-Length: %zu\r\n", blen);
    assert_non_null(strstr(head, cl));
    assert_int_equal(tu_recv_n(fd, body, blen, 5000), (ssize_t)blen);
    assert_memory_equal(body, paths[i], blen);
  }
}

static void test_poll__keep_alive(void **state) {
  fixture *f = *state;
  int fd = tu_connect_tcp("127.0.0.1", f->port, 5000);
  assert_true(fd >= 0);
  for (int round = 0; round < 3; round++) {
    char req[128], path[32];
    squall_request *r = NULL;
    snprintf(path, sizeof path, "/r%d", round);
    snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
    assert_int_equal(tu_send_str(fd, req), 0);
    assert_int_equal(poll_n(f->loop, &r, 1), 1);
    answer_path(r);
    /* Nothing buffered behind it: written at once, before any poll. */
    const char *paths[] = {path};
    expect_responses(fd, paths, 1);
  }
  close(fd);
}

static void test_poll__pipelined_burst_in_one_write(void **state) {
  fixture *f = *state;
  enum { N = 16 };
  char burst[N * 64];
  char names[N][16];
  const char *paths[N];
  size_t off = 0;
  for (int i = 0; i < N; i++) {
    snprintf(names[i], sizeof names[i], "/p%02d", i);
    paths[i] = names[i];
    off += (size_t)snprintf(burst + off, sizeof burst - off,
                            "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", names[i]);
  }
  int fd = tu_connect_tcp("127.0.0.1", f->port, 5000);
  assert_true(fd >= 0);
  assert_int_equal(tu_send_all(fd, burst, off), 0);

  squall_request *r = NULL;
  assert_int_equal(poll_n(f->loop, &r, 1), 1);
  for (int i = 0; i < N; i++) {
    char path[64];
    path_of(r, path, sizeof path);
    assert_string_equal(path, names[i]);
    answer_path(r);
    if (i == N - 1) break;
    /* The next request was parsed and queued by the answer: a poll that
     * does not wait returns it. */
    size_t k = 0;
    assert_int_equal(squall_loop_poll(f->loop, 0, &r, 1, &k), 0);
    assert_int_equal(k, 1);
    /* ...and no response left yet: they go out together. */
    char b;
    assert_int_equal(recv(fd, &b, 1, MSG_DONTWAIT | MSG_PEEK), -1);
    assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
  }
  /* The last answer had nothing behind it: the burst is written now. */
  expect_responses(fd, paths, N);
  close(fd);
}

static void test_poll__cap_leaves_the_rest_queued(void **state) {
  fixture *f = *state;
  enum { C = 5 };
  int fds[C];
  squall_request *reqs[C];
  for (int i = 0; i < C; i++) {
    fds[i] = tu_connect_tcp("127.0.0.1", f->port, 5000);
    assert_true(fds[i] >= 0);
    assert_int_equal(tu_send_str(fds[i], "GET /c HTTP/1.1\r\nHost: x\r\n\r\n"),
                     0);
  }
  /* All five arrive, two at a time at most. */
  size_t got = 0;
  int64_t end = tu_now_ms() + 5000;
  while (got < C && tu_now_ms() < end) {
    size_t k = 0;
    assert_int_equal(squall_loop_poll(f->loop, 100, reqs + got, 2, &k), 0);
    assert_true(k <= 2);
    got += k;
  }
  assert_int_equal(got, C);
  for (int i = 0; i < C; i++) answer_path(reqs[i]);
  for (int i = 0; i < C; i++) {
    const char *paths[] = {"/c"};
    expect_responses(fds[i], paths, 1);
    close(fds[i]);
  }
}

/* Answers come from another thread while the main thread polls. */
static squall_request *g_handoff[64];
static int g_handoff_n, g_answered;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;

static void *answerer(void *arg) {
  int total = *(int *)arg;
  int done = 0;
  while (done < total) {
    squall_request *r = NULL;
    pthread_mutex_lock(&g_mu);
    if (done < g_handoff_n) r = g_handoff[done];
    pthread_mutex_unlock(&g_mu);
    if (!r) {
      tu_sleep_ms(1);
      continue;
    }
    assert_int_equal(squall_respond(r, 200, "text/plain", SQUALL_NTS, "far", 3),
                     0);
    tu_atomic_add(&g_answered, 1);
    done++;
  }
  return NULL;
}

static void test_poll__answered_from_another_thread(void **state) {
  fixture *f = *state;
  int total = 10;
  tu_thread *t;
  g_handoff_n = 0;
  tu_atomic_set(&g_answered, 0);
  assert_int_equal(tu_thread_start(&t, answerer, &total), 0);
  int fd = tu_connect_tcp("127.0.0.1", f->port, 5000);
  assert_true(fd >= 0);
  for (int i = 0; i < total; i++) {
    squall_request *r = NULL;
    assert_int_equal(tu_send_str(fd, "GET /far HTTP/1.1\r\nHost: x\r\n\r\n"),
                     0);
    assert_int_equal(poll_n(f->loop, &r, 1), 1);
    pthread_mutex_lock(&g_mu);
    g_handoff[g_handoff_n++] = r;
    pthread_mutex_unlock(&g_mu);
    /* The answer is queued to the loop: keep polling until it is out. */
    int64_t end = tu_now_ms() + 5000;
    char head[512];
    ssize_t h = -1;
    while (tu_now_ms() < end) {
      size_t k = 0;
      squall_request *none;
      assert_int_equal(squall_loop_poll(f->loop, 10, &none, 1, &k), 0);
      assert_int_equal(k, 0);
      char b;
      if (recv(fd, &b, 1, MSG_DONTWAIT | MSG_PEEK) == 1) {
        h = tu_recv_until(fd, head, sizeof head, "\r\n\r\n", 4, 5000);
        break;
      }
    }
    assert_true(h > 0);
    assert_non_null(strstr(head, "HTTP/1.1 200"));
    char body[3];
    assert_int_equal(tu_recv_n(fd, body, 3, 5000), 3);
    assert_memory_equal(body, "far", 3);
  }
  assert_int_equal(tu_thread_join(t, NULL), 0);
  assert_int_equal(tu_atomic_get(&g_answered), total);
  close(fd);
}

static void test_poll__timeout_and_zero(void **state) {
  fixture *f = *state;
  squall_request *r;
  size_t k = 99;
  assert_int_equal(squall_loop_poll(f->loop, 0, &r, 1, &k), 0);
  assert_int_equal(k, 0);
  int64_t t0 = tu_now_ms();
  assert_int_equal(squall_loop_poll(f->loop, 60, &r, 1, &k), 0);
  int64_t dt = tu_now_ms() - t0;
  assert_int_equal(k, 0);
  assert_true(dt >= 55);
  assert_true(dt < 3000);
}

static void *stopper(void *arg) {
  tu_sleep_ms(50);
  assert_int_equal(squall_loop_stop(arg), 0);
  return NULL;
}

static void test_poll__stop_from_another_thread(void **state) {
  fixture *f = *state;
  squall_request *r;
  size_t k = 99;
  tu_thread *t;
  assert_int_equal(tu_thread_start(&t, stopper, f->loop), 0);
  int64_t t0 = tu_now_ms();
  assert_int_equal(squall_loop_poll(f->loop, -1, &r, 1, &k),
                   SQUALL_POLL_STOPPED);
  assert_int_equal(k, 0);
  assert_true(tu_now_ms() - t0 < 5000);
  assert_int_equal(tu_thread_join(t, NULL), 0);
  /* The stop was consumed: the next poll waits again. */
  assert_int_equal(squall_loop_poll(f->loop, 0, &r, 1, &k), 0);
}

typedef struct {
  squall_loop *loop;
  int poll_rc, run_rc, once_rc;
} other_thread_calls;

static void *call_from_other(void *arg) {
  other_thread_calls *c = arg;
  squall_request *r;
  size_t k;
  c->poll_rc = squall_loop_poll(c->loop, 0, &r, 1, &k);
  c->run_rc = squall_loop_run(c->loop);
  c->once_rc = squall_loop_run_once(c->loop, 0);
  return NULL;
}

static void poll_inside(void *ud) {
  fixture *f = ud;
  squall_request *r;
  size_t k;
  tu_atomic_set(&g_answered, squall_loop_poll(f->loop, 0, &r, 1, &k));
}

static void test_poll__thread_binding_and_errors(void **state) {
  fixture *f = *state;
  squall_request *r;
  size_t k;
  assert_int_equal(squall_loop_poll(NULL, 0, &r, 1, &k), SQUALL_EINVAL);
  assert_int_equal(squall_loop_poll(f->loop, 0, NULL, 1, &k), SQUALL_EINVAL);
  assert_int_equal(squall_loop_poll(f->loop, 0, &r, 0, &k), SQUALL_EINVAL);
  assert_int_equal(squall_loop_poll(f->loop, 0, &r, 1, NULL), SQUALL_EINVAL);
  assert_int_equal(squall_server_new_polled(NULL, f->loop, NULL),
                   SQUALL_EINVAL);
  /* The first poll binds the loop to this thread. */
  assert_int_equal(squall_loop_poll(f->loop, 0, &r, 1, &k), 0);
  other_thread_calls c = {f->loop, 0, 0, 0};
  tu_thread *t;
  assert_int_equal(tu_thread_start(&t, call_from_other, &c), 0);
  assert_int_equal(tu_thread_join(t, NULL), 0);
  assert_int_equal(c.poll_rc, SQUALL_ETHREAD);
  assert_int_equal(c.run_rc, SQUALL_ETHREAD);
  assert_int_equal(c.once_rc, SQUALL_ETHREAD);
  /* Polling from inside one of the loop's callbacks is refused. */
  tu_atomic_set(&g_answered, 0);
  assert_int_equal(squall_loop_call_soon(f->loop, poll_inside, f), 0);
  assert_int_equal(squall_loop_poll(f->loop, 100, &r, 1, &k), 0);
  assert_int_equal(tu_atomic_get(&g_answered), SQUALL_ESTATE);
}

/* A polled server beside a callback server on the same loop. */
static void cb_handler(squall_request *req, void *ud) {
  (void)ud;
  squall_respond(req, 200, "text/plain", SQUALL_NTS, "cb", 2);
}

static void test_poll__beside_a_callback_server(void **state) {
  fixture *f = *state;
  squall_server *cb = NULL;
  uint16_t cport;
  assert_int_equal(
      squall_server_new(&cb, f->loop, NULL, cb_handler, NULL, NULL), 0);
  assert_int_equal(squall_server_listen(cb, "127.0.0.1", SQUALL_NTS, 0), 0);
  assert_int_equal(squall_server_port(cb, &cport), 0);
  int fd = tu_connect_tcp("127.0.0.1", cport, 5000);
  assert_true(fd >= 0);
  assert_int_equal(tu_send_str(fd, "GET /x HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
  char b;
  int64_t end = tu_now_ms() + 5000;
  while (recv(fd, &b, 1, MSG_DONTWAIT | MSG_PEEK) != 1 && tu_now_ms() < end) {
    squall_request *r;
    size_t k = 0;
    assert_int_equal(squall_loop_poll(f->loop, 10, &r, 1, &k), 0);
    assert_int_equal(k, 0); /* the callback server's request is not queued */
  }
  const char *paths[] = {"cb"};
  expect_responses(fd, paths, 1);
  close(fd);
  squall_server_free(cb);
}

/* Requests queued and never taken are aborted when the loop is freed; a
 * request taken and answered after its server was freed ends cleanly. */
static void test_poll__leftovers(void **state) {
  (void)state;
  squall_loop *loop;
  squall_server *srv;
  uint16_t port;
  assert_int_equal(squall_loop_new(&loop), 0);
  assert_int_equal(squall_server_new_polled(&srv, loop, NULL), 0);
  assert_int_equal(squall_server_listen(srv, "127.0.0.1", SQUALL_NTS, 0), 0);
  assert_int_equal(squall_server_port(srv, &port), 0);
  int a = tu_connect_tcp("127.0.0.1", port, 5000);
  int b = tu_connect_tcp("127.0.0.1", port, 5000);
  assert_true(a >= 0 && b >= 0);
  assert_int_equal(tu_send_str(a, "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
  assert_int_equal(tu_send_str(b, "GET /b HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
  squall_request *held = NULL;
  assert_int_equal(poll_n(loop, &held, 1), 1);
  squall_server_free(srv);
  assert_int_equal(squall_respond(held, 200, NULL, 0, "late", 4),
                   SQUALL_ECLOSED);
  assert_int_equal(squall_loop_free(loop), 0);
  assert_int_equal(tu_wait_peer_close(a, 5000), 1);
  assert_int_equal(tu_wait_peer_close(b, 5000), 1);
  close(a);
  close(b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_poll__keep_alive, setup, teardown),
      cmocka_unit_test_setup_teardown(test_poll__pipelined_burst_in_one_write,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_poll__cap_leaves_the_rest_queued,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_poll__answered_from_another_thread,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_poll__timeout_and_zero, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_poll__stop_from_another_thread,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_poll__thread_binding_and_errors,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_poll__beside_a_callback_server,
                                      setup, teardown),
      cmocka_unit_test(test_poll__leftovers),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
