/*
 * C side of the Go binding.
 *
 * The loop thread never runs Go code: a Go callback there would make the
 * thread take a Go P and keep it (in "syscall" state) while it blocks in
 * epoll, so the rest of the Go program waits for the runtime's sysmon to
 * take it back (tens of microseconds to milliseconds).  Instead a bridge
 * connects the two sides:
 *
 *   loop -> Go: events (a new request, a done callback) are queued and an
 *               eventfd that Go's netpoller watches is signalled (once per
 *               batch); a Go goroutine takes them in batches.
 *   Go -> loop: commands (a response to send, an on_done registration, a
 *               shutdown) are queued and the loop is woken with
 *               squall_loop_call_soon (once per batch); the loop thread
 *               applies them in order, calling squall_response_* directly.
 *
 * Go callback handles (runtime/cgo.Handle) travel as uintptr_t.
 * Declarations only: this header is included by Go files that //export.
 */
#ifndef SQUALL_GO_SHIM_H
#define SQUALL_GO_SHIM_H

#include <stddef.h>
#include <stdint.h>

#include <squall/squall.h>

/* The request fields, read in one call.  Pointers are borrowed from the
 * request (valid until it is finished). */
typedef struct {
  const char *method;
  size_t method_len;
  const char *uri;
  size_t uri_len;
  const char *path;
  size_t path_len;
  const char *query;
  size_t query_len;
  const char *version;
  size_t version_len;
  const char *host;
  size_t host_len;
  const char *remote_ip;
  size_t remote_ip_len;
  const char *protocol;
  size_t protocol_len;
  const void *body;
  size_t body_len;
  size_t header_count;
} sqgo_reqinfo;

typedef struct {
  const char *name;
  size_t name_len;
  const char *value;
  size_t value_len;
} sqgo_header;

/* Status plus a copy of squall_last_error() taken in the same C call, so the
 * message is read on the thread that failed.  msg is malloc'd or NULL. */
typedef struct {
  int rc;
  char *msg;
} sqgo_result;

/* Events for Go. */
enum {
  SQGO_EV_REQUEST = 1, /* req (and info if the bridge fills it) */
  SQGO_EV_DONE = 2,    /* status for the Go handle */
  SQGO_EV_ERROR = 3    /* error hook: handle = kind, status = HTTP status,
                          text = message then peer (malloc'd; Go frees) */
};

typedef struct {
  int kind;
  int status;
  squall_request *req;
  uintptr_t handle;
  sqgo_reqinfo info;
  char *text;
  size_t text_len, peer_len;
} sqgo_event;

typedef struct sqgo_bridge sqgo_bridge;

/* Creates a bridge on loop (loop thread / before run).  fill_info: fill
 * sqgo_event.info for requests.  *efd receives the eventfd (non-blocking)
 * that becomes readable when events wait; Go owns and closes it.
 *
 * inline_handle != 0 selects inline mode instead: requests and done
 * callbacks call Go directly on the loop thread (sqgoGoBatch once per
 * loop pass for the requests queued in it, sqgoGoDone), and commands
 * issued there are applied at once.  Fastest for handlers that answer at once (pipelined requests are
 * answered in the same pass), at the price of the loop thread holding a Go
 * P while it waits. */
sqgo_result sqgo_bridge_new(sqgo_bridge **out, squall_loop *loop,
                            int fill_info, uintptr_t inline_handle,
                            int yield_on, int *efd);
/* Inline mode, inside sqgoGoBatch: takes up to cap queued requests
 * (out_raw is a squall_request* array). */
size_t sqgo_inline_take(uintptr_t bridge, char *out_raw, size_t cap);
/* Marks the calling thread as the bridge's loop thread (before run). */
void sqgo_bridge_enter(sqgo_bridge *b);
/* Inline mode, loop thread: call sqgoGoYield once at the end of the pass
 * (so that goroutines readied by the pass can run when Go has one P). */
void sqgo_bridge_yield_soon(sqgo_bridge *b);
/* After the loop is freed (no callback can follow). */
void sqgo_bridge_free(sqgo_bridge *b);

/* Creates the bridge's server (loop thread / before run). */
sqgo_result sqgo_bridge_server_new(sqgo_bridge *b, const squall_config *cfg);
squall_server *sqgo_bridge_server(sqgo_bridge *b);

/* Takes up to cap events (out_raw is a sqgo_event array, typed char* so
 * that cgo does not scan it).  Returns the number taken, or -1 once the
 * loop is gone and the queue is empty (no event will follow).  When it
 * returns events, commands stop waking the loop until sqgo_bridge_kick:
 * Go handles the batch, then wakes the loop once for all its responses. */
long sqgo_bridge_poll(sqgo_bridge *b, char *out_raw, size_t cap);
void sqgo_bridge_kick(sqgo_bridge *b);
/* After squall_loop_run returned, before squall_loop_free: frees the server
 * if still there and refuses further commands. */
void sqgo_bridge_stop(sqgo_bridge *b);
/* After squall_loop_free: no event follows; wakes the poller. */
void sqgo_bridge_kill(sqgo_bridge *b);

/* Commands (any thread; copied; applied in call order on the loop thread).
 * They return 0, or SQUALL_ECLOSED if the loop is gone (nothing done). */

/* Response: status > 0 sets the status; hdrs are header fields encoded as
 * [u32 name_len][u32 value_len][name][value] (native byte order; fields the
 * library rejects as invalid are skipped, as net/http skips them); body is
 * appended; then by mode: WRITE nothing, FLUSH squall_response_flush with a
 * done event for handle (0: none), FINISH squall_response_finish. */
enum { SQGO_SEND_WRITE = 0, SQGO_SEND_FLUSH = 1, SQGO_SEND_FINISH = 2 };
/* (The two hot calls take the bridge and request as uintptr_t: C pointers
 * passed as integers spare cgo its pointer check on every call.) */
int sqgo_send(uintptr_t bridge, uintptr_t request, int status,
              const char *hdrs, size_t hdrs_len, const char *body,
              size_t body_len, int mode, uintptr_t handle);
/* squall_respond (status, Content-Type, body, finish). */
int sqgo_respond(uintptr_t bridge, uintptr_t request, int code,
                 const char *ct, size_t ct_len, const char *body,
                 size_t body_len);
/* squall_request_on_done with a done event for handle. */
int sqgo_on_done(sqgo_bridge *b, squall_request *req, uintptr_t handle);
/* Server lifecycle: CLOSE frees the server now; SHUTDOWN is graceful
 * (grace_ms < 0: wait forever).  The loop stops once the server is gone
 * and every request handed out has been finished. */
int sqgo_close(sqgo_bridge *b, uintptr_t handle); /* done event: freed */
int sqgo_shutdown(sqgo_bridge *b, int64_t grace_ms);

/* Requests (any thread until finished). */
void sqgo_request_info(const squall_request *req, sqgo_reqinfo *ri);
int sqgo_request_headers(const squall_request *req, char *out_raw,
                         size_t cap, size_t *count);

/* Reports the server's error hook as SQGO_EV_ERROR events. */
int sqgo_bridge_error_hook(sqgo_bridge *b);

/* Loop-thread calls that report squall_last_error() with the status. */
sqgo_result sqgo_loop_new(squall_loop **out);
sqgo_result sqgo_server_listen(squall_server *srv, const char *host,
                               size_t host_len, int port);
sqgo_result sqgo_server_add_socket(squall_server *srv, int fd);
sqgo_result sqgo_config_set_int(squall_config *cfg, int key, int64_t v);
sqgo_result sqgo_config_set_str(squall_config *cfg, int key, const char *s,
                                size_t len);

#endif
