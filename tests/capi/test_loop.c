/* test_loop.c -- squall_loop_*: run/stop, call_soon (thread-safe), free. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* ------------------------------------------------------------------------ */
/* Small recorders shared by the tests                                      */
/* ------------------------------------------------------------------------ */

#define MAX_SEQ 64

struct recorder {
  squall_loop *loop;
  int seq[MAX_SEQ]; /* ids in the order the callbacks ran */
  int nseq;         /* atomic */
  pthread_t ran_on;
};

struct tagged {
  struct recorder *rec;
  int id;
};

static void record_cb(void *arg) {
  struct tagged *t = (struct tagged *)arg;
  int i = tu_atomic_add(&t->rec->nseq, 1) - 1;
  if (i < MAX_SEQ) t->rec->seq[i] = t->id;
  t->rec->ran_on = pthread_self();
}

static void stop_cb(void *arg) {
  squall_loop_stop((squall_loop *)arg);
}

/* ------------------------------------------------------------------------ */

static void test_loop__new_free(void **state) {
  squall_loop *loop = NULL;
  assert_int_equal(squall_loop_new(&loop), SQUALL_OK);
  assert_non_null(loop);
  assert_int_equal(squall_loop_free(loop), SQUALL_OK);
}

static void test_loop__call_soon_before_run_runs_on_run(void **state) {
  squall_loop *loop;
  struct recorder rec;
  struct tagged a = {&rec, 1}, b = {&rec, 2};
  memset(&rec, 0, sizeof rec);
  assert_int_equal(squall_loop_new(&loop), SQUALL_OK);
  rec.loop = loop;

  assert_int_equal(squall_loop_call_soon(loop, record_cb, &a), SQUALL_OK);
  assert_int_equal(squall_loop_call_soon(loop, record_cb, &b), SQUALL_OK);
  assert_int_equal(squall_loop_call_soon(loop, stop_cb, loop), SQUALL_OK);
  /* Never run from inside the call that registers them. */
  assert_int_equal(tu_atomic_get(&rec.nseq), 0);

  assert_int_equal(squall_loop_run(loop), SQUALL_OK);
  assert_int_equal(rec.nseq, 2);
  assert_int_equal(rec.seq[0], 1);
  assert_int_equal(rec.seq[1], 2);
  assert_true(pthread_equal(rec.ran_on, pthread_self()));
  assert_int_equal(squall_loop_free(loop), SQUALL_OK);
  assert_int_equal(rec.nseq, 2); /* nothing ran twice */
}

/* call_soon from inside a callback runs after it, not inside it. */
struct nested {
  struct recorder rec;
  struct tagged inner;
  int inner_ran_during_call;
  int rc;
};

static void nested_outer(void *arg) {
  struct nested *n = (struct nested *)arg;
  int before = tu_atomic_get(&n->rec.nseq);
  n->rc = squall_loop_call_soon(n->rec.loop, record_cb, &n->inner);
  n->inner_ran_during_call = tu_atomic_get(&n->rec.nseq) != before;
  squall_loop_call_soon(n->rec.loop, stop_cb, n->rec.loop);
}

static void test_loop__call_soon_from_callback_runs_later(void **state) {
  squall_loop *loop;
  struct nested n;
  memset(&n, 0, sizeof n);
  assert_int_equal(squall_loop_new(&loop), SQUALL_OK);
  n.rec.loop = loop;
  n.inner.rec = &n.rec;
  n.inner.id = 7;
  assert_int_equal(squall_loop_call_soon(loop, nested_outer, &n), SQUALL_OK);
  assert_int_equal(squall_loop_run(loop), SQUALL_OK);
  assert_int_equal(n.rc, SQUALL_OK);
  assert_int_equal(n.inner_ran_during_call, 0);
  assert_int_equal(n.rec.nseq, 1);
  assert_int_equal(n.rec.seq[0], 7);
  assert_int_equal(squall_loop_free(loop), SQUALL_OK);
  assert_int_equal(n.rec.nseq, 1);
}

/* Pending call_soon functions run inside squall_loop_free, in order, once;
 * one of them calling call_soon during the free gets SQUALL_ECLOSED. */
struct during_free {
  struct recorder rec;
  struct tagged late;
  int rc;
};

static void call_soon_during_free(void *arg) {
  struct during_free *d = (struct during_free *)arg;
  d->rc = squall_loop_call_soon(d->rec.loop, record_cb, &d->late);
}

