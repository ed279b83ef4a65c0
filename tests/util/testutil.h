/*
 * testutil.h -- shared helpers for squall's cmocka tests (C99, POSIX).
 *
 * What is here, and the pattern the C API tests follow:
 *
 *  - Loop in a background thread.  Set a loop up on the test thread while
 *    it is not running (servers, timers: every [loop thread] call is allowed
 *    then), start it with tu_loop_thread_start, drive it from the test
 *    thread with blocking sockets, and stop it with tu_loop_thread_stop
 *    (squall_loop_stop + join).  After the stop the test thread may make
 *    [loop thread] calls again (inspect, free).  While the loop runs, use
 *    tu_loop_call_sync to run a function on the loop thread and wait for it.
 *
 *  - Do not call cmocka's assert_* from a squall callback: a failing assert
 *    longjmps across the library's frames.  Record what happened in the
 *    callback (counters, copies of data) and assert on the test thread.
 *
 *  - Blocking raw TCP / unix-socket clients: connect, send everything,
 *    receive with a timeout until N bytes, a delimiter or EOF.  All timeouts
 *    are in milliseconds and are overall deadlines, not per-recv.
 *
 *  - Counters shared between the loop thread and the test thread: use
 *    tu_atomic_* and tu_wait_int_ge / tu_wait_until, which poll with a
 *    deadline so a broken library fails the test instead of hanging it.
 *
 *  - Release accounting: tu_release_inc(p) increments the int at p; pass
 *    the address of a counter (or of a struct whose first member is an int
 *    counter) as user_data and check it equals 1 at teardown.
 *
 * None of these helpers calls cmocka; they return -1 (and leave errno) on
 * failure so the caller asserts with its own message.
 */
#ifndef SQUALL_TESTS_TESTUTIL_H
#define SQUALL_TESTS_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <squall/squall.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Time                                                                     */
/* ------------------------------------------------------------------------ */

/** Monotonic clock in milliseconds (CLOCK_MONOTONIC). */
int64_t tu_now_ms(void);

/** Monotonic clock in microseconds. */
int64_t tu_now_us(void);

/** Sleep ms milliseconds (restarts on EINTR). */
void tu_sleep_ms(int64_t ms);

/**
 * CPU time (user + system) consumed by the whole process so far, in
 * microseconds (CLOCK_PROCESS_CPUTIME_ID; every thread counts).  Take it
 * before and after a window and compare with tu_now_us over the same
 * window to see whether something spins.
 */
int64_t tu_process_cpu_us(void);

/* ------------------------------------------------------------------------ */
/* Atomics and waiting                                                      */
/* ------------------------------------------------------------------------ */

/** Sequentially consistent load / add / store on a plain int. */
int tu_atomic_get(const int *p);
int tu_atomic_add(int *p, int delta); /* returns the new value */
void tu_atomic_set(int *p, int value);

/** Release function for squall_*: increments the int at user_data. */
void tu_release_inc(void *user_data);

/**
 * Poll (every ~1 ms) until *p >= value or timeout_ms passed.  Returns 0 if
 * reached, -1 on timeout.
 */
int tu_wait_int_ge(const int *p, int value, int timeout_ms);

/** Poll until pred(arg) returns non-zero; 0 if it did, -1 on timeout. */
int tu_wait_until(int (*pred)(void *arg), void *arg, int timeout_ms);

/* ------------------------------------------------------------------------ */
/* A squall loop in a background thread                                    */
/* ------------------------------------------------------------------------ */

typedef struct tu_loop_thread tu_loop_thread;

/**
 * Start a thread that calls squall_loop_run(loop) and waits until that
 * thread is inside run (one call_soon round trip), so that thread-safe
 * calls made afterwards reach a running loop.  Returns 0 or -1 (thread
 * creation failed, or the loop did not start within 5 s).
 */
int tu_loop_thread_start(tu_loop_thread **out, squall_loop *loop);

/**
 * Wait up to timeout_ms for squall_loop_run to return on its own (someone
 * called squall_loop_stop).  Returns 0 if it returned, -1 on timeout.
 */
int tu_loop_thread_wait_exit(tu_loop_thread *t, int timeout_ms);

/**
 * squall_loop_stop (unless run already returned: a stop while not running
 * would carry over to the next run), join the thread and free t.  Returns what
 * squall_loop_run returned (0 after a stop), or -1000 if run did not return
 * within 10 s (then the thread is left running, detached: the test failed).
 */
int tu_loop_thread_stop(tu_loop_thread *t);

/** The thread id of the loop thread (for "which thread ran this" checks). */
int tu_loop_thread_is_current(const tu_loop_thread *t);

