/*
 * test_thread_storm -- the thread-crossing paths under concurrency, written
 * for ThreadSanitizer (scripts/test.sh runs the C tests again in build-tsan)
 * and run in every build: requests completed from a pool of worker threads
 * (whole answers, streamed writes and flushes, squall_request_call_soon
 * back to the loop), clients that close while a worker is answering, and
 * squall_loop_call_soon from several threads at once while the loop serves.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "httputil.h"

#define WORKERS 4
#define CLIENTS 4
#define REQUESTS 60
#define QUITTERS 40
#define POKERS 3
#define POKES 500

/* A queue of requests handed from the loop to the workers. */
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static squall_request *g_queue[1024];
static size_t g_head, g_tail;
static int g_stop;
static unsigned g_served;
static int g_bad_rc;
static int g_pokes;

static void storm_handler(hu_server *s, squall_request *req) {
  (void)s;
  pthread_mutex_lock(&g_mu);
  g_queue[g_tail++ % 1024] = req;
  pthread_cond_signal(&g_cv);
  pthread_mutex_unlock(&g_mu);
}

static void note_rc(int rc) {
  /* ECLOSED is the documented answer once the client has gone. */
  if (rc != SQUALL_OK && rc != SQUALL_ECLOSED) {
    pthread_mutex_lock(&g_mu);
    g_bad_rc++;
    pthread_mutex_unlock(&g_mu);
  }
}

static void answer_on_loop(void *arg) {
  squall_request *req = arg;
  note_rc(squall_respond(req, 200, "text/plain", SQUALL_NTS, "loop", 4));
}

static void *worker(void *arg) {
  (void)arg;
  for (;;) {
    pthread_mutex_lock(&g_mu);
    while (g_head == g_tail && !g_stop) pthread_cond_wait(&g_cv, &g_mu);
    if (g_head == g_tail) {
      pthread_mutex_unlock(&g_mu);
      return NULL;
    }
    squall_request *req = g_queue[g_head++ % 1024];
    unsigned n = g_served++;
    pthread_mutex_unlock(&g_mu);

    char uri[128];
    hu_req_field(req, SQUALL_REQ_URI, uri, sizeof uri); /* [any thread] */
    switch (n % 3) {
      case 0:
        note_rc(squall_respond(req, 200, "text/plain", SQUALL_NTS, uri,
                               strlen(uri)));
        break;
      case 1:
        note_rc(squall_response_header(req, "X-Worker", SQUALL_NTS, "1",
                                       SQUALL_NTS));
        note_rc(squall_response_write(req, uri, strlen(uri)));
        note_rc(squall_response_flush(req, NULL, NULL));
        note_rc(squall_response_write(req, "", 0));
        note_rc(squall_response_finish(req));
        break;
      default:
        if (squall_request_call_soon(req, answer_on_loop, req) != SQUALL_OK)
          note_rc(squall_response_abort(req));
        break;
    }
  }
}

static void *client(void *arg) {
  hu_server *s = arg;
  hu_conn c;
  long failures = 0;
  if (hu_connect(&c, s->port) != 0) return (void *)1;
  for (int i = 0; i < REQUESTS; i++) {
    char req[128];
    snprintf(req, sizeof req, "GET /c%d HTTP/1.1\r\nHost: a\r\n\r\n", i);
    hu_response r;
    if (hu_send_str(&c, req) != 0 ||
        hu_read_response(&c, &r, 0, HU_TIMEOUT_MS) != 0) {
      failures++;
      break;
    }
    char want[32];
    snprintf(want, sizeof want, "/c%d", i);
    if (r.status != 200 ||
        !(strcmp(r.body, want) == 0 || strcmp(r.body, "loop") == 0))
      failures++;
    hu_response_free(&r);
  }
  hu_close(&c);
  return (void *)failures;
}

static void *quitter(void *arg) {
  /* Requests whose client is gone by the time a worker answers. */
  hu_server *s = arg;
  for (int i = 0; i < QUITTERS; i++) {
    hu_conn c;
    if (hu_connect(&c, s->port) != 0) return (void *)1;
    hu_send_str(&c, "GET /quit HTTP/1.1\r\nHost: a\r\n\r\n");
    /* Close once the request is dispatched: a worker may be answering. */
    int64_t end = hu_now_ms() + HU_TIMEOUT_MS;
    while (hu_server_count_uri(s, "/quit") <= i && hu_now_ms() < end)
      hu_sleep_ms(1);
    hu_close(&c);
  }
  return NULL;
}

static void poke(void *arg) {
  (void)arg;
  pthread_mutex_lock(&g_mu);
  g_pokes++;
  pthread_mutex_unlock(&g_mu);
}

static void *poker(void *arg) {
  hu_server *s = arg;
  for (int i = 0; i < POKES; i++)
    if (squall_loop_call_soon(s->loop, poke, NULL) != SQUALL_OK)
      return (void *)1;
  return NULL;
}

