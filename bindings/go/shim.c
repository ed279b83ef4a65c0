/* C side of the Go binding; see shim.h. */
#include <stdlib.h>
#include <string.h>

#include "shim.h"
#include "_cgo_export.h"

static void fill(const squall_request *req, int field, const char **p,
                 size_t *len) {
  if (squall_request_get(req, field, p, len) != 0) {
    *p = "";
    *len = 0;
  }
}

static __thread int loop_thread;
void sqgo_set_loop_thread(int on) { loop_thread = on; }
int sqgo_is_loop_thread(void) { return loop_thread; }

void sqgo_request_info(const squall_request *req, sqgo_reqinfo *ri_out) {
  sqgo_reqinfo ri;
  fill(req, SQUALL_REQ_METHOD, &ri.method, &ri.method_len);
  fill(req, SQUALL_REQ_URI, &ri.uri, &ri.uri_len);
  fill(req, SQUALL_REQ_PATH, &ri.path, &ri.path_len);
  fill(req, SQUALL_REQ_QUERY, &ri.query, &ri.query_len);
  fill(req, SQUALL_REQ_VERSION, &ri.version, &ri.version_len);
  fill(req, SQUALL_REQ_HOST, &ri.host, &ri.host_len);
  fill(req, SQUALL_REQ_REMOTE_IP, &ri.remote_ip, &ri.remote_ip_len);
  fill(req, SQUALL_REQ_PROTOCOL, &ri.protocol, &ri.protocol_len);
  if (squall_request_body(req, &ri.body, &ri.body_len) != 0) {
    ri.body = NULL;
    ri.body_len = 0;
  }
  if (squall_request_header_count(req, &ri.header_count) != 0)
    ri.header_count = 0;
  *ri_out = ri;
}

void sqgo_handler(squall_request *req, void *user_data) {
  sqgo_reqinfo ri;
  sqgo_request_info(req, &ri);
  sqgoGoHandler(req, &ri, (uintptr_t)user_data);
}

void sqgo_handler_raw(squall_request *req, void *user_data) {
  sqgoGoHandler(req, NULL, (uintptr_t)user_data);
}

void sqgo_release(void *user_data) { sqgoGoRelease((uintptr_t)user_data); }

void sqgo_done(int status, void *user_data) {
  sqgoGoDone(status, (uintptr_t)user_data);
}

void sqgo_callback(void *user_data) { sqgoGoCallback((uintptr_t)user_data); }

void sqgo_error_hook(int kind, int http_status, const char *msg,
                     size_t msg_len, const char *peer, size_t peer_len,
                     void *user_data) {
  sqgoGoErrorHook(kind, http_status, (char *)msg, msg_len, (char *)peer,
                  peer_len, (uintptr_t)user_data);
}

int sqgo_server_new(squall_server **out, squall_loop *loop,
                    const squall_config *cfg, uintptr_t handle, int raw) {
  return squall_server_new(out, loop, cfg,
                           raw ? sqgo_handler_raw : sqgo_handler,
                           (void *)handle, sqgo_release);
}

int sqgo_server_set_error_hook(squall_server *srv, uintptr_t handle) {
  return squall_server_set_error_hook(srv, sqgo_error_hook, (void *)handle,
                                      sqgo_release);
}

int sqgo_call_soon(squall_loop *loop, uintptr_t handle) {
  return squall_loop_call_soon(loop, sqgo_callback, (void *)handle);
}

int sqgo_server_shutdown(squall_server *srv, int64_t grace_ms,
                         uintptr_t handle) {
  return squall_server_shutdown(srv, grace_ms, sqgo_done, (void *)handle);
}

int sqgo_request_on_done(squall_request *req, uintptr_t handle) {
  return squall_request_on_done(req, sqgo_done, (void *)handle);
}

int sqgo_request_headers(const squall_request *req, char *out_raw,
                         size_t cap, size_t *count) {
  /* out_raw is a sqgo_header array; typed char* so that cgo does not scan
   * the Go array for Go pointers on every call. */
  sqgo_header *out = (sqgo_header *)out_raw;
  size_t n = 0;
  int rc = squall_request_header_count(req, &n);
  if (rc != 0) return rc;
  *count = n;
  if (n > cap) n = cap;
  for (size_t i = 0; i < n; i++) {
    rc = squall_request_header_at(req, i, &out[i].name, &out[i].name_len,
                                  &out[i].value, &out[i].value_len);
    if (rc != 0) return rc;
  }
  return 0;
}

static uint32_t get32(const char *p) {
  uint32_t v;
  memcpy(&v, p, sizeof v);
  return v;
}

int sqgo_response_send(squall_request *req, int status, const char *hdrs,
                       size_t hdrs_len, const char *body, size_t body_len,
                       int mode, uintptr_t handle, int *flush_registered) {
  int first = 0, rc;
  if (flush_registered) *flush_registered = 0;
  if (status > 0) {
    rc = squall_response_status(req, status, NULL, 0);
    if (rc != 0 && first == 0) first = rc;
  }
  size_t off = 0;
  while (first == 0 && off + 8 <= hdrs_len) {
    uint32_t nl = get32(hdrs + off), vl = get32(hdrs + off + 4);
    const char *name = hdrs + off + 8;
    if (off + 8 + (size_t)nl + vl > hdrs_len) break;
    rc = squall_response_header(req, name, nl, name + nl, vl);
    if (rc != 0 && rc != SQUALL_EINVAL) first = rc;
    off += 8 + (size_t)nl + vl;
  }
  if (first == 0 && body_len > 0) first = squall_response_write(req, body, body_len);
  switch (mode) {
    case SQGO_SEND_FLUSH:
      if (first != 0) return first;
      rc = squall_response_flush(req, handle ? sqgo_done : NULL,
                                 (void *)handle);
      if (rc == 0 && flush_registered) *flush_registered = handle != 0;
      return rc;
    case SQGO_SEND_FINISH:
      rc = squall_response_finish(req);
      return first != 0 ? first : rc;
    default:
      return first;
  }
}

static sqgo_result result(int rc) {
  sqgo_result r = {rc, NULL};
  if (rc != 0) {
    const char *m = squall_last_error();
    if (m && *m) r.msg = strdup(m);
  }
  return r;
}

sqgo_result sqgo_loop_new(squall_loop **out) {
  return result(squall_loop_new(out));
}

sqgo_result sqgo_server_listen(squall_server *srv, const char *host,
                               size_t host_len, int port) {
  return result(squall_server_listen(srv, host, host_len, port));
}

sqgo_result sqgo_server_listen_unix(squall_server *srv, const char *path,
                                    size_t path_len, int mode) {
  return result(squall_server_listen_unix(srv, path, path_len, mode));
}

sqgo_result sqgo_server_add_socket(squall_server *srv, int fd) {
  return result(squall_server_add_socket(srv, fd));
}

sqgo_result sqgo_config_set_int(squall_config *cfg, int key, int64_t v) {
  return result(squall_config_set_int(cfg, key, v));
}

sqgo_result sqgo_config_set_str(squall_config *cfg, int key, const char *s,
                                size_t len) {
  return result(squall_config_set_str(cfg, key, s, len));
}

sqgo_result sqgo_server_new_r(squall_server **out, squall_loop *loop,
                              const squall_config *cfg, uintptr_t handle,
                              int raw) {
  return result(sqgo_server_new(out, loop, cfg, handle, raw));
}
