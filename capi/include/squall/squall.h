/**
 * @file squall.h
 * squall.h -- the public C ABI of squall, a Tornado-style HTTP/1.1 server
 * library on libevent.  This header is the manual.
 *
 * Conventions (read once; every declaration below follows them):
 *
 *  - C99, no varargs, no struct passed by value, no public struct layouts.
 *    Objects are opaque handles created by `squall_<object>_new(&out, ...)`
 *    and destroyed by `squall_<object>_free(handle)`; `*_free(NULL)` is a
 *    no-op.
 *  - Every fallible call returns int: 0 (SQUALL_OK) or a negative SQUALL_E*
 *    code.  On a negative return, squall_last_error() describes the failure
 *    on the calling thread.  On failure *out is set to NULL.
 *  - Strings in are (pointer, length) pairs and are copied before the call
 *    returns; SQUALL_NTS as a length means "NUL-terminated, use strlen".
 *    Strings out are borrowed (pointer, length) pairs, valid for the
 *    lifetime stated at each function.  Every borrowed string is also
 *    NUL-terminated (p[len] == '\0'), so C may print it with %s; binary data
 *    (a request body, an uploaded file) may itself hold NUL bytes: use the
 *    length for those.
 *  - Threads.  A loop belongs to the thread that runs it.  Functions marked
 *    [any thread] may be called from any thread at any time.  Functions
 *    marked [loop thread] must be called on the thread running the loop the
 *    object belongs to (from a callback), or from any one thread while that
 *    loop is not running; elsewhere they return SQUALL_ETHREAD.
 *  - Callbacks run only on the loop thread, inside squall_loop_run (or
 *    squall_loop_free, which drains pending one-shot callbacks), never from
 *    inside the call that registers them.  A one-shot callback runs exactly
 *    once if its registration returned 0 and never if it failed.  A
 *    multi-shot registration takes a release function that is called exactly
 *    once, after the last call of the callback (also when registration
 *    succeeded but the object is freed first); not at all if registration
 *    failed.  Callbacks must return normally: no C++ exception, Rust panic,
 *    Go panic or longjmp may cross squall's frames.
 *  - Handles may be freed in any order.  A child keeps what it needs of its
 *    parent alive; a call on a handle whose loop, server or connection is
 *    gone returns SQUALL_ECLOSED.
 *  - No exception, abort() or exit() crosses this boundary.
 */
#ifndef SQUALL_SQUALL_H
#define SQUALL_SQUALL_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#if defined(SQUALL_BUILDING)
#define SQUALL_API __declspec(dllexport)
#elif defined(SQUALL_STATIC)
#define SQUALL_API
#else
#define SQUALL_API __declspec(dllimport)
#endif
#elif defined(__GNUC__)
#define SQUALL_API __attribute__((visibility("default")))
#else
#define SQUALL_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Version                                                                  */
/* ------------------------------------------------------------------------ */

/** Major version of this header: a change breaks the ABI. */
#define SQUALL_VERSION_MAJOR 0
/** Minor version: additions only (CHANGELOG.md lists them). */
#define SQUALL_VERSION_MINOR 1
/** Patch version: fixes only. */
#define SQUALL_VERSION_PATCH 0
/** (major << 16) | (minor << 8) | patch, comparable as an integer. */
#define SQUALL_VERSION_NUM                                      \
  ((SQUALL_VERSION_MAJOR << 16) | (SQUALL_VERSION_MINOR << 8) | \
   SQUALL_VERSION_PATCH)
/** "major.minor.patch" of this header. */
#define SQUALL_VERSION_STRING "0.1.0"

/** Length meaning "the string is NUL-terminated; use strlen". */
#define SQUALL_NTS ((size_t)-1)

/**
 * SQUALL_VERSION_NUM of the library actually loaded.  Bindings that dlopen
 * the library check (squall_version() >> 16) == SQUALL_VERSION_MAJOR first.
 * [any thread]
 */
SQUALL_API uint32_t squall_version(void);

/** "major.minor.patch" of the loaded library; static storage. [any thread] */
SQUALL_API const char *squall_version_string(void);

/* ------------------------------------------------------------------------ */
/* Errors                                                                   */
/* ------------------------------------------------------------------------ */

/** Return codes.  Values are ABI: explicit and append-only. */
enum squall_error {
  SQUALL_OK = 0,
  SQUALL_ERROR = -1,      /**< unclassified failure */
  SQUALL_ENOMEM = -2,     /**< out of memory */
  SQUALL_EINVAL = -3,     /**< bad argument: NULL handle, range, bytes */
  SQUALL_ESTATE = -4,     /**< wrong state: already running, out of order */
  SQUALL_ETHREAD = -5,    /**< loop-thread call made from another thread */
  SQUALL_ECLOSED = -6,    /**< stream, connection, server or loop is gone */
  SQUALL_ENOTFOUND = -7,  /**< no such host, header, argument, file */
  SQUALL_ENOTSUP = -8,    /**< unknown option key or unsupported feature */
  SQUALL_EADDRINUSE = -9, /**< address already in use */
  SQUALL_ETLS = -10,      /**< TLS: bad certificate, key, version, cipher,
                               or a failed handshake */
  SQUALL_ETIMEDOUT = -11, /**< a timeout expired */
  SQUALL_ETOOBIG = -12,   /**< a size limit (max_bytes, buffer) was exceeded */
  SQUALL_EIO = -13,       /**< socket error (reset, refused, broken pipe) */
  SQUALL_EBUSY = -14,     /**< write buffer full (max_write_buffer_size) */
  SQUALL_EPERM = -15      /**< permission denied (bind, file) */
};

/**
 * Static English text for a code (never NULL; unknown codes give
 * "unknown error").  [any thread]
 */
SQUALL_API const char *squall_strerror(int code);

/**
 * Message for the last failing squall call made on the calling thread
 * (never NULL; "" if none).  Valid until the calling thread's next squall
 * call.  Goroutines that move between OS threads must read it in the same
 * locked thread as the failing call.  [any thread, thread-local]
 */
SQUALL_API const char *squall_last_error(void);

/* ------------------------------------------------------------------------ */
/* Logging of the library's own messages                                    */
/* ------------------------------------------------------------------------ */

/** Levels of the library's own messages (squall_set_log). */
enum squall_log_level {
  SQUALL_LOG_DEBUG = 0,
  SQUALL_LOG_INFO = 1,
  SQUALL_LOG_WARNING = 2,
  SQUALL_LOG_ERROR = 3,
  SQUALL_LOG_NONE = 4
};

/** A log sink: msg is not NUL-terminated, valid only during the call. */
typedef void (*squall_log_fn)(int level, const char *msg, size_t len,
                              void *user_data);
/** Called once with a registration's user_data when no callback of it
 * can follow (see the conventions above). */
typedef void (*squall_release_fn)(void *user_data);

/**
 * Route the library's messages at or above min_level to fn (NULL restores
 * the default: "squall: LEVEL: message" lines on stderr).  fn may be called
 * from any loop thread, concurrently if several loops run.  The previous
 * sink's release runs once no call of it can be in progress.
 * Returns 0 or SQUALL_EINVAL (level out of range).  [any thread]
 */
SQUALL_API int squall_set_log(squall_log_fn fn, int min_level, void *user_data,
                              squall_release_fn release);

/* ------------------------------------------------------------------------ */
/* Callback types                                                           */
/* ------------------------------------------------------------------------ */

/** Generic one-shot callback. */
typedef void (*squall_callback_fn)(void *user_data);
/** One-shot completion: status is 0 or a negative SQUALL_E* code. */
typedef void (*squall_done_fn)(int status, void *user_data);

/* ------------------------------------------------------------------------ */
/* Loop (IOLoop)                                                            */
/* ------------------------------------------------------------------------ */

/** An event loop (IOLoop), run by one thread at a time. */
typedef struct squall_loop squall_loop;
/** A one-shot or repeating timer on a loop. */
typedef struct squall_timer squall_timer;

/**
 * Create a loop (one libevent event_base).  Returns 0, SQUALL_ENOMEM or
 * SQUALL_ERROR.  The first call sets SIGPIPE to SIG_IGN if it was SIG_DFL
 * (a peer that goes away must be an error, not the end of the process;
 * OpenSSL writes to its sockets with write(2)); a handler you installed is
 * left alone.  [any thread]
 */
SQUALL_API int squall_loop_new(squall_loop **out);

/**
 * Run the loop on the calling thread until squall_loop_stop.  The calling
 * thread is the loop thread while this runs.  Returns 0 after a stop,
 * SQUALL_ESTATE if the loop is already running (or called from one of its
 * callbacks), SQUALL_EINVAL for NULL.  A stop requested before run makes
 * run return at once (Tornado's behaviour).
 */
SQUALL_API int squall_loop_run(squall_loop *loop);

/**
 * Run one iteration: wait up to timeout_ms (0: do not wait; -1: until
 * something happens) and run what is ready.  Same rules as run.
 */
SQUALL_API int squall_loop_run_once(squall_loop *loop, int timeout_ms);

/** Make squall_loop_run return after the current callback. [any thread] */
SQUALL_API int squall_loop_stop(squall_loop *loop);

