/*
 * tcp_echo.c -- a line-echo server over squall's C API.
 *
 *   tcp_echo [--address 127.0.0.1] [--port 8888]
 *   printf 'hi\n' | nc 127.0.0.1 8888
 *
 * Every accepted connection reads a line (squall_stream_read_until "\n"),
 * writes it back and reads the next, until the client closes.  Port 0 picks
 * a free port; the port actually bound is printed.  SIGINT/SIGTERM stop the
 * loop (from a thread that waits for them: squall_loop_stop is
 * thread-safe), and everything is freed on the way out.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <squall/squall.h>

#define MAX_LINE (64 * 1024) /* a longer line closes the connection */

/* One client connection, in a list so that shutdown can close them all. */
struct conn {
  squall_stream *stream;
  struct conn *prev, *next;
};

static struct conn *g_conns;

static void on_line(int status, const char *data, size_t len, void *user_data);

static void read_line(struct conn *c) {
  int rc = squall_stream_read_until(c->stream, "\n", 1, MAX_LINE, on_line, c);
  if (rc != SQUALL_OK) squall_stream_close(c->stream);
}

static void on_line(int status, const char *data, size_t len, void *user_data) {
  struct conn *c = (struct conn *)user_data;
  if (status != SQUALL_OK)
    return; /* closed or line too long: the close callback cleans up */
  if (squall_stream_write(c->stream, data, len, NULL, NULL) != SQUALL_OK) {
    squall_stream_close(c->stream);
    return;
  }
  read_line(c);
}

/* The stream closed (client gone, error, or shutdown): free it. */
static void on_close(int error, void *user_data) {
  struct conn *c = (struct conn *)user_data;
  if (error != 0)
    fprintf(stderr, "tcp_echo: connection closed: %s\n",
            squall_strerror(error));
  squall_stream_free(c->stream);
  c->stream = NULL;
}

/* Runs once, after on_close (or when the stream is freed). */
static void on_close_release(void *user_data) {
  struct conn *c = (struct conn *)user_data;
  if (c->prev)
    c->prev->next = c->next;
  else
    g_conns = c->next;
  if (c->next) c->next->prev = c->prev;
  free(c);
}

static void on_stream(squall_stream *stream, const char *peer, size_t peer_len,
                      void *user_data) {
  struct conn *c = (struct conn *)calloc(1, sizeof *c);
  (void)peer;
  (void)peer_len;
  (void)user_data;
  if (!c) {
    squall_stream_free(stream);
    return;
  }
  c->stream = stream;
  c->next = g_conns;
  if (g_conns) g_conns->prev = c;
  g_conns = c;
  if (squall_stream_set_close_callback(stream, on_close, c, on_close_release) !=
      SQUALL_OK) {
    on_close(0, c);
    on_close_release(c);
    return;
  }
  read_line(c);
}

/* SIGINT/SIGTERM are blocked in every thread; this one waits for them. */
static void *signal_thread(void *arg) {
  squall_loop *loop = (squall_loop *)arg;
  sigset_t set;
  int sig = 0;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  if (sigwait(&set, &sig) == 0) squall_loop_stop(loop);
  return NULL;
}

static void usage(const char *argv0) {
  fprintf(stderr, "usage: %s [--address ADDR] [--port PORT]\n", argv0);
}

int main(int argc, char **argv) {
  const char *address = "127.0.0.1";
  long port = 8888;
  squall_loop *loop = NULL;
  squall_tcp_server *srv = NULL;
  uint16_t bound = 0;
  pthread_t sig_thread;
  sigset_t set;
  int i, rc;

  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--address") == 0 && i + 1 < argc) {
      address = argv[++i];
    } else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
      char *end = NULL;
      errno = 0;
      port = strtol(argv[++i], &end, 10);
      if (errno || !end || *end || port < 0 || port > 65535) {
        fprintf(stderr, "tcp_echo: bad port '%s'\n", argv[i]);
        return 2;
      }
    } else {
      usage(argv[0]);
      return 2;
    }
  }

  /* Block the stop signals before any thread exists, so that only
   * signal_thread receives them. */
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, NULL);

  if ((rc = squall_loop_new(&loop)) != SQUALL_OK ||
      (rc = squall_tcp_server_new(&srv, loop, on_stream, NULL, NULL)) !=
          SQUALL_OK ||
      (rc = squall_tcp_server_listen(srv, address, SQUALL_NTS, (int)port)) !=
          SQUALL_OK ||
      (rc = squall_tcp_server_port(srv, &bound)) != SQUALL_OK) {
    fprintf(stderr, "tcp_echo: cannot listen on %s port %ld: %s (%s)\n",
            address, port, squall_strerror(rc), squall_last_error());
    squall_tcp_server_free(srv);
    squall_loop_free(loop);
    return 1;
  }
  if (strchr(address, ':'))
    printf("tcp_echo: listening on [%s]:%u\n", address, (unsigned)bound);
  else
    printf("tcp_echo: listening on %s:%u\n", address, (unsigned)bound);
  fflush(stdout);

  if (pthread_create(&sig_thread, NULL, signal_thread, loop) != 0) {
    fprintf(stderr, "tcp_echo: cannot start the signal thread\n");
    return 1;
  }
  rc = squall_loop_run(loop);

  /* Shut down: no new connections, close the open ones (their close
   * callbacks free them, run by squall_loop_free), free the loop. */
  squall_tcp_server_free(srv);
  {
    struct conn *c;
    for (c = g_conns; c; c = c->next)
      if (c->stream) squall_stream_close(c->stream);
  }
  if (squall_loop_free(loop) != SQUALL_OK)
    fprintf(stderr, "tcp_echo: loop free failed: %s\n", squall_last_error());
  pthread_kill(sig_thread, SIGTERM); /* if it is still waiting */
  pthread_join(sig_thread, NULL);
  printf("tcp_echo: stopped\n");
  return rc == SQUALL_OK ? 0 : 1;
}
