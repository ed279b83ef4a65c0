/* test_errors.c -- bad input through the C ABI: NULL handles, wrong thread,
 * closed streams, out-of-range ports, unknown hosts, error texts, versions,
 * and handles freed in any order.  Never a crash, abort or exception: a
 * negative code and a message in squall_last_error().
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

/* rc must be code, with a message on this thread. */
#define EXPECT_ERR(code, call)                                            \
  do {                                                                    \
    int rc_ = (call);                                                     \
    if (rc_ != (code))                                                    \
      fail_msg("%s returned %d (%s), expected %d (%s)", #call, rc_,       \
               squall_strerror(rc_), (int)(code), squall_strerror(code)); \
    if (squall_last_error() == NULL || squall_last_error()[0] == '\0')    \
      fail_msg("%s: squall_last_error() is empty", #call);                \
  } while (0)

/* ------------------------------------------------------------------------ */
/* Callbacks that must never run in these tests unless said otherwise       */
/* ------------------------------------------------------------------------ */

static int g_never; /* any call of these is a failure */
static void never_cb(void *ud) {
  g_never++;
}
static void never_done(int st, void *ud) {
  g_never++;
}
static void never_read(int st, const char *d, size_t n, void *ud) {
  g_never++;
}
static void never_stream(squall_stream *s, const char *p, size_t n, void *ud) {
  g_never++;
}
static void never_handler(squall_request *r, void *ud) {
  g_never++;
}
static void never_access(const char *m, size_t ml, const char *t, size_t tl,
                         int st, uint64_t b, uint64_t d, const char *p,
                         size_t pl, void *ud) {
  g_never++;
}
static void never_error_hook(int k, int s, const char *m, size_t ml,
                             const char *p, size_t pl, void *ud) {
  g_never++;
}
static int never_body(const void *d, size_t n, void *ud) {
  g_never++;
  return 0;
}
static void never_log(int level, const char *m, size_t n, void *ud) {}

/* ------------------------------------------------------------------------ */
/* Versions and error texts                                                 */
/* ------------------------------------------------------------------------ */

static void test_errors__version_matches_macros(void **state) {
  char buf[32];
  assert_int_equal(squall_version(), SQUALL_VERSION_NUM);
  assert_int_equal(squall_version() >> 16, SQUALL_VERSION_MAJOR);
  assert_int_equal((squall_version() >> 8) & 0xff, SQUALL_VERSION_MINOR);
  assert_int_equal(squall_version() & 0xff, SQUALL_VERSION_PATCH);
  assert_non_null(squall_version_string());
  assert_string_equal(squall_version_string(), SQUALL_VERSION_STRING);
  snprintf(buf, sizeof buf, "%d.%d.%d", SQUALL_VERSION_MAJOR,
           SQUALL_VERSION_MINOR, SQUALL_VERSION_PATCH);
  assert_string_equal(squall_version_string(), buf);
}

static void test_errors__strerror_every_code(void **state) {
  static const int codes[] = {
      SQUALL_OK,      SQUALL_ERROR,      SQUALL_ENOMEM,  SQUALL_EINVAL,
      SQUALL_ESTATE,  SQUALL_ETHREAD,    SQUALL_ECLOSED, SQUALL_ENOTFOUND,
      SQUALL_ENOTSUP, SQUALL_EADDRINUSE, SQUALL_ETLS,    SQUALL_ETIMEDOUT,
      SQUALL_ETOOBIG, SQUALL_EIO,        SQUALL_EBUSY,   SQUALL_EPERM};
  static const int unknown[] = {1, 2, -16, -100, INT_MIN, INT_MAX};
  const size_t n = sizeof codes / sizeof codes[0];
  size_t i, j;
  /* The ABI values are fixed. */
  for (i = 0; i < n; i++) assert_int_equal(codes[i], -(int)i);
  for (i = 0; i < n; i++) {
    const char *s = squall_strerror(codes[i]);
    assert_non_null(s);
    assert_true(strlen(s) > 0);
    assert_string_not_equal(s, "unknown error");
    for (j = 0; j < i; j++)
      assert_string_not_equal(s, squall_strerror(codes[j]));
  }
  for (i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
    assert_non_null(squall_strerror(unknown[i]));
    assert_string_equal(squall_strerror(unknown[i]), "unknown error");
  }
}

/* squall_last_error is per thread: "" on a thread that never failed, and a
 * failure on one thread does not change another's message. */
struct last_error_probe {
  char initial[64];
  int initial_null;
  char after[256];
  int rc;
};

static void *last_error_thread(void *arg) {
  struct last_error_probe *p = (struct last_error_probe *)arg;
  const char *e = squall_last_error();
  p->initial_null = e == NULL;
  if (e) snprintf(p->initial, sizeof p->initial, "%s", e);
  p->rc = squall_loop_run(NULL);
  e = squall_last_error();
  snprintf(p->after, sizeof p->after, "%s", e ? e : "(null)");
  return NULL;
}

static void test_errors__last_error_is_thread_local(void **state) {
  struct last_error_probe p;
  tu_thread *t;
  char mine[256];
  memset(&p, 0, sizeof p);
  EXPECT_ERR(SQUALL_EINVAL, squall_tcp_server_listen(NULL, "x", 1, 80));
  snprintf(mine, sizeof mine, "%s", squall_last_error());
  assert_int_equal(tu_thread_start(&t, last_error_thread, &p), 0);
  assert_int_equal(tu_thread_join(t, NULL), 0);
  assert_int_equal(p.initial_null, 0);
  assert_string_equal(p.initial, "");
  assert_int_equal(p.rc, SQUALL_EINVAL);
  assert_true(strlen(p.after) > 0);
  /* Ours is unchanged by the other thread's failure. */
  assert_string_equal(squall_last_error(), mine);
}

/* ------------------------------------------------------------------------ */
/* NULL handles and arguments                                               */
/* ------------------------------------------------------------------------ */

static void test_errors__null_loop_timer_log(void **state) {
  squall_loop *loop = NULL;
  squall_timer *tm = (squall_timer *)&g_never;
  int released = 0;
  g_never = 0;
  EXPECT_ERR(SQUALL_EINVAL, squall_loop_new(NULL));
  EXPECT_ERR(SQUALL_EINVAL, squall_loop_run(NULL));
  EXPECT_ERR(SQUALL_EINVAL, squall_loop_run_once(NULL, 0));
  EXPECT_ERR(SQUALL_EINVAL, squall_loop_stop(NULL));
  EXPECT_ERR(SQUALL_EINVAL, squall_loop_call_soon(NULL, never_cb, NULL));
  EXPECT_ERR(SQUALL_EINVAL, squall_loop_call_later(&tm, NULL, 1, never_cb,
                                                   &released, tu_release_inc));
  assert_null(tm);
  EXPECT_ERR(SQUALL_EINVAL, squall_loop_call_every(NULL, NULL, 1, never_cb,
                                                   &released, tu_release_inc));
  EXPECT_ERR(SQUALL_EINVAL, squall_timer_cancel(NULL));
  squall_timer_free(NULL);
  squall_loop_free(NULL); /* a no-op */

  assert_int_equal(squall_loop_new(&loop), SQUALL_OK);
  EXPECT_ERR(SQUALL_EINVAL, squall_loop_call_soon(loop, NULL, NULL));
  EXPECT_ERR(SQUALL_EINVAL, squall_loop_call_later(NULL, loop, 1, NULL,
                                                   &released, tu_release_inc));
  EXPECT_ERR(SQUALL_EINVAL, squall_loop_call_every(NULL, loop, 0, never_cb,
                                                   &released, tu_release_inc));
  /* Log sink: level out of range, and the refused sink is not released. */
  EXPECT_ERR(SQUALL_EINVAL,
             squall_set_log(never_log, -1, &released, tu_release_inc));
  EXPECT_ERR(SQUALL_EINVAL, squall_set_log(never_log, SQUALL_LOG_NONE + 1,
                                           &released, tu_release_inc));
  assert_int_equal(squall_loop_free(loop), SQUALL_OK);
  assert_int_equal(released, 0);
  assert_int_equal(g_never, 0);
}

static void test_errors__null_stream_and_tcp_server(void **state) {
  squall_loop *loop;
  squall_tcp_server *srv = (squall_tcp_server *)&g_never;
  squall_stream *s = (squall_stream *)&g_never;
  size_t n = 0;
  uint16_t port = 0;
  int err = 0, released = 0;
  const char *p = NULL;
  g_never = 0;
  assert_int_equal(squall_loop_new(&loop), SQUALL_OK);

  EXPECT_ERR(SQUALL_EINVAL,
             squall_stream_read_until(NULL, "\n", 1, 0, never_read, NULL));
  EXPECT_ERR(SQUALL_EINVAL,
             squall_stream_read_bytes(NULL, 1, 0, never_read, NULL));
  EXPECT_ERR(SQUALL_EINVAL,
             squall_stream_read_until_close(NULL, never_read, NULL));
  EXPECT_ERR(SQUALL_EINVAL,
             squall_stream_write(NULL, "x", 1, never_done, NULL));
  EXPECT_ERR(SQUALL_EINVAL, squall_stream_set_close_callback(
                                NULL, never_done, &released, tu_release_inc));
  EXPECT_ERR(SQUALL_EINVAL,
             squall_stream_set_write_limits(NULL, 0, 0, 0, never_cb, &released,
                                            tu_release_inc));
  EXPECT_ERR(SQUALL_EINVAL, squall_stream_write_buffer_size(NULL, &n));
  EXPECT_ERR(SQUALL_EINVAL, squall_stream_set_max_buffer_size(NULL, 10));
  EXPECT_ERR(SQUALL_EINVAL, squall_stream_set_nodelay(NULL, 1));
  EXPECT_ERR(SQUALL_EINVAL, squall_stream_close(NULL));
  EXPECT_ERR(SQUALL_EINVAL, squall_stream_closed(NULL, &err));
  EXPECT_ERR(SQUALL_EINVAL, squall_stream_peer(NULL, &p, &n));
  EXPECT_ERR(SQUALL_EINVAL,
             squall_stream_connect(&s, NULL, "127.0.0.1", SQUALL_NTS, 80,
                                   never_done, NULL));
  assert_null(s);
  EXPECT_ERR(SQUALL_EINVAL,
             squall_stream_connect(NULL, loop, "127.0.0.1", SQUALL_NTS, 80,
                                   never_done, NULL));
  EXPECT_ERR(SQUALL_EINVAL,
             squall_stream_connect(&s, loop, NULL, 0, 80, never_done, NULL));
  squall_stream_free(NULL);

  EXPECT_ERR(SQUALL_EINVAL, squall_tcp_server_new(NULL, loop, never_stream,
                                                  &released, tu_release_inc));
  EXPECT_ERR(SQUALL_EINVAL, squall_tcp_server_new(&srv, NULL, never_stream,
                                                  &released, tu_release_inc));
  assert_null(srv);
  srv = (squall_tcp_server *)&g_never;
  EXPECT_ERR(SQUALL_EINVAL, squall_tcp_server_new(&srv, loop, NULL, &released,
                                                  tu_release_inc));
  assert_null(srv);
  EXPECT_ERR(SQUALL_EINVAL, squall_tcp_server_listen(NULL, NULL, 0, 0));
  EXPECT_ERR(SQUALL_EINVAL, squall_tcp_server_set_backlog(NULL, 10));
  EXPECT_ERR(SQUALL_EINVAL, squall_tcp_server_set_reuse_port(NULL, 1));
  EXPECT_ERR(SQUALL_EINVAL,
             squall_tcp_server_listen_unix(NULL, "x", SQUALL_NTS, 0600));
  EXPECT_ERR(SQUALL_EINVAL, squall_tcp_server_add_socket(NULL, 0));
  EXPECT_ERR(SQUALL_EINVAL, squall_tcp_server_port(NULL, &port));
  EXPECT_ERR(SQUALL_EINVAL, squall_tcp_server_stop(NULL));
  squall_tcp_server_free(NULL);

  /* NULL arguments next to a valid handle. */
  assert_int_equal(squall_tcp_server_new(&srv, loop, never_stream, &released,
                                         tu_release_inc),
                   SQUALL_OK);
  assert_int_equal(squall_tcp_server_listen(srv, "127.0.0.1", SQUALL_NTS, 0),
                   SQUALL_OK);
  EXPECT_ERR(SQUALL_EINVAL, squall_tcp_server_port(srv, NULL));
  EXPECT_ERR(SQUALL_EINVAL, squall_tcp_server_listen_unix(srv, NULL, 0, 0600));
  assert_int_equal(squall_tcp_server_port(srv, &port), SQUALL_OK);
  /* A client stream exists at once (connect completes later). */
  assert_int_equal(squall_stream_connect(&s, loop, "127.0.0.1", SQUALL_NTS,
                                         port, NULL, NULL),
                   SQUALL_OK);
  assert_non_null(s);
  EXPECT_ERR(SQUALL_EINVAL,
             squall_stream_read_until(s, NULL, 1, 0, never_read, NULL));
  EXPECT_ERR(SQUALL_EINVAL, squall_stream_read_until(s, "", 0, 0, never_read,
                                                     NULL)); /* empty delim */
  EXPECT_ERR(SQUALL_EINVAL,
             squall_stream_read_until(s, "\n", 1, 0, NULL, NULL));
  EXPECT_ERR(SQUALL_EINVAL, squall_stream_read_bytes(s, 1, 0, NULL, NULL));
  EXPECT_ERR(SQUALL_EINVAL, squall_stream_read_until_close(s, NULL, NULL));
  EXPECT_ERR(SQUALL_EINVAL, squall_stream_write(s, NULL, 5, never_done, NULL));
  EXPECT_ERR(SQUALL_EINVAL, squall_stream_write_buffer_size(s, NULL));
  EXPECT_ERR(SQUALL_EINVAL, squall_stream_peer(s, NULL, NULL));
  /* low above high */
  EXPECT_ERR(SQUALL_EINVAL,
             squall_stream_set_write_limits(s, 100, 10, 20, never_cb, &released,
                                            tu_release_inc));
  squall_stream_free(s);
  squall_tcp_server_free(srv);
  assert_int_equal(squall_loop_free(loop), SQUALL_OK);
  /* Only the one successful server registration was released. */
  assert_int_equal(released, 1);
  assert_int_equal(g_never, 0);
}

static void test_errors__null_config_server_request(void **state) {
  squall_loop *loop;
  squall_config *cfg = NULL;
  squall_server *srv = (squall_server *)&g_never;
  squall_stream *detached = (squall_stream *)&g_never;
  squall_loop *rl = (squall_loop *)&g_never;
  int64_t v = 0;
  uint64_t stats[SQUALL_STAT_COUNT];
  uint16_t port;
  const char *p = NULL, *q = NULL;
  const void *d = NULL;
  size_t n = 0, m = 0;
  int released = 0;
  g_never = 0;
  assert_int_equal(squall_loop_new(&loop), SQUALL_OK);

  EXPECT_ERR(SQUALL_EINVAL, squall_config_new(NULL));
  EXPECT_ERR(SQUALL_EINVAL, squall_config_set_int(NULL, SQUALL_OPT_BACKLOG, 1));
  EXPECT_ERR(SQUALL_EINVAL,
             squall_config_get_int(NULL, SQUALL_OPT_BACKLOG, &v));
  EXPECT_ERR(SQUALL_EINVAL, squall_config_set_str(
                                NULL, SQUALL_OPT_TRUSTED_DOWNSTREAM, "x", 1));
  squall_config_free(NULL);
  assert_int_equal(squall_config_new(&cfg), SQUALL_OK);
  EXPECT_ERR(SQUALL_EINVAL,
             squall_config_get_int(cfg, SQUALL_OPT_BACKLOG, NULL));
  EXPECT_ERR(SQUALL_ENOTSUP, squall_config_set_int(cfg, 9999, 1));
  EXPECT_ERR(SQUALL_ENOTSUP, squall_config_get_int(cfg, 9999, &v));
  EXPECT_ERR(SQUALL_EINVAL,
             squall_config_set_int(cfg, SQUALL_OPT_MAX_HEADER_SIZE, -1));

  EXPECT_ERR(SQUALL_EINVAL, squall_server_new(NULL, loop, cfg, never_handler,
                                              &released, tu_release_inc));
  EXPECT_ERR(SQUALL_EINVAL, squall_server_new(&srv, NULL, cfg, never_handler,
                                              &released, tu_release_inc));
  assert_null(srv);
  srv = (squall_server *)&g_never;
  EXPECT_ERR(SQUALL_EINVAL, squall_server_new(&srv, loop, cfg, NULL, &released,
                                              tu_release_inc));
  assert_null(srv);
  EXPECT_ERR(SQUALL_EINVAL,
             squall_server_set_headers_hook(NULL, never_handler, &released,
                                            tu_release_inc));
  EXPECT_ERR(SQUALL_EINVAL, squall_server_set_access_hook(
                                NULL, never_access, &released, tu_release_inc));
  EXPECT_ERR(SQUALL_EINVAL,
             squall_server_set_error_hook(NULL, never_error_hook, &released,
                                          tu_release_inc));
  EXPECT_ERR(SQUALL_EINVAL, squall_server_listen(NULL, NULL, 0, 0));
  EXPECT_ERR(SQUALL_EINVAL,
             squall_server_listen_unix(NULL, "x", SQUALL_NTS, 0600));
  EXPECT_ERR(SQUALL_EINVAL, squall_server_add_socket(NULL, 0));
  EXPECT_ERR(SQUALL_EINVAL, squall_server_port(NULL, &port));
  EXPECT_ERR(SQUALL_EINVAL, squall_server_stop(NULL));
  EXPECT_ERR(SQUALL_EINVAL, squall_server_shutdown(NULL, 0, never_done, NULL));
  EXPECT_ERR(SQUALL_EINVAL,
             squall_server_stats(NULL, stats, SQUALL_STAT_COUNT));
  squall_server_free(NULL);

  EXPECT_ERR(SQUALL_EINVAL,
             squall_request_get(NULL, SQUALL_REQ_METHOD, &p, &n));
  EXPECT_ERR(SQUALL_EINVAL,
             squall_request_header(NULL, "Host", SQUALL_NTS, 0, &p, &n));
  EXPECT_ERR(SQUALL_EINVAL, squall_request_header_count(NULL, &n));
  EXPECT_ERR(SQUALL_EINVAL, squall_request_header_at(NULL, 0, &p, &n, &q, &m));
  EXPECT_ERR(SQUALL_EINVAL, squall_request_body(NULL, &d, &n));
  EXPECT_ERR(SQUALL_EINVAL,
             squall_request_argument(NULL, SQUALL_ARGS_ALL, "a", 1, 0, &p, &n));
  EXPECT_ERR(SQUALL_EINVAL,
             squall_request_argument_count(NULL, SQUALL_ARGS_ALL, &n));
  EXPECT_ERR(SQUALL_EINVAL, squall_request_argument_at(NULL, SQUALL_ARGS_ALL, 0,
                                                       &p, &n, &q, &m));
  EXPECT_ERR(SQUALL_EINVAL, squall_request_file_count(NULL, &n));
  EXPECT_ERR(SQUALL_EINVAL,
             squall_request_file_at(NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL,
                                    NULL, NULL));
  EXPECT_ERR(SQUALL_EINVAL, squall_request_cookie(NULL, "c", 1, &p, &n));
  EXPECT_ERR(SQUALL_EINVAL, squall_request_cookie_count(NULL, &n));
  EXPECT_ERR(SQUALL_EINVAL, squall_request_cookie_at(NULL, 0, &p, &n, &q, &m));
  EXPECT_ERR(SQUALL_EINVAL, squall_request_time(NULL, NULL, NULL));
  EXPECT_ERR(SQUALL_EINVAL, squall_request_on_done(NULL, never_done, NULL));
  EXPECT_ERR(SQUALL_EINVAL, squall_request_set_max_body_size(NULL, 10));
  EXPECT_ERR(SQUALL_EINVAL, squall_request_set_body_timeout(NULL, 10));
  EXPECT_ERR(SQUALL_EINVAL, squall_request_stream_body(
                                NULL, never_body, &released, tu_release_inc));
  EXPECT_ERR(SQUALL_EINVAL, squall_request_detach(NULL, &detached));
  EXPECT_ERR(SQUALL_EINVAL, squall_request_loop(NULL, &rl));
  EXPECT_ERR(SQUALL_EINVAL, squall_response_status(NULL, 200, NULL, 0));
  EXPECT_ERR(SQUALL_EINVAL, squall_response_header(NULL, "A", 1, "b", 1));
  EXPECT_ERR(SQUALL_EINVAL, squall_response_write(NULL, "x", 1));
  EXPECT_ERR(SQUALL_EINVAL, squall_response_flush(NULL, never_done, NULL));
  EXPECT_ERR(SQUALL_EINVAL, squall_response_finish(NULL));
  EXPECT_ERR(SQUALL_EINVAL, squall_respond(NULL, 200, NULL, 0, NULL, 0));

  squall_config_free(cfg);
  assert_int_equal(squall_loop_free(loop), SQUALL_OK);
  assert_int_equal(released, 0); /* no registration succeeded */
  assert_int_equal(g_never, 0);
}

/* ------------------------------------------------------------------------ */
/* Ports and hosts                                                          */
/* ------------------------------------------------------------------------ */

static void test_errors__port_out_of_range_and_unknown_host(void **state) {
  squall_loop *loop;
  squall_tcp_server *tsrv;
  squall_server *hsrv;
  squall_stream *s = NULL;
  int released = 0;
  g_never = 0;
  assert_int_equal(squall_loop_new(&loop), SQUALL_OK);
  assert_int_equal(squall_tcp_server_new(&tsrv, loop, never_stream, &released,
                                         tu_release_inc),
                   SQUALL_OK);
  assert_int_equal(squall_server_new(&hsrv, loop, NULL, never_handler,
                                     &released, tu_release_inc),
                   SQUALL_OK);
  EXPECT_ERR(SQUALL_EINVAL,
             squall_tcp_server_listen(tsrv, "127.0.0.1", SQUALL_NTS, -1));
  EXPECT_ERR(SQUALL_EINVAL,
             squall_tcp_server_listen(tsrv, "127.0.0.1", SQUALL_NTS, 65536));
  EXPECT_ERR(SQUALL_EINVAL,
             squall_tcp_server_listen(tsrv, "127.0.0.1", SQUALL_NTS, INT_MAX));
  EXPECT_ERR(SQUALL_EINVAL,
             squall_server_listen(hsrv, "127.0.0.1", SQUALL_NTS, -1));
  EXPECT_ERR(SQUALL_EINVAL,
             squall_server_listen(hsrv, "127.0.0.1", SQUALL_NTS, 65536));
  EXPECT_ERR(SQUALL_EINVAL,
             squall_stream_connect(&s, loop, "127.0.0.1", SQUALL_NTS, 0,
                                   never_done, NULL));
  assert_null(s);
  /* RFC 2606: .invalid never resolves. */
  EXPECT_ERR(
      SQUALL_ENOTFOUND,
      squall_tcp_server_listen(tsrv, "no-such-host.invalid", SQUALL_NTS, 0));
  EXPECT_ERR(SQUALL_ENOTFOUND,
             squall_server_listen(hsrv, "no-such-host.invalid", SQUALL_NTS, 0));
  /* host_len is honoured: "127.0.0.1junk" cut to its first 9 bytes. */
  assert_int_equal(squall_tcp_server_listen(tsrv, "127.0.0.1junk", 9, 0),
                   SQUALL_OK);
  squall_server_free(hsrv);
  squall_tcp_server_free(tsrv);
  assert_int_equal(squall_loop_free(loop), SQUALL_OK);
  assert_int_equal(released, 2);
  assert_int_equal(g_never, 0);
}

/* ------------------------------------------------------------------------ */
/* Wrong thread                                                             */
/* ------------------------------------------------------------------------ */

struct accept_one {
  int released; /* first */
  squall_stream *s;
  int accepted; /* atomic */
};

static void keep_stream(squall_stream *s, const char *p, size_t n, void *ud) {
  struct accept_one *a = (struct accept_one *)ud;
  if (a->s) {
    squall_stream_free(s);
    return;
  }
  a->s = s;
  tu_atomic_add(&a->accepted, 1);
}

static void test_errors__wrong_thread_is_ethread(void **state) {
  squall_loop *loop;
  squall_tcp_server *tsrv, *other = (squall_tcp_server *)&g_never;
  squall_server *hsrv = (squall_server *)&g_never;
  squall_stream *cs = (squall_stream *)&g_never;
  squall_timer *tm = NULL, *tm2 = (squall_timer *)&g_never;
  tu_loop_thread *lt;
  struct accept_one a;
  uint16_t port;
  size_t n;
  int fd, rc, released = 0;
  g_never = 0;
  memset(&a, 0, sizeof a);
  assert_int_equal(squall_loop_new(&loop), SQUALL_OK);
  assert_int_equal(
      squall_tcp_server_new(&tsrv, loop, keep_stream, &a, tu_release_inc),
      SQUALL_OK);
  assert_int_equal(squall_tcp_server_listen(tsrv, "127.0.0.1", SQUALL_NTS, 0),
                   SQUALL_OK);
  assert_int_equal(squall_tcp_server_port(tsrv, &port), SQUALL_OK);
  assert_int_equal(squall_loop_call_later(&tm, loop, 60000, never_cb, &released,
                                          tu_release_inc),
                   SQUALL_OK);
  assert_int_equal(tu_loop_thread_start(&lt, loop), 0);
  fd = tu_connect_tcp("127.0.0.1", port, 2000);
  assert_true(fd >= 0);
  assert_int_equal(tu_wait_int_ge(&a.accepted, 1, 3000), 0);

  /* The loop runs on lt; this thread is not its thread. */
  EXPECT_ERR(SQUALL_ETHREAD, squall_loop_call_later(&tm2, loop, 1, never_cb,
                                                    &released, tu_release_inc));
  assert_null(tm2);
  EXPECT_ERR(SQUALL_ETHREAD, squall_loop_call_every(NULL, loop, 1, never_cb,
                                                    &released, tu_release_inc));
  EXPECT_ERR(SQUALL_ETHREAD, squall_timer_cancel(tm));
  EXPECT_ERR(SQUALL_ETHREAD, squall_tcp_server_new(&other, loop, never_stream,
                                                   &released, tu_release_inc));
  assert_null(other);
  EXPECT_ERR(SQUALL_ETHREAD,
             squall_tcp_server_listen(tsrv, "127.0.0.1", SQUALL_NTS, 0));
  EXPECT_ERR(SQUALL_ETHREAD, squall_tcp_server_port(tsrv, &port));
  EXPECT_ERR(SQUALL_ETHREAD, squall_tcp_server_set_backlog(tsrv, 5));
  EXPECT_ERR(SQUALL_ETHREAD, squall_tcp_server_stop(tsrv));
  EXPECT_ERR(SQUALL_ETHREAD,
             squall_stream_read_until(a.s, "\n", 1, 0, never_read, NULL));
  EXPECT_ERR(SQUALL_ETHREAD,
             squall_stream_read_bytes(a.s, 1, 0, never_read, NULL));
  EXPECT_ERR(SQUALL_ETHREAD,
             squall_stream_write(a.s, "x", 1, never_done, NULL));
  EXPECT_ERR(SQUALL_ETHREAD, squall_stream_set_close_callback(
                                 a.s, never_done, &released, tu_release_inc));
  EXPECT_ERR(SQUALL_ETHREAD, squall_stream_write_buffer_size(a.s, &n));
  EXPECT_ERR(SQUALL_ETHREAD, squall_stream_set_nodelay(a.s, 1));
  EXPECT_ERR(SQUALL_ETHREAD, squall_stream_close(a.s));
  EXPECT_ERR(SQUALL_ETHREAD,
             squall_stream_connect(&cs, loop, "127.0.0.1", SQUALL_NTS, port,
                                   never_done, NULL));
  assert_null(cs);
  EXPECT_ERR(SQUALL_ETHREAD, squall_server_new(&hsrv, loop, NULL, never_handler,
                                               &released, tu_release_inc));
  assert_null(hsrv);
  /* Freeing a running loop from elsewhere is refused (and does nothing). */
  rc = squall_loop_free(loop);
  assert_true(rc == SQUALL_ESTATE || rc == SQUALL_ETHREAD);
  assert_true(strlen(squall_last_error()) > 0);
  /* The thread-safe calls work from here. */
  assert_int_equal(squall_loop_call_soon(loop, tu_release_inc, &released),
                   SQUALL_OK);
  assert_int_equal(tu_wait_int_ge(&released, 1, 3000), 0);
  tu_atomic_add(&released, -1);
  /* Nothing was broken by the refused calls: the stream still works. */
  assert_int_equal(tu_loop_thread_stop(lt), SQUALL_OK);
  assert_int_equal(squall_stream_write(a.s, "ok\n", 3, NULL, NULL), SQUALL_OK);
  assert_int_equal(squall_loop_run_once(loop, 100), SQUALL_OK);
  {
    char buf[8];
    assert_int_equal(tu_recv_until(fd, buf, sizeof buf, "\n", 1, 2000), 3);
  }
  close(fd);
  assert_int_equal(squall_timer_cancel(tm), SQUALL_OK);
  squall_timer_free(tm);
  squall_stream_free(a.s);
  squall_tcp_server_free(tsrv);
  assert_int_equal(squall_loop_free(loop), SQUALL_OK);
  assert_int_equal(released, 1); /* the timer's, after its cancel */
  assert_int_equal(a.released, 1);
  assert_int_equal(g_never, 0);
}

/* ------------------------------------------------------------------------ */
/* Closed streams                                                           */
/* ------------------------------------------------------------------------ */

struct close_rec {
  int released; /* first */
  int runs;
  int error;
};

static void rec_close(int error, void *ud) {
  struct close_rec *c = (struct close_rec *)ud;
  c->runs++;
  c->error = error;
}

static void test_errors__closed_stream_is_eclosed(void **state) {
  squall_loop *loop;
  squall_tcp_server *tsrv;
  squall_stream *s;
  struct accept_one a;
  struct close_rec c;
  uint16_t port;
  int err = 12345, released = 0;
  g_never = 0;
  memset(&a, 0, sizeof a);
  memset(&c, 0, sizeof c);
  assert_int_equal(squall_loop_new(&loop), SQUALL_OK);
  assert_int_equal(
      squall_tcp_server_new(&tsrv, loop, keep_stream, &a, tu_release_inc),
      SQUALL_OK);
  assert_int_equal(squall_tcp_server_listen(tsrv, "127.0.0.1", SQUALL_NTS, 0),
                   SQUALL_OK);
  assert_int_equal(squall_tcp_server_port(tsrv, &port), SQUALL_OK);
  assert_int_equal(squall_stream_connect(&s, loop, "127.0.0.1", SQUALL_NTS,
                                         port, NULL, NULL),
                   SQUALL_OK);
  assert_int_equal(
      squall_stream_set_close_callback(s, rec_close, &c, tu_release_inc),
      SQUALL_OK);
  assert_int_equal(squall_stream_closed(s, &err), 0);
  assert_int_equal(squall_stream_close(s), SQUALL_OK);
  assert_int_equal(squall_stream_closed(s, &err), 1);
  assert_int_equal(err, 0);
  assert_int_equal(c.runs, 0);                         /* later, on the loop */
  assert_int_equal(squall_stream_close(s), SQUALL_OK); /* again: harmless */

  EXPECT_ERR(SQUALL_ECLOSED, squall_stream_write(s, "x", 1, never_done, NULL));
  EXPECT_ERR(SQUALL_ECLOSED,
             squall_stream_read_until(s, "\n", 1, 0, never_read, NULL));
  EXPECT_ERR(SQUALL_ECLOSED,
             squall_stream_read_bytes(s, 1, 0, never_read, NULL));
  EXPECT_ERR(SQUALL_ECLOSED,
             squall_stream_read_until_close(s, never_read, NULL));
  EXPECT_ERR(SQUALL_ECLOSED, squall_stream_set_close_callback(
                                 s, never_done, &released, tu_release_inc));
  EXPECT_ERR(SQUALL_ECLOSED, squall_stream_set_nodelay(s, 1));

  assert_int_equal(squall_loop_run_once(loop, 0), SQUALL_OK);
  assert_int_equal(c.runs, 1);
  assert_int_equal(c.error, 0);
  squall_stream_free(s);
  if (a.s) squall_stream_free(a.s);
  squall_tcp_server_free(tsrv);
  assert_int_equal(squall_loop_free(loop), SQUALL_OK);
  assert_int_equal(c.runs, 1);
  assert_int_equal(c.released, 1);
  assert_int_equal(a.released, 1);
  assert_int_equal(released, 0);
  assert_int_equal(g_never, 0);
}

/* ------------------------------------------------------------------------ */
/* Handles freed in any order                                               */
/* ------------------------------------------------------------------------ */

struct world {
  squall_loop *loop;
  squall_tcp_server *tsrv;
  squall_server *hsrv;
  squall_stream *client; /* squall_stream_connect */
  struct accept_one acc; /* accepted stream */
  squall_timer *once, *every;
  struct close_rec client_close, acc_close;
  int once_released, every_released, hsrv_released;
  int raw_fd;    /* a raw client of the TCP server */
  int connected; /* atomic */
};

static void world_connected(int st, void *ud) {
  struct world *w = (struct world *)ud;
  if (st == SQUALL_OK) tu_atomic_add(&w->connected, 1);
}

static void world_build(struct world *w) {
  tu_loop_thread *lt;
  uint16_t port, hport;
  memset(w, 0, sizeof *w);
  assert_int_equal(squall_loop_new(&w->loop), SQUALL_OK);
  assert_int_equal(squall_tcp_server_new(&w->tsrv, w->loop, keep_stream,
                                         &w->acc, tu_release_inc),
                   SQUALL_OK);
  assert_int_equal(
      squall_tcp_server_listen(w->tsrv, "127.0.0.1", SQUALL_NTS, 0), SQUALL_OK);
  assert_int_equal(squall_tcp_server_port(w->tsrv, &port), SQUALL_OK);
  assert_int_equal(squall_server_new(&w->hsrv, w->loop, NULL, never_handler,
                                     &w->hsrv_released, tu_release_inc),
                   SQUALL_OK);
  assert_int_equal(squall_server_listen(w->hsrv, "127.0.0.1", SQUALL_NTS, 0),
                   SQUALL_OK);
  assert_int_equal(squall_server_port(w->hsrv, &hport), SQUALL_OK);
  assert_int_equal(squall_loop_call_later(&w->once, w->loop, 60000, never_cb,
                                          &w->once_released, tu_release_inc),
                   SQUALL_OK);
  assert_int_equal(squall_loop_call_every(&w->every, w->loop, 60000, never_cb,
                                          &w->every_released, tu_release_inc),
                   SQUALL_OK);
  /* A squall client connected to the HTTP server, a raw one to the TCP
   * server (accepted as acc.s). */
  assert_int_equal(squall_stream_connect(&w->client, w->loop, "127.0.0.1",
                                         SQUALL_NTS, hport, world_connected, w),
                   SQUALL_OK);
  assert_int_equal(squall_stream_set_close_callback(
                       w->client, rec_close, &w->client_close, tu_release_inc),
                   SQUALL_OK);
  assert_int_equal(tu_loop_thread_start(&lt, w->loop), 0);
  w->raw_fd = tu_connect_tcp("127.0.0.1", port, 2000);
  assert_true(w->raw_fd >= 0);
  assert_int_equal(tu_wait_int_ge(&w->acc.accepted, 1, 3000), 0);
  assert_int_equal(tu_wait_int_ge(&w->connected, 1, 3000), 0);
  assert_int_equal(tu_loop_thread_stop(lt), SQUALL_OK);
  assert_int_equal(squall_stream_set_close_callback(
                       w->acc.s, rec_close, &w->acc_close, tu_release_inc),
                   SQUALL_OK);
}

static void world_check_released(struct world *w) {
  assert_int_equal(w->acc.released, 1);
  assert_int_equal(w->hsrv_released, 1);
  assert_int_equal(w->once_released, 1);
  assert_int_equal(w->every_released, 1);
  assert_int_equal(w->client_close.released, 1);
  assert_int_equal(w->acc_close.released, 1);
  assert_true(w->client_close.runs <= 1);
  assert_true(w->acc_close.runs <= 1);
  assert_int_equal(g_never, 0);
}

/* The loop first: every child becomes an orphan answering SQUALL_ECLOSED;
 * freeing them afterwards is safe; every release runs exactly once. */
static void test_errors__free_loop_first(void **state) {
  struct world w;
  uint16_t port;
  size_t n;
  g_never = 0;
  world_build(&w);
  assert_int_equal(squall_loop_free(w.loop), SQUALL_OK);
  /* Timers are cancelled by the loop's free. */
  assert_int_equal(w.once_released, 1);
  assert_int_equal(w.every_released, 1);
  /* The raw client sees its connection closed. */
  assert_int_equal(tu_wait_peer_close(w.raw_fd, 3000), 1);
  close(w.raw_fd);

  EXPECT_ERR(SQUALL_ECLOSED, squall_timer_cancel(w.once));
  EXPECT_ERR(SQUALL_ECLOSED, squall_timer_cancel(w.every));
  EXPECT_ERR(SQUALL_ECLOSED,
             squall_tcp_server_listen(w.tsrv, "127.0.0.1", SQUALL_NTS, 0));
  EXPECT_ERR(SQUALL_ECLOSED, squall_tcp_server_port(w.tsrv, &port));
  EXPECT_ERR(SQUALL_ECLOSED, squall_tcp_server_stop(w.tsrv));
  EXPECT_ERR(SQUALL_ECLOSED,
             squall_server_listen(w.hsrv, "127.0.0.1", SQUALL_NTS, 0));
  EXPECT_ERR(SQUALL_ECLOSED, squall_server_port(w.hsrv, &port));
  EXPECT_ERR(SQUALL_ECLOSED, squall_server_stop(w.hsrv));
  EXPECT_ERR(SQUALL_ECLOSED,
             squall_server_shutdown(w.hsrv, 0, never_done, NULL));
  EXPECT_ERR(SQUALL_ECLOSED,
             squall_stream_write(w.acc.s, "x", 1, never_done, NULL));
  EXPECT_ERR(SQUALL_ECLOSED,
             squall_stream_read_until(w.acc.s, "\n", 1, 0, never_read, NULL));
  EXPECT_ERR(SQUALL_ECLOSED,
             squall_stream_write(w.client, "x", 1, never_done, NULL));
  EXPECT_ERR(SQUALL_ECLOSED, squall_stream_write_buffer_size(w.client, &n));

  squall_timer_free(w.once);
  squall_timer_free(w.every);
  squall_stream_free(w.client);
  squall_server_free(w.hsrv);
  squall_stream_free(w.acc.s);
  squall_tcp_server_free(w.tsrv);
  world_check_released(&w);
}

/* Children first, in a "wrong" order (server before the stream it
 * accepted, the timer handles last). */
static void test_errors__free_children_first(void **state) {
  struct world w;
  g_never = 0;
  world_build(&w);
  squall_tcp_server_free(w.tsrv);
  squall_server_free(w.hsrv);
  squall_stream_free(w.acc.s);
  squall_stream_free(w.client);
  squall_timer_free(w.every);
  squall_timer_free(w.once);
  assert_int_equal(squall_loop_free(w.loop), SQUALL_OK);
  assert_int_equal(tu_wait_peer_close(w.raw_fd, 3000), 1);
  close(w.raw_fd);
  world_check_released(&w);
  assert_int_equal(w.acc_close.runs, 1); /* closed by its free */
  assert_int_equal(w.client_close.runs, 1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_errors__version_matches_macros),
      cmocka_unit_test(test_errors__strerror_every_code),
      cmocka_unit_test(test_errors__last_error_is_thread_local),
      cmocka_unit_test(test_errors__null_loop_timer_log),
      cmocka_unit_test(test_errors__null_stream_and_tcp_server),
      cmocka_unit_test(test_errors__null_config_server_request),
      cmocka_unit_test(test_errors__port_out_of_range_and_unknown_host),
      cmocka_unit_test(test_errors__wrong_thread_is_ethread),
      cmocka_unit_test(test_errors__closed_stream_is_eclosed),
      cmocka_unit_test(test_errors__free_loop_first),
      cmocka_unit_test(test_errors__free_children_first),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
