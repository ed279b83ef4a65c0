/*
 * httputil -- helpers for the HTTP C API tests (tests/capi/test_http_*.c).
 *
 * Server side: hu_server wraps a squall_server on 127.0.0.1, port 0, whose
 * loop runs in a background thread.  The test picks a handler (or the
 * default one, which answers 200 "METHOD URI BODYLEN\n"), optional headers,
 * access and error hooks, and config options before hu_server_start.  Every
 * handler call is recorded (count and URI, in order) so a test can prove a
 * hidden request was never dispatched.
 *
 * Client side: hu_conn is a raw blocking-with-timeout TCP client with its
 * own receive buffer, so pipelined responses can be read one by one.
 * hu_read_response honours 1xx, HEAD, 204/304, Content-Length, chunked and
 * close-delimited framing.
 *
 * Nothing here calls cmocka assertions: helpers return codes and the test
 * (on the main thread) asserts.
 */
#ifndef SQUALL_TESTS_HTTPUTIL_H
#define SQUALL_TESTS_HTTPUTIL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include <squall/squall.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Generous timeouts for a loaded 2-core machine. */
#define HU_TIMEOUT_MS 10000
#define HU_CLOSE_TIMEOUT_MS 5000
#define HU_MAX_RECORDS 512

typedef struct hu_server hu_server;
typedef void (*hu_handler_fn)(hu_server *s, squall_request *req);

typedef struct hu_access_rec {
  char method[16];
  char target[256];
  int status;
  uint64_t bytes_sent;
  uint64_t duration_us;
  char peer[64];
} hu_access_rec;

typedef struct hu_error_rec {
  int kind;
  int http_status;
  char msg[256];
  char peer[64];
} hu_error_rec;

struct hu_server {
  squall_loop *loop;
  squall_server *srv;
  squall_config *cfg; /* set options on it before hu_server_start */
  pthread_t thread;
  int thread_started;
  int run_rc;
  uint16_t port;

  /* What to install (set before hu_server_start). */
  hu_handler_fn handler;      /* NULL: hu_default_handler */
  hu_handler_fn headers_hook; /* NULL: none installed */
  int want_access_hook;
  int want_error_hook;
  void *user; /* free for the test */

  pthread_mutex_t mu;
  pthread_cond_t cv;

  /* Records (under mu). */
  int handler_calls;
  char *paths[HU_MAX_RECORDS]; /* URI of each handler call, in order */
  int headers_hook_calls;
  int access_calls;
  hu_access_rec access[64];
  int error_calls;
  hu_error_rec errors[64];

  /* Release callbacks seen (checked by hu_server_stop's caller). */
  int handler_release;
  int headers_hook_release;
  int access_release;
  int error_release;
};

/* Create loop + config (defaults).  NULL on failure. */
hu_server *hu_server_new(void);
/* Create the squall_server from s->cfg with the chosen hooks, listen on
 * 127.0.0.1:0, record the port and run the loop in a thread.  0 or a
 * squall error code. */
int hu_server_start(hu_server *s);
/* Free the server on its loop, stop the loop, join it, free the loop.
 * Returns 0 if everything went as the header promises (run returned 0,
 * every installed release callback ran exactly once), else -1. */
int hu_server_stop(hu_server *s);
/* hu_server_stop if started, then free everything. */
void hu_server_free(hu_server *s);
/* hu_server_stop, then hu_server_free; returns what hu_server_stop did. */
int hu_server_finish(hu_server *s);

/* Block until at least n handler calls were recorded (or timeout).
 * Returns the count seen. */
int hu_server_wait_calls(hu_server *s, int n, int timeout_ms);
int hu_server_calls(hu_server *s);
/* How many handler calls had exactly this URI. */
int hu_server_count_uri(hu_server *s, const char *uri);
/* Same, counting only handler calls with index >= from. */
int hu_server_count_uri_since(hu_server *s, const char *uri, int from);
/* Copy the URI of handler call i (0-based) into out; 0 or -1. */
int hu_server_uri_at(hu_server *s, int i, char *out, size_t outsz);
/* Block until at least n access / error hook calls. Returns the count. */
int hu_server_wait_access(hu_server *s, int n, int timeout_ms);
int hu_server_wait_errors(hu_server *s, int n, int timeout_ms);
/* Read one stats counter ([any thread]); UINT64_MAX on error. */
uint64_t hu_server_stat(hu_server *s, int index);
/* Wait until stat index reaches at least v.  Returns the last value. */
uint64_t hu_server_wait_stat(hu_server *s, int index, uint64_t v,
                             int timeout_ms);
/* Run fn(arg) on the loop thread and wait for it.  0 or error. */
int hu_server_run_on_loop(hu_server *s, void (*fn)(void *), void *arg);

