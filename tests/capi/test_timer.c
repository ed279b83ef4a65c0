/* test_timer.c -- squall_loop_call_later / call_every / squall_timer_*. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "testutil.h"

#define MAX_EVENTS 128

/* Every timer in these tests gets a struct tick as user_data: the release
 * counter first (so tu_release_inc works on it), then what the callback
 * records. */
struct tick {
  int released;
  int runs;
  int id;
  int64_t at_ms; /* when it last ran, relative to the scenario start */
  struct scenario *sc;
  squall_timer *timer; /* its own handle, for self-cancel */
  int cancel_after;    /* call_every: cancel itself on this run */
  int cancel_rc;
};

struct scenario {
  squall_loop *loop;
  int64_t t0;
  int order[MAX_EVENTS];
  int norder;
};

static void tick_cb(void *arg) {
  struct tick *t = (struct tick *)arg;
  t->runs++;
  t->at_ms = tu_now_ms() - t->sc->t0;
  if (t->sc->norder < MAX_EVENTS) t->sc->order[t->sc->norder++] = t->id;
  if (t->cancel_after && t->runs == t->cancel_after)
    t->cancel_rc = squall_timer_cancel(t->timer);
}

static void stop_cb(void *arg) {
  struct tick *t = (struct tick *)arg;
  t->runs++;
  squall_loop_stop(t->sc->loop);
}

static void init_ticks(struct tick *t, int n, struct scenario *sc) {
  int i;
  memset(t, 0, sizeof *t * (size_t)n);
  for (i = 0; i < n; i++) {
    t[i].sc = sc;
    t[i].id = i;
  }
}

static void scenario_init(struct scenario *sc) {
  memset(sc, 0, sizeof *sc);
  assert_int_equal(squall_loop_new(&sc->loop), SQUALL_OK);
  sc->t0 = tu_now_ms();
}

/* Timers fire in deadline order; equal deadlines in registration order;
 * none early. */
static void test_timer__fire_in_order(void **state) {
  static const int64_t delays[] = {50, 10, 30, 20, 15, 15, 15, 0, 40};
  enum { N = sizeof delays / sizeof delays[0] };
  static const int expected[] = {7, 1, 4, 5, 6, 3, 2, 8, 0};
  struct scenario sc;
  struct tick t[N + 1];
  int i;
  scenario_init(&sc);
  init_ticks(t, N + 1, &sc);
  for (i = 0; i < N; i++)
    assert_int_equal(squall_loop_call_later(NULL, sc.loop, delays[i], tick_cb,
                                            &t[i], tu_release_inc),
                     SQUALL_OK);
  assert_int_equal(squall_loop_call_later(NULL, sc.loop, 120, stop_cb, &t[N],
                                          tu_release_inc),
                   SQUALL_OK);
  assert_int_equal(sc.norder, 0); /* nothing ran inside call_later */
  /* sc.t0 was taken before the first registration: each timer fires at
   * least its delay after t0. */
  assert_int_equal(squall_loop_run(sc.loop), SQUALL_OK);

  assert_int_equal(sc.norder, N);
  for (i = 0; i < N; i++) assert_int_equal(sc.order[i], expected[i]);
  for (i = 0; i < N; i++) {
    assert_int_equal(t[i].runs, 1);
    assert_true(t[i].at_ms >= delays[i] - 1); /* monotonic ms granularity */
    assert_int_equal(t[i].released, 1);       /* released after it ran */
  }
  assert_int_equal(t[N].runs, 1);
  assert_int_equal(squall_loop_free(sc.loop), SQUALL_OK);
  for (i = 0; i <= N; i++) assert_int_equal(t[i].released, 1);
}

/* A cancelled timer never runs; its release still runs exactly once;
 * cancelling twice is harmless; cancelling after it ran is harmless. */
struct canceller {
  int released;
  squall_timer *victim;
  int rc;
};

static void cancel_cb(void *arg) {
  struct canceller *c = (struct canceller *)arg;
  c->rc = squall_timer_cancel(c->victim);
}