/**
 * Schedule fn(user_data) to run once on the loop thread, in call order with
 * other call_soon calls from the same thread, waking the loop.  Never runs
 * fn before returning.  If it returns 0, fn runs exactly once: in run, or
 * at the latest inside squall_loop_free.  Returns SQUALL_ECLOSED if the
 * loop is being freed.  [any thread]
 */
SQUALL_API int squall_loop_call_soon(squall_loop *loop, squall_callback_fn fn,
                                     void *user_data);

/**
 * Free the loop.  Pending call_soon functions run first; timers are
 * cancelled (their release runs); servers and streams still alive become
 * orphans whose calls return SQUALL_ECLOSED.  Returns SQUALL_ESTATE (and
 * does nothing) when called while the loop runs.  [loop thread]
 */
SQUALL_API int squall_loop_free(squall_loop *loop);

/**
 * Run fn(user_data) once after delay_ms milliseconds (monotonic clock).
 * release(user_data), if not NULL, runs exactly once after fn ran or the
 * timer was cancelled.  *out (may be NULL if the caller never cancels)
 * receives a handle to free with squall_timer_free.  [loop thread]
 */
SQUALL_API int squall_loop_call_later(squall_timer **out, squall_loop *loop,
                                      int64_t delay_ms, squall_callback_fn fn,
                                      void *user_data,
                                      squall_release_fn release);

/**
 * PeriodicCallback: run fn every interval_ms (> 0) until cancelled; a late
 * run skips missed ticks rather than bursting (Tornado's rule).
 * release(user_data) runs once after cancel/free.  [loop thread]
 */
SQUALL_API int squall_loop_call_every(squall_timer **out, squall_loop *loop,
                                      int64_t interval_ms,
                                      squall_callback_fn fn, void *user_data,
                                      squall_release_fn release);

/**
 * Cancel a timer: fn will not run again; release runs (deferred to the
 * loop if called from inside fn).  Cancelling twice is harmless.
 * [loop thread]
 */
SQUALL_API int squall_timer_cancel(squall_timer *timer);

/** Cancel (if pending) and free the handle. [loop thread] */
SQUALL_API void squall_timer_free(squall_timer *timer);

/* ------------------------------------------------------------------------ */
/* Streams (IOStream) and the TCP server (TCPServer)                        */
/* ------------------------------------------------------------------------ */

/** A byte stream over a connected socket (IOStream). */
typedef struct squall_stream squall_stream;
/** A TCP server handing accepted connections over as streams. */
typedef struct squall_tcp_server squall_tcp_server;

/**
 * Read completion.  status 0: data/len hold the bytes read (valid only
 * during the call; copy what must outlive it).  status < 0: the read
 * failed (SQUALL_ECLOSED: the stream closed first; SQUALL_ETOOBIG:
 * max_bytes or max_buffer_size exceeded, the stream is closed); data/len
 * then hold whatever was buffered (may be empty).
 */
typedef void (*squall_read_fn)(int status, const char *data, size_t len,
                               void *user_data);

/**
 * Read until delim (included in the result) has been read.  If more than
 * max_bytes (0: no limit other than max_buffer_size) arrive without it,
 * the stream is closed and cb gets SQUALL_ETOOBIG.  One read may be
 * pending per stream (SQUALL_ESTATE otherwise).  cb runs exactly once if
 * this returns 0, even if the data is already buffered (never before this
 * returns).  [loop thread]
 */
SQUALL_API int squall_stream_read_until(squall_stream *stream,
                                        const char *delim, size_t delim_len,
                                        size_t max_bytes, squall_read_fn cb,
                                        void *user_data);

/**
 * Read exactly n bytes, or, if partial is non-zero, between 1 and n bytes
 * as soon as any are available.  [loop thread]
 */
SQUALL_API int squall_stream_read_bytes(squall_stream *stream, size_t n,
                                        int partial, squall_read_fn cb,
                                        void *user_data);

/**
 * Read everything until the peer closes; cb gets status 0 and all bytes
 * (up to max_buffer_size, past which SQUALL_ETOOBIG).  [loop thread]
 */
SQUALL_API int squall_stream_read_until_close(squall_stream *stream,
                                              squall_read_fn cb,
                                              void *user_data);

/**
 * Queue len bytes (copied) for writing.  Writes go out eagerly; squall
 * waits for the socket only when it is full.  cb (may be NULL) runs once
 * when these bytes (and all before them) reached the kernel (status 0) or
 * when the stream closed first (negative status).  Returns SQUALL_ECLOSED
 * on a closed stream, SQUALL_EBUSY if the pending bytes would exceed
 * max_write_buffer_size (nothing queued, cb never runs).  [loop thread]
 */
SQUALL_API int squall_stream_write(squall_stream *stream, const void *data,
                                   size_t len, squall_done_fn cb,
                                   void *user_data);

/**
 * fn(error, user_data) runs once when the stream closes, for any reason;
 * error is 0 for a clean close (EOF or squall_stream_close) or the
 * SQUALL_E* code of the failure.  release runs once after fn ran or was
 * replaced, or the stream was freed.  [loop thread]
 */
SQUALL_API int squall_stream_set_close_callback(squall_stream *stream,
                                                squall_done_fn fn,
                                                void *user_data,
                                                squall_release_fn release);

/**
 * Set write-buffer limits.  max_bytes (0: unlimited) bounds the bytes
 * waiting to be written; a write past it fails with SQUALL_EBUSY.  When
 * the pending bytes rise above high and later fall to low or below,
 * on_drain(user_data) runs (once per crossing).  release runs once when
 * replaced or the stream is freed.  Requires low <= high.  [loop thread]
 */
SQUALL_API int squall_stream_set_write_limits(
    squall_stream *stream, size_t max_bytes, size_t high, size_t low,
    squall_callback_fn on_drain, void *user_data, squall_release_fn release);

/** Bytes queued and not yet handed to the kernel. [loop thread] */
SQUALL_API int squall_stream_write_buffer_size(const squall_stream *stream,
                                               size_t *out);

/**
 * Bound the read buffer (default 100 MiB); reading past it closes the
 * stream with SQUALL_ETOOBIG.  [loop thread]
 */
SQUALL_API int squall_stream_set_max_buffer_size(squall_stream *stream,
                                                 size_t max_bytes);

/** TCP_NODELAY on (non-zero) or off. [loop thread] */
SQUALL_API int squall_stream_set_nodelay(squall_stream *stream, int on);

/**
 * Close the stream: pending reads fail with SQUALL_ECLOSED, unwritten bytes
 * are dropped, the close callback runs (on the loop, later).  Closing a
 * closed stream returns 0.  [loop thread]
 */
SQUALL_API int squall_stream_close(squall_stream *stream);

/** 1 if closed, 0 if open; sets *error to the close cause (0 if clean). */
SQUALL_API int squall_stream_closed(const squall_stream *stream, int *error);

/**
 * Peer address as text ("1.2.3.4:5678", "[::1]:5678", or the unix path),
 * valid until the stream is freed.  [loop thread]
 */
SQUALL_API int squall_stream_peer(const squall_stream *stream, const char **p,
                                  size_t *len);

/** Close (if open) and release the handle; pending callbacks still get their
 * negative status before the release.  [loop thread] */
SQUALL_API void squall_stream_free(squall_stream *stream);

/**
 * Connect to host:port (client side, IOStream.connect).  *out receives the
 * stream at once; cb(status) runs once: 0 connected, SQUALL_EIO refused or
 * unreachable.  An unknown host fails the call itself with
 * SQUALL_ENOTFOUND (cb never runs).  Name resolution blocks the calling
 * thread (getaddrinfo); pass a numeric address to avoid it.  [loop thread]
 */
SQUALL_API int squall_stream_connect(squall_stream **out, squall_loop *loop,
                                     const char *host, size_t host_len,
                                     uint16_t port, squall_done_fn cb,
                                     void *user_data);

/**
 * A new connection.  The application owns stream and must eventually
 * squall_stream_free it.  peer is the peer address text, valid during the
 * call.
 */
typedef void (*squall_stream_fn)(squall_stream *stream, const char *peer,
                                 size_t peer_len, void *user_data);

/**
 * Create a TCP server on loop.  on_stream runs for each accepted
 * connection; release(user_data) runs once after the last call (after
 * squall_tcp_server_free or squall_loop_free).  [loop thread]
 */
SQUALL_API int squall_tcp_server_new(squall_tcp_server **out, squall_loop *loop,
                                     squall_stream_fn on_stream,
                                     void *user_data,
                                     squall_release_fn release);

/**
 * Bind and listen on host:port (netutil.bind_sockets): host NULL or "" =
 * every address of every family; "localhost" = its v4 and v6 addresses;
 * port 0 = one ephemeral port shared by all families.  SO_REUSEADDR,
 * IPV6_V6ONLY on v6 sockets, backlog 128 (squall_tcp_server_set_backlog).
 * Returns SQUALL_EADDRINUSE, SQUALL_ENOTFOUND (unknown host),
 * SQUALL_EINVAL, SQUALL_EPERM.  [loop thread]
 */
SQUALL_API int squall_tcp_server_listen(squall_tcp_server *srv,
                                        const char *host, size_t host_len,
                                        int port);

/** Listen backlog for later listen calls (default 128). [loop thread] */
SQUALL_API int squall_tcp_server_set_backlog(squall_tcp_server *srv,
                                             int backlog);

