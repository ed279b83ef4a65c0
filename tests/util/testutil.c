/* testutil.c -- see testutil.h. */
#define _GNU_SOURCE
#include "testutil.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------------ */
/* Time                                                                     */
/* ------------------------------------------------------------------------ */

static int64_t ts_us(clockid_t clk) {
  struct timespec ts;
  clock_gettime(clk, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t tu_now_us(void) {
  return ts_us(CLOCK_MONOTONIC);
}
int64_t tu_now_ms(void) {
  return ts_us(CLOCK_MONOTONIC) / 1000;
}
int64_t tu_process_cpu_us(void) {
  return ts_us(CLOCK_PROCESS_CPUTIME_ID);
}

void tu_sleep_ms(int64_t ms) {
  struct timespec ts;
  if (ms <= 0) return;
  ts.tv_sec = (time_t)(ms / 1000);
  ts.tv_nsec = (long)(ms % 1000) * 1000000L;
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* ------------------------------------------------------------------------ */
/* Atomics and waiting                                                      */
/* ------------------------------------------------------------------------ */

int tu_atomic_get(const int *p) {
  return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

int tu_atomic_add(int *p, int delta) {
  return __atomic_add_fetch(p, delta, __ATOMIC_SEQ_CST);
}

void tu_atomic_set(int *p, int value) {
  __atomic_store_n(p, value, __ATOMIC_SEQ_CST);
}

void tu_release_inc(void *user_data) {
  if (user_data) tu_atomic_add((int *)user_data, 1);
}

int tu_wait_int_ge(const int *p, int value, int timeout_ms) {
  int64_t deadline = tu_now_ms() + timeout_ms;
  for (;;) {
    if (tu_atomic_get(p) >= value) return 0;
    if (tu_now_ms() >= deadline) return -1;
    tu_sleep_ms(1);
  }
}

int tu_wait_until(int (*pred)(void *arg), void *arg, int timeout_ms) {
  int64_t deadline = tu_now_ms() + timeout_ms;
  for (;;) {
    if (pred(arg)) return 0;
    if (tu_now_ms() >= deadline) return -1;
    tu_sleep_ms(1);
  }
}

/* ------------------------------------------------------------------------ */
/* Loop thread                                                              */
/* ------------------------------------------------------------------------ */

struct tu_loop_thread {
  squall_loop *loop;
  pthread_t thread;
  int run_rc;
  int exited;  /* atomic */
  int started; /* atomic: set by a call_soon from inside run */
};

static void *loop_thread_main(void *arg) {
  tu_loop_thread *t = (tu_loop_thread *)arg;
  t->run_rc = squall_loop_run(t->loop);
  tu_atomic_set(&t->exited, 1);
  return NULL;
}

static void mark_started(void *arg) {
  tu_atomic_set(&((tu_loop_thread *)arg)->started, 1);
}

int tu_loop_thread_start(tu_loop_thread **out, squall_loop *loop) {
  tu_loop_thread *t = (tu_loop_thread *)calloc(1, sizeof *t);
  *out = NULL;
  if (!t) return -1;
  t->loop = loop;
  /* Queued before run starts: runs once the loop is running. */
  if (squall_loop_call_soon(loop, mark_started, t) != 0) {
    free(t);
    return -1;
  }
  if (pthread_create(&t->thread, NULL, loop_thread_main, t) != 0) {
    free(t);   /* mark_started then runs in squall_loop_free: t is gone. */
    return -1; /* (a test that gets here has failed anyway) */
  }
  if (tu_wait_int_ge(&t->started, 1, 5000) != 0) {
    squall_loop_stop(loop);
    pthread_detach(t->thread);
    return -1;
  }
  *out = t;
  return 0;
}

int tu_loop_thread_wait_exit(tu_loop_thread *t, int timeout_ms) {
  return tu_wait_int_ge(&t->exited, 1, timeout_ms);
}

int tu_loop_thread_stop(tu_loop_thread *t) {
  int rc;
  if (!t) return -1000;
  /* Only stop a loop that still runs: a stop requested while it is not
   * running would make its next run return at once (Tornado's rule). */
  if (!tu_atomic_get(&t->exited)) squall_loop_stop(t->loop);
  if (tu_wait_int_ge(&t->exited, 1, 10000) != 0) {
    pthread_detach(t->thread);
    return -1000; /* leak t: the thread still uses it */
  }
  pthread_join(t->thread, NULL);
  rc = t->run_rc;
  free(t);
  return rc;
}

int tu_loop_thread_is_current(const tu_loop_thread *t) {
  return pthread_equal(pthread_self(), t->thread);
}

struct call_sync {
  void (*fn)(void *);
  void *arg;
  int done; /* atomic */
  int refs; /* atomic: the waiter and the callback */
};

static void call_sync_unref(struct call_sync *c) {
  if (tu_atomic_add(&c->refs, -1) == 0) free(c);
}

static void call_sync_run(void *p) {
  struct call_sync *c = (struct call_sync *)p;
  c->fn(c->arg);
  tu_atomic_set(&c->done, 1);
  call_sync_unref(c);
}

int tu_loop_call_sync(squall_loop *loop, void (*fn)(void *arg), void *arg,
                      int timeout_ms) {
  int rc;
  struct call_sync *c = (struct call_sync *)calloc(1, sizeof *c);
  if (!c) return -1;
  c->fn = fn;
  c->arg = arg;
  c->refs = 2;
  if (squall_loop_call_soon(loop, call_sync_run, c) != 0) {
    free(c);
    return -1;
  }
  rc = tu_wait_int_ge(&c->done, 1, timeout_ms);
  call_sync_unref(c);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* Plain threads                                                            */
/* ------------------------------------------------------------------------ */

struct tu_thread {
  pthread_t thread;
};

int tu_thread_start(tu_thread **out, void *(*fn)(void *arg), void *arg) {
  tu_thread *t = (tu_thread *)calloc(1, sizeof *t);
  *out = NULL;
  if (!t) return -1;
  if (pthread_create(&t->thread, NULL, fn, arg) != 0) {
    free(t);
    return -1;
  }
  *out = t;
  return 0;
}

int tu_thread_join(tu_thread *t, void **ret) {
  int rc;
  if (!t) return -1;
  rc = pthread_join(t->thread, ret);
  free(t);
  return rc == 0 ? 0 : -1;
}

/* ------------------------------------------------------------------------ */
/* Sockets                                                                  */
/* ------------------------------------------------------------------------ */

static int wait_fd(int fd, short events, int64_t deadline_ms) {
  for (;;) {
    struct pollfd p;
    int64_t left = deadline_ms - tu_now_ms();
    int r;
    if (left < 0) left = 0;
    p.fd = fd;
    p.events = events;
    p.revents = 0;
    r = poll(&p, 1, (int)left);
    if (r > 0) return 0;
    if (r == 0) {
      errno = ETIMEDOUT;
      return -1;
    }
    if (errno != EINTR) return -1;
  }
}

static int connect_with_timeout(int fd, const struct sockaddr *sa,
                                socklen_t len, int timeout_ms) {
  int flags = fcntl(fd, F_GETFL);
  int err = 0;
  socklen_t elen = sizeof err;
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) return -1;
  if (connect(fd, sa, len) != 0) {
    if (errno != EINPROGRESS) return -1;
    if (wait_fd(fd, POLLOUT, tu_now_ms() + timeout_ms) != 0) return -1;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0) return -1;
    if (err != 0) {
      errno = err;
      return -1;
    }
  }
  return fcntl(fd, F_SETFL, flags);
}

int tu_connect_tcp(const char *host, uint16_t port, int timeout_ms) {
  return tu_connect_tcp_rcvbuf(host, port, 0, timeout_ms);
}

int tu_connect_tcp_rcvbuf(const char *host, uint16_t port, int rcvbuf,
                          int timeout_ms) {
  struct sockaddr_in6 sin6;
  struct sockaddr_in sin;
  const struct sockaddr *sa;
  socklen_t len;
  int fd, family;
  memset(&sin, 0, sizeof sin);
  memset(&sin6, 0, sizeof sin6);
  if (inet_pton(AF_INET, host, &sin.sin_addr) == 1) {
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    sa = (const struct sockaddr *)&sin;
    len = sizeof sin;
    family = AF_INET;
  } else if (inet_pton(AF_INET6, host, &sin6.sin6_addr) == 1) {
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(port);
    sa = (const struct sockaddr *)&sin6;
    len = sizeof sin6;
    family = AF_INET6;
  } else {
    errno = EINVAL;
    return -1;
  }
  fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (rcvbuf > 0 &&
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  if (connect_with_timeout(fd, sa, len, timeout_ms) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

int tu_connect_unix(const char *path) {
  struct sockaddr_un sun;
  int fd;
  if (strlen(path) >= sizeof sun.sun_path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  memset(&sun, 0, sizeof sun);
  sun.sun_family = AF_UNIX;
  memcpy(sun.sun_path, path, strlen(path) + 1);
  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (connect(fd, (const struct sockaddr *)&sun, sizeof sun) != 0) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

int tu_have_ipv6_loopback(void) {
  struct sockaddr_in6 sin6;
  socklen_t len = sizeof sin6;
  int ok = 0;
  int lfd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (lfd < 0) return 0;
  memset(&sin6, 0, sizeof sin6);
  sin6.sin6_family = AF_INET6;
  sin6.sin6_addr = in6addr_loopback;
  if (bind(lfd, (struct sockaddr *)&sin6, sizeof sin6) == 0 &&
      listen(lfd, 1) == 0 &&
      getsockname(lfd, (struct sockaddr *)&sin6, &len) == 0) {
    int cfd = tu_connect_tcp("::1", ntohs(sin6.sin6_port), 1000);
    if (cfd >= 0) {
      ok = 1;
      close(cfd);
    }
  }
  close(lfd);
  return ok;
}

int tu_send_all(int fd, const void *buf, size_t len) {
  const char *p = (const char *)buf;
  while (len > 0) {
    ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

int tu_send_str(int fd, const char *s) {
  return tu_send_all(fd, s, strlen(s));
}

ssize_t tu_recv_n(int fd, void *buf, size_t n, int timeout_ms) {
  int64_t deadline = tu_now_ms() + timeout_ms;
  size_t got = 0;
  while (got < n) {
    ssize_t r;
    if (wait_fd(fd, POLLIN, deadline) != 0) break;
    r = recv(fd, (char *)buf + got, n - got, MSG_DONTWAIT);
    if (r == 0) {
      errno = 0;
      break;
    }
    if (r < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      break;
    }
    got += (size_t)r;
  }
  return (ssize_t)got;
}

ssize_t tu_recv_n_idle(int fd, void *buf, size_t n, int idle_ms) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = tu_recv_n(fd, (char *)buf + got, n - got, idle_ms);
    got += (size_t)r;
    if (r == 0) /* nothing for idle_ms, EOF or an error */
      break;
  }
  return (ssize_t)got;
}

static const char *find_bytes(const char *hay, size_t hay_len,
                              const char *needle, size_t needle_len) {
  size_t i;
  if (needle_len == 0 || hay_len < needle_len) return NULL;
  for (i = 0; i + needle_len <= hay_len; i++)
    if (memcmp(hay + i, needle, needle_len) == 0) return hay + i;
  return NULL;
}

ssize_t tu_recv_until(int fd, char *buf, size_t cap, const char *delim,
                      size_t delim_len, int timeout_ms) {
  int64_t deadline = tu_now_ms() + timeout_ms;
  size_t len = 0;
  size_t room = cap > 0 ? cap - 1 : 0; /* keep one byte for the NUL */
  if (cap > 0) buf[0] = '\0';
  while (len < room) {
    ssize_t r;
    size_t from, take;
    const char *hit;
    if (wait_fd(fd, POLLIN, deadline) != 0) return -1;
    r = recv(fd, buf + len, room - len, MSG_PEEK | MSG_DONTWAIT);
    if (r == 0) {
      errno = 0;
      return -1;
    }
    if (r < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      return -1;
    }
    from = len >= delim_len ? len - (delim_len - 1) : 0;
    hit = find_bytes(buf + from, len + (size_t)r - from, delim, delim_len);
    take = hit ? (size_t)(hit - buf) + delim_len - len : (size_t)r;
    /* Consume exactly what we keep; it is already in the socket buffer. */
    if (tu_recv_n(fd, buf + len, take, 1000) != (ssize_t)take) return -1;
    len += take;
    buf[len] = '\0';
    if (hit) return (ssize_t)len;
  }
  errno = EMSGSIZE;
  return -1;
}

ssize_t tu_recv_until_eof(int fd, char **out, int timeout_ms) {
  int64_t deadline = tu_now_ms() + timeout_ms;
  size_t len = 0, cap = 4096;
  char *buf = (char *)malloc(cap + 1);
  *out = NULL;
  if (!buf) return -1;
  for (;;) {
    ssize_t r;
    if (len == cap) {
      char *nb = (char *)realloc(buf, cap * 2 + 1);
      if (!nb) {
        buf[len] = '\0';
        *out = buf;
        return -1;
      }
      buf = nb;
      cap *= 2;
    }
    if (wait_fd(fd, POLLIN, deadline) != 0) {
      buf[len] = '\0';
      *out = buf;
      return -1;
    }
    r = recv(fd, buf + len, cap - len, MSG_DONTWAIT);
    if (r == 0) break;
    if (r < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      if (errno == ECONNRESET) break;
      buf[len] = '\0';
      *out = buf;
      return -1;
    }
    len += (size_t)r;
  }
  buf[len] = '\0';
  *out = buf;
  return (ssize_t)len;
}

int tu_wait_peer_close(int fd, int timeout_ms) {
  int64_t deadline = tu_now_ms() + timeout_ms;
  char sink[4096];
  for (;;) {
    ssize_t r;
    if (wait_fd(fd, POLLIN, deadline) != 0) return 0;
    r = recv(fd, sink, sizeof sink, MSG_DONTWAIT);
    if (r == 0) return 1;
    if (r < 0 && errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK)
      return 1;
  }
}

int tu_set_linger_reset(int fd) {
  struct linger l;
  l.l_onoff = 1;
  l.l_linger = 0;
  return setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
}

int tu_count_open_fds(void) {
  int n = 0;
  struct dirent *e;
  DIR *d = opendir("/proc/self/fd");
  if (!d) return -1;
  while ((e = readdir(d)) != NULL)
    if (e->d_name[0] != '.') n++;
  closedir(d);
  return n - 1; /* the directory's own fd */
}