static void test_timer__cancel(void **state) {
  struct scenario sc;
  struct tick t[4];
  struct canceller c;
  squall_timer *before_run = NULL, *from_cb = NULL, *ran = NULL;
  scenario_init(&sc);
  init_ticks(t, 4, &sc);
  memset(&c, 0, sizeof c);

  /* t[0]: cancelled before the loop runs. */
  assert_int_equal(squall_loop_call_later(&before_run, sc.loop, 10, tick_cb,
                                          &t[0], tu_release_inc),
                   SQUALL_OK);
  assert_non_null(before_run);
  assert_int_equal(squall_timer_cancel(before_run), SQUALL_OK);
  assert_int_equal(squall_timer_cancel(before_run), SQUALL_OK);
  /* t[1]: cancelled from another timer's callback before its deadline. */
  assert_int_equal(squall_loop_call_later(&from_cb, sc.loop, 60, tick_cb, &t[1],
                                          tu_release_inc),
                   SQUALL_OK);
  c.victim = from_cb;
  assert_int_equal(
      squall_loop_call_later(NULL, sc.loop, 20, cancel_cb, &c, tu_release_inc),
      SQUALL_OK);
  /* t[2]: runs, then is cancelled (no effect) before being freed. */
  assert_int_equal(
      squall_loop_call_later(&ran, sc.loop, 5, tick_cb, &t[2], tu_release_inc),
      SQUALL_OK);
  assert_int_equal(squall_loop_call_later(NULL, sc.loop, 120, stop_cb, &t[3],
                                          tu_release_inc),
                   SQUALL_OK);
  assert_int_equal(squall_loop_run(sc.loop), SQUALL_OK);

  assert_int_equal(t[0].runs, 0);
  assert_int_equal(t[1].runs, 0);
  assert_int_equal(c.rc, SQUALL_OK);
  assert_int_equal(t[2].runs, 1);
  assert_int_equal(t[0].released, 1);
  assert_int_equal(t[1].released, 1);
  assert_int_equal(t[2].released, 1);
  assert_int_equal(squall_timer_cancel(ran), SQUALL_OK);
  squall_timer_free(before_run);
  squall_timer_free(from_cb);
  squall_timer_free(ran);
  assert_int_equal(squall_loop_free(sc.loop), SQUALL_OK);
  assert_int_equal(t[0].released, 1);
  assert_int_equal(t[1].released, 1);
  assert_int_equal(t[2].released, 1);
  assert_int_equal(t[3].released, 1);
  assert_int_equal(c.released, 1);
}

/* squall_timer_free on a pending timer cancels it (release once, no run). */
static void test_timer__free_pending_cancels(void **state) {
  struct scenario sc;
  struct tick t[2];
  squall_timer *tm = NULL;
  scenario_init(&sc);
  init_ticks(t, 2, &sc);
  assert_int_equal(
      squall_loop_call_later(&tm, sc.loop, 10, tick_cb, &t[0], tu_release_inc),
      SQUALL_OK);
  squall_timer_free(tm);
  assert_int_equal(
      squall_loop_call_later(NULL, sc.loop, 50, stop_cb, &t[1], tu_release_inc),
      SQUALL_OK);
  assert_int_equal(squall_loop_run(sc.loop), SQUALL_OK);
  assert_int_equal(t[0].runs, 0);
  assert_int_equal(t[0].released, 1);
  assert_int_equal(squall_loop_free(sc.loop), SQUALL_OK);
  assert_int_equal(t[0].released, 1);
  assert_int_equal(t[1].released, 1);
}

/* Timers still pending when the loop is freed never run; release once. */
static void test_timer__loop_free_releases_pending(void **state) {
  struct scenario sc;
  struct tick t[3];
  squall_timer *kept = NULL;
  scenario_init(&sc);
  init_ticks(t, 3, &sc);
  assert_int_equal(squall_loop_call_later(NULL, sc.loop, 1000, tick_cb, &t[0],
                                          tu_release_inc),
                   SQUALL_OK);
  assert_int_equal(squall_loop_call_every(&kept, sc.loop, 1000, tick_cb, &t[1],
                                          tu_release_inc),
                   SQUALL_OK);
  assert_int_equal(
      squall_loop_call_later(NULL, sc.loop, 20, stop_cb, &t[2], tu_release_inc),
      SQUALL_OK);
  assert_int_equal(squall_loop_run(sc.loop), SQUALL_OK);
  assert_int_equal(squall_loop_free(sc.loop), SQUALL_OK);
  assert_int_equal(t[0].runs, 0);
  assert_int_equal(t[1].runs, 0);
  assert_int_equal(t[0].released, 1);
  assert_int_equal(t[1].released, 1);
  assert_int_equal(t[2].released, 1);
  /* The handle outlived its loop: calls are refused, free is safe. */
  assert_int_equal(squall_timer_cancel(kept), SQUALL_ECLOSED);
  squall_timer_free(kept);
  assert_int_equal(t[1].released, 1);
}

/* call_every ticks at its interval and stops on cancel. */
struct every_stopper {
  int released;
  struct scenario *sc;
  squall_timer *every;
  int ticks_at_cancel;
  struct tick *ticker;
  int rc;
};

static void cancel_every_cb(void *arg) {
  struct every_stopper *s = (struct every_stopper *)arg;
  s->ticks_at_cancel = s->ticker->runs;
  s->rc = squall_timer_cancel(s->every);
}