/** SO_REUSEPORT for later listen calls (N loops in N threads). */
SQUALL_API int squall_tcp_server_set_reuse_port(squall_tcp_server *srv, int on);

/**
 * Listen on a unix socket at path (bind_unix_socket): a stale socket file is
 * replaced, any other existing file is refused (SQUALL_EADDRINUSE); mode
 * as chmod (e.g. 0600).  [loop thread]
 */
SQUALL_API int squall_tcp_server_listen_unix(squall_tcp_server *srv,
                                             const char *path, size_t path_len,
                                             int mode);

/**
 * Serve a listening socket opened elsewhere (systemd, a parent process).
 * The server takes ownership of fd (made non-blocking, closed on free).
 * [loop thread]
 */
SQUALL_API int squall_tcp_server_add_socket(squall_tcp_server *srv, int fd);

/** Port of the first bound TCP socket (for port 0). [loop thread] */
SQUALL_API int squall_tcp_server_port(const squall_tcp_server *srv,
                                      uint16_t *port);

/** Stop accepting and close the listening sockets. Open streams stay. */
SQUALL_API int squall_tcp_server_stop(squall_tcp_server *srv);

/** Stop, then free.  release(user_data) runs once. [loop thread] */
SQUALL_API void squall_tcp_server_free(squall_tcp_server *srv);

/* ------------------------------------------------------------------------ */
/* HTTP server configuration                                                */
/* ------------------------------------------------------------------------ */

/** Options of an HTTP server (SQUALL_OPT_*), copied by squall_server_new. */
typedef struct squall_config squall_config;

/** Keys of squall_config_set_int / squall_config_set_str.  ABI values. */
enum squall_option {
  /* int options */
  SQUALL_OPT_BACKLOG = 1,             /**< listen backlog, default 128 */
  SQUALL_OPT_MAX_HEADER_SIZE = 2,     /**< request head bytes, 64 KiB; 431 */
  SQUALL_OPT_MAX_BODY_SIZE = 3,       /**< request body bytes, 100 MiB; 413 */
  SQUALL_OPT_CHUNK_SIZE = 4,          /**< streamed body piece, 64 KiB */
  SQUALL_OPT_HEADER_TIMEOUT_MS = 5,   /**< head must arrive within, 60 s */
  SQUALL_OPT_BODY_TIMEOUT_MS = 6,     /**< longest pause between two reads of
                                           a body, 60 s (was 3600 s, total) */
  SQUALL_OPT_IDLE_TIMEOUT_MS = 7,     /**< keep-alive idle limit, 75 s (was
                                           3600 s) */
  SQUALL_OPT_NO_KEEP_ALIVE = 8,       /**< 1: close after every response */
  SQUALL_OPT_XHEADERS = 9,            /**< 1: trust X-Real-IP etc. */
  SQUALL_OPT_DECOMPRESS_REQUEST = 10, /**< 1: gunzip gzip request bodies */
  SQUALL_OPT_MAX_HEADER_COUNT = 11,   /**< header fields, 100; 431 */
  SQUALL_OPT_MAX_CONNECTIONS = 12,  /**< 0 = unlimited; past it, pause accept */
  SQUALL_OPT_REUSE_PORT = 13,       /**< 1: SO_REUSEPORT on listen */
  SQUALL_OPT_MAX_URI_SIZE = 14,     /**< request target bytes, 8 KiB; 414 */
  SQUALL_OPT_ERROR_RATE = 15,       /**< error hook calls per second, 10 */
  SQUALL_OPT_NODELAY = 16,          /**< TCP_NODELAY on accept, default 1 */
  SQUALL_OPT_WRITE_TIMEOUT_MS = 17, /**< close when queued output makes no
                                         progress for this long, 60 s */
  /* TLS int options (see "TLS" below) */
  SQUALL_OPT_TLS_CLIENT_AUTH = 50, /**< squall_tls_client_auth, default NONE */
  SQUALL_OPT_TLS_SESSION_TICKETS = 51,      /**< 1 (default): resumption by
                                                 tickets; 0: full handshakes */
  SQUALL_OPT_TLS_HANDSHAKE_TIMEOUT_MS = 52, /**< 10 s (h2o's); 0 = none */
  /* string options */
  SQUALL_OPT_TRUSTED_DOWNSTREAM = 100, /**< add proxy IPs (comma separated)
                                            skipped in X-Forwarded-For */
  SQUALL_OPT_SERVER_HEADER = 101,      /**< value of the Server field added to
                                            every response squall writes, its own
                                            4xx/5xx included (default "squall");
                                            "" (length 0): no Server field.  A
                                            Server header set on a response wins.
                                            SQUALL_EINVAL for a control byte or a
                                            leading/trailing space. */
  SQUALL_OPT_TLS_MIN_VERSION = 150,    /**< "1.2" (default) or "1.3"; 1.0 and
                                            1.1 are refused (SQUALL_ETLS) */
  SQUALL_OPT_TLS_CIPHERS = 151,        /**< TLS 1.2 cipher list (OpenSSL
                                            syntax); "" = OpenSSL's default */
  SQUALL_OPT_TLS_CIPHERSUITES = 152,   /**< TLS 1.3 suites, colon separated */
  SQUALL_OPT_TLS_CLIENT_CA = 153       /**< PEM file of the CAs that client
                                            certificates must chain to */
};

/** Values of SQUALL_OPT_TLS_CLIENT_AUTH (as nginx's ssl_verify_client). */
enum squall_tls_client_auth {
  SQUALL_TLS_CLIENT_NONE = 0,    /**< no certificate asked for */
  SQUALL_TLS_CLIENT_REQUEST = 1, /**< asked for; a client without one is
                                      served, one with a bad one is refused */
  SQUALL_TLS_CLIENT_REQUIRE = 2  /**< a verified certificate is required */
};

/** Create a config with the defaults above.  [any thread] */
SQUALL_API int squall_config_new(squall_config **out);

/**
 * Set an integer option.  Timeouts in milliseconds, 0 = none.  Returns
 * SQUALL_ENOTSUP for an unknown key, SQUALL_EINVAL for an out-of-range
 * value.  A config is a plain object: use it from one thread at a time.
 */
SQUALL_API int squall_config_set_int(squall_config *cfg, int key,
                                     int64_t value);

/** Read an integer option. */
SQUALL_API int squall_config_get_int(const squall_config *cfg, int key,
                                     int64_t *value);

/** Set a string option (copied). */
SQUALL_API int squall_config_set_str(squall_config *cfg, int key, const char *s,
                                     size_t len);

/** Free a config (servers made from it keep their own copy). */
SQUALL_API void squall_config_free(squall_config *cfg);

/*
 * TLS.  A config with a certificate serves HTTPS: every connection of a
 * server made from it does a TLS handshake first (TLS 1.2 or 1.3, ALPN
 * "http/1.1", session tickets on), and request fields say "https".  Each
 * setter checks what it is given at once and returns SQUALL_ETLS with the
 * file and OpenSSL's reason in squall_last_error() (a missing file, a key
 * that does not match its certificate, an unknown version or cipher).
 *
 * Session tickets are encrypted under keys derived from a secret made with
 * the config's first TLS setting: servers made from one config -- on N
 * loops, or in processes forked after it was set -- resume each other's
 * sessions.  Make the config before forking.
 */

/**
 * Add a certificate chain (PEM: the leaf first, then intermediates) and its
 * private key (PEM, maybe encrypted: see squall_config_set_tls_key_password).
 * The first certificate added is the default; when a client names a server
 * (SNI) that another certificate's names match (subjectAltName, wildcards
 * included), that one is used, as Go's crypto/tls does.  Returns 0,
 * SQUALL_EINVAL (NULL) or SQUALL_ETLS.  [any thread, one at a time]
 */
SQUALL_API int squall_config_add_tls_cert(squall_config *cfg,
                                          const char *cert_file,
                                          const char *key_file);

/**
 * The same from PEM text in memory (read at once, not kept; SQUALL_NTS as
 * a length for a NUL-terminated string).  [any thread, one at a time]
 */
SQUALL_API int squall_config_add_tls_cert_pem(squall_config *cfg,
                                              const char *cert_pem,
                                              size_t cert_len,
                                              const char *key_pem,
                                              size_t key_len);

/**
 * Password for the encrypted private keys added after this call (copied;
 * NULL or "" for none).  Never prompts on a terminal.  [any thread]
 */
SQUALL_API int squall_config_set_tls_key_password(squall_config *cfg,
                                                  const char *password);

/* ------------------------------------------------------------------------ */
/* HTTP server (HTTPServer)                                                 */
/* ------------------------------------------------------------------------ */

/** An HTTP server on a loop (HTTPServer). */
typedef struct squall_server squall_server;
/** One request and its response, from dispatch until it is finished. */
typedef struct squall_request squall_request;

/**
 * Request handler, called on the loop thread once the whole request (head
 * and body) has arrived.  From this call the application owns the request
 * and must end it with squall_response_finish or squall_respond, from any
 * thread, now or later.
 */
typedef void (*squall_handler_fn)(squall_request *req, void *user_data);

/**
 * Create an HTTP server on loop.  cfg (NULL: defaults) is copied.  handler
 * is required.  release(user_data) runs once after the last handler call,
 * when the server has been freed.  [loop thread]
 */