/* The default handler: 200 text/plain "METHOD URI BODYLEN\n". */
void hu_default_handler(hu_server *s, squall_request *req);

/* Echo handler: 200 application/octet-stream with the request body. */
void hu_echo_handler(hu_server *s, squall_request *req);
/* Respond (status, text/plain, body) from a new detached thread after
 * delay_ms.  0 or -1 if the thread could not start. */
int hu_respond_later(squall_request *req, int delay_ms, int status,
                     const char *body, size_t len);

/* Copy a request field / header into out as a C string (truncated).
 * Return the squall code. */
int hu_req_field(const squall_request *req, int field, char *out, size_t outsz);
int hu_req_header(const squall_request *req, const char *name, char *out,
                  size_t outsz);

/* ---------------------------------------------------------------------- */
/* Raw client                                                              */
/* ---------------------------------------------------------------------- */

typedef struct hu_conn {
  int fd;
  char *buf; /* received, not yet consumed */
  size_t len;
  size_t cap;
  int eof;         /* peer closed (EOF or reset) */
  size_t total_in; /* bytes received over the connection's life */
} hu_conn;

typedef struct hu_response {
  int status;
  int minor;  /* HTTP/1.<minor> */
  char *head; /* status line + header lines, NUL-terminated */
  size_t head_len;
  char *body; /* decoded body, NUL-terminated (may contain NULs) */
  size_t body_len;
  int chunked;
  int has_content_length;
  long long content_length;
  int close_delimited;
} hu_response;

enum {
  HU_OK = 0,
  HU_ETIMEOUT = -1, /* nothing complete within the timeout */
  HU_ECLOSED = -2,  /* peer closed before a complete response */
  HU_EBAD = -3      /* not an HTTP response */
};

int hu_connect(hu_conn *c, uint16_t port);
void hu_close(hu_conn *c);
/* Shut down our write side (FIN) but keep reading. */
void hu_shutdown_write(hu_conn *c);
int hu_send(hu_conn *c, const void *data, size_t len);
int hu_send_str(hu_conn *c, const char *s);
/* Read more bytes into c->buf, waiting up to timeout_ms.  >0: bytes read;
 * 0: peer closed; -1: timeout or error. */
int hu_fill(hu_conn *c, int timeout_ms);
/* Wait until c->buf holds at least n bytes.  0 or HU_ETIMEOUT/HU_ECLOSED. */
int hu_wait_bytes(hu_conn *c, size_t n, int timeout_ms);
/* Drop the first n buffered bytes. */
void hu_consume(hu_conn *c, size_t n);

/* Read one response (a 1xx is returned as a response of its own).
 * head_request: the request was HEAD (no body follows). */
int hu_read_response(hu_conn *c, hu_response *r, int head_request,
                     int timeout_ms);
void hu_response_free(hu_response *r);
/* Copy the first value of header name (case-insensitive) into out; 1 if
 * found, 0 if not. */
int hu_header(const hu_response *r, const char *name, char *out, size_t outsz);
/* Number of header lines named name. */
int hu_header_count(const hu_response *r, const char *name);

/* 1 if the peer closed (EOF or reset) within timeout_ms, else 0.  Bytes
 * arriving meanwhile are kept in c->buf. */
int hu_wait_closed(hu_conn *c, int timeout_ms);
/* 1 if nothing arrived and the peer did not close within ms. */
int hu_quiet(hu_conn *c, int ms);

/* Read responses until the peer closes (or timeout / bad framing); return
 * how many complete responses came; statuses[] (may be NULL) gets their
 * codes (up to max).  *closed is set to 1 if the peer closed. */
int hu_read_until_close(hu_conn *c, int *statuses, int max, int *closed,
                        int timeout_ms);

/* One exchange on a fresh connection: send raw, read one response (1xx
 * skipped only if skip_1xx).  *closed_after (may be NULL) is set to 1 if
 * the server then closed within HU_CLOSE_TIMEOUT_MS.  Returns hu code. */
int hu_exchange(uint16_t port, const void *raw, size_t len, hu_response *r,
                int *closed_after);

/* Rejection check: send raw on a fresh connection; expect exactly one
 * response with the given status and the connection closed afterwards.
 * Returns 0 if so, else prints what happened (with label) to stderr and
 * returns -1. */
int hu_check_reject(uint16_t port, const char *label, const void *raw,
                    size_t len, int status);
/* Print bytes with escapes (for failure messages). */
void hu_print_escaped(const char *prefix, const void *data, size_t len);

/* Monotonic milliseconds. */
int64_t hu_now_ms(void);
void hu_sleep_ms(int ms);

#ifdef __cplusplus
}
#endif
#endif