static void test_thread_storm__workers_clients_and_call_soon(void **state) {
  (void)state;
  hu_server *s = hu_server_new();
  assert_non_null(s);
  s->handler = storm_handler;
  assert_int_equal(hu_server_start(s), 0);

  pthread_t w[WORKERS], c[CLIENTS], q, p[POKERS];
  for (int i = 0; i < WORKERS; i++)
    assert_int_equal(pthread_create(&w[i], NULL, worker, NULL), 0);
  for (int i = 0; i < CLIENTS; i++)
    assert_int_equal(pthread_create(&c[i], NULL, client, s), 0);
  assert_int_equal(pthread_create(&q, NULL, quitter, s), 0);
  for (int i = 0; i < POKERS; i++)
    assert_int_equal(pthread_create(&p[i], NULL, poker, s), 0);

  long failures = 0;
  for (int i = 0; i < CLIENTS; i++) {
    void *r;
    pthread_join(c[i], &r);
    failures += (long)r;
  }
  void *r;
  pthread_join(q, &r);
  assert_null(r);
  for (int i = 0; i < POKERS; i++) {
    pthread_join(p[i], &r);
    assert_null(r);
  }
  assert_int_equal(failures, 0);
  /* Every request (the quitters' too) reached the handler, so the workers
   * answer them all (or get ECLOSED) before the server stops. */
  int64_t end = hu_now_ms() + HU_TIMEOUT_MS;
  for (;;) {
    pthread_mutex_lock(&g_mu);
    int pokes = g_pokes;
    pthread_mutex_unlock(&g_mu);
    if (pokes == POKERS * POKES &&
        hu_server_calls(s) >= CLIENTS * REQUESTS + QUITTERS)
      break;
    assert_true(hu_now_ms() < end);
    hu_sleep_ms(10);
  }
  pthread_mutex_lock(&g_mu);
  g_stop = 1;
  pthread_cond_broadcast(&g_cv);
  pthread_mutex_unlock(&g_mu);
  for (int i = 0; i < WORKERS; i++) pthread_join(w[i], NULL);
  assert_int_equal(g_bad_rc, 0);
  assert_int_equal(hu_server_stop(s), 0);
  hu_server_free(s);
  printf("served %u requests from %d workers, %d pokes\n", g_served, WORKERS,
         g_pokes);
}

/* A client that resets its connection while a worker answers costs the
 * server an EPIPE, never a SIGPIPE (the process keeps SIGPIPE's default
 * disposition here: a write that raised it would kill the test). */
static squall_request *g_held;

static void hold_handler(hu_server *s, squall_request *req) {
  char uri[64];
  hu_req_field(req, SQUALL_REQ_URI, uri, sizeof uri);
  if (strcmp(uri, "/held") != 0) {
    hu_default_handler(s, req);
    return;
  }
  pthread_mutex_lock(&g_mu);
  g_held = req;
  pthread_cond_broadcast(&g_cv);
  pthread_mutex_unlock(&g_mu);
}

static void test_thread_storm__reset_client_raises_no_sigpipe(void **state) {
  (void)state;
  signal(SIGPIPE, SIG_DFL);
  hu_server *s = hu_server_new();
  assert_non_null(s);
  s->handler = hold_handler;
  assert_int_equal(hu_server_start(s), 0);
  hu_conn c;
  assert_int_equal(hu_connect(&c, s->port), 0);
  assert_int_equal(hu_send_str(&c, "GET /held HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
  pthread_mutex_lock(&g_mu);
  while (!g_held) pthread_cond_wait(&g_cv, &g_mu);
  pthread_mutex_unlock(&g_mu);
  struct linger lg = {1, 0}; /* close with RST */
  setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
  hu_close(&c);
  pthread_mutex_lock(&g_mu);
  squall_request *req = g_held;
  pthread_mutex_unlock(&g_mu);
  static char big[4 << 20];
  memset(big, 'x', sizeof big);
  int rc = squall_respond(req, 200, "text/plain", SQUALL_NTS, big, sizeof big);
  assert_true(rc == SQUALL_OK || rc == SQUALL_ECLOSED);
  /* The server goes on serving. */
  static const char after[] = "GET /after HTTP/1.1\r\nHost: a\r\n\r\n";
  hu_response r;
  int closed = 0;
  assert_int_equal(hu_exchange(s->port, after, sizeof after - 1, &r, &closed),
                   0);
  assert_int_equal(r.status, 200);
  hu_response_free(&r);
  assert_int_equal(hu_server_stop(s), 0);
  hu_server_free(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_thread_storm__workers_clients_and_call_soon),
      cmocka_unit_test(test_thread_storm__reset_client_raises_no_sigpipe),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