SQUALL_API int squall_server_new(squall_server **out, squall_loop *loop,
                                 const squall_config *cfg,
                                 squall_handler_fn handler, void *user_data,
                                 squall_release_fn release);

/**
 * @name Pull-style dispatch
 * For bindings whose calls from C into their runtime are expensive (Go,
 * Python, Lua, JavaScript): instead of the library calling a handler, the
 * binding drives the loop with squall_loop_poll and takes the ready
 * requests into an array it owns, so the hot path only makes calls into C.
 * The callback API above stays the simplest for C; a loop may hold both
 * kinds of server.
 * @{
 */

/**
 * Like squall_server_new, but without a handler: each request that is
 * ready for the application (head and body arrived, after the headers
 * hook if any) is queued on loop, to be taken by squall_loop_poll.  The
 * loop must be driven by squall_loop_poll (squall_loop_run would queue
 * requests that nobody takes).  Hooks (headers, access, error) and every
 * response call work as with squall_server_new.  Returns 0, SQUALL_EINVAL
 * (NULL out or loop), SQUALL_ETLS (cfg's TLS settings), SQUALL_ECLOSED or
 * SQUALL_ETHREAD.  [loop thread]
 */
SQUALL_API int squall_server_new_polled(squall_server **out, squall_loop *loop,
                                        const squall_config *cfg);

/** squall_loop_poll's return when squall_loop_stop ended the call. */
#define SQUALL_POLL_STOPPED 1

/**
 * Drive loop and take the requests that are ready.
 *
 * If requests are queued already, up to cap of them are returned at once
 * without running the loop.  Otherwise the call first writes the responses
 * it deferred (see below), then runs loop passes -- I/O, timers, callbacks,
 * calls queued by other threads -- until at least one request is ready,
 * timeout_ms has passed (0: one pass that does not wait; -1: no limit) or
 * squall_loop_stop was called.
 *
 * @param loop       the loop of one or more squall_server_new_polled servers
 * @param timeout_ms longest wait in milliseconds; 0 or -1 as above
 * @param out        array of cap request pointers, filled from out[0]
 * @param cap        size of out (requests beyond it stay queued)
 * @param n          receives the number of requests stored (0..cap)
 * @return SQUALL_OK; SQUALL_POLL_STOPPED (1) when a squall_loop_stop ended
 *         the call (requests may still have been stored: see *n);
 *         SQUALL_EINVAL (NULL argument, cap 0), SQUALL_ETHREAD (called from
 *         a thread other than the loop's), SQUALL_ESTATE (called from one
 *         of the loop's own callbacks, or while squall_loop_run runs),
 *         SQUALL_ECLOSED (loop being freed).
 *
 * Thread: the first call binds the loop to the calling thread for the
 * loop's life.  From then on only that thread may poll or make
 * [loop thread] calls, also between polls; [any thread] calls from other
 * threads (squall_respond, squall_response_send, ...) are queued to the
 * loop and applied in its next pass, as with squall_loop_run.
 *
 * A returned request is the same object a handler gets: valid until it is
 * finished, and it must be finished (from any thread) even when its server
 * has been freed in between.  Requests still queued when the loop is freed
 * are aborted.
 *
 * Writes: a response finished on the loop thread while its connection has
 * further (pipelined) requests buffered is not written at once: the next
 * request is parsed and queued, and the responses of the burst leave in
 * one write before the loop next waits (the batching the callback API gets
 * within a read pass).  A response with nothing behind it is written at
 * once.  So keep calling squall_loop_poll while the server runs.
 */
SQUALL_API int squall_loop_poll(squall_loop *loop, int timeout_ms,
                                squall_request **out, size_t cap, size_t *n);

/** @} */

/**
 * Headers hook, called on the loop thread when a request head has been
 * parsed, before its body is read (and before "100 Continue" is sent).
 * The request is borrowed for the call.  Here the application may lower
 * the request's body limits (squall_request_set_max_body_size,
 * squall_request_set_body_timeout), take the body as a stream
 * (squall_request_stream_body), or answer at once with squall_respond /
 * squall_response_finish -- then the body is not read, the handler is not
 * called, and the connection closes after the response unless the request
 * had no body.  [loop thread]
 */
SQUALL_API int squall_server_set_headers_hook(squall_server *srv,
                                              squall_handler_fn fn,
                                              void *user_data,
                                              squall_release_fn release);

/**
 * Access hook: called on the loop thread once per finished exchange.
 * Strings are valid (and NUL-terminated) during the call.  status 0 means
 * no response was sent (client gone, or aborted).  bytes_sent counts every
 * byte of the response as framed on the wire (status line, headers, chunk
 * framing, body).  duration_us is from the first byte of the request to
 * when the response was finished.
 */
/* clang-format off: one parameter a line */
typedef void (*squall_access_fn)(
    const char *method, size_t method_len, /* "GET" */
    const char *target, size_t target_len, /* the request target as sent */
    int status,                            /* status sent, 0 if none */
    uint64_t bytes_sent,                   /* the response's bytes */
    uint64_t duration_us,                  /* first byte in to finish */
    const char *peer, size_t peer_len,     /* "ip:port" or a unix path */
    void *user_data);
/* clang-format on */

/** Install fn as srv's access hook (squall_access_fn); release(user_data)
 * runs once after its last call.  [loop thread] */
SQUALL_API int squall_server_set_access_hook(squall_server *srv,
                                             squall_access_fn fn,
                                             void *user_data,
                                             squall_release_fn release);

/** Kinds reported by the error hook. */
enum squall_error_kind {
  SQUALL_ERRKIND_PARSE = 1,      /**< malformed request (4xx sent) */
  SQUALL_ERRKIND_LIMIT = 2,      /**< a size or count limit (413/414/431) */
  SQUALL_ERRKIND_TIMEOUT = 3,    /**< header/body/idle timeout */
  SQUALL_ERRKIND_TLS = 4,        /**< a TLS handshake failed or timed out
                                      (or plain HTTP on the TLS port) */
  SQUALL_ERRKIND_IO = 5,         /**< the connection failed (reset, I/O
                                      error) while a request was in progress */
  SQUALL_ERRKIND_APPLICATION = 6 /**< application misuse (e.g. unfinished) */
};

/**
 * Error hook: kind, an HTTP status sent (0 if none), a message and the
 * peer, valid during the call.  Rate-limited to SQUALL_OPT_ERROR_RATE
 * calls per second per server; the number suppressed is reported in the
 * next message.  [loop thread]
 */
typedef void (*squall_error_hook_fn)(int kind, int http_status, const char *msg,
                                     size_t msg_len, const char *peer,
                                     size_t peer_len, void *user_data);

/** Install fn as srv's error hook (squall_error_hook_fn); release(user_data)
 * runs once after its last call.  [loop thread] */
SQUALL_API int squall_server_set_error_hook(squall_server *srv,
                                            squall_error_hook_fn fn,
                                            void *user_data,
                                            squall_release_fn release);

/** Listen on host:port; see squall_tcp_server_listen. [loop thread] */
SQUALL_API int squall_server_listen(squall_server *srv, const char *host,
                                    size_t host_len, int port);

/** Listen on a unix socket; see squall_tcp_server_listen_unix. */
SQUALL_API int squall_server_listen_unix(squall_server *srv, const char *path,
                                         size_t path_len, int mode);

/** Serve a listening fd opened elsewhere (ownership passes). */
SQUALL_API int squall_server_add_socket(squall_server *srv, int fd);

/** Port of the first bound TCP socket. [loop thread] */
SQUALL_API int squall_server_port(const squall_server *srv, uint16_t *port);

/**
 * Stop accepting; connections in flight continue.  [loop thread]
 */
SQUALL_API int squall_server_stop(squall_server *srv);

/**
 * Graceful shutdown: stop accepting, close idle connections, let requests
 * in flight finish (no new request is read on their connections), and
 * cut whatever is left after grace_ms (< 0: wait forever).  done (may be
 * NULL) runs once on the loop thread: 0 if everything finished,
 * SQUALL_ETIMEDOUT if connections were cut.  [any thread]
 */
SQUALL_API int squall_server_shutdown(squall_server *srv, int64_t grace_ms,
                                      squall_done_fn done, void *user_data);

/**
 * Stop and free.  Open connections are closed; requests the application
 * still owns stay valid (their writes return SQUALL_ECLOSED) until
 * finished.  The hooks' release functions run once no call can follow.
 * [loop thread]
 */
SQUALL_API void squall_server_free(squall_server *srv);

/**
 * Reload TLS without a restart: the server's certificates, keys and TLS
 * settings become those of cfg.  Handshakes that start after the swap use
 * them; open connections keep theirs.  The new settings are built on the
 * calling thread before anything changes, so on failure (SQUALL_ETLS and
 * squall_last_error(): a bad file, a key that does not match) the old ones
 * keep serving.  Ticket keys rotate: the next secret is derived from the
 * server's current one (processes that reload alike stay alike) and
 * tickets under the previous secret are still accepted.  SQUALL_ESTATE if
 * the server was made without TLS, SQUALL_EINVAL if cfg has no
 * certificate, SQUALL_ECLOSED if its loop is gone.  [any thread]
 */
SQUALL_API int squall_server_reload_tls(squall_server *srv,
                                        const squall_config *cfg);

