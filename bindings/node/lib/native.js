'use strict';
// libsquall loaded at run time with koffi, and the C ABI's declarations.
// Loaded by the main thread and by the loop's worker thread alike.
//
// Where the library comes from: $SQUALL_LIB if set (a path or a name),
// else "libsquall.so.0" (the SONAME) through the dynamic loader's search
// (LD_LIBRARY_PATH, the ld.so cache, the default directories).  The ABI's
// major version is checked before any other call.
const koffi = require('koffi');

const ABI_MAJOR = 0; // SQUALL_VERSION_MAJOR this binding was written for

function loadLibrary() {
  const names = [process.env.SQUALL_LIB, 'libsquall.so.0'].filter(Boolean);
  const errors = [];
  for (const name of names) {
    try {
      return koffi.load(name);
    } catch (e) {
      errors.push(`${name}: ${e.message}`);
    }
  }
  throw new Error(`squall: cannot load libsquall (${errors.join('; ')})`);
}

const lib = loadLibrary();
const squall_version = lib.func('uint32_t squall_version(void)');
if (squall_version() >>> 16 !== ABI_MAJOR) {
  throw new Error(`squall: libsquall is ABI major ${squall_version() >>> 16}, ` +
                  `this binding needs ${ABI_MAJOR}`);
}

// Callback types (squall.h's *_fn typedefs); handles are plain pointers.
const protos = {
  handler: koffi.proto('void squall_handler_fn(void *req, void *user_data)'),
  callback: koffi.proto('void squall_callback_fn(void *user_data)'),
  release: koffi.proto('void squall_release_fn(void *user_data)'),
  done: koffi.proto('void squall_done_fn(int status, void *user_data)'),
  errorHook: koffi.proto('void squall_error_hook_fn(int kind, int http_status, ' +
                         'void *msg, size_t msg_len, void *peer, ' +
                         'size_t peer_len, void *user_data)'),
  // The binding's own hand-over from the loop thread to the JS thread.
  deliver: koffi.proto('void squall_js_deliver_fn(int count)'),
};

koffi.struct('squall_header', {
  name: 'const char *',
  name_len: 'size_t',
  value: 'const char *',
  value_len: 'size_t',
});

const decls = [
  'const char *squall_version_string(void)',
  'const char *squall_last_error(void)',
  'const char *squall_strerror(int code)',
  'int squall_loop_new(_Out_ void **out)',
  'int squall_loop_run(void *loop)',
  'int squall_loop_run_once(void *loop, int timeout_ms)',
  'int squall_loop_stop(void *loop)',
  'int squall_loop_call_soon(void *loop, void *fn, void *user_data)',
  'int squall_loop_poll(void *loop, int timeout_ms, void *out, size_t cap, _Out_ size_t *n)',
  'int squall_loop_free(void *loop)',
  'int squall_config_new(_Out_ void **out)',
  'int squall_config_set_int(void *cfg, int key, int64_t value)',
  'void squall_config_free(void *cfg)',
  'int squall_server_new(_Out_ void **out, void *loop, void *cfg, ' +
      'squall_handler_fn *handler, void *user_data, squall_release_fn *release)',
  'int squall_server_new_polled(_Out_ void **out, void *loop, void *cfg)',
  'int squall_server_set_error_hook(void *srv, squall_error_hook_fn *fn, ' +
      'void *user_data, squall_release_fn *release)',
  'int squall_server_listen(void *srv, const char *host, size_t host_len, int port)',
  'int squall_server_port(void *srv, _Out_ uint16_t *port)',
  'int squall_server_stats(void *srv, _Out_ uint64_t *values, size_t count)',
  'void squall_server_free(void *srv)',
  'int squall_request_get(void *req, int field, _Out_ const char **p, _Out_ size_t *len)',
  'int squall_request_header_count(void *req, _Out_ size_t *count)',
  'int squall_request_header_at(void *req, size_t index, _Out_ const char **name, ' +
      '_Out_ size_t *name_len, _Out_ const char **value, _Out_ size_t *value_len)',
  'int squall_request_body(void *req, _Out_ void **data, _Out_ size_t *len)',
  'int squall_request_on_done(void *req, squall_done_fn *fn, void *user_data)',
  'int squall_respond(void *req, int code, const char *content_type, size_t ct_len, ' +
      'const void *body, size_t body_len)',
  'int squall_response_send(void *req, int status, const squall_header *headers, ' +
      'size_t n_headers, const void *body, size_t len, unsigned int flags)',
];

const sq = { squall_version };
for (const d of decls) {
  const f = lib.func(d);
  sq[/(squall_\w+)\(/.exec(d)[1]] = f;
}

const C = {
  NTS: 0xffffffffffffffffn,
  OK: 0,
  POLL_STOPPED: 1,
  ECLOSED: -6,
  REQ_METHOD: 1, REQ_URI: 2, REQ_PATH: 3, REQ_QUERY: 4, REQ_VERSION: 5,
  REQ_HOST: 6, REQ_REMOTE_IP: 7,
  OPT_MAX_BODY_SIZE: 3, OPT_IDLE_TIMEOUT_MS: 7, OPT_NO_KEEP_ALIVE: 8,
  OPT_XHEADERS: 9,
  SEND_FLUSH: 1, SEND_FINISH: 2, SEND_ABORT: 4,
  ERRKIND_APPLICATION: 6,
  STAT_CONNECTIONS_OPEN: 1, STAT_REQUESTS: 2, STAT_COUNT: 14,
};

function lastError() {
  return sq.squall_last_error();
}

module.exports = { koffi, lib, sq, protos, C, lastError };