static void test_timer__call_every_ticks_until_cancel(void **state) {
  struct scenario sc;
  struct tick t[2];
  struct every_stopper s;
  squall_timer *every = NULL;
  scenario_init(&sc);
  init_ticks(t, 2, &sc);
  memset(&s, 0, sizeof s);
  assert_int_equal(squall_loop_call_every(&every, sc.loop, 20, tick_cb, &t[0],
                                          tu_release_inc),
                   SQUALL_OK);
  s.sc = &sc;
  s.every = every;
  s.ticker = &t[0];
  assert_int_equal(squall_loop_call_later(NULL, sc.loop, 210, cancel_every_cb,
                                          &s, tu_release_inc),
                   SQUALL_OK);
  assert_int_equal(squall_loop_call_later(NULL, sc.loop, 400, stop_cb, &t[1],
                                          tu_release_inc),
                   SQUALL_OK);
  sc.t0 = tu_now_ms();
  assert_int_equal(squall_loop_run(sc.loop), SQUALL_OK);
  assert_int_equal(s.rc, SQUALL_OK);
  /* ~10 ticks in 210 ms at 20 ms; a loaded machine may skip some (late runs
   * skip missed ticks), never burst. */
  assert_true(s.ticks_at_cancel >= 5);
  assert_true(s.ticks_at_cancel <= 11);
  /* Nothing after the cancel, although the loop ran 190 ms more. */
  assert_int_equal(t[0].runs, s.ticks_at_cancel);
  assert_int_equal(t[0].released, 1);
  squall_timer_free(every);
  assert_int_equal(squall_loop_free(sc.loop), SQUALL_OK);
  assert_int_equal(t[0].released, 1);
  assert_int_equal(t[1].released, 1);
  assert_int_equal(s.released, 1);
}

/* A call_every that cancels itself from its own callback: no further run,
 * release exactly once, after the callback returned. */
static void test_timer__call_every_cancels_itself(void **state) {
  struct scenario sc;
  struct tick t[2];
  scenario_init(&sc);
  init_ticks(t, 2, &sc);
  t[0].cancel_after = 3;
  assert_int_equal(squall_loop_call_every(&t[0].timer, sc.loop, 5, tick_cb,
                                          &t[0], tu_release_inc),
                   SQUALL_OK);
  assert_int_equal(squall_loop_call_later(NULL, sc.loop, 150, stop_cb, &t[1],
                                          tu_release_inc),
                   SQUALL_OK);
  assert_int_equal(squall_loop_run(sc.loop), SQUALL_OK);
  assert_int_equal(t[0].runs, 3);
  assert_int_equal(t[0].cancel_rc, SQUALL_OK);
  assert_int_equal(t[0].released, 1);
  squall_timer_free(t[0].timer);
  assert_int_equal(squall_loop_free(sc.loop), SQUALL_OK);
  assert_int_equal(t[0].released, 1);
  assert_int_equal(t[1].released, 1);
}

/* A call_every whose callback is slower than its interval skips the missed
 * ticks instead of bursting to catch up (Tornado's PeriodicCallback). */
static void slow_tick_cb(void *arg) {
  struct tick *t = (struct tick *)arg;
  tick_cb(arg);
  if (t->runs == 1) tu_sleep_ms(120); /* miss ~6 ticks of 20 ms */
}

static void test_timer__call_every_skips_missed_ticks(void **state) {
  struct scenario sc;
  struct tick t[2];
  squall_timer *every = NULL;
  scenario_init(&sc);
  init_ticks(t, 2, &sc);
  assert_int_equal(squall_loop_call_every(&every, sc.loop, 20, slow_tick_cb,
                                          &t[0], tu_release_inc),
                   SQUALL_OK);
  assert_int_equal(squall_loop_call_later(NULL, sc.loop, 150, stop_cb, &t[1],
                                          tu_release_inc),
                   SQUALL_OK);
  assert_int_equal(squall_loop_run(sc.loop), SQUALL_OK);
  /* First run at ~20 ms, blocked to ~140 ms, then at most one more before
   * the stop at 150 ms: a burst would show 6 or more. */
  assert_true(t[0].runs >= 1);
  assert_true(t[0].runs <= 3);
  squall_timer_free(every);
  assert_int_equal(squall_loop_free(sc.loop), SQUALL_OK);
  assert_int_equal(t[0].released, 1);
  assert_int_equal(t[1].released, 1);
}

/* call_later from inside a timer callback (and from a call_soon). */
struct chain {
  int released;
  struct scenario *sc;
  int64_t first_at, second_at;
  int rc;
  struct tick *second;
};