/** Indexes of squall_server_stats. */
enum squall_stat {
  SQUALL_STAT_CONNECTIONS_ACCEPTED = 0,
  SQUALL_STAT_CONNECTIONS_OPEN = 1,
  SQUALL_STAT_REQUESTS = 2,
  SQUALL_STAT_BYTES_IN = 3,
  SQUALL_STAT_BYTES_OUT = 4,
  SQUALL_STAT_RESPONSES_1XX = 5,
  SQUALL_STAT_RESPONSES_2XX = 6,
  SQUALL_STAT_RESPONSES_3XX = 7,
  SQUALL_STAT_RESPONSES_4XX = 8,
  SQUALL_STAT_RESPONSES_5XX = 9,
  SQUALL_STAT_REJECTED_PARSE = 10,
  SQUALL_STAT_REJECTED_LIMIT = 11,
  SQUALL_STAT_TIMEOUTS = 12,
  SQUALL_STAT_ACCEPT_PAUSES = 13,
  SQUALL_STAT_TLS_HANDSHAKE_FAILURES = 14, /**< failed or timed out */
  SQUALL_STAT_COUNT = 15
};

/**
 * Snapshot counters: fills values[0 .. min(count, SQUALL_STAT_COUNT)) in
 * squall_stat order.  Each counter is read atomically.  [any thread]
 */
SQUALL_API int squall_server_stats(const squall_server *srv, uint64_t *values,
                                   size_t count);

/* ------------------------------------------------------------------------ */
/* Scale out: N loops on N threads, prefork processes, signals              */
/* ------------------------------------------------------------------------ */
/*
 * A group is one HTTP server served by N loops, each on its own thread: N
 * squall_server objects made from one config and one handler.  A handler
 * runs on the loop that owns its request; any-thread completion works as
 * for one loop.  By default loop 0 accepts and hands each new connection to
 * the loop with the fewest open connections (an even share whatever the
 * kernel's hash does); with SQUALL_OPT_REUSE_PORT = 1 each loop listens on
 * its own SO_REUSEPORT socket instead and the kernel spreads connections.
 *
 *   squall_group_new -> (hooks on squall_group_server(g, i)) ->
 *   squall_group_listen / _add_socket -> [squall_group_handle_signals] ->
 *   squall_group_start -> ... -> squall_group_join -> squall_group_free
 */
/** One HTTP server served by N loops on N threads. */
typedef struct squall_group squall_group;

/**
 * Make n loops (0: one per CPU) and a server on each from cfg (NULL:
 * defaults) and handler.  release(user_data) runs once, in
 * squall_group_free, after the last handler call.  Returns 0, SQUALL_EINVAL,
 * SQUALL_ETLS (cfg's TLS) or SQUALL_ENOMEM.  [any thread]
 */
SQUALL_API int squall_group_new(squall_group **out, int n,
                                const squall_config *cfg,
                                squall_handler_fn handler, void *user_data,
                                squall_release_fn release);

/** Number of loops, or SQUALL_EINVAL for NULL.  [any thread] */
SQUALL_API int squall_group_size(const squall_group *g);

/**
 * Loop i and its server (NULL out of range); valid until squall_group_free.
 * Before squall_group_start the calling thread may make [loop thread] calls
 * on them (hooks: squall_server_set_*_hook on every server).  [any thread]
 */
SQUALL_API squall_loop *squall_group_loop(squall_group *g, int i);

/** Server i of the group (NULL out of range); as squall_group_loop. */
SQUALL_API squall_server *squall_group_server(squall_group *g, int i);

/**
 * Index of loop (e.g. squall_request_loop(req)) in the group, or
 * SQUALL_ENOTFOUND.  [any thread]
 */
SQUALL_API int squall_group_loop_index(const squall_group *g,
                                       const squall_loop *loop);

/**
 * Listen on host:port (port 0: ephemeral; with SO_REUSEPORT every loop gets
 * the same port).  Before squall_group_start, else SQUALL_ESTATE.  Other
 * errors as squall_server_listen.
 */
SQUALL_API int squall_group_listen(squall_group *g, const char *host,
                                   size_t host_len, int port);

/**
 * Serve a listening socket opened elsewhere (systemd, a predecessor; see
 * squall_listen_fds); the group owns it.  Before squall_group_start.
 */
SQUALL_API int squall_group_add_socket(squall_group *g, int fd);

/** The TCP port loop 0 listens on (SQUALL_ENOTFOUND if none). */
SQUALL_API int squall_group_port(const squall_group *g, uint16_t *port);

/**
 * Start one thread per loop, each running its loop until stopped.  If the
 * environment names a predecessor waiting for this process to serve
 * (SQUALL_READY_FD, set by a zero-downtime restart), it is told now.
 * SQUALL_ESTATE if started before.  [the thread that made the group]
 */
SQUALL_API int squall_group_start(squall_group *g);

/**
 * Graceful drain of every loop's server (squall_server_shutdown on each,
 * loop 0 first so no handed-over connection is dropped): stop accepting,
 * close idle connections, let requests in flight finish (their responses
 * carry Connection: close), cut what is left after grace_ms (< 0: never).
 * done(status, user_data) runs once on one of the loops when all are done
 * (status 0, or SQUALL_ETIMEDOUT if connections were cut; SQUALL_ECLOSED,
 * inside squall_group_free, if the loops stopped before the drain began).
 * The loops keep running: stop them in done.  SQUALL_ESTATE if already
 * draining.
 * [any thread]
 */
SQUALL_API int squall_group_shutdown(squall_group *g, int64_t grace_ms,
                                     squall_done_fn done, void *user_data);

/** Ask every loop to stop (squall_loop_stop).  [any thread] */
SQUALL_API int squall_group_stop(squall_group *g);

/**
 * Wait until every loop thread returned (after a stop).  SQUALL_ETHREAD
 * from one of the group's own loops.  [any thread but the group's]
 */
SQUALL_API int squall_group_join(squall_group *g);

/**
 * Turn SIGTERM and SIGINT into a graceful drain (squall_group_shutdown with
 * grace_ms, then the loops stop, so squall_group_join returns); a second
 * signal during the drain stops at once.  With restart_argv (a NULL-ended
 * argv whose [0] is a path to execute, e.g. the program itself), SIGUSR2
 * is a zero-downtime restart as nginx does it: that program is started
 * with the listening sockets (LISTEN_FDS / LISTEN_PID, see
 * squall_listen_fds), and once it serves (squall_group_start tells) this
 * process drains; if it fails to start, this one goes on serving.  Blocks
 * those signals in the calling thread -- call it before squall_group_start
 * and before starting other threads -- and takes them on a thread of its
 * own (squall_group_free ends it).  [the thread that made the group]
 */
SQUALL_API int squall_group_handle_signals(squall_group *g, int64_t grace_ms,
                                           const char *const *restart_argv);

/**
 * Stop, join, free every server and loop, then release(user_data).
 * Requests still held by the application must be finished before.
 * [not from the group's loops]
 */
SQUALL_API void squall_group_free(squall_group *g);

/**
 * Tornado's fork_processes: bind first (e.g. squall_group_listen), then
 * fork n children (0: one per CPU) that share the listening sockets, then
 * make loops and serve in each.  Returns 0 in each child with *task_id set
 * to 0 .. n-1.  The parent never returns: it restarts a child that dies by
 * a signal or exits non-zero (at most max_restarts times in all; then it
 * stops the others and exits 1 with a message on stderr), forwards
 * SIGTERM, SIGINT and SIGHUP to the children (after SIGTERM or
 * SIGINT it restarts none), and exits 0 when every child exited cleanly.
 * Children receive SIGTERM if the parent dies.  Call it before any thread
 * or loop exists (loops made before the fork are unusable in the
 * children).  SQUALL_ESTATE if called twice.  [main thread, once]
 */
SQUALL_API int squall_fork_processes(int n, int max_restarts, int *task_id);

/**
 * Bind listening sockets before forking or before making a group (Tornado's
 * bind_sockets): every address of host (NULL or "": all interfaces, IPv4
 * and IPv6), non-blocking, close-on-exec, SO_REUSEADDR (and SO_REUSEPORT
 * if reuse_port); port 0 picks one ephemeral port for all.  Fills fds and
 * *n; SQUALL_EINVAL if more than cap, SQUALL_EADDRINUSE, SQUALL_EPERM.
 * Hand them to squall_group_add_socket (each child of a prefork does).
 * [any thread]
 */
SQUALL_API int squall_bind_sockets(const char *host, size_t host_len, int port,
                                   int backlog, int reuse_port, int *fds,
                                   size_t cap, size_t *n);

/** The child's task id after squall_fork_processes, else -1.  [any thread] */
SQUALL_API int squall_task_id(void);

/**
 * Listening sockets handed to this process by systemd socket activation
 * or by a zero-downtime restart: when LISTEN_PID is this process, the fds
 * 3 .. 3 + LISTEN_FDS - 1 (set close-on-exec).  Fills fds[0 .. min(n,
 * cap)) and sets *n to how many there were (0: none); fds past cap are
 * closed.  The variables are removed from the environment (children do
 * not see them).  Pass each to squall_group_add_socket or
 * squall_server_add_socket.  [main thread, before other threads]
 */
SQUALL_API int squall_listen_fds(int *fds, size_t cap, size_t *n);