static void test_loop__free_runs_pending_call_soon(void **state) {
  squall_loop *loop;
  struct during_free d;
  struct tagged t[3];
  int i;
  memset(&d, 0, sizeof d);
  assert_int_equal(squall_loop_new(&loop), SQUALL_OK);
  d.rec.loop = loop;
  d.late.rec = &d.rec;
  d.late.id = 99;
  d.rc = 12345;
  for (i = 0; i < 3; i++) {
    t[i].rec = &d.rec;
    t[i].id = i + 1;
    assert_int_equal(squall_loop_call_soon(loop, record_cb, &t[i]), SQUALL_OK);
  }
  assert_int_equal(squall_loop_call_soon(loop, call_soon_during_free, &d),
                   SQUALL_OK);
  assert_int_equal(squall_loop_free(loop), SQUALL_OK);
  assert_int_equal(d.rec.nseq, 3);
  for (i = 0; i < 3; i++) assert_int_equal(d.rec.seq[i], i + 1);
  /* The late registration failed, so its function never runs. */
  assert_int_equal(d.rc, SQUALL_ECLOSED);
}

/* The headline case: a loop with nothing to do is blocked in run; a
 * call_soon from another thread must wake it promptly. */
struct wake {
  squall_loop *loop;
  tu_loop_thread *lt;
  int ran;     /* atomic */
  int on_loop; /* ran on the loop thread */
  int64_t ran_at_us;
};

static void wake_cb(void *arg) {
  struct wake *w = (struct wake *)arg;
  w->ran_at_us = tu_now_us();
  w->on_loop = tu_loop_thread_is_current(w->lt);
  tu_atomic_set(&w->ran, 1);
  squall_loop_stop(w->loop);
}

static void test_loop__call_soon_from_thread_wakes_blocked_run(void **state) {
  squall_loop *loop;
  struct wake w;
  int64_t t0;
  int round;
  memset(&w, 0, sizeof w);
  assert_int_equal(squall_loop_new(&loop), SQUALL_OK);
  w.loop = loop;
  for (round = 0; round < 3; round++) {
    tu_atomic_set(&w.ran, 0);
    assert_int_equal(tu_loop_thread_start(&w.lt, loop), 0);
    tu_sleep_ms(150); /* let it block in epoll_wait with no events */
    t0 = tu_now_us();
    assert_int_equal(squall_loop_call_soon(loop, wake_cb, &w), SQUALL_OK);
    /* run returns because wake_cb stopped it. */
    assert_int_equal(tu_loop_thread_wait_exit(w.lt, 2000), 0);
    assert_int_equal(tu_atomic_get(&w.ran), 1);
    assert_true(w.on_loop);
    /* Promptly: well under the 150 ms it sat idle (generous for CI). */
    assert_true(w.ran_at_us - t0 < 100 * 1000);
    assert_int_equal(tu_loop_thread_stop(w.lt), SQUALL_OK);
  }
  assert_int_equal(squall_loop_free(loop), SQUALL_OK);
  assert_int_equal(w.ran, 1);
}

/* An idle loop sleeps in the kernel: it does not burn CPU. */
static void test_loop__idle_loop_does_not_spin(void **state) {
  squall_loop *loop;
  tu_loop_thread *lt;
  int64_t cpu0, wall0, cpu, wall;
  assert_int_equal(squall_loop_new(&loop), SQUALL_OK);
  assert_int_equal(tu_loop_thread_start(&lt, loop), 0);
  cpu0 = tu_process_cpu_us();
  wall0 = tu_now_us();
  tu_sleep_ms(500);
  cpu = tu_process_cpu_us() - cpu0;
  wall = tu_now_us() - wall0;
  assert_int_equal(tu_loop_thread_stop(lt), SQUALL_OK);
  assert_true(cpu * 10 < wall); /* < 10% of one core */
  assert_int_equal(squall_loop_free(loop), SQUALL_OK);
}

/* Many threads, many call_soon each: every function runs exactly once, and
 * those from one thread run in that thread's call order. */
#define NTHREADS 8
#define PER_THREAD 5000

struct item {
  int thread;
  int seq;
  int runs;
};

struct fanin {
  squall_loop *loop;
  struct item *items; /* NTHREADS * PER_THREAD */
  int last_seq[NTHREADS];
  int out_of_order;
  int total;    /* atomic */
  int failures; /* atomic: call_soon that did not return 0 */
  int go;       /* atomic: start line */
};

struct producer {
  struct fanin *f;
  int idx;
};

static struct fanin *g_fanin; /* callbacks get the item as user_data */

static void fanin_order_cb(void *arg) {
  struct item *it = (struct item *)arg;
  struct fanin *f = g_fanin;
  it->runs++;
  if (it->seq != f->last_seq[it->thread] + 1) f->out_of_order++;
  f->last_seq[it->thread] = it->seq;
  tu_atomic_add(&f->total, 1);
}

static void *producer_main(void *arg) {
  struct producer *p = (struct producer *)arg;
  struct fanin *f = p->f;
  int i;
  while (!tu_atomic_get(&f->go)) {
  }
  for (i = 0; i < PER_THREAD; i++) {
    struct item *it = &f->items[p->idx * PER_THREAD + i];
    if (squall_loop_call_soon(f->loop, fanin_order_cb, it) != SQUALL_OK)
      tu_atomic_add(&f->failures, 1);
  }
  return NULL;
}

