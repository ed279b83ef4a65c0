/* test_stream.c -- squall_stream_*: reads, writes, close, connect, limits.
 *
 * Each test runs a squall_tcp_server on 127.0.0.1 (ephemeral port) in a
 * background loop thread and talks to it with a blocking raw client on the
 * test thread.  The accepted stream is driven by per-test hooks running on
 * the loop thread; they only record, and the test thread asserts.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "testutil.h"

#define MAX_READS 16
/* Bulk transfers fail on a stall (no byte for this long), never on a total
 * duration: a loaded machine may be slow, a broken stream stops. */
#define STALL_MS 30000
/* The small-window reader: set before connect (tu_connect_tcp_rcvbuf). */
#define SMALL_RCVBUF 16384
#define MAX_WRITES 256
#define MAX_STREAMS 8

struct fx;

/* Close callback record: release counter first (tu_release_inc). */
struct closer {
  int released;
  int runs; /* atomic */
  int error;
};

struct read_rec {
  int status;
  char *data; /* malloc'd copy, NUL-terminated */
  size_t len;
};

struct write_rec {
  int status;
  int id;
};

struct fx {
  squall_loop *loop;
  squall_tcp_server *srv;
  tu_loop_thread *lt;
  uint16_t port;
  int srv_released;

  /* accepted streams */
  squall_stream *streams[MAX_STREAMS];
  struct closer closers[MAX_STREAMS];
  char peers[MAX_STREAMS][64];
  int accepted;          /* atomic */
  squall_stream *stream; /* the first accepted */

  /* hooks, run on the loop thread */
  void (*on_accept)(struct fx *f, squall_stream *s);
  void (*after_read)(struct fx *f, int index);

  /* reads on the accepted stream */
  struct read_rec reads[MAX_READS];
  int nreads;      /* atomic */
  int registering; /* set around read calls made by the hooks */
  int ran_inside_registration;
  int read_rc[MAX_READS]; /* return codes of the read calls the hooks made */
  int nread_rc;

  /* writes */
  struct write_rec writes[MAX_WRITES];
  int nwrites; /* atomic */
  int write_rc;

  /* scratch for individual tests */
  const char *delim;
  unsigned char *big;
  size_t big_len;
  size_t buffered_after_write;
  size_t drain_backlog; /* write_buffer_size inside the first on_drain */
  int drained;          /* atomic */
  int drain_released;
  int drain_registered; /* drain_released must be 1 at teardown */
  int misc_rc[8];
  squall_stream *client;
  struct closer client_closer;
  int client_closer_registered;
  int connect_runs; /* atomic */
  int connect_status;
};

static struct fx *g_fx; /* for callbacks without a user_data we control */

/* ------------------------------------------------------------------------ */
/* Callbacks                                                                */
/* ------------------------------------------------------------------------ */

static void on_close(int error, void *user_data) {
  struct closer *c = (struct closer *)user_data;
  c->error = error;
  tu_atomic_add(&c->runs, 1);
}

static void on_read(int status, const char *data, size_t len, void *user_data) {
  struct fx *f = (struct fx *)user_data;
  int i = tu_atomic_get(&f->nreads);
  if (f->registering) f->ran_inside_registration++;
  if (i < MAX_READS) {
    f->reads[i].status = status;
    f->reads[i].len = len;
    f->reads[i].data = (char *)malloc(len + 1);
    if (len) memcpy(f->reads[i].data, data, len);
    f->reads[i].data[len] = '\0';
  }
  if (f->after_read) f->after_read(f, i);
  tu_atomic_add(&f->nreads, 1);
}

static void on_write(int status, void *user_data) {
  struct fx *f = g_fx;
  int i = tu_atomic_get(&f->nwrites);
  if (i < MAX_WRITES) {
    f->writes[i].status = status;
    f->writes[i].id = (int)(intptr_t)user_data;
  }
  tu_atomic_add(&f->nwrites, 1);
}

static void on_stream(squall_stream *s, const char *peer, size_t peer_len,
                      void *user_data) {
  struct fx *f = (struct fx *)user_data;
  int i = tu_atomic_get(&f->accepted);
  if (i >= MAX_STREAMS) {
    squall_stream_free(s);
    return;
  }
  f->streams[i] = s;
  if (peer_len >= sizeof f->peers[i]) peer_len = sizeof f->peers[i] - 1;
  memcpy(f->peers[i], peer, peer_len);
  f->peers[i][peer_len] = '\0';
  squall_stream_set_close_callback(s, on_close, &f->closers[i], tu_release_inc);
  if (i == 0) f->stream = s;
  if (f->on_accept) f->on_accept(f, s);
  tu_atomic_add(&f->accepted, 1);
}

/* Read helpers for hooks: record rc, flag callbacks run inside the call. */
static void hook_read_until(struct fx *f, squall_stream *s, const char *delim,
                            size_t max_bytes) {
  int rc;
  f->registering = 1;
  rc = squall_stream_read_until(s, delim, strlen(delim), max_bytes, on_read, f);
  f->registering = 0;
  if (f->nread_rc < MAX_READS) f->read_rc[f->nread_rc++] = rc;
}

static void hook_read_bytes(struct fx *f, squall_stream *s, size_t n,
                            int partial) {
  int rc;
  f->registering = 1;
  rc = squall_stream_read_bytes(s, n, partial, on_read, f);
  f->registering = 0;
  if (f->nread_rc < MAX_READS) f->read_rc[f->nread_rc++] = rc;
}

static void hook_read_until_close(struct fx *f, squall_stream *s) {
  int rc;
  f->registering = 1;
  rc = squall_stream_read_until_close(s, on_read, f);
  f->registering = 0;
  if (f->nread_rc < MAX_READS) f->read_rc[f->nread_rc++] = rc;
}

/* ------------------------------------------------------------------------ */
/* Fixture                                                                  */
/* ------------------------------------------------------------------------ */