/* ------------------------------------------------------------------------ */
/* Requests (HTTPServerRequest)                                             */
/* ------------------------------------------------------------------------ */
/*
 * A request handle is valid from the handler call until the application
 * ends it (squall_response_finish / squall_respond), even if the client
 * disconnects first.  Every squall_request_* accessor is [any thread]
 * until then; the request is immutable after dispatch.  Borrowed outputs
 * stay valid until the request is finished.
 */

/** Fields of squall_request_get. */
enum squall_request_field {
  SQUALL_REQ_METHOD = 1,     /**< "GET" */
  SQUALL_REQ_URI = 2,        /**< request target as sent */
  SQUALL_REQ_PATH = 3,       /**< path part, not decoded ("/a%20b") */
  SQUALL_REQ_QUERY = 4,      /**< after '?', without it ("" if none) */
  SQUALL_REQ_VERSION = 5,    /**< "HTTP/1.1" */
  SQUALL_REQ_HOST = 6,       /**< Host header or absolute-form authority */
  SQUALL_REQ_REMOTE_IP = 7,  /**< peer IP (or X-Real-IP with xheaders) */
  SQUALL_REQ_PROTOCOL = 8,   /**< "http" or "https" (X-Scheme with xheaders) */
  SQUALL_REQ_FULL_URL = 9,   /**< protocol://host/uri */
  SQUALL_REQ_HOST_NAME = 10, /**< host without port, brackets of v6 kept */
  /* TLS connections only (SQUALL_ENOTFOUND on plain HTTP): */
  SQUALL_REQ_TLS_VERSION = 20,      /**< "TLSv1.3" */
  SQUALL_REQ_TLS_CIPHER = 21,       /**< "TLS_AES_128_GCM_SHA256" */
  SQUALL_REQ_TLS_SERVER_NAME = 22,  /**< SNI sent by the client ("" if none) */
  SQUALL_REQ_TLS_ALPN = 23,         /**< "http/1.1" ("" if not negotiated) */
  SQUALL_REQ_TLS_PEER_SUBJECT = 24, /**< verified client certificate's
                                         subject, RFC 2253 ("" if none) */
  SQUALL_REQ_TLS_PEER_CERT = 25,    /**< that certificate in PEM ("" if none) */
  SQUALL_REQ_TLS_RESUMED = 26       /**< "1" if the session was resumed */
};

/** One field of the request; SQUALL_EINVAL for an unknown field. */
SQUALL_API int squall_request_get(const squall_request *req, int field,
                                  const char **p, size_t *len);

/**
 * The nth (0-based) value of header name (case-insensitive) in arrival
 * order; SQUALL_ENOTFOUND if there is none.
 */
SQUALL_API int squall_request_header(const squall_request *req,
                                     const char *name, size_t name_len,
                                     size_t nth, const char **value,
                                     size_t *value_len);

/** Number of header fields. */
SQUALL_API int squall_request_header_count(const squall_request *req,
                                           size_t *count);

/** Header field at index (arrival order); SQUALL_ENOTFOUND past the end. */
SQUALL_API int squall_request_header_at(const squall_request *req, size_t index,
                                        const char **name, size_t *name_len,
                                        const char **value, size_t *value_len);

/** The request body (decoded from chunked / gzip); empty when streamed. */
SQUALL_API int squall_request_body(const squall_request *req, const void **data,
                                   size_t *len);

/** Where squall_request_argument* look. */
enum squall_args_source {
  SQUALL_ARGS_ALL = 0,   /**< query then body (Tornado's arguments) */
  SQUALL_ARGS_QUERY = 1, /**< query string */
  SQUALL_ARGS_BODY = 2   /**< urlencoded or multipart form fields */
};

/** nth value of argument name (decoded). */
SQUALL_API int squall_request_argument(const squall_request *req, int source,
                                       const char *name, size_t name_len,
                                       size_t nth, const char **value,
                                       size_t *value_len);

/** Number of arguments (name/value pairs) from source. */
SQUALL_API int squall_request_argument_count(const squall_request *req,
                                             int source, size_t *count);

/** The index-th argument from source: its name and decoded value. */
SQUALL_API int squall_request_argument_at(const squall_request *req, int source,
                                          size_t index, const char **name,
                                          size_t *name_len, const char **value,
                                          size_t *value_len);

/** Number of uploaded files (multipart/form-data parts with a filename). */
SQUALL_API int squall_request_file_count(const squall_request *req,
                                         size_t *count);

/**
 * File at index: form field name, filename, content type and the bytes.
 * Any out pointer may be NULL.
 */
SQUALL_API int squall_request_file_at(const squall_request *req, size_t index,
                                      const char **field, size_t *field_len,
                                      const char **filename,
                                      size_t *filename_len,
                                      const char **content_type,
                                      size_t *content_type_len,
                                      const void **data, size_t *data_len);

/** Number of cookies (from all Cookie header fields, in order). */
SQUALL_API int squall_request_cookie_count(const squall_request *req,
                                           size_t *count);

/**
 * Value of the first cookie called name (case-sensitive);
 * SQUALL_ENOTFOUND if there is none.
 */
SQUALL_API int squall_request_cookie(const squall_request *req,
                                     const char *name, size_t name_len,
                                     const char **value, size_t *value_len);

/** Cookie at index: name and value; SQUALL_ENOTFOUND past the end. */
SQUALL_API int squall_request_cookie_at(const squall_request *req, size_t index,
                                        const char **name, size_t *name_len,
                                        const char **value, size_t *value_len);

/**
 * Times in microseconds: *start_unix_us when the request's first byte was
 * read (wall clock) and *elapsed_us since then (monotonic;
 * Tornado's request_time()).  Either pointer may be NULL.
 */
SQUALL_API int squall_request_time(const squall_request *req,
                                   int64_t *start_unix_us, int64_t *elapsed_us);

/**
 * Done notification: fn(status) runs once on the loop thread: 0 when the
 * response has been handed to the kernel in full, SQUALL_ECLOSED when the
 * connection closed first (client gone, server freed) -- which may happen
 * before the application finished: that is the signal to stop working on
 * it (the request stays valid until finished).  One registration per
 * request (SQUALL_ESTATE for a second).  [any thread]
 */
SQUALL_API int squall_request_on_done(squall_request *req, squall_done_fn fn,
                                      void *user_data);

/** Lower (or raise) this request's body limit; headers hook only. */
SQUALL_API int squall_request_set_max_body_size(squall_request *req,
                                                int64_t max_bytes);

/** This request's body timeout in ms: the longest pause between two reads
 * of its body (0 = none); headers hook only. */
SQUALL_API int squall_request_set_body_timeout(squall_request *req,
                                               int64_t timeout_ms);

/**
 * Body piece: data valid during the call.  Return 0 to go on, or a
 * negative value to abort (the connection is closed; the handler is not
 * called).
 */
typedef int (*squall_body_fn)(const void *data, size_t len, void *user_data);

/**
 * Headers hook only: deliver the body to fn in pieces of at most
 * SQUALL_OPT_CHUNK_SIZE bytes as it arrives (decoded), instead of
 * buffering it (Tornado's stream_request_body).  The handler then runs at
 * the end with an empty body.  release(user_data) runs once after the last
 * piece (end of body, abort, or connection loss).  [loop thread]
 */
SQUALL_API int squall_request_stream_body(squall_request *req,
                                          squall_body_fn fn, void *user_data,
                                          squall_release_fn release);

/**
 * Hand the connection's raw stream to the application (an Upgrade, the
 * way a WebSocket server takes over).  Bytes that arrived after the
 * request head stay readable on the stream.  The request is ended (invalid
 * after this call); the application owns *out.  Nothing is written for
 * it: send the 101 yourself with squall_stream_write.  [loop thread,
 * handler only, before any response call]
 */
SQUALL_API int squall_request_detach(squall_request *req, squall_stream **out);

/* ------------------------------------------------------------------------ */
/* Responses                                                                */
/* ------------------------------------------------------------------------ */
/*
 * All [any thread] until the request is finished.  On the loop thread they
 * act at once; from another thread the bytes are copied into a command
 * queued to the loop in call order (the loop is woken once per batch).
 * They return SQUALL_ECLOSED once the connection is known to be gone (the
 * call then does nothing, but the application must still finish the
 * request), SQUALL_ESTATE when out of order (a status or header after the
 * head was sent).  After the request is finished the handle is invalid.
 */

/**
 * Status code (100..999; default 200) and reason (NULL/0: the standard
 * phrase).  Reason must not contain CR or LF.
 */
SQUALL_API int squall_response_status(squall_request *req, int code,
                                      const char *reason, size_t reason_len);

/**
 * Add a header field.  Name must be an RFC 9110 token; the value may hold
 * visible ASCII, SP, HTAB and bytes >= 0x80, but no other control byte
 * (CR, LF, NUL, ...) nor DEL (SQUALL_EINVAL).  Transfer-Encoding is
 * refused (squall frames responses itself), as is a Content-Length that
 * is not 1 to 18 digits.  Content-Length set here is trusted as
 * the framing (a mismatch with the bytes written closes the connection);
 * without it squall picks Content-Length (whole body known at finish),
 * chunked (HTTP/1.1 streamed) or close-delimited (HTTP/1.0 streamed).
 * Date and Server are added unless set.
 */
SQUALL_API int squall_response_header(squall_request *req, const char *name,
                                      size_t name_len, const char *value,
                                      size_t value_len);

