/*
 * squall.i -- the SWIG 4 interface over capi/include/squall/squall.h, shared
 * by every SWIG language (Python: bindings/python, Lua: bindings/lua).
 *
 * This file is language-neutral.  What differs between languages -- how a
 * value is pushed, how a callable is held, how an error is raised -- is
 * a short list of hook macros (the "language contract" below) that each
 * language defines in its own typemap file beside this one
 * (bindings/swig/squall_<lang>.swg), included first.  A language may also add its
 * own fast paths there (Python answers a request in one call, see
 * squall_python.swg); those stay out of this file.
 *
 * What the generated module exposes, in every language:
 *  - every squall_* function of the header under its C name, with
 *      * status returns turned into errors: a negative SQUALL_E* return
 *        raises (SQSW_RAISE) with squall_last_error(); 0 returns nothing;
 *      * out parameters returned as results (handles, strings, numbers);
 *      * (pointer, length) inputs taken from one string;
 *      * each (callback, user_data[, release]) triple taken from one
 *        callable (see "callables" below);
 *  - the enums and SQUALL_* constants;
 *  - a few helpers (squall_swig_*) where the C signature does not map:
 *    squall_swig_set_log, squall_swig_server_stat, squall_swig_stream_closed.
 *
 * Callables.  A target-language callable passed where the C side wants a
 * callback + user_data is held by a "ref" (a void *, language-defined):
 * SQSW_CB_TAKE takes a reference to the callable, the trampolines below
 * (plain C, one per callback type) call SQSW_CALL_* with it on the loop
 * thread, and the reference is dropped (SQSW_CB_DROP) exactly when the
 * library says the callback will never run again:
 *    - multi-shot callbacks (handler, hooks, timers every, tcp on_stream,
 *      stream close/drain): by the library's release callback;
 *    - one-shot callbacks (call_soon, call_later without cancel, done,
 *      read): right after their single call;
 *    - both: at once if the registering call failed (the library then
 *      never calls nor releases), or the wrapper failed after taking it
 *      (a later argument did not convert): the "in" typemap sets the
 *      wrapper's `result` to SQUALL_ERROR and "freearg", which runs on
 *      every exit, drops unless the call returned 0.
 *
 * The language contract (each squall_<lang>.swg defines these; it is
 * %included by the language branch below, before anything else).  The
 * ones used inside the C trampolines (SQSW_CB_DROP, SQSW_CALL_*) are C
 * #defines in a %{ %} block; the ones used in typemaps may be SWIG
 * %define macros, so that $result / SWIG_arg are the wrapper's own
 * (squall_python.swg shows both kinds):
 *   SQSW_IS_NONE(input)        the language's None/nil (optional callables)
 *   SQSW_CB_TAKE(input)        void *ref for a callable, NULL (with the
 *                              language's error set) if input is not one
 *   SQSW_CB_DROP(ref)          drop the reference (any thread: languages
 *                              with a global lock take it)
 *   SQSW_CALL_VOID(ref)                          fn()
 *   SQSW_CALL_INT(ref, i)                        fn(i)
 *   SQSW_CALL_PTR(ref, ptr, swigtype)            fn(handle)
 *   SQSW_CALL_READ(ref, status, data, len)       fn(status, bytes)
 *   SQSW_CALL_STREAM(ref, stream, peer, len)     fn(stream, peer)
 *   SQSW_CALL_BODY(ref, data, len) -> int        fn(bytes) -> 0 / < 0
 *   SQSW_CALL_ERROR(ref, kind, status, msg, msg_len, peer, peer_len)
 *   SQSW_CALL_ACCESS(ref, method, mlen, target, tlen, status, bytes,
 *                    duration_us, peer, plen)
 *   SQSW_CALL_LOG(ref, level, msg, len)
 *   SQSW_STR_IN(input, &ptr, &len) -> int        0 or -1 (error set);
 *                              the bytes must stay valid for the call
 *   SQSW_STR_OUT(ptr, len)     append a string result (text fields)
 *   SQSW_BYTES_OUT(ptr, len)   append a binary result (bodies, files)
 *   SQSW_INT_OUT(value)        append an integer result (int64 range)
 *   SQSW_PTR_OUT(ptr, swigtype) append a handle result
 *   SQSW_BOOL_OUT(value)       append a boolean result
 *   SQSW_PTR_LIST_OUT(arr, n, swigtype)  append n handles as one list
 *                              (Python list, Lua table)
 *   SQSW_RAISE(code)           raise the language's error for a negative
 *                              SQUALL_E* code (message: squall_last_error())
 *                              and jump to fail
 *   SQSW_STATUS_OK             the "no result" a 0 status returns
 * Typemap bodies use them as statements; `$input`, `$result`, `SWIG_fail`
 * and the wrapper's own locals (Lua's L) are in scope there.
 */

