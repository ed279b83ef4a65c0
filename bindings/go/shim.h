/*
 * C side of the Go binding: trampolines handed to libsquall as function
 * pointers, and wrappers that take Go callback handles as uintptr_t (a
 * runtime/cgo.Handle is an integer, never a Go pointer kept by C).
 * Declarations only: this header is included by Go files that //export.
 */
#ifndef SQUALL_GO_SHIM_H
#define SQUALL_GO_SHIM_H

#include <stddef.h>
#include <stdint.h>

#include <squall/squall.h>

/* The request fields read on the loop thread before the Go handler runs, so
 * that Go does not pay one cgo call per field.  Pointers are borrowed from
 * the request (valid until it is finished). */
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
 * message is read on the thread that failed (goroutines move between OS
 * threads between two cgo calls).  msg is malloc'd (free with free()) or
 * NULL. */
typedef struct {
  int rc;
  char *msg;
} sqgo_result;

/* Trampolines (function pointers given to libsquall).  sqgo_handler fills a
 * sqgo_reqinfo first (the net/http adapter needs every field);
 * sqgo_handler_raw passes NULL (the low-level API reads fields lazily). */
void sqgo_handler(squall_request *req, void *user_data);
void sqgo_handler_raw(squall_request *req, void *user_data);
void sqgo_request_info(const squall_request *req, sqgo_reqinfo *ri);
void sqgo_release(void *user_data);
void sqgo_done(int status, void *user_data);
void sqgo_callback(void *user_data);
void sqgo_error_hook(int kind, int http_status, const char *msg,
                     size_t msg_len, const char *peer, size_t peer_len,
                     void *user_data);

/* Marks the calling OS thread as a loop thread (the loop goroutine is
 * locked to its thread, so this identifies the goroutine). */
void sqgo_set_loop_thread(int on);
int sqgo_is_loop_thread(void);

/* Wrappers. */
int sqgo_server_new(squall_server **out, squall_loop *loop,
                    const squall_config *cfg, uintptr_t handle, int raw);
int sqgo_server_set_error_hook(squall_server *srv, uintptr_t handle);
int sqgo_call_soon(squall_loop *loop, uintptr_t handle);
int sqgo_server_shutdown(squall_server *srv, int64_t grace_ms,
                         uintptr_t handle);
int sqgo_request_on_done(squall_request *req, uintptr_t handle);
int sqgo_request_headers(const squall_request *req, char *out_raw,
                         size_t cap, size_t *count);

/* Sends a response in one cgo call.  status > 0 sets the status line; hdrs
 * holds header fields encoded as [u32 name_len][u32 value_len][name][value]
 * (native byte order); body is appended; then, by mode:
 *   SQGO_SEND_WRITE  nothing more,
 *   SQGO_SEND_FLUSH  squall_response_flush, done -> sqgo_done(handle)
 *                    (handle 0: no callback),
 *   SQGO_SEND_FINISH squall_response_finish (always attempted, so the
 *                    request ends even if an earlier step failed).
 * Header fields the library rejects as invalid (SQUALL_EINVAL) are skipped,
 * as net/http skips invalid fields.  Returns the first error.  In FLUSH mode
 * *flush_registered tells whether the done callback will run. */
enum { SQGO_SEND_WRITE = 0, SQGO_SEND_FLUSH = 1, SQGO_SEND_FINISH = 2 };
int sqgo_response_send(squall_request *req, int status, const char *hdrs,
                       size_t hdrs_len, const char *body, size_t body_len,
                       int mode, uintptr_t handle, int *flush_registered);

/* Loop-thread calls that report squall_last_error() with the status. */
sqgo_result sqgo_loop_new(squall_loop **out);
sqgo_result sqgo_server_listen(squall_server *srv, const char *host,
                               size_t host_len, int port);
sqgo_result sqgo_server_listen_unix(squall_server *srv, const char *path,
                                    size_t path_len, int mode);
sqgo_result sqgo_server_add_socket(squall_server *srv, int fd);
sqgo_result sqgo_config_set_int(squall_config *cfg, int key, int64_t v);
sqgo_result sqgo_config_set_str(squall_config *cfg, int key, const char *s,
                                size_t len);
sqgo_result sqgo_server_new_r(squall_server **out, squall_loop *loop,
                              const squall_config *cfg, uintptr_t handle,
                              int raw);

#endif