/** Append body bytes (copied).  Buffered until flush or finish. */
SQUALL_API int squall_response_write(squall_request *req, const void *data,
                                     size_t len);

/**
 * Send what was written so far (headers first; the response is then
 * streamed).  done (may be NULL) runs once when those bytes reached the
 * kernel (0) or the connection closed (SQUALL_ECLOSED): backpressure.  It
 * runs if and only if this call returned 0.
 */
SQUALL_API int squall_response_flush(squall_request *req, squall_done_fn done,
                                     void *user_data);

/**
 * End the response (and the request: req is invalid after this returns 0
 * or SQUALL_ECLOSED).  Unless SQUALL_ESTATE/SQUALL_EINVAL is returned the
 * request is finished.
 */
SQUALL_API int squall_response_finish(squall_request *req);

/**
 * One shot: status, optional Content-Type, body, finish.  Same validity
 * rule as squall_response_finish.
 */
SQUALL_API int squall_respond(squall_request *req, int code,
                              const char *content_type, size_t ct_len,
                              const void *body, size_t body_len);

/**
 * Abort the response: the connection is closed without completing the
 * response's framing (a streamed body then reads as truncated, never as
 * complete), on_done gets SQUALL_ECLOSED, and the request is ended (invalid
 * after this call unless SQUALL_ESTATE/SQUALL_EINVAL is returned).  Use it
 * when a streamed body fails midway.  [any thread]
 */
SQUALL_API int squall_response_abort(squall_request *req);

/** One header field for squall_response_send: (pointer, length) pairs;
 * a length of SQUALL_NTS means NUL-terminated.  Plain data, layout frozen
 * (the one public struct: an array of these crosses in one call). */
typedef struct squall_header {
  const char *name;  /**< field name, an RFC 9110 token */
  size_t name_len;   /**< its length, or SQUALL_NTS */
  const char *value; /**< field value (no CR, LF, NUL, other controls) */
  size_t value_len;  /**< its length, or SQUALL_NTS */
} squall_header;

/** Flags of squall_response_send. */
enum squall_send_flags {
  SQUALL_SEND_FLUSH = 1,  /**< send what is written so far (as _flush) */
  SQUALL_SEND_FINISH = 2, /**< end the response (as _finish) */
  SQUALL_SEND_ABORT = 4   /**< abort instead (as _abort); alone only */
};

/**
 * The whole response call in one crossing, for bindings: in order, status
 * (0: leave it as it is; else 100..999 with the standard reason), then the
 * n_headers fields (as squall_response_header; headers may be NULL when
 * n_headers is 0), then len body bytes (as squall_response_write; body may
 * be NULL when len is 0), then by flags: FLUSH sends what was written so
 * far (the response is then streamed; use squall_response_flush for a
 * done notification), FINISH ends the response (Content-Length framing if
 * nothing was flushed before), ABORT (alone: no status, header or body)
 * closes the connection without completing the framing.  Everything is
 * validated before anything is applied: SQUALL_EINVAL for a bad status,
 * header name or value, or flag combination (nothing applied, the request
 * not ended), SQUALL_ESTATE for headers or status after the head was sent
 * or any call after the end.  With FINISH or ABORT the validity rule of
 * squall_response_finish applies.  From another thread the fields and
 * bytes are copied into one command for the loop.  [any thread]
 */
SQUALL_API int squall_response_send(squall_request *req, int status,
                                    const squall_header *headers,
                                    size_t n_headers, const void *body,
                                    size_t len, unsigned flags);

/**
 * The loop a request belongs to.  The pointer is valid only while that loop
 * has not been freed, and a request may outlive its loop: from another
 * thread prefer squall_request_call_soon.  SQUALL_ECLOSED if the loop is
 * gone.  [any thread]
 */
SQUALL_API int squall_request_loop(const squall_request *req,
                                   squall_loop **out);

/**
 * Run fn(user_data) once on the request's loop thread (squall_loop_call_soon
 * on the request's loop), valid until the request is finished.  Returns
 * SQUALL_ECLOSED, and never runs fn, if the loop is gone.  [any thread]
 */
SQUALL_API int squall_request_call_soon(squall_request *req,
                                        squall_callback_fn fn, void *user_data);

/* ------------------------------------------------------------------------ */
/* Run-time loading (dlopen / dlsym)                                        */
/* ------------------------------------------------------------------------ */
/*
 * Every function above has a pointer type squall_<name>_pfn, so a program
 * that loads the library at run time needs only this header:
 *
 *   void *so = dlopen("libsquall.so.0", RTLD_NOW | RTLD_LOCAL);
 *   squall_version_pfn version =
 *       (squall_version_pfn)dlsym(so, "squall_version");
 *   if (!version || version() >> 16 != SQUALL_VERSION_MAJOR) refuse;
 *   squall_respond_pfn respond = (squall_respond_pfn)dlsym(so,
 *                                                         "squall_respond");
 *
 * Load "libsquall.so.<major>" (the SONAME), not "libsquall.so" (a
 * development symlink), and check the major version before any other
 * call: within a major version symbols are only added, never changed.
 * The block is generated from the declarations (tests/abi/test_pfn.sh
 * --update) and checked against them by that test.
 */
/** @cond pfn_types (one per function above: not repeated in the reference) */
/* pfn:begin (generated by tests/abi/test_pfn.sh --update) */
typedef uint32_t (*squall_version_pfn)(void);
typedef const char *(*squall_version_string_pfn)(void);
typedef const char *(*squall_strerror_pfn)(int code);
typedef const char *(*squall_last_error_pfn)(void);
typedef int (*squall_set_log_pfn)(squall_log_fn fn, int min_level,
                                  void *user_data, squall_release_fn release);
typedef int (*squall_loop_new_pfn)(squall_loop **out);
typedef int (*squall_loop_run_pfn)(squall_loop *loop);
typedef int (*squall_loop_run_once_pfn)(squall_loop *loop, int timeout_ms);
typedef int (*squall_loop_stop_pfn)(squall_loop *loop);
typedef int (*squall_loop_call_soon_pfn)(squall_loop *loop,
                                         squall_callback_fn fn,
                                         void *user_data);
typedef int (*squall_loop_free_pfn)(squall_loop *loop);
typedef int (*squall_loop_call_later_pfn)(squall_timer **out, squall_loop *loop,
                                          int64_t delay_ms,
                                          squall_callback_fn fn,
                                          void *user_data,
                                          squall_release_fn release);
typedef int (*squall_loop_call_every_pfn)(squall_timer **out, squall_loop *loop,
                                          int64_t interval_ms,
                                          squall_callback_fn fn,
                                          void *user_data,
                                          squall_release_fn release);
typedef int (*squall_timer_cancel_pfn)(squall_timer *timer);
typedef void (*squall_timer_free_pfn)(squall_timer *timer);
typedef int (*squall_stream_read_until_pfn)(squall_stream *stream,
                                            const char *delim, size_t delim_len,
                                            size_t max_bytes, squall_read_fn cb,
                                            void *user_data);
typedef int (*squall_stream_read_bytes_pfn)(squall_stream *stream, size_t n,
                                            int partial, squall_read_fn cb,
                                            void *user_data);
typedef int (*squall_stream_read_until_close_pfn)(squall_stream *stream,
                                                  squall_read_fn cb,
                                                  void *user_data);
typedef int (*squall_stream_write_pfn)(squall_stream *stream, const void *data,
                                       size_t len, squall_done_fn cb,
                                       void *user_data);
typedef int (*squall_stream_set_close_callback_pfn)(squall_stream *stream,
                                                    squall_done_fn fn,
                                                    void *user_data,
                                                    squall_release_fn release);
typedef int (*squall_stream_set_write_limits_pfn)(
    squall_stream *stream, size_t max_bytes, size_t high, size_t low,
    squall_callback_fn on_drain, void *user_data, squall_release_fn release);
typedef int (*squall_stream_write_buffer_size_pfn)(const squall_stream *stream,
                                                   size_t *out);
typedef int (*squall_stream_set_max_buffer_size_pfn)(squall_stream *stream,
                                                     size_t max_bytes);
typedef int (*squall_stream_set_nodelay_pfn)(squall_stream *stream, int on);
typedef int (*squall_stream_close_pfn)(squall_stream *stream);
typedef int (*squall_stream_closed_pfn)(const squall_stream *stream,
                                        int *error);
typedef int (*squall_stream_peer_pfn)(const squall_stream *stream,
                                      const char **p, size_t *len);
typedef void (*squall_stream_free_pfn)(squall_stream *stream);
typedef int (*squall_stream_connect_pfn)(squall_stream **out, squall_loop *loop,
                                         const char *host, size_t host_len,
                                         uint16_t port, squall_done_fn cb,
                                         void *user_data);
typedef int (*squall_tcp_server_new_pfn)(squall_tcp_server **out,
                                         squall_loop *loop,
                                         squall_stream_fn on_stream,
                                         void *user_data,
                                         squall_release_fn release);
typedef int (*squall_tcp_server_listen_pfn)(squall_tcp_server *srv,
                                            const char *host, size_t host_len,
                                            int port);
typedef int (*squall_tcp_server_set_backlog_pfn)(squall_tcp_server *srv,
                                                 int backlog);
typedef int (*squall_tcp_server_set_reuse_port_pfn)(squall_tcp_server *srv,
                                                    int on);
