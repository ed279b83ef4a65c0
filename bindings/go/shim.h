/*
 * C side of the Go binding.
 *
 * Responses need no help from here: squall_response_send (and
 * squall_response_flush) may be called from any thread; off the loop thread
 * the library copies the call into one command for the loop and wakes it
 * once per batch.  Go calls them through sqgo_response_send, a thin wrapper
 * that adds the bridge's bookkeeping (requests in flight, the flush done
 * event) in the same C call.
 *
 * What remains is the way back to Go.  With the net/http adapter (and
 * RawOffLoop) the loop thread never runs Go code: a Go callback there would
 * make the thread take a Go P and keep it (in "syscall" state) while it
 * blocks in epoll, so the rest of the Go program waits for the runtime's
 * sysmon to take it back (tens of microseconds to milliseconds).  Instead
 * events (a new request, a done callback, an error report) are queued and
 * an eventfd that Go's netpoller watches is signalled (once per loop pass);
 * a Go goroutine takes them in batches.  With an inline RawHandler on one
 * loop, Go drives the loop itself (sqgo_poll: squall_loop_poll) and serves
 * the requests it returns; on the loops of a group the loop thread calls
 * Go directly instead (sqgoGoBatch, sqgoGoHandler).  Done callbacks of
 * both call sqgoGoDone.
 *
 * The server's lifecycle (close, graceful shutdown) is applied on the loop
 * thread through squall_loop_call_soon.
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
 * inline_handle != 0 selects inline mode instead: requests call Go
 * directly on the loop thread -- sqgoGoBatch once per loop pass for the
 * requests queued in it, or sqgoGoHandler inside the read pass of the
 * connection while clients pipeline (so that the responses to a burst
 * leave in one write) -- and done callbacks call sqgoGoDone.  Fastest for
 * handlers that answer at once, at the price of the loop thread holding a
 * Go P while it waits. */
sqgo_result sqgo_bridge_new(sqgo_bridge **out, squall_loop *loop,
                            int fill_info, uintptr_t inline_handle,
                            int yield_on, int *efd);
/* Inline mode, inside sqgoGoBatch: takes up to cap queued requests
 * (out_raw is a squall_request* array). */
size_t sqgo_inline_take(uintptr_t bridge, char *out_raw, size_t cap);
/* Marks the calling thread as the bridge's loop thread (before run). */
void sqgo_bridge_enter(sqgo_bridge *b);
/* After the loop is freed (no callback can follow). */
void sqgo_bridge_free(sqgo_bridge *b);

/* Creates the bridge's server (loop thread / before run). */
sqgo_result sqgo_bridge_server_new(sqgo_bridge *b, const squall_config *cfg);
squall_server *sqgo_bridge_server(sqgo_bridge *b);

/* Poll mode (one loop, inline RawHandler): the bridge's server is made with
 * squall_server_new_polled, and the loop goroutine drives the loop with
 * sqgo_poll instead of squall_loop_run, so that a request reaches Go
 * through a call into C (the return of sqgo_poll) rather than a call from
 * C into Go.  The bridge is made in inline mode: done callbacks (flush,
 * on_done, close) still call sqgoGoDone from inside sqgo_poll; yield_on
 * should be 0 (Go yields after a batch itself). */
sqgo_result sqgo_bridge_server_new_polled(sqgo_bridge *b,
                                          const squall_config *cfg);
/* squall_loop_poll on the bridge's loop into out_raw (a squall_request*
 * array of cap entries in C memory, passed as an integer); the requests
 * returned count as handed to Go (finished through sqgo_response_send /
 * sqgo_respond_ct).  Returns the number of requests, plus SQGO_POLL_STOPPED
 * if squall_loop_stop ended the call and SQGO_POLL_DONE if a done callback
 * called Go during it (a goroutine may be ready), or a negative SQUALL_E*
 * code.  Loop thread (the first call binds the loop to the calling
 * thread). */
#define SQGO_POLL_STOPPED (1L << 30)
#define SQGO_POLL_DONE (1L << 29)
long sqgo_poll(uintptr_t bridge, int timeout_ms, uintptr_t out_raw,
               size_t cap);

/* Takes up to cap events (out_raw is a sqgo_event array, typed char* so
 * that cgo does not scan it).  Returns the number taken, or -1 once the
 * loop is gone and the queue is empty (no event will follow). */
long sqgo_bridge_poll(sqgo_bridge *b, char *out_raw, size_t cap);
/* After squall_loop_run returned, before squall_loop_free: frees the server
 * if still there and refuses further lifecycle calls. */
void sqgo_bridge_stop(sqgo_bridge *b);
/* After squall_loop_free: no event follows; wakes the poller. */
void sqgo_bridge_kill(sqgo_bridge *b);

/* squall_response_send(req, status, headers, n_headers, body, len, flags)
 * [any thread], plus:
 *  - done != 0 (only without FINISH/ABORT): then squall_response_flush
 *    with a done event for the Go handle done.  The event comes exactly
 *    once if this returns 0 (with SQUALL_ECLOSED if the client went away),
 *    never otherwise.
 *  - FINISH/ABORT: the request counts as finished for the bridge (the loop
 *    stops only once every request handed to Go is finished).  SQUALL_
 *    ECLOSED (ended, client gone) is returned as 0; if the library refused
 *    the call (SQUALL_EINVAL) the request is finished anyway, since Go has
 *    let it go.
 * bridge, request and headers (a squall_header array in C memory) are C
 * pointers passed as integers (this is the hot call: no cgo pointer
 * check). */