#if defined(SWIGPYTHON)
%module(package="squall") _squall
%include "squall_python.swg"
#elif defined(SWIGLUA)
%module squall_core
%include "squall_lua.swg"
#else
#error "squall.i: no language contract file for this SWIG target"
#endif

%{
#include <stdint.h>
#include <string.h>
#include "squall/squall.h"
%}

%include <stdint.i>

/* ------------------------------------------------------------------ */
/* Status returns                                                      */
/* ------------------------------------------------------------------ */

/* Every int a squall function returns is 0 or a negative SQUALL_E* code
 * (squall_stream_closed, whose 1/0 is a value, is replaced below). */
%typemap(out) int {
  if ($1 < 0) {
    SQSW_RAISE($1);
  }
  SQSW_STATUS_OK;
}

/* ------------------------------------------------------------------ */
/* Inputs                                                              */
/* ------------------------------------------------------------------ */

/* (pointer, length) strings and bytes: one argument.  SWIG matches
 * multi-argument typemaps by name, so each name pair of the header is
 * listed. */
%typemap(in) (const char *STR, size_t LEN) {
  const char *sqsw_p = NULL;
  if (SQSW_STR_IN($input, &sqsw_p, &$2) != 0) SWIG_fail;
  $1 = ($1_ltype)sqsw_p;
}
%apply (const char *STR, size_t LEN) {
  (const char *delim, size_t delim_len), (const char *host, size_t host_len),
  (const char *path, size_t path_len), (const char *s, size_t len),
  (const char *name, size_t name_len), (const char *reason, size_t reason_len),
  (const char *value, size_t value_len),
  (const char *content_type, size_t ct_len)
};
%typemap(in) (const void *DATA, size_t LEN) {
  const char *sqsw_p = NULL;
  if (SQSW_STR_IN($input, &sqsw_p, &$2) != 0) SWIG_fail;
  $1 = ($1_ltype)sqsw_p;
}
%apply (const void *DATA, size_t LEN) {
  (const void *data, size_t len), (const void *body, size_t body_len)
};

/* ------------------------------------------------------------------ */
/* Outputs                                                             */
/* ------------------------------------------------------------------ */

%define SQSW_HANDLE_OUT(TYPE)
%typemap(in, numinputs=0) TYPE **out (TYPE *sqsw_tmp = NULL) {
  $1 = &sqsw_tmp;
}
%typemap(argout) TYPE **out {
  SQSW_PTR_OUT(*$1, $descriptor(TYPE *));
}
%enddef
SQSW_HANDLE_OUT(squall_loop)
SQSW_HANDLE_OUT(squall_timer)
SQSW_HANDLE_OUT(squall_stream)
SQSW_HANDLE_OUT(squall_tcp_server)
SQSW_HANDLE_OUT(squall_config)
SQSW_HANDLE_OUT(squall_server)