/**
 * Run fn(arg) on the loop thread (squall_loop_call_soon) and wait up to
 * timeout_ms for it to return.  Returns 0, or -1 if call_soon failed or fn
 * did not finish in time (fn may then still run later, so arg must outlive
 * the loop in that case).
 */
int tu_loop_call_sync(squall_loop *loop, void (*fn)(void *arg), void *arg,
                      int timeout_ms);

/* ------------------------------------------------------------------------ */
/* Plain threads                                                            */
/* ------------------------------------------------------------------------ */

typedef struct tu_thread tu_thread;

/** Start fn(arg) in a new thread.  Returns 0 or -1. */
int tu_thread_start(tu_thread **out, void *(*fn)(void *arg), void *arg);

/** Join and free; *ret (may be NULL) receives fn's return value. */
int tu_thread_join(tu_thread *t, void **ret);

/* ------------------------------------------------------------------------ */
/* Blocking socket clients                                                  */
/* ------------------------------------------------------------------------ */

/**
 * Connect a blocking TCP socket to host:port, host a numeric address
 * ("127.0.0.1", "::1").  Waits at most timeout_ms for the connection.
 * Returns the fd or -1 (errno set).
 */
int tu_connect_tcp(const char *host, uint16_t port, int timeout_ms);

/**
 * tu_connect_tcp with SO_RCVBUF set to rcvbuf bytes BEFORE connect(), so
 * the window scale and the peer's MSS clamp are negotiated for the small
 * buffer (socket(7), tcp(7)).  Shrinking SO_RCVBUF on an established
 * connection instead leaves the sender with an MSS larger than the window
 * the receiver can ever advertise again; on loopback (MTU 65536) the
 * connection can then fall into one segment per 200 ms probe timer
 * (~160 KiB/s) and stay there.  rcvbuf <= 0: the system default.
 */
int tu_connect_tcp_rcvbuf(const char *host, uint16_t port, int rcvbuf,
                          int timeout_ms);

/** Connect a blocking AF_UNIX stream socket to path.  fd or -1. */
int tu_connect_unix(const char *path);

/**
 * 1 if this machine can bind and connect on ::1 (IPv6 loopback), else 0.
 * Tests use it to skip their v6 half gracefully.
 */
int tu_have_ipv6_loopback(void);

/** Send all len bytes (MSG_NOSIGNAL).  0, or -1 on error. */
int tu_send_all(int fd, const void *buf, size_t len);

/** tu_send_all of a NUL-terminated string. */
int tu_send_str(int fd, const char *s);

/**
 * Receive until exactly n bytes arrived, EOF, an error or the deadline.
 * Returns the number of bytes stored in buf (< n means EOF, error or
 * timeout; errno is ETIMEDOUT on timeout, 0 on EOF).
 */
ssize_t tu_recv_n(int fd, void *buf, size_t n, int timeout_ms);

/**
 * tu_recv_n for bulk transfers: no overall deadline, it gives up only when
 * no byte arrived for idle_ms (a stall, not a slow machine).  Returns the
 * number of bytes stored (< n means EOF, error or a stall).
 */
ssize_t tu_recv_n_idle(int fd, void *buf, size_t n, int idle_ms);

/**
 * Receive until buf holds delim (delim_len bytes), cap bytes, EOF, an
 * error or the deadline.  Consumes exactly up to the end of the delimiter
 * (it peeks first), so bytes that follow stay in the socket for the next
 * call.  buf is NUL-terminated when there is room.  Returns the number of
 * bytes stored (ending with delim) or -1 if the delimiter was not seen
 * (errno ETIMEDOUT, EMSGSIZE when cap was reached, 0 on EOF).
 */
ssize_t tu_recv_until(int fd, char *buf, size_t cap, const char *delim,
                      size_t delim_len, int timeout_ms);

/**
 * Receive everything until the peer closes (EOF) or the deadline, into a
 * malloc'd buffer (*out, NUL-terminated, free with free()).  Returns the
 * length, or -1 on timeout/error (then *out holds what arrived, or NULL).
 * A connection reset after data counts as the end (the length is
 * returned, errno is ECONNRESET).
 */
ssize_t tu_recv_until_eof(int fd, char **out, int timeout_ms);

/**
 * Wait up to timeout_ms for the peer to close: returns 1 on EOF or reset
 * (reading and discarding bytes that arrive first), 0 on timeout.
 */
int tu_wait_peer_close(int fd, int timeout_ms);

/** Set SO_LINGER {1, 0}: close() then sends a RST instead of a FIN. */
int tu_set_linger_reset(int fd);

/** Number of open file descriptors of this process (/proc/self/fd). */
int tu_count_open_fds(void);

#ifdef __cplusplus
}
#endif
#endif /* SQUALL_TESTS_TESTUTIL_H */