int sqgo_response_send(uintptr_t bridge, uintptr_t request, int status,
                       uintptr_t headers, size_t n_headers,
                       const char *body, size_t len, unsigned flags,
                       uintptr_t done);
/* The common whole response in one call: squall_respond (status, a
 * Content-Type field unless ct_len is 0, body, finish), with the same
 * bookkeeping and return value as an ending sqgo_response_send.  (It is
 * squall_response_send with one field, minus the token check of the fixed
 * name "Content-Type": about 100 instructions a request.) */
int sqgo_respond_ct(uintptr_t bridge, uintptr_t request, int status,
                    const char *ct, size_t ct_len, const char *body,
                    size_t len);
/* squall_request_on_done with a done event for handle [any thread]; the
 * event comes exactly once if this returns 0. */
int sqgo_on_done(sqgo_bridge *b, squall_request *req, uintptr_t handle);
/* Server lifecycle, applied on the loop thread (squall_loop_call_soon):
 * CLOSE frees the server now; SHUTDOWN is graceful (grace_ms < 0: wait
 * forever).  The loop stops once the server is gone and every request
 * handed out has been finished.  They return 0, or SQUALL_ECLOSED once the
 * loop stopped (nothing done). */
int sqgo_close(sqgo_bridge *b, uintptr_t handle); /* done event: freed */
int sqgo_shutdown(sqgo_bridge *b, int64_t grace_ms);

/* Requests (any thread until finished). */
void sqgo_request_info(const squall_request *req, sqgo_reqinfo *ri);
/* The header fields (borrowed) into out_raw, a squall_header array. */
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

/* TLS (see squall.h "TLS"): the config setters with their message. */
sqgo_result sqgo_config_add_tls_cert(squall_config *cfg, const char *cert_file,
                                     const char *key_file);
sqgo_result sqgo_config_add_tls_cert_pem(squall_config *cfg,
                                         const char *cert_pem, size_t cert_len,
                                         const char *key_pem, size_t key_len);
sqgo_result sqgo_config_set_tls_key_password(squall_config *cfg,
                                             const char *password);
/* squall_server_reload_tls on the bridge's server [any thread]: the server
 * cannot be freed during the call (SQUALL_ECLOSED once it is gone). */
sqgo_result sqgo_bridge_reload_tls(sqgo_bridge *b, const squall_config *cfg);

/* The TLS fields of a request (borrowed; "" when absent).  Returns 0, or
 * SQUALL_ENOTFOUND on a plain HTTP connection. */
typedef struct {
  const char *version;
  size_t version_len;
  const char *cipher;
  size_t cipher_len;
  const char *server_name;
  size_t server_name_len;
  const char *alpn;
  size_t alpn_len;
  const char *peer_subject;
  size_t peer_subject_len;
  const char *peer_cert;
  size_t peer_cert_len;
  int resumed;
} sqgo_tlsinfo;
int sqgo_request_tls(const squall_request *req, sqgo_tlsinfo *ti);

/* Groups (Server.Loops > 1): one server on n loops, each run by a thread
 * of the group (squall_group_*).  Every loop has its own bridge, attached
 * before start; a request goes to the bridge of its loop. */
typedef struct sqgo_group sqgo_group;
/* squall_group_new (n = 0: one per CPU) with the bridges' handler. */
sqgo_result sqgo_group_new(sqgo_group **out, int n, const squall_config *cfg);
int sqgo_group_size(sqgo_group *gr);
squall_loop *sqgo_group_loop(sqgo_group *gr, int i);
/* Makes b (created on sqgo_group_loop(gr, i)) the bridge of loop i: it
 * serves the group's server i (owned by the group).  Before start. */
int sqgo_group_attach(sqgo_group *gr, int i, sqgo_bridge *b);
sqgo_result sqgo_group_listen(sqgo_group *gr, const char *host,
                              size_t host_len, int port);
sqgo_result sqgo_group_add_socket(sqgo_group *gr, int fd);
int sqgo_group_port(sqgo_group *gr, uint16_t *port);
sqgo_result sqgo_group_start(sqgo_group *gr);
/* squall_group_shutdown; once every server is drained each bridge drops
 * its server (its loop stops when Go finished the requests it holds) and,
 * if handle != 0, a done event goes to bridge 0.  SQUALL_ESTATE if a drain
 * runs already (then no event).  [any thread] */
int sqgo_group_shutdown(sqgo_group *gr, int64_t grace_ms, uintptr_t handle);
/* Blocks until every loop stopped (they stop only after a drain). */
void sqgo_group_join(sqgo_group *gr);
/* After the join (or a failed setup, never started): frees the group; no
 * event follows on any bridge (each dispatcher ends and frees its
 * bridge). */
void sqgo_group_end(sqgo_group *gr);

#endif