/* Borrowed strings: (const char **p, size_t *len) pairs. */
%typemap(in, numinputs=0) (const char **OUTSTR, size_t *OUTLEN)
    (const char *sqsw_p = NULL, size_t sqsw_n = 0) {
  $1 = ($1_ltype)&sqsw_p;
  $2 = &sqsw_n;
}
%typemap(argout) (const char **OUTSTR, size_t *OUTLEN) {
  SQSW_STR_OUT(*$1, *$2);
}
%apply (const char **OUTSTR, size_t *OUTLEN) {
  (const char **p, size_t *len), (const char **value, size_t *value_len),
  (const char **name, size_t *name_len),
  (const char **field, size_t *field_len),
  (const char **filename, size_t *filename_len),
  (const char **content_type, size_t *content_type_len)
};
%typemap(in, numinputs=0) (const void **OUTDATA, size_t *OUTLEN)
    (const void *sqsw_p = NULL, size_t sqsw_n = 0) {
  $1 = ($1_ltype)&sqsw_p;
  $2 = &sqsw_n;
}
%typemap(argout) (const void **OUTDATA, size_t *OUTLEN) {
  SQSW_BYTES_OUT((const char *)*$1, *$2);
}
%apply (const void **OUTDATA, size_t *OUTLEN) {
  (const void **data, size_t *len), (const void **data, size_t *data_len)
};

/* squall_loop_poll(loop, timeout_ms) returns (stopped, requests): a
 * boolean, true when a squall_loop_stop ended the call, and the requests
 * taken (a list in Python, a table in Lua; at most 64 a call, the rest
 * stay queued for the next).  Each request is the handle the response
 * calls take. */
%typemap(out) int squall_loop_poll {
  if ($1 < 0) {
    SQSW_RAISE($1);
  }
  SQSW_BOOL_OUT($1 == SQUALL_POLL_STOPPED);
}
%typemap(in, numinputs=0) (squall_request **out, size_t cap, size_t *n)
    (squall_request *sqsw_reqs[64], size_t sqsw_n = 0) {
  $1 = sqsw_reqs;
  $2 = 64;
  $3 = &sqsw_n;
}
%typemap(argout) (squall_request **out, size_t cap, size_t *n) {
  SQSW_PTR_LIST_OUT($1, *$3, $descriptor(squall_request *));
}

/* Numbers out. */
%define SQSW_NUMBER_OUT(TYPE, NAME)
%typemap(in, numinputs=0) TYPE *NAME (TYPE sqsw_v = 0) { $1 = &sqsw_v; }
%typemap(argout) TYPE *NAME { SQSW_INT_OUT((int64_t)*$1); }
%enddef
SQSW_NUMBER_OUT(size_t, count)
SQSW_NUMBER_OUT(size_t, out)
SQSW_NUMBER_OUT(uint16_t, port)
SQSW_NUMBER_OUT(int64_t, value)
SQSW_NUMBER_OUT(int64_t, start_unix_us)
SQSW_NUMBER_OUT(int64_t, elapsed_us)

/* ------------------------------------------------------------------ */
/* Callables                                                           */
/* ------------------------------------------------------------------ */