static int setup(void **state) {
  struct fx *f = (struct fx *)calloc(1, sizeof *f);
  assert_non_null(f);
  assert_int_equal(squall_loop_new(&f->loop), SQUALL_OK);
  *state = f;
  g_fx = f;
  return 0;
}

static void srv_release(void *user_data) {
  struct fx *f = (struct fx *)user_data;
  tu_atomic_add(&f->srv_released, 1);
}

/* Create the server (hooks must be set first) and start the loop thread. */
static void fx_start(struct fx *f) {
  f->srv_released = 0;
  assert_int_equal(
      squall_tcp_server_new(&f->srv, f->loop, on_stream, f, srv_release),
      SQUALL_OK);
  assert_int_equal(squall_tcp_server_listen(f->srv, "127.0.0.1", SQUALL_NTS, 0),
                   SQUALL_OK);
  assert_int_equal(squall_tcp_server_port(f->srv, &f->port), SQUALL_OK);
  assert_true(f->port > 0);
  assert_int_equal(tu_loop_thread_start(&f->lt, f->loop), 0);
}

static int teardown(void **state) {
  struct fx *f = (struct fx *)*state;
  int i, n;
  if (f->lt) assert_int_equal(tu_loop_thread_stop(f->lt), SQUALL_OK);
  n = tu_atomic_get(&f->accepted);
  for (i = 0; i < n; i++) squall_stream_free(f->streams[i]);
  squall_stream_free(f->client);
  squall_tcp_server_free(f->srv);
  assert_int_equal(squall_loop_free(f->loop), SQUALL_OK);
  /* Every release exactly once, every close callback at most once. */
  assert_int_equal(f->srv_released, 1);
  for (i = 0; i < n; i++) {
    assert_int_equal(f->closers[i].released, 1);
    assert_true(f->closers[i].runs <= 1);
  }
  if (f->client_closer_registered) {
    assert_int_equal(f->client_closer.released, 1);
    assert_true(f->client_closer.runs <= 1);
  }
  if (f->drain_registered) assert_int_equal(f->drain_released, 1);
  for (i = 0; i < MAX_READS; i++) free(f->reads[i].data);
  free(f->big);
  free(f);
  g_fx = NULL;
  return 0;
}