typedef int (*squall_tcp_server_listen_unix_pfn)(squall_tcp_server *srv,
                                                 const char *path,
                                                 size_t path_len, int mode);
typedef int (*squall_tcp_server_add_socket_pfn)(squall_tcp_server *srv, int fd);
typedef int (*squall_tcp_server_port_pfn)(const squall_tcp_server *srv,
                                          uint16_t *port);
typedef int (*squall_tcp_server_stop_pfn)(squall_tcp_server *srv);
typedef void (*squall_tcp_server_free_pfn)(squall_tcp_server *srv);
typedef int (*squall_config_new_pfn)(squall_config **out);
typedef int (*squall_config_set_int_pfn)(squall_config *cfg, int key,
                                         int64_t value);
typedef int (*squall_config_get_int_pfn)(const squall_config *cfg, int key,
                                         int64_t *value);
typedef int (*squall_config_set_str_pfn)(squall_config *cfg, int key,
                                         const char *s, size_t len);
typedef void (*squall_config_free_pfn)(squall_config *cfg);
typedef int (*squall_config_add_tls_cert_pfn)(squall_config *cfg,
                                              const char *cert_file,
                                              const char *key_file);
typedef int (*squall_config_add_tls_cert_pem_pfn)(squall_config *cfg,
                                                  const char *cert_pem,
                                                  size_t cert_len,
                                                  const char *key_pem,
                                                  size_t key_len);
typedef int (*squall_config_set_tls_key_password_pfn)(squall_config *cfg,
                                                      const char *password);
typedef int (*squall_server_new_pfn)(squall_server **out, squall_loop *loop,
                                     const squall_config *cfg,
                                     squall_handler_fn handler, void *user_data,
                                     squall_release_fn release);
typedef int (*squall_server_new_polled_pfn)(squall_server **out,
                                            squall_loop *loop,
                                            const squall_config *cfg);
typedef int (*squall_loop_poll_pfn)(squall_loop *loop, int timeout_ms,
                                    squall_request **out, size_t cap,
                                    size_t *n);
typedef int (*squall_server_set_headers_hook_pfn)(squall_server *srv,
                                                  squall_handler_fn fn,
                                                  void *user_data,
                                                  squall_release_fn release);
typedef int (*squall_server_set_access_hook_pfn)(squall_server *srv,
                                                 squall_access_fn fn,
                                                 void *user_data,
                                                 squall_release_fn release);
typedef int (*squall_server_set_error_hook_pfn)(squall_server *srv,
                                                squall_error_hook_fn fn,
                                                void *user_data,
                                                squall_release_fn release);
typedef int (*squall_server_listen_pfn)(squall_server *srv, const char *host,
                                        size_t host_len, int port);
typedef int (*squall_server_listen_unix_pfn)(squall_server *srv,
                                             const char *path, size_t path_len,
                                             int mode);
typedef int (*squall_server_add_socket_pfn)(squall_server *srv, int fd);
typedef int (*squall_server_port_pfn)(const squall_server *srv, uint16_t *port);
typedef int (*squall_server_stop_pfn)(squall_server *srv);
typedef int (*squall_server_shutdown_pfn)(squall_server *srv, int64_t grace_ms,
                                          squall_done_fn done, void *user_data);
typedef void (*squall_server_free_pfn)(squall_server *srv);
typedef int (*squall_server_reload_tls_pfn)(squall_server *srv,
                                            const squall_config *cfg);
typedef int (*squall_server_stats_pfn)(const squall_server *srv,
                                       uint64_t *values, size_t count);
typedef int (*squall_group_new_pfn)(squall_group **out, int n,
                                    const squall_config *cfg,
                                    squall_handler_fn handler, void *user_data,
                                    squall_release_fn release);
typedef int (*squall_group_size_pfn)(const squall_group *g);
typedef squall_loop *(*squall_group_loop_pfn)(squall_group *g, int i);
typedef squall_server *(*squall_group_server_pfn)(squall_group *g, int i);
typedef int (*squall_group_loop_index_pfn)(const squall_group *g,
                                           const squall_loop *loop);
typedef int (*squall_group_listen_pfn)(squall_group *g, const char *host,
                                       size_t host_len, int port);
typedef int (*squall_group_add_socket_pfn)(squall_group *g, int fd);
typedef int (*squall_group_port_pfn)(const squall_group *g, uint16_t *port);
typedef int (*squall_group_start_pfn)(squall_group *g);
typedef int (*squall_group_shutdown_pfn)(squall_group *g, int64_t grace_ms,
                                         squall_done_fn done, void *user_data);
typedef int (*squall_group_stop_pfn)(squall_group *g);
typedef int (*squall_group_join_pfn)(squall_group *g);
typedef int (*squall_group_handle_signals_pfn)(squall_group *g,
                                               int64_t grace_ms,
                                               const char *const *restart_argv);
typedef void (*squall_group_free_pfn)(squall_group *g);
typedef int (*squall_fork_processes_pfn)(int n, int max_restarts, int *task_id);
typedef int (*squall_bind_sockets_pfn)(const char *host, size_t host_len,
                                       int port, int backlog, int reuse_port,
                                       int *fds, size_t cap, size_t *n);
typedef int (*squall_task_id_pfn)(void);
typedef int (*squall_listen_fds_pfn)(int *fds, size_t cap, size_t *n);
typedef int (*squall_request_get_pfn)(const squall_request *req, int field,
                                      const char **p, size_t *len);
typedef int (*squall_request_header_pfn)(const squall_request *req,
                                         const char *name, size_t name_len,
                                         size_t nth, const char **value,
                                         size_t *value_len);
typedef int (*squall_request_header_count_pfn)(const squall_request *req,
                                               size_t *count);
typedef int (*squall_request_header_at_pfn)(const squall_request *req,
                                            size_t index, const char **name,
                                            size_t *name_len,
                                            const char **value,
                                            size_t *value_len);
typedef int (*squall_request_body_pfn)(const squall_request *req,
                                       const void **data, size_t *len);
typedef int (*squall_request_argument_pfn)(const squall_request *req,
                                           int source, const char *name,
                                           size_t name_len, size_t nth,
                                           const char **value,
                                           size_t *value_len);
typedef int (*squall_request_argument_count_pfn)(const squall_request *req,
                                                 int source, size_t *count);
typedef int (*squall_request_argument_at_pfn)(
    const squall_request *req, int source, size_t index, const char **name,
    size_t *name_len, const char **value, size_t *value_len);
typedef int (*squall_request_file_count_pfn)(const squall_request *req,
                                             size_t *count);
typedef int (*squall_request_file_at_pfn)(
    const squall_request *req, size_t index, const char **field,
    size_t *field_len, const char **filename, size_t *filename_len,
    const char **content_type, size_t *content_type_len, const void **data,
    size_t *data_len);
typedef int (*squall_request_cookie_count_pfn)(const squall_request *req,
                                               size_t *count);
typedef int (*squall_request_cookie_pfn)(const squall_request *req,
                                         const char *name, size_t name_len,
                                         const char **value, size_t *value_len);
typedef int (*squall_request_cookie_at_pfn)(const squall_request *req,
                                            size_t index, const char **name,
                                            size_t *name_len,
                                            const char **value,
                                            size_t *value_len);
typedef int (*squall_request_time_pfn)(const squall_request *req,
                                       int64_t *start_unix_us,
                                       int64_t *elapsed_us);
typedef int (*squall_request_on_done_pfn)(squall_request *req,
                                          squall_done_fn fn, void *user_data);
typedef int (*squall_request_set_max_body_size_pfn)(squall_request *req,
                                                    int64_t max_bytes);
typedef int (*squall_request_set_body_timeout_pfn)(squall_request *req,
                                                   int64_t timeout_ms);
typedef int (*squall_request_stream_body_pfn)(squall_request *req,
                                              squall_body_fn fn,
                                              void *user_data,
                                              squall_release_fn release);
typedef int (*squall_request_detach_pfn)(squall_request *req,
                                         squall_stream **out);
typedef int (*squall_response_status_pfn)(squall_request *req, int code,
                                          const char *reason,
                                          size_t reason_len);
typedef int (*squall_response_header_pfn)(squall_request *req, const char *name,
                                          size_t name_len, const char *value,
                                          size_t value_len);
typedef int (*squall_response_write_pfn)(squall_request *req, const void *data,
                                         size_t len);
typedef int (*squall_response_flush_pfn)(squall_request *req,
                                         squall_done_fn done, void *user_data);
typedef int (*squall_response_finish_pfn)(squall_request *req);
typedef int (*squall_respond_pfn)(squall_request *req, int code,
                                  const char *content_type, size_t ct_len,
                                  const void *body, size_t body_len);
typedef int (*squall_response_abort_pfn)(squall_request *req);
typedef int (*squall_response_send_pfn)(squall_request *req, int status,
                                        const squall_header *headers,
                                        size_t n_headers, const void *body,
                                        size_t len, unsigned flags);
typedef int (*squall_request_loop_pfn)(const squall_request *req,
                                       squall_loop **out);
typedef int (*squall_request_call_soon_pfn)(squall_request *req,
                                            squall_callback_fn fn,
                                            void *user_data);
/* pfn:end */
/** @endcond */

#ifdef __cplusplus
}
#endif
#endif /* SQUALL_SQUALL_H */