%{
/* Trampolines: the C callbacks squall calls, forwarding to the language
 * through the contract's SQSW_CALL_* hooks.  Loop thread only. */
static void sqsw_release(void *ref) { SQSW_CB_DROP(ref); }

static void sqsw_void_once(void *ref) {
  SQSW_CALL_VOID(ref);
  SQSW_CB_DROP(ref);
}
static void sqsw_void_many(void *ref) { SQSW_CALL_VOID(ref); }

static void sqsw_done_once(int status, void *ref) {
  SQSW_CALL_INT(ref, status);
  SQSW_CB_DROP(ref);
}
static void sqsw_done_many(int status, void *ref) {
  SQSW_CALL_INT(ref, status);
}

static void sqsw_read_once(int status, const char *data, size_t len,
                           void *ref) {
  SQSW_CALL_READ(ref, status, data, len);
  SQSW_CB_DROP(ref);
}

static void sqsw_request(squall_request *req, void *ref) {
  SQSW_CALL_PTR(ref, req, SWIGTYPE_p_squall_request);
}

static void sqsw_stream(squall_stream *stream, const char *peer,
                        size_t peer_len, void *ref) {
  SQSW_CALL_STREAM(ref, stream, peer, peer_len);
}

static int sqsw_body(const void *data, size_t len, void *ref) {
  return SQSW_CALL_BODY(ref, (const char *)data, len);
}

static void sqsw_error(int kind, int http_status, const char *msg,
                       size_t msg_len, const char *peer, size_t peer_len,
                       void *ref) {
  SQSW_CALL_ERROR(ref, kind, http_status, msg, msg_len, peer, peer_len);
}

static void sqsw_access(const char *method, size_t method_len,
                        const char *target, size_t target_len, int status,
                        uint64_t bytes_sent, uint64_t duration_us,
                        const char *peer, size_t peer_len, void *ref) {
  SQSW_CALL_ACCESS(ref, method, method_len, target, target_len, status,
                   bytes_sent, duration_us, peer, peer_len);
}

static void sqsw_log(int level, const char *msg, size_t len, void *ref) {
  SQSW_CALL_LOG(ref, level, msg, len);
}
%}

/* Multi-shot: (fn, user_data, release) from one callable; the release
 * trampoline drops it.  If registration fails nothing is called: drop.
 * (Matched by name: each callback parameter name of the header is listed.) */
%define SQSW_CALLABLE_MANY(FNTYPE, TRAMP, NAMES...)
%typemap(in) (FNTYPE CALLABLE, void *user_data, squall_release_fn release) {
  result = SQUALL_ERROR; /* until the call says otherwise (see freearg) */
  $2 = SQSW_CB_TAKE($input);
  if ($2 == NULL) SWIG_fail;
  $1 = TRAMP;
  $3 = sqsw_release;
}
%typemap(freearg) (FNTYPE CALLABLE, void *user_data, squall_release_fn release) {
  if (result != 0 && $2 != NULL) SQSW_CB_DROP($2);
}
%apply (FNTYPE CALLABLE, void *user_data, squall_release_fn release) { NAMES };
%enddef
SQSW_CALLABLE_MANY(squall_handler_fn, sqsw_request,
  (squall_handler_fn handler, void *user_data, squall_release_fn release),
  (squall_handler_fn fn, void *user_data, squall_release_fn release))
SQSW_CALLABLE_MANY(squall_access_fn, sqsw_access,
  (squall_access_fn fn, void *user_data, squall_release_fn release))
SQSW_CALLABLE_MANY(squall_error_hook_fn, sqsw_error,
  (squall_error_hook_fn fn, void *user_data, squall_release_fn release))
SQSW_CALLABLE_MANY(squall_stream_fn, sqsw_stream,
  (squall_stream_fn on_stream, void *user_data, squall_release_fn release))
SQSW_CALLABLE_MANY(squall_body_fn, sqsw_body,
  (squall_body_fn fn, void *user_data, squall_release_fn release))
SQSW_CALLABLE_MANY(squall_done_fn, sqsw_done_many,
  (squall_done_fn fn, void *user_data, squall_release_fn release))
/* call_later's fn runs at most once but is released by the library (it may
 * be cancelled), so it is a multi-shot registration too. */
SQSW_CALLABLE_MANY(squall_callback_fn, sqsw_void_many,
  (squall_callback_fn fn, void *user_data, squall_release_fn release),
  (squall_callback_fn on_drain, void *user_data, squall_release_fn release))