static int client_nodelay(int fd) {
  int one = 1;
  return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* ------------------------------------------------------------------------ */
/* read_until                                                               */
/* ------------------------------------------------------------------------ */

static void accept_read_head(struct fx *f, squall_stream *s) {
  hook_read_until(f, s, "\r\n\r\n", 0);
}

static void after_head_read_rest(struct fx *f, int i) {
  if (i == 0) hook_read_bytes(f, f->stream, 4, 0);
}

static void test_stream__read_until_one_byte_writes(void **state) {
  struct fx *f = (struct fx *)*state;
  const char *msg = "GET / HTTP/1.1\r\nHost: x\r\n\r\nrest";
  size_t i;
  int fd;
  f->on_accept = accept_read_head;
  f->after_read = after_head_read_rest;
  fx_start(f);
  fd = tu_connect_tcp("127.0.0.1", f->port, 2000);
  assert_true(fd >= 0);
  client_nodelay(fd);
  for (i = 0; i < strlen(msg); i++) {
    assert_int_equal(tu_send_all(fd, msg + i, 1), 0);
    tu_sleep_ms(2);
  }
  assert_int_equal(tu_wait_int_ge(&f->nreads, 2, 3000), 0);
  tu_sleep_ms(20);
  assert_int_equal(tu_atomic_get(&f->nreads), 2);
  assert_int_equal(f->read_rc[0], SQUALL_OK);
  assert_int_equal(f->read_rc[1], SQUALL_OK);
  assert_int_equal(f->reads[0].status, SQUALL_OK);
  assert_string_equal(f->reads[0].data, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  assert_int_equal(f->reads[1].status, SQUALL_OK);
  assert_string_equal(f->reads[1].data, "rest");
  assert_int_equal(f->ran_inside_registration, 0);
  close(fd);
}

static void accept_read_line(struct fx *f, squall_stream *s) {
  hook_read_until(f, s, "\r\n", 0);
}

static void after_line_read_line(struct fx *f, int i) {
  if (i < 2) hook_read_until(f, f->stream, "\r\n", 0);
}

static void test_stream__read_until_delimiter_split_between_writes(
    void **state) {
  struct fx *f = (struct fx *)*state;
  int fd;
  f->on_accept = accept_read_line;
  f->after_read = after_line_read_line;
  fx_start(f);
  fd = tu_connect_tcp("127.0.0.1", f->port, 2000);
  assert_true(fd >= 0);
  client_nodelay(fd);
  assert_int_equal(tu_send_str(fd, "abc\r"), 0);
  tu_sleep_ms(50);
  assert_int_equal(tu_atomic_get(&f->nreads), 0); /* "\r" alone is not it */
  /* The second line arrives with the first's "\n": it is already buffered
   * when the next read_until is registered (from the callback). */
  assert_int_equal(tu_send_str(fd, "\ndef\r\nghi\r"), 0);
  tu_sleep_ms(50);
  assert_int_equal(tu_send_str(fd, "\n"), 0);
  assert_int_equal(tu_wait_int_ge(&f->nreads, 3, 3000), 0);
  assert_string_equal(f->reads[0].data, "abc\r\n");
  assert_string_equal(f->reads[1].data, "def\r\n");
  assert_string_equal(f->reads[2].data, "ghi\r\n");
  assert_int_equal(f->reads[0].status, SQUALL_OK);
  assert_int_equal(f->reads[1].status, SQUALL_OK);
  assert_int_equal(f->reads[2].status, SQUALL_OK);
  assert_int_equal(f->ran_inside_registration, 0);
  close(fd);
}

static void accept_read_boundary(struct fx *f, squall_stream *s) {
  hook_read_until(f, s, "--BOUNDARY--", 0);
}

static void after_boundary_read_tail(struct fx *f, int i) {
  if (i == 0) hook_read_bytes(f, f->stream, 4, 0);
}

static void test_stream__read_until_multibyte_delimiter(void **state) {
  struct fx *f = (struct fx *)*state;
  /* False starts ("--BOUNDAR" then "--"), and the delimiter split in three
   * writes. */
  const char *pieces[] = {"x--BOUN", "DAR--BO", "UNDARY-", "-tail"};
  int fd, i;
  f->on_accept = accept_read_boundary;
  f->after_read = after_boundary_read_tail;
  fx_start(f);
  fd = tu_connect_tcp("127.0.0.1", f->port, 2000);
  assert_true(fd >= 0);
  client_nodelay(fd);
  for (i = 0; i < 4; i++) {
    assert_int_equal(tu_send_str(fd, pieces[i]), 0);
    tu_sleep_ms(30);
    if (i < 2) assert_int_equal(tu_atomic_get(&f->nreads), 0);
  }
  assert_int_equal(tu_wait_int_ge(&f->nreads, 2, 3000), 0);
  assert_int_equal(f->reads[0].status, SQUALL_OK);
  assert_string_equal(f->reads[0].data, "x--BOUNDAR--BOUNDARY--");
  assert_string_equal(f->reads[1].data, "tail");
  close(fd);
}

/* ------------------------------------------------------------------------ */
/* read_bytes                                                               */
/* ------------------------------------------------------------------------ */

static void accept_read_10(struct fx *f, squall_stream *s) {
  hook_read_bytes(f, s, 10, 0);
}

static void after_10_read_partial(struct fx *f, int i) {
  if (i < 2) hook_read_bytes(f, f->stream, 100, 1);
}

static void test_stream__read_bytes_exact_and_partial(void **state) {
  struct fx *f = (struct fx *)*state;
  char big[300];
  int fd, i;
  f->on_accept = accept_read_10;
  f->after_read = after_10_read_partial;
  fx_start(f);
  fd = tu_connect_tcp("127.0.0.1", f->port, 2000);
  assert_true(fd >= 0);
  client_nodelay(fd);
  assert_int_equal(tu_send_str(fd, "01234"), 0);
  tu_sleep_ms(40);
  assert_int_equal(tu_send_str(fd, "567"), 0);
  tu_sleep_ms(40);
  /* Non-partial: nothing yet with 8 of 10 bytes. */
  assert_int_equal(tu_atomic_get(&f->nreads), 0);
  assert_int_equal(tu_send_str(fd, "89ABCDE"), 0);
  /* The exact read, then a partial read served from the 5 buffered bytes
   * without waiting for 100. */
  assert_int_equal(tu_wait_int_ge(&f->nreads, 2, 3000), 0);
  assert_int_equal(f->reads[0].status, SQUALL_OK);
  assert_int_equal(f->reads[0].len, 10);
  assert_string_equal(f->reads[0].data, "0123456789");
  assert_int_equal(f->reads[1].status, SQUALL_OK);
  assert_string_equal(f->reads[1].data, "ABCDE");
  /* Another partial read: 300 bytes arrive, it gets 1..100 of them. */
  for (i = 0; i < 300; i++) big[i] = (char)('a' + i % 26);
  assert_int_equal(tu_send_all(fd, big, sizeof big), 0);
  assert_int_equal(tu_wait_int_ge(&f->nreads, 3, 3000), 0);
  assert_int_equal(f->reads[2].status, SQUALL_OK);
  assert_true(f->reads[2].len >= 1);
  assert_true(f->reads[2].len <= 100);
  assert_memory_equal(f->reads[2].data, big, f->reads[2].len);
  assert_int_equal(f->ran_inside_registration, 0);
  close(fd);
}

/* ------------------------------------------------------------------------ */
/* max_bytes / max_buffer_size                                              */
/* ------------------------------------------------------------------------ */

static void accept_read_line_max16(struct fx *f, squall_stream *s) {
  hook_read_until(f, s, "\n", 16);
}

static void run_max_bytes_case(struct fx *f, const char *payload,
                               int expect_status) {
  int fd;
  f->on_accept = accept_read_line_max16;
  fx_start(f);
  fd = tu_connect_tcp("127.0.0.1", f->port, 2000);
  assert_true(fd >= 0);
  assert_int_equal(tu_send_str(fd, payload), 0);
  assert_int_equal(tu_wait_int_ge(&f->nreads, 1, 3000), 0);
  assert_int_equal(f->reads[0].status, expect_status);
  if (expect_status == SQUALL_ETOOBIG) {
    /* The stream is closed: close callback with the error, client sees it. */
    assert_int_equal(tu_wait_int_ge(&f->closers[0].runs, 1, 3000), 0);
    assert_int_equal(f->closers[0].error, SQUALL_ETOOBIG);
    assert_int_equal(tu_wait_peer_close(fd, 3000), 1);
  } else {
    tu_sleep_ms(50);
    assert_int_equal(tu_atomic_get(&f->closers[0].runs), 0);
  }
  close(fd);
}

static void test_stream__read_until_max_bytes_no_delimiter(void **state) {
  char payload[101];
  memset(payload, 'a', 100);
  payload[100] = '\0';
  run_max_bytes_case((struct fx *)*state, payload, SQUALL_ETOOBIG);
}

static void test_stream__read_until_max_bytes_delimiter_too_late(void **state) {
  /* 30 bytes then the newline: found, but past max_bytes (Tornado). */
  run_max_bytes_case((struct fx *)*state, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
                     SQUALL_ETOOBIG);
}

static void test_stream__read_until_max_bytes_exactly_fits(void **state) {
  struct fx *f = (struct fx *)*state;
  /* 15 bytes + "\n" = 16 = max_bytes: allowed. */
  run_max_bytes_case(f, "aaaaaaaaaaaaaaa\n", SQUALL_OK);
  assert_string_equal(f->reads[0].data, "aaaaaaaaaaaaaaa\n");
}

static void accept_small_buffer_read_close(struct fx *f, squall_stream *s) {
  f->misc_rc[0] = squall_stream_set_max_buffer_size(s, 1024);
  hook_read_until_close(f, s);
}

static void test_stream__max_buffer_size_closes_with_etoobig(void **state) {
  struct fx *f = (struct fx *)*state;
  char payload[8192];
  int fd;
  memset(payload, 'z', sizeof payload);
  f->on_accept = accept_small_buffer_read_close;
  fx_start(f);
  fd = tu_connect_tcp("127.0.0.1", f->port, 2000);
  assert_true(fd >= 0);
  tu_send_all(fd, payload, sizeof payload); /* may fail once it resets */
  assert_int_equal(tu_wait_int_ge(&f->nreads, 1, 3000), 0);
  assert_int_equal(f->misc_rc[0], SQUALL_OK);
  assert_int_equal(f->reads[0].status, SQUALL_ETOOBIG);
  assert_int_equal(tu_wait_int_ge(&f->closers[0].runs, 1, 3000), 0);
  assert_int_equal(f->closers[0].error, SQUALL_ETOOBIG);
  assert_int_equal(tu_wait_peer_close(fd, 3000), 1);
  close(fd);
}

/* ------------------------------------------------------------------------ */
/* read_until_close, EOF, close                                             */
/* ------------------------------------------------------------------------ */

static void accept_read_until_close(struct fx *f, squall_stream *s) {
  hook_read_until_close(f, s);
}

static void test_stream__read_until_close(void **state) {
  struct fx *f = (struct fx *)*state;
  int fd;
  f->on_accept = accept_read_until_close;
  fx_start(f);
  fd = tu_connect_tcp("127.0.0.1", f->port, 2000);
  assert_true(fd >= 0);
  assert_int_equal(tu_send_str(fd, "one"), 0);
  tu_sleep_ms(20);
  assert_int_equal(tu_send_str(fd, "two"), 0);
  tu_sleep_ms(20);
  assert_int_equal(tu_send_str(fd, "three"), 0);
  tu_sleep_ms(20);
  assert_int_equal(tu_atomic_get(&f->nreads), 0);
  assert_int_equal(shutdown(fd, SHUT_WR), 0);
  assert_int_equal(tu_wait_int_ge(&f->nreads, 1, 3000), 0);
  assert_int_equal(f->reads[0].status, SQUALL_OK);
  assert_string_equal(f->reads[0].data, "onetwothree");
  /* EOF closes the stream cleanly. */
  assert_int_equal(tu_wait_int_ge(&f->closers[0].runs, 1, 3000), 0);
  assert_int_equal(f->closers[0].error, 0);
  close(fd);
}

static void test_stream__pending_read_fails_on_peer_close(void **state) {
  struct fx *f = (struct fx *)*state;
  int fd;
  f->on_accept = accept_read_line;
  fx_start(f);
  fd = tu_connect_tcp("127.0.0.1", f->port, 2000);
  assert_true(fd >= 0);
  assert_int_equal(tu_send_str(fd, "partial"), 0);
  tu_sleep_ms(30);
  close(fd);
  assert_int_equal(tu_wait_int_ge(&f->nreads, 1, 3000), 0);
  assert_int_equal(f->reads[0].status, SQUALL_ECLOSED);
  assert_string_equal(f->reads[0].data, "partial");
  assert_int_equal(tu_wait_int_ge(&f->closers[0].runs, 1, 3000), 0);
  assert_int_equal(f->closers[0].error, 0);
}

/* squall_stream_close with a read and unwritten bytes pending. */
static void accept_read_and_stall_write(struct fx *f, squall_stream *s) {
  hook_read_until(f, s, "\n", 0);
  f->write_rc =
      squall_stream_write(s, f->big, f->big_len, on_write, (void *)(intptr_t)1);
}

static void close_stream_on_loop(void *arg) {
  struct fx *f = (struct fx *)arg;
  int err = 12345;
  f->misc_rc[0] = squall_stream_close(f->stream);
  f->misc_rc[1] = squall_stream_close(f->stream); /* closing twice: 0 */
  f->misc_rc[2] = squall_stream_closed(f->stream, &err);
  f->misc_rc[3] = err;
  f->misc_rc[4] =
      squall_stream_write(f->stream, "x", 1, on_write, (void *)(intptr_t)2);
  f->misc_rc[5] = squall_stream_read_until(f->stream, "\n", 1, 0, on_read, f);
  /* Callbacks never run inside the call: nothing yet. */
  f->misc_rc[6] = tu_atomic_get(&f->nreads) + tu_atomic_get(&f->nwrites) +
                  tu_atomic_get(&f->closers[0].runs);
}

static void test_stream__close_fails_pending_read_and_write(void **state) {
  struct fx *f = (struct fx *)*state;
  int fd;
  f->big_len = 32u << 20;
  f->big = (unsigned char *)calloc(1, f->big_len);
  assert_non_null(f->big);
  f->on_accept = accept_read_and_stall_write;
  fx_start(f);
  /* The client does not read: 32 MiB cannot all reach the kernel. */
  fd = tu_connect_tcp("127.0.0.1", f->port, 2000);
  assert_true(fd >= 0);
  assert_int_equal(tu_wait_int_ge(&f->accepted, 1, 3000), 0);
  tu_sleep_ms(50);
  assert_int_equal(f->write_rc, SQUALL_OK);
  assert_int_equal(tu_atomic_get(&f->nwrites), 0); /* stalled: not read */
  assert_int_equal(tu_loop_call_sync(f->loop, close_stream_on_loop, f, 3000),
                   0);
  assert_int_equal(f->misc_rc[0], SQUALL_OK);
  assert_int_equal(f->misc_rc[1], SQUALL_OK);
  assert_int_equal(f->misc_rc[2], 1);
  assert_int_equal(f->misc_rc[3], 0);
  assert_int_equal(f->misc_rc[4], SQUALL_ECLOSED);
  assert_int_equal(f->misc_rc[5], SQUALL_ECLOSED);
  assert_int_equal(f->misc_rc[6], 0);
  assert_int_equal(tu_wait_int_ge(&f->nreads, 1, 3000), 0);
  assert_int_equal(tu_wait_int_ge(&f->nwrites, 1, 3000), 0);
  assert_int_equal(tu_wait_int_ge(&f->closers[0].runs, 1, 3000), 0);
  tu_sleep_ms(30);
  assert_int_equal(tu_atomic_get(&f->nreads), 1);
  assert_int_equal(f->reads[0].status, SQUALL_ECLOSED);
  assert_int_equal(tu_atomic_get(&f->nwrites), 1); /* not the refused one */
  assert_int_equal(f->writes[0].id, 1);
  assert_true(f->writes[0].status < 0);
  assert_int_equal(f->closers[0].error, 0);
  /* What the kernel already had still arrives, then EOF. */
  assert_int_equal(tu_wait_peer_close(fd, 10000), 1);
  close(fd);
}

/* ------------------------------------------------------------------------ */
/* Writes                                                                   */
/* ------------------------------------------------------------------------ */

static void accept_write_three(struct fx *f, squall_stream *s) {
  int rc = 0;
  rc |= squall_stream_write(s, "alpha ", 6, on_write, (void *)(intptr_t)1);
  rc |= squall_stream_write(s, "beta ", 5, NULL, NULL); /* cb may be NULL */
  rc |= squall_stream_write(s, "gamma\n", 6, on_write, (void *)(intptr_t)3);
  f->write_rc = rc;
  /* Never from inside the registering call. */
  f->misc_rc[0] = tu_atomic_get(&f->nwrites);
}

static void test_stream__writes_complete_in_order(void **state) {
  struct fx *f = (struct fx *)*state;
  char buf[64];
  int fd;
  f->on_accept = accept_write_three;
  fx_start(f);
  fd = tu_connect_tcp("127.0.0.1", f->port, 2000);
  assert_true(fd >= 0);
  assert_int_equal(tu_recv_until(fd, buf, sizeof buf, "\n", 1, 3000), 17);
  assert_string_equal(buf, "alpha beta gamma\n");
  assert_int_equal(tu_wait_int_ge(&f->nwrites, 2, 3000), 0);
  tu_sleep_ms(30);
  assert_int_equal(f->write_rc, SQUALL_OK);
  assert_int_equal(f->misc_rc[0], 0);
  assert_int_equal(tu_atomic_get(&f->nwrites), 2);
  assert_int_equal(f->writes[0].id, 1);
  assert_int_equal(f->writes[0].status, SQUALL_OK);
  assert_int_equal(f->writes[1].id, 3);
  assert_int_equal(f->writes[1].status, SQUALL_OK);
  close(fd);
}

/* Byte at offset i of the 64 MiB pattern: little-endian 32-bit word
 * index, so a lost, repeated or reordered chunk shows. */
static unsigned char pattern_byte(size_t i) {
  uint32_t word = (uint32_t)(i / 4) * 2654435761u;
  return (unsigned char)(word >> (8 * (i % 4)));
}

static void fill_pattern(unsigned char *p, size_t n) {
  size_t i;
  for (i = 0; i < n; i++) p[i] = pattern_byte(i);
}

static void accept_write_big(struct fx *f, squall_stream *s) {
  size_t buffered = (size_t)-1;
  f->write_rc = squall_stream_write(s, f->big, f->big_len, on_write,
                                    (void *)(intptr_t)64);
  squall_stream_write_buffer_size(s, &buffered);
  f->buffered_after_write = buffered;
}

static void query_buffer_size(void *arg) {
  struct fx *f = (struct fx *)arg;
  size_t n = (size_t)-1;
  f->misc_rc[0] = squall_stream_write_buffer_size(f->stream, &n);
  f->buffered_after_write = n;
}

static void test_stream__write_64mib_to_slow_reader(void **state) {
  struct fx *f = (struct fx *)*state;
  size_t got = 0, since_pause = 0, bad_at = (size_t)-1;
  unsigned char *chunk;
  int fd;
  f->big_len = (size_t)64 << 20;
  f->big = (unsigned char *)malloc(f->big_len);
  assert_non_null(f->big);
  fill_pattern(f->big, f->big_len);
  f->on_accept = accept_write_big;
  fx_start(f);

  /* A small receive buffer keeps the window small (set before connect:
   * shrinking it afterwards can throttle loopback TCP to ~160 KiB/s). */
  fd = tu_connect_tcp_rcvbuf("127.0.0.1", f->port, SMALL_RCVBUF, 2000);
  assert_true(fd >= 0);
  chunk = (unsigned char *)malloc(65536);
  assert_non_null(chunk);
  /* No overall deadline: only a stall fails (ctest's TIMEOUT bounds it). */
  while (got < f->big_len) {
    ssize_t i, n = tu_recv_n_idle(fd, chunk, 32768, STALL_MS);
    if (n <= 0) break;
    for (i = 0; i < n && bad_at == (size_t)-1; i++)
      if (chunk[i] != pattern_byte(got + (size_t)i)) bad_at = got + (size_t)i;
    got += (size_t)n;
    since_pause += (size_t)n;
    if (since_pause >= (1u << 20)) { /* slow: pause after every MiB */
      since_pause = 0;
      tu_sleep_ms(15);
    }
  }
  free(chunk);
  assert_int_equal(f->write_rc, SQUALL_OK);
  assert_int_equal(got, f->big_len);
  assert_int_equal(bad_at, (size_t)-1);
  /* The first write went out eagerly: not everything was still queued. */
  assert_true(f->buffered_after_write < f->big_len);
  assert_int_equal(tu_wait_int_ge(&f->nwrites, 1, 5000), 0);
  tu_sleep_ms(100);
  assert_int_equal(tu_atomic_get(&f->nwrites), 1);
  assert_int_equal(f->writes[0].status, SQUALL_OK);
  assert_int_equal(f->writes[0].id, 64);
  assert_int_equal(tu_loop_call_sync(f->loop, query_buffer_size, f, 3000), 0);
  assert_int_equal(f->misc_rc[0], SQUALL_OK);
  assert_int_equal(f->buffered_after_write, 0);
  close(fd);
}

static void test_stream__peer_reset_mid_write(void **state) {
  struct fx *f = (struct fx *)*state;
  unsigned char buf[65536];
  int fd;
  f->big_len = (size_t)64 << 20;
  f->big = (unsigned char *)malloc(f->big_len);
  assert_non_null(f->big);
  fill_pattern(f->big, f->big_len);
  f->on_accept = accept_write_big;
  fx_start(f);
  fd = tu_connect_tcp_rcvbuf("127.0.0.1", f->port, SMALL_RCVBUF, 2000);
  assert_true(fd >= 0);
  /* Read a little so the server is mid-write, then reset. */
  assert_int_equal(tu_recv_n_idle(fd, buf, sizeof buf, STALL_MS),
                   (ssize_t)sizeof buf);
  assert_memory_equal(buf, f->big, sizeof buf);
  assert_int_equal(tu_set_linger_reset(fd), 0);
  close(fd);

  assert_int_equal(tu_wait_int_ge(&f->nwrites, 1, 5000), 0);
  assert_int_equal(tu_wait_int_ge(&f->closers[0].runs, 1, 5000), 0);
  tu_sleep_ms(50);
  assert_int_equal(tu_atomic_get(&f->nwrites), 1);
  assert_true(f->writes[0].status < 0);
  assert_true(f->closers[0].error < 0);
}

/* Write limits: EBUSY past max_bytes (nothing queued, no callback), and the
 * drain callback once the backlog falls back to the low watermark. */
static void on_drain(void *user_data) {
  struct fx *f = (struct fx *)user_data;
  size_t n = (size_t)-1;
  /* The backlog when it fires: at most the low watermark (checked by the
   * test thread, which does not depend on how much the kernel absorbs). */
  if (tu_atomic_get(&f->drained) == 0) {
    f->misc_rc[3] = squall_stream_write_buffer_size(f->stream, &n);
    f->drain_backlog = n;
  }
  tu_atomic_add(&f->drained, 1);
}

static void drain_release(void *user_data) {
  struct fx *f = (struct fx *)user_data;
  tu_atomic_add(&f->drain_released, 1);
}

#define LIMIT_CHUNK (64u * 1024)

static void accept_fill_to_limit(struct fx *f, squall_stream *s) {
  size_t n = 0;
  int i, rc = 0;
  f->misc_rc[0] = squall_stream_set_write_limits(
      s, 1u << 20, 256u * 1024, 64u * 1024, on_drain, f, drain_release);
  f->drain_registered = f->misc_rc[0] == SQUALL_OK;
  for (i = 0; i < 400; i++) {
    rc = squall_stream_write(s, f->big + (size_t)i * LIMIT_CHUNK, LIMIT_CHUNK,
                             on_write, (void *)(intptr_t)(i + 1));
    if (rc != SQUALL_OK) break;
  }
  f->misc_rc[1] = i; /* writes accepted */
  f->misc_rc[2] = rc;
  squall_stream_write_buffer_size(s, &n);
  f->buffered_after_write = n;
}

static void test_stream__write_limits_ebusy_and_drain(void **state) {
  struct fx *f = (struct fx *)*state;
  int fd, accepted;
  size_t want;
  char *all = NULL;
  ssize_t got;
  f->big_len = (size_t)400 * LIMIT_CHUNK;
  f->big = (unsigned char *)malloc(f->big_len);
  assert_non_null(f->big);
  fill_pattern(f->big, f->big_len);
  f->on_accept = accept_fill_to_limit;
  fx_start(f);
  fd = tu_connect_tcp_rcvbuf("127.0.0.1", f->port, SMALL_RCVBUF, 2000);
  assert_true(fd >= 0);
  assert_int_equal(tu_wait_int_ge(&f->accepted, 1, 3000), 0);
  assert_int_equal(f->misc_rc[0], SQUALL_OK);
  accepted = f->misc_rc[1];
  assert_true(accepted < 400); /* the limit was hit */
  assert_int_equal(f->misc_rc[2], SQUALL_EBUSY);
  assert_true(f->buffered_after_write <= (1u << 20));
  /* Above the high watermark (256 KiB) when the writes stopped: the drain
   * callback is owed, and (checked below) comes only at <= 64 KiB. */
  assert_true(f->buffered_after_write > 256u * 1024);
  /* Now read everything that was accepted: exactly those bytes. */
  want = (size_t)accepted * LIMIT_CHUNK;
  all = (char *)malloc(want + 1);
  assert_non_null(all);
  got = tu_recv_n_idle(fd, all, want, STALL_MS);
  assert_int_equal(got, (ssize_t)want);
  assert_memory_equal(all, f->big, want);
  free(all);
  assert_int_equal(tu_wait_int_ge(&f->nwrites, accepted, 3000), 0);
  assert_int_equal(tu_wait_int_ge(&f->drained, 1, 3000), 0);
  tu_sleep_ms(50);
  assert_int_equal(tu_atomic_get(&f->drained), 1);
  assert_int_equal(f->misc_rc[3], SQUALL_OK);
  assert_true(f->drain_backlog <= 64u * 1024); /* the low watermark */
  assert_int_equal(tu_atomic_get(&f->nwrites), accepted); /* EBUSY: no cb */
  assert_int_equal(f->writes[accepted - 1].id, accepted);
  assert_int_equal(f->drain_released, 0); /* still registered */
  close(fd);
}

/* ------------------------------------------------------------------------ */
/* Close callback replacement, peer address, one read at a time             */
/* ------------------------------------------------------------------------ */

static struct closer g_first_closer, g_second_closer;

static void accept_replace_close_cb(struct fx *f, squall_stream *s) {
  const char *p = NULL;
  size_t len = 0;
  /* on_stream already set closers[0]; replace it by another and back. */
  memset(&g_first_closer, 0, sizeof g_first_closer);
  memset(&g_second_closer, 0, sizeof g_second_closer);
  f->misc_rc[0] = squall_stream_set_close_callback(s, on_close, &g_first_closer,
                                                   tu_release_inc);
  f->misc_rc[1] = g_first_closer.released; /* not yet */
  f->misc_rc[2] = squall_stream_set_close_callback(
      s, on_close, &g_second_closer, tu_release_inc);
  f->misc_rc[3] = squall_stream_peer(s, &p, &len);
  if (p && len < sizeof f->peers[1]) {
    memcpy(f->peers[1], p, len);
    f->peers[1][len] = '\0';
  }
  /* One read pending at a time. */
  hook_read_until(f, s, "\n", 0);
  f->misc_rc[4] = squall_stream_read_bytes(s, 1, 0, on_read, f);
  f->misc_rc[5] = squall_stream_set_nodelay(s, 1);
}

static void test_stream__close_callback_replace_peer_one_read(void **state) {
  struct fx *f = (struct fx *)*state;
  struct sockaddr_in local;
  socklen_t llen = sizeof local;
  char expect[64];
  int fd;
  f->on_accept = accept_replace_close_cb;
  fx_start(f);
  fd = tu_connect_tcp("127.0.0.1", f->port, 2000);
  assert_true(fd >= 0);
  assert_int_equal(getsockname(fd, (struct sockaddr *)&local, &llen), 0);
  snprintf(expect, sizeof expect, "127.0.0.1:%u", ntohs(local.sin_port));
  assert_int_equal(tu_wait_int_ge(&f->accepted, 1, 3000), 0);
  assert_int_equal(f->misc_rc[0], SQUALL_OK);
  assert_int_equal(f->misc_rc[1], 0);
  assert_int_equal(f->misc_rc[2], SQUALL_OK);
  assert_int_equal(f->misc_rc[3], SQUALL_OK);
  assert_string_equal(f->peers[0], expect);
  assert_string_equal(f->peers[1], expect);
  assert_int_equal(f->read_rc[0], SQUALL_OK);
  assert_int_equal(f->misc_rc[4], SQUALL_ESTATE);
  assert_int_equal(f->misc_rc[5], SQUALL_OK);
  /* Replaced registrations are released once and never called. */
  assert_int_equal(tu_wait_int_ge(&f->closers[0].released, 1, 1000), 0);
  assert_int_equal(tu_wait_int_ge(&g_first_closer.released, 1, 1000), 0);
  assert_int_equal(g_second_closer.released, 0);
  assert_int_equal(tu_send_str(fd, "hi\n"), 0);
  assert_int_equal(tu_wait_int_ge(&f->nreads, 1, 3000), 0);
  assert_string_equal(f->reads[0].data, "hi\n");
  close(fd);
  assert_int_equal(tu_wait_int_ge(&g_second_closer.runs, 1, 3000), 0);
  assert_int_equal(g_second_closer.error, 0);
  assert_int_equal(tu_wait_int_ge(&g_second_closer.released, 1, 3000), 0);
  assert_int_equal(f->closers[0].runs, 0);
  assert_int_equal(g_first_closer.runs, 0);
  assert_int_equal(f->closers[0].released, 1);
  assert_int_equal(g_first_closer.released, 1);
  /* The failed read_bytes never ran: exactly one read callback. */
  tu_sleep_ms(30);
  assert_int_equal(tu_atomic_get(&f->nreads), 1);
}

/* ------------------------------------------------------------------------ */
/* squall_stream_connect (client side)                                      */
/* ------------------------------------------------------------------------ */

static void echo_accept(struct fx *f, squall_stream *s) {
  hook_read_until(f, s, "\n", 0);
}

static void echo_after_read(struct fx *f, int i) {
  if (f->reads[i].status == SQUALL_OK && f->stream)
    squall_stream_write(f->stream, f->reads[i].data, f->reads[i].len, NULL,
                        NULL);
}

struct client_rec {
  int status; /* read */
  char data[64];
  int runs; /* atomic */
};

static struct client_rec g_client_read;

static void on_client_read(int status, const char *data, size_t len,
                           void *user_data) {
  g_client_read.status = status;
  if (len >= sizeof g_client_read.data) len = sizeof g_client_read.data - 1;
  memcpy(g_client_read.data, data, len);
  g_client_read.data[len] = '\0';
  tu_atomic_add(&g_client_read.runs, 1);
}

static void on_connected(int status, void *user_data) {
  struct fx *f = (struct fx *)user_data;
  f->connect_status = status;
  if (status == SQUALL_OK) {
    squall_stream_write(f->client, "ping\n", 5, NULL, NULL);
    squall_stream_read_until(f->client, "\n", 1, 0, on_client_read, f);
  }
  tu_atomic_add(&f->connect_runs, 1);
}

static void start_connect(void *arg) {
  struct fx *f = (struct fx *)arg;
  f->misc_rc[0] = squall_stream_connect(&f->client, f->loop, "127.0.0.1",
                                        SQUALL_NTS, f->port, on_connected, f);
  if (f->client) {
    f->misc_rc[2] = squall_stream_set_close_callback(
        f->client, on_close, &f->client_closer, tu_release_inc);
    f->client_closer_registered = f->misc_rc[2] == SQUALL_OK;
  }
  f->misc_rc[1] = tu_atomic_get(&f->connect_runs);
}

static void test_stream__connect_echo(void **state) {
  struct fx *f = (struct fx *)*state;
  memset(&g_client_read, 0, sizeof g_client_read);
  f->on_accept = echo_accept;
  f->after_read = echo_after_read;
  fx_start(f);
  assert_int_equal(tu_loop_call_sync(f->loop, start_connect, f, 3000), 0);
  assert_int_equal(f->misc_rc[0], SQUALL_OK);
  assert_non_null(f->client);
  assert_int_equal(f->misc_rc[1], 0); /* not from inside connect */
  assert_int_equal(f->misc_rc[2], SQUALL_OK);
  assert_int_equal(tu_wait_int_ge(&f->connect_runs, 1, 3000), 0);
  assert_int_equal(f->connect_status, SQUALL_OK);
  assert_int_equal(tu_wait_int_ge(&g_client_read.runs, 1, 3000), 0);
  assert_int_equal(g_client_read.status, SQUALL_OK);
  assert_string_equal(g_client_read.data, "ping\n");
  tu_sleep_ms(20);
  assert_int_equal(tu_atomic_get(&f->connect_runs), 1);
  /* Teardown frees the client stream: its close release runs once. */
}

static void start_connect_refused(void *arg) {
  struct fx *f = (struct fx *)arg;
  f->misc_rc[0] =
      squall_stream_connect(&f->client, f->loop, "127.0.0.1", SQUALL_NTS,
                            (uint16_t)f->misc_rc[7], on_connected, f);
}

static void test_stream__connect_refused(void **state) {
  struct fx *f = (struct fx *)*state;
  struct sockaddr_in sin;
  socklen_t len = sizeof sin;
  int lfd;
  /* A port that was just free: bind, read the port, close. */
  lfd = socket(AF_INET, SOCK_STREAM, 0);
  assert_true(lfd >= 0);
  memset(&sin, 0, sizeof sin);
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(lfd, (struct sockaddr *)&sin, sizeof sin), 0);
  assert_int_equal(getsockname(lfd, (struct sockaddr *)&sin, &len), 0);
  f->misc_rc[7] = ntohs(sin.sin_port);
  close(lfd);
  fx_start(f);
  assert_int_equal(tu_loop_call_sync(f->loop, start_connect_refused, f, 3000),
                   0);
  assert_int_equal(f->misc_rc[0], SQUALL_OK);
  assert_int_equal(tu_wait_int_ge(&f->connect_runs, 1, 3000), 0);
  assert_int_equal(f->connect_status, SQUALL_EIO);
}

static void start_connect_unknown(void *arg) {
  struct fx *f = (struct fx *)arg;
  f->misc_rc[0] =
      squall_stream_connect(&f->client, f->loop, "no-such-host.invalid",
                            SQUALL_NTS, 80, on_connected, f);
  f->misc_rc[1] = (int)strlen(squall_last_error());
}

static void test_stream__connect_unknown_host(void **state) {
  struct fx *f = (struct fx *)*state;
  fx_start(f);
  assert_int_equal(tu_loop_call_sync(f->loop, start_connect_unknown, f, 10000),
                   0);
  /* Either refused at once (then no callback) or reported to the callback. */
  if (f->misc_rc[0] == SQUALL_OK) {
    assert_int_equal(tu_wait_int_ge(&f->connect_runs, 1, 10000), 0);
    assert_int_equal(f->connect_status, SQUALL_ENOTFOUND);
  } else {
    assert_int_equal(f->misc_rc[0], SQUALL_ENOTFOUND);
    assert_null(f->client);
    assert_true(f->misc_rc[1] > 0); /* squall_last_error on the loop thread */
    tu_sleep_ms(30);
    assert_int_equal(tu_atomic_get(&f->connect_runs), 0);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_stream__read_until_one_byte_writes,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(
          test_stream__read_until_delimiter_split_between_writes, setup,
          teardown),
      cmocka_unit_test_setup_teardown(
          test_stream__read_until_multibyte_delimiter, setup, teardown),
      cmocka_unit_test_setup_teardown(test_stream__read_bytes_exact_and_partial,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(
          test_stream__read_until_max_bytes_no_delimiter, setup, teardown),
      cmocka_unit_test_setup_teardown(
          test_stream__read_until_max_bytes_delimiter_too_late, setup,
          teardown),
      cmocka_unit_test_setup_teardown(
          test_stream__read_until_max_bytes_exactly_fits, setup, teardown),
      cmocka_unit_test_setup_teardown(
          test_stream__max_buffer_size_closes_with_etoobig, setup, teardown),
      cmocka_unit_test_setup_teardown(test_stream__read_until_close, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(
          test_stream__pending_read_fails_on_peer_close, setup, teardown),
      cmocka_unit_test_setup_teardown(
          test_stream__close_fails_pending_read_and_write, setup, teardown),
      cmocka_unit_test_setup_teardown(test_stream__writes_complete_in_order,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_stream__write_64mib_to_slow_reader,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_stream__peer_reset_mid_write, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_stream__write_limits_ebusy_and_drain,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(
          test_stream__close_callback_replace_peer_one_read, setup, teardown),
      cmocka_unit_test_setup_teardown(test_stream__connect_echo, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_stream__connect_refused, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_stream__connect_unknown_host, setup,
                                      teardown),
  };
  if (getenv("TEST_FILTER")) cmocka_set_test_filter(getenv("TEST_FILTER"));
  return cmocka_run_group_tests(tests, NULL, NULL);
}