static void test_loop__many_threads_call_soon_exactly_once(void **state) {
  squall_loop *loop;
  tu_loop_thread *lt;
  tu_thread *th[NTHREADS];
  struct producer prod[NTHREADS];
  struct fanin f;
  int i, j;
  memset(&f, 0, sizeof f);
  assert_int_equal(squall_loop_new(&loop), SQUALL_OK);
  f.loop = loop;
  f.items = (struct item *)calloc(NTHREADS * PER_THREAD, sizeof *f.items);
  assert_non_null(f.items);
  for (i = 0; i < NTHREADS; i++) {
    f.last_seq[i] = 0;
    for (j = 0; j < PER_THREAD; j++) {
      f.items[i * PER_THREAD + j].thread = i;
      f.items[i * PER_THREAD + j].seq = j + 1;
    }
  }
  g_fanin = &f;
  assert_int_equal(tu_loop_thread_start(&lt, loop), 0);
  for (i = 0; i < NTHREADS; i++) {
    prod[i].f = &f;
    prod[i].idx = i;
    assert_int_equal(tu_thread_start(&th[i], producer_main, &prod[i]), 0);
  }
  tu_atomic_set(&f.go, 1);
  for (i = 0; i < NTHREADS; i++)
    assert_int_equal(tu_thread_join(th[i], NULL), 0);
  assert_int_equal(tu_atomic_get(&f.failures), 0);
  assert_int_equal(tu_wait_int_ge(&f.total, NTHREADS * PER_THREAD, 20000), 0);
  assert_int_equal(tu_loop_thread_stop(lt), SQUALL_OK);
  assert_int_equal(squall_loop_free(loop), SQUALL_OK);

  assert_int_equal(f.total, NTHREADS * PER_THREAD);
  assert_int_equal(f.out_of_order, 0);
  for (i = 0; i < NTHREADS * PER_THREAD; i++)
    assert_int_equal(f.items[i].runs, 1);
  free(f.items);
  g_fanin = NULL;
}

/* squall_loop_stop from another thread ends run; the loop can run again. */
static void test_loop__stop_from_other_thread(void **state) {
  squall_loop *loop;
  tu_loop_thread *lt;
  struct recorder rec;
  struct tagged t = {&rec, 5};
  int round;
  memset(&rec, 0, sizeof rec);
  assert_int_equal(squall_loop_new(&loop), SQUALL_OK);
  for (round = 0; round < 2; round++) {
    int64_t t0;
    assert_int_equal(tu_loop_thread_start(&lt, loop), 0);
    tu_sleep_ms(50);
    t0 = tu_now_ms();
    assert_int_equal(squall_loop_stop(loop), SQUALL_OK);
    assert_int_equal(tu_loop_thread_wait_exit(lt, 2000), 0);
    assert_true(tu_now_ms() - t0 < 500);
    assert_int_equal(tu_loop_thread_stop(lt), SQUALL_OK);
  }
  /* Still a working loop after two runs. */
  assert_int_equal(squall_loop_call_soon(loop, record_cb, &t), SQUALL_OK);
  assert_int_equal(squall_loop_call_soon(loop, stop_cb, loop), SQUALL_OK);
  assert_int_equal(squall_loop_run(loop), SQUALL_OK);
  assert_int_equal(rec.nseq, 1);
  assert_int_equal(squall_loop_free(loop), SQUALL_OK);
}

/* A stop requested before run makes run return at once (Tornado). */
struct runner {
  squall_loop *loop;
  int rc;
  int done; /* atomic */
};

static void *run_main(void *arg) {
  struct runner *r = (struct runner *)arg;
  r->rc = squall_loop_run(r->loop);
  tu_atomic_set(&r->done, 1);
  return NULL;
}

static void test_loop__stop_before_run_returns_at_once(void **state) {
  squall_loop *loop;
  struct runner r;
  tu_thread *th;
  memset(&r, 0, sizeof r);
  assert_int_equal(squall_loop_new(&loop), SQUALL_OK);
  r.loop = loop;
  r.rc = 12345;
  assert_int_equal(squall_loop_stop(loop), SQUALL_OK);
  assert_int_equal(tu_thread_start(&th, run_main, &r), 0);
  if (tu_wait_int_ge(&r.done, 1, 2000) != 0) {
    squall_loop_stop(loop); /* unblock it before failing */
    tu_thread_join(th, NULL);
    fail_msg("squall_loop_run did not return after an earlier stop");
  }
  assert_int_equal(tu_thread_join(th, NULL), 0);
  assert_int_equal(r.rc, SQUALL_OK);
  assert_int_equal(squall_loop_free(loop), SQUALL_OK);
}