/* One-shot: (fn, user_data); the trampoline drops after its one call. */
%define SQSW_CALLABLE_ONCE(FNTYPE, TRAMP, NAMES...)
%typemap(in) (FNTYPE CALLABLE, void *user_data) {
  result = SQUALL_ERROR;
  $2 = SQSW_CB_TAKE($input);
  if ($2 == NULL) SWIG_fail;
  $1 = TRAMP;
}
%typemap(freearg) (FNTYPE CALLABLE, void *user_data) {
  if (result != 0 && $2 != NULL) SQSW_CB_DROP($2);
}
%apply (FNTYPE CALLABLE, void *user_data) { NAMES };
%enddef
SQSW_CALLABLE_ONCE(squall_callback_fn, sqsw_void_once,
  (squall_callback_fn fn, void *user_data))
SQSW_CALLABLE_ONCE(squall_done_fn, sqsw_done_once,
  (squall_done_fn fn, void *user_data))
SQSW_CALLABLE_ONCE(squall_read_fn, sqsw_read_once,
  (squall_read_fn cb, void *user_data))

/* A done callback that may be omitted (None/nil): flush, shutdown,
 * stream write and connect. */
%typemap(in) (squall_done_fn OPTIONAL, void *user_data) {
  result = SQUALL_ERROR;
  if (SQSW_IS_NONE($input)) {
    $1 = NULL;
    $2 = NULL;
  } else {
    $2 = SQSW_CB_TAKE($input);
    if ($2 == NULL) SWIG_fail;
    $1 = sqsw_done_once;
  }
}
%typemap(freearg) (squall_done_fn OPTIONAL, void *user_data) {
  if (result != 0 && $2 != NULL) SQSW_CB_DROP($2);
}
%apply (squall_done_fn OPTIONAL, void *user_data) {
  (squall_done_fn done, void *user_data), (squall_done_fn cb, void *user_data)
};

/* ------------------------------------------------------------------ */
/* Signatures that do not map one to one                               */
/* ------------------------------------------------------------------ */

%ignore squall_set_log;        /* user_data is not next to fn */
%ignore squall_server_stats;   /* array out: squall_swig_server_stat */
%ignore squall_stream_closed;  /* 1/0 is a value: squall_swig_stream_closed */
%ignore squall_response_send;  /* header arrays: each language's fast path */
%ignore squall_header;
%ignore squall_last_error;     /* folded into every raised error */

/* squall_swig_set_log(level, None) restores the default sink. */
%typemap(in) (squall_log_fn fn, void *user_data, squall_release_fn release) {
  result = SQUALL_ERROR;
  if (SQSW_IS_NONE($input)) {
    $1 = NULL;
    $2 = NULL;
    $3 = NULL;
  } else {
    $2 = SQSW_CB_TAKE($input);
    if ($2 == NULL) SWIG_fail;
    $1 = sqsw_log;
    $3 = sqsw_release;
  }
}
%typemap(freearg) (squall_log_fn fn, void *user_data, squall_release_fn release) {
  if (result != 0 && $2 != NULL) SQSW_CB_DROP($2);
}
%typemap(out) uint64_t squall_swig_server_stat {
  SQSW_INT_OUT((int64_t)$1);
}

%typemap(out) int squall_swig_stream_closed {
  SQSW_INT_OUT((int64_t)$1);
}

%inline %{
/** squall_set_log with the callable's arguments side by side. */
int squall_swig_set_log(int min_level, squall_log_fn fn, void *user_data,
                        squall_release_fn release) {
  return squall_set_log(fn, min_level, user_data, release);
}

/** One counter of squall_server_stats (index: squall_stat). */
uint64_t squall_swig_server_stat(const squall_server *srv, int index) {
  uint64_t v[SQUALL_STAT_COUNT] = {0};
  if (index < 0 || index >= SQUALL_STAT_COUNT ||
      squall_server_stats(srv, v, SQUALL_STAT_COUNT) != 0)
    return 0;
  return v[index];
}

/** 1 if the stream is closed (error cause via squall_stream_closed). */
int squall_swig_stream_closed(const squall_stream *stream) {
  int err = 0;
  return squall_stream_closed(stream, &err) == 1 ? 1 : 0;
}
%}
%include "squall/squall.h"