static void chain_second(void *arg) {
  struct tick *t = (struct tick *)arg;
  t->runs++;
  t->at_ms = tu_now_ms() - t->sc->t0;
  squall_loop_stop(t->sc->loop);
}

static void chain_first(void *arg) {
  struct chain *c = (struct chain *)arg;
  c->first_at = tu_now_ms() - c->sc->t0;
  c->rc = squall_loop_call_later(NULL, c->sc->loop, 30, chain_second, c->second,
                                 tu_release_inc);
}

static void test_timer__call_later_from_callback(void **state) {
  struct scenario sc;
  struct tick t[1];
  struct chain c;
  scenario_init(&sc);
  init_ticks(t, 1, &sc);
  memset(&c, 0, sizeof c);
  c.sc = &sc;
  c.second = &t[0];
  c.rc = 12345;
  sc.t0 = tu_now_ms();
  assert_int_equal(squall_loop_call_later(NULL, sc.loop, 20, chain_first, &c,
                                          tu_release_inc),
                   SQUALL_OK);
  assert_int_equal(squall_loop_run(sc.loop), SQUALL_OK);
  assert_int_equal(c.rc, SQUALL_OK);
  assert_int_equal(t[0].runs, 1);
  assert_true(c.first_at >= 19);
  assert_true(t[0].at_ms >= c.first_at + 29);
  assert_int_equal(squall_loop_free(sc.loop), SQUALL_OK);
  assert_int_equal(c.released, 1);
  assert_int_equal(t[0].released, 1);
}

/* A zero delay still never runs inside call_later. */
static void test_timer__zero_delay_runs_later(void **state) {
  struct scenario sc;
  struct tick t[2];
  scenario_init(&sc);
  init_ticks(t, 2, &sc);
  assert_int_equal(
      squall_loop_call_later(NULL, sc.loop, 0, tick_cb, &t[0], tu_release_inc),
      SQUALL_OK);
  assert_int_equal(t[0].runs, 0);
  assert_int_equal(t[0].released, 0);
  assert_int_equal(
      squall_loop_call_later(NULL, sc.loop, 10, stop_cb, &t[1], tu_release_inc),
      SQUALL_OK);
  assert_int_equal(squall_loop_run(sc.loop), SQUALL_OK);
  assert_int_equal(t[0].runs, 1);
  assert_int_equal(squall_loop_free(sc.loop), SQUALL_OK);
  assert_int_equal(t[0].released, 1);
  assert_int_equal(t[1].released, 1);
}

/* Bad intervals are refused, and a failed registration never releases. */
static void test_timer__bad_arguments(void **state) {
  struct scenario sc;
  struct tick t[1];
  squall_timer *tm = (squall_timer *)&t; /* must be reset to NULL */
  scenario_init(&sc);
  init_ticks(t, 1, &sc);
  assert_int_equal(
      squall_loop_call_every(&tm, sc.loop, 0, tick_cb, &t[0], tu_release_inc),
      SQUALL_EINVAL);
  assert_null(tm);
  assert_true(strlen(squall_last_error()) > 0);
  assert_int_equal(
      squall_loop_call_every(NULL, sc.loop, -5, tick_cb, &t[0], tu_release_inc),
      SQUALL_EINVAL);
  assert_int_equal(
      squall_loop_call_later(NULL, sc.loop, 10, NULL, &t[0], tu_release_inc),
      SQUALL_EINVAL);
  assert_int_equal(
      squall_loop_call_every(NULL, sc.loop, 10, NULL, &t[0], tu_release_inc),
      SQUALL_EINVAL);
  assert_int_equal(
      squall_loop_call_later(NULL, NULL, 10, tick_cb, &t[0], tu_release_inc),
      SQUALL_EINVAL);
  assert_int_equal(squall_timer_cancel(NULL), SQUALL_EINVAL);
  squall_timer_free(NULL);
  assert_int_equal(squall_loop_free(sc.loop), SQUALL_OK);
  assert_int_equal(t[0].runs, 0);
  assert_int_equal(t[0].released, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_timer__fire_in_order),
      cmocka_unit_test(test_timer__cancel),
      cmocka_unit_test(test_timer__free_pending_cancels),
      cmocka_unit_test(test_timer__loop_free_releases_pending),
      cmocka_unit_test(test_timer__call_every_ticks_until_cancel),
      cmocka_unit_test(test_timer__call_every_cancels_itself),
      cmocka_unit_test(test_timer__call_every_skips_missed_ticks),
      cmocka_unit_test(test_timer__call_later_from_callback),
      cmocka_unit_test(test_timer__zero_delay_runs_later),
      cmocka_unit_test(test_timer__bad_arguments),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