/* Re-entering the loop from its own callback, or freeing it there, is a
 * state error, not a crash or a deadlock. */
struct reenter {
  squall_loop *loop;
  int run_rc, run_once_rc, free_rc;
};

static void reenter_cb(void *arg) {
  struct reenter *r = (struct reenter *)arg;
  r->run_rc = squall_loop_run(r->loop);
  r->run_once_rc = squall_loop_run_once(r->loop, 0);
  r->free_rc = squall_loop_free(r->loop);
  squall_loop_stop(r->loop);
}

static void test_loop__reentering_run_is_estate(void **state) {
  squall_loop *loop;
  struct reenter r;
  memset(&r, 0, sizeof r);
  assert_int_equal(squall_loop_new(&loop), SQUALL_OK);
  r.loop = loop;
  assert_int_equal(squall_loop_call_soon(loop, reenter_cb, &r), SQUALL_OK);
  assert_int_equal(squall_loop_run(loop), SQUALL_OK);
  assert_int_equal(r.run_rc, SQUALL_ESTATE);
  assert_int_equal(r.run_once_rc, SQUALL_ESTATE);
  assert_int_equal(r.free_rc, SQUALL_ESTATE);
  assert_int_equal(squall_loop_free(loop), SQUALL_OK);
}

/* run from a second thread while the loop runs: SQUALL_ESTATE, at once. */
static void test_loop__second_run_while_running_is_estate(void **state) {
  squall_loop *loop;
  tu_loop_thread *lt;
  struct runner r;
  tu_thread *th;
  memset(&r, 0, sizeof r);
  assert_int_equal(squall_loop_new(&loop), SQUALL_OK);
  assert_int_equal(tu_loop_thread_start(&lt, loop), 0);
  r.loop = loop;
  r.rc = 12345;
  assert_int_equal(tu_thread_start(&th, run_main, &r), 0);
  if (tu_wait_int_ge(&r.done, 1, 2000) != 0) {
    squall_loop_stop(loop);
    fail_msg("a second squall_loop_run blocked instead of failing");
  }
  assert_int_equal(tu_thread_join(th, NULL), 0);
  assert_int_equal(r.rc, SQUALL_ESTATE);
  assert_int_equal(tu_loop_thread_stop(lt), SQUALL_OK);
  assert_int_equal(squall_loop_free(loop), SQUALL_OK);
}

/* run_once: 0 does not wait; a timeout bounds the wait; it runs what is
 * ready. */
static int g_count;
static void inc_cb(void *arg) {
  (*(int *)arg)++;
}

static void test_loop__run_once(void **state) {
  squall_loop *loop;
  int64_t t0;
  g_count = 0;
  assert_int_equal(squall_loop_new(&loop), SQUALL_OK);

  t0 = tu_now_ms();
  assert_int_equal(squall_loop_run_once(loop, 0), SQUALL_OK);
  assert_true(tu_now_ms() - t0 < 100);

  assert_int_equal(squall_loop_call_soon(loop, inc_cb, &g_count), SQUALL_OK);
  assert_int_equal(squall_loop_run_once(loop, 0), SQUALL_OK);
  assert_int_equal(g_count, 1);

  t0 = tu_now_ms();
  assert_int_equal(squall_loop_run_once(loop, 50), SQUALL_OK);
  assert_true(tu_now_ms() - t0 < 1000);
  assert_int_equal(g_count, 1);

  /* -1 waits until something happens: here a 30 ms timer. */
  assert_int_equal(
      squall_loop_call_later(NULL, loop, 30, inc_cb, &g_count, NULL),
      SQUALL_OK);
  t0 = tu_now_ms();
  while (g_count < 2 && tu_now_ms() - t0 < 2000)
    assert_int_equal(squall_loop_run_once(loop, -1), SQUALL_OK);
  assert_int_equal(g_count, 2);
  assert_true(tu_now_ms() - t0 >= 25);
  assert_int_equal(squall_loop_free(loop), SQUALL_OK);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_loop__new_free),
      cmocka_unit_test(test_loop__call_soon_before_run_runs_on_run),
      cmocka_unit_test(test_loop__call_soon_from_callback_runs_later),
      cmocka_unit_test(test_loop__free_runs_pending_call_soon),
      cmocka_unit_test(test_loop__call_soon_from_thread_wakes_blocked_run),
      cmocka_unit_test(test_loop__idle_loop_does_not_spin),
      cmocka_unit_test(test_loop__many_threads_call_soon_exactly_once),
      cmocka_unit_test(test_loop__stop_from_other_thread),
      cmocka_unit_test(test_loop__stop_before_run_returns_at_once),
      cmocka_unit_test(test_loop__reentering_run_is_estate),
      cmocka_unit_test(test_loop__second_run_while_running_is_estate),
      cmocka_unit_test(test_loop__run_once),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
