//! Raw declarations of libsquall's C ABI (`squall/squall.h`), written by hand.
//!
//! Everything here is `unsafe` and mirrors the header one to one; the rules
//! (threads, lifetimes, release callbacks) are the header's.  The safe API is
//! the `squall` crate.
#![no_std]
#![allow(non_camel_case_types)]

use core::ffi::{c_char, c_int, c_uint, c_void};
use core::marker::{PhantomData, PhantomPinned};

// ---------------------------------------------------------------------------
// Version
// ---------------------------------------------------------------------------

pub const SQUALL_VERSION_MAJOR: u32 = 0;
pub const SQUALL_VERSION_MINOR: u32 = 1;
pub const SQUALL_VERSION_PATCH: u32 = 0;
pub const SQUALL_VERSION_NUM: u32 =
    (SQUALL_VERSION_MAJOR << 16) | (SQUALL_VERSION_MINOR << 8) | SQUALL_VERSION_PATCH;
pub const SQUALL_VERSION_STRING: &str = "0.1.0";

/// Length meaning "the string is NUL-terminated; use strlen".
pub const SQUALL_NTS: usize = usize::MAX;

// ---------------------------------------------------------------------------
// Opaque handles
// ---------------------------------------------------------------------------

macro_rules! opaque {
    ($($name:ident),* $(,)?) => {$(
        #[repr(C)]
        pub struct $name {
            _data: [u8; 0],
            _marker: PhantomData<(*mut u8, PhantomPinned)>,
        }
    )*};
}

opaque!(
    squall_loop,
    squall_timer,
    squall_stream,
    squall_tcp_server,
    squall_config,
    squall_server,
    squall_request,
    squall_group,
);

// ---------------------------------------------------------------------------
// enum squall_error
// ---------------------------------------------------------------------------

pub const SQUALL_OK: c_int = 0;
pub const SQUALL_ERROR: c_int = -1;
pub const SQUALL_ENOMEM: c_int = -2;
pub const SQUALL_EINVAL: c_int = -3;
pub const SQUALL_ESTATE: c_int = -4;
pub const SQUALL_ETHREAD: c_int = -5;
pub const SQUALL_ECLOSED: c_int = -6;
pub const SQUALL_ENOTFOUND: c_int = -7;
pub const SQUALL_ENOTSUP: c_int = -8;
pub const SQUALL_EADDRINUSE: c_int = -9;
pub const SQUALL_ETLS: c_int = -10;
pub const SQUALL_ETIMEDOUT: c_int = -11;
pub const SQUALL_ETOOBIG: c_int = -12;
pub const SQUALL_EIO: c_int = -13;
pub const SQUALL_EBUSY: c_int = -14;
pub const SQUALL_EPERM: c_int = -15;

/// `squall_loop_poll`: a stop ended the call (requests may still be
/// returned with it).
pub const SQUALL_POLL_STOPPED: c_int = 1;

// ---------------------------------------------------------------------------
// enum squall_log_level
// ---------------------------------------------------------------------------

pub const SQUALL_LOG_DEBUG: c_int = 0;
pub const SQUALL_LOG_INFO: c_int = 1;
pub const SQUALL_LOG_WARNING: c_int = 2;
pub const SQUALL_LOG_ERROR: c_int = 3;
pub const SQUALL_LOG_NONE: c_int = 4;

// ---------------------------------------------------------------------------
// enum squall_option
// ---------------------------------------------------------------------------

pub const SQUALL_OPT_BACKLOG: c_int = 1;
pub const SQUALL_OPT_MAX_HEADER_SIZE: c_int = 2;
pub const SQUALL_OPT_MAX_BODY_SIZE: c_int = 3;
pub const SQUALL_OPT_CHUNK_SIZE: c_int = 4;
pub const SQUALL_OPT_HEADER_TIMEOUT_MS: c_int = 5;
pub const SQUALL_OPT_BODY_TIMEOUT_MS: c_int = 6;
pub const SQUALL_OPT_IDLE_TIMEOUT_MS: c_int = 7;
pub const SQUALL_OPT_NO_KEEP_ALIVE: c_int = 8;
pub const SQUALL_OPT_XHEADERS: c_int = 9;
pub const SQUALL_OPT_DECOMPRESS_REQUEST: c_int = 10;
pub const SQUALL_OPT_MAX_HEADER_COUNT: c_int = 11;
pub const SQUALL_OPT_MAX_CONNECTIONS: c_int = 12;
pub const SQUALL_OPT_REUSE_PORT: c_int = 13;
pub const SQUALL_OPT_MAX_URI_SIZE: c_int = 14;
pub const SQUALL_OPT_ERROR_RATE: c_int = 15;
pub const SQUALL_OPT_NODELAY: c_int = 16;
pub const SQUALL_OPT_WRITE_TIMEOUT_MS: c_int = 17;
pub const SQUALL_OPT_TLS_CLIENT_AUTH: c_int = 50;
pub const SQUALL_OPT_TLS_SESSION_TICKETS: c_int = 51;
pub const SQUALL_OPT_TLS_HANDSHAKE_TIMEOUT_MS: c_int = 52;
pub const SQUALL_OPT_TRUSTED_DOWNSTREAM: c_int = 100;
pub const SQUALL_OPT_TLS_MIN_VERSION: c_int = 150;
pub const SQUALL_OPT_TLS_CIPHERS: c_int = 151;
pub const SQUALL_OPT_TLS_CIPHERSUITES: c_int = 152;
pub const SQUALL_OPT_TLS_CLIENT_CA: c_int = 153;

// ---------------------------------------------------------------------------
// enum squall_tls_client_auth
// ---------------------------------------------------------------------------

pub const SQUALL_TLS_CLIENT_NONE: c_int = 0;
pub const SQUALL_TLS_CLIENT_REQUEST: c_int = 1;
pub const SQUALL_TLS_CLIENT_REQUIRE: c_int = 2;
/// The default `Server` value (string; empty: no `Server` field).
pub const SQUALL_OPT_SERVER_HEADER: c_int = 101;

// ---------------------------------------------------------------------------
// enum squall_error_kind
// ---------------------------------------------------------------------------

pub const SQUALL_ERRKIND_PARSE: c_int = 1;
pub const SQUALL_ERRKIND_LIMIT: c_int = 2;
pub const SQUALL_ERRKIND_TIMEOUT: c_int = 3;
pub const SQUALL_ERRKIND_TLS: c_int = 4;
pub const SQUALL_ERRKIND_IO: c_int = 5;
pub const SQUALL_ERRKIND_APPLICATION: c_int = 6;

// ---------------------------------------------------------------------------
// enum squall_stat
// ---------------------------------------------------------------------------

pub const SQUALL_STAT_CONNECTIONS_ACCEPTED: c_int = 0;
pub const SQUALL_STAT_CONNECTIONS_OPEN: c_int = 1;
pub const SQUALL_STAT_REQUESTS: c_int = 2;
pub const SQUALL_STAT_BYTES_IN: c_int = 3;
pub const SQUALL_STAT_BYTES_OUT: c_int = 4;
pub const SQUALL_STAT_RESPONSES_1XX: c_int = 5;
pub const SQUALL_STAT_RESPONSES_2XX: c_int = 6;
pub const SQUALL_STAT_RESPONSES_3XX: c_int = 7;
pub const SQUALL_STAT_RESPONSES_4XX: c_int = 8;
pub const SQUALL_STAT_RESPONSES_5XX: c_int = 9;
pub const SQUALL_STAT_REJECTED_PARSE: c_int = 10;
pub const SQUALL_STAT_REJECTED_LIMIT: c_int = 11;
pub const SQUALL_STAT_TIMEOUTS: c_int = 12;
pub const SQUALL_STAT_ACCEPT_PAUSES: c_int = 13;
pub const SQUALL_STAT_TLS_HANDSHAKE_FAILURES: c_int = 14;
pub const SQUALL_STAT_COUNT: c_int = 15;

// ---------------------------------------------------------------------------
// enum squall_request_field
// ---------------------------------------------------------------------------

pub const SQUALL_REQ_METHOD: c_int = 1;
pub const SQUALL_REQ_URI: c_int = 2;
pub const SQUALL_REQ_PATH: c_int = 3;
pub const SQUALL_REQ_QUERY: c_int = 4;
pub const SQUALL_REQ_VERSION: c_int = 5;
pub const SQUALL_REQ_HOST: c_int = 6;
pub const SQUALL_REQ_REMOTE_IP: c_int = 7;
pub const SQUALL_REQ_PROTOCOL: c_int = 8;
pub const SQUALL_REQ_FULL_URL: c_int = 9;
pub const SQUALL_REQ_HOST_NAME: c_int = 10;
pub const SQUALL_REQ_TLS_VERSION: c_int = 20;
pub const SQUALL_REQ_TLS_CIPHER: c_int = 21;
pub const SQUALL_REQ_TLS_SERVER_NAME: c_int = 22;
pub const SQUALL_REQ_TLS_ALPN: c_int = 23;
pub const SQUALL_REQ_TLS_PEER_SUBJECT: c_int = 24;
pub const SQUALL_REQ_TLS_PEER_CERT: c_int = 25;
pub const SQUALL_REQ_TLS_RESUMED: c_int = 26;

// ---------------------------------------------------------------------------
// enum squall_args_source
// ---------------------------------------------------------------------------

pub const SQUALL_ARGS_ALL: c_int = 0;
pub const SQUALL_ARGS_QUERY: c_int = 1;
pub const SQUALL_ARGS_BODY: c_int = 2;

// ---------------------------------------------------------------------------
// enum squall_send_flags (the `flags` of squall_response_send)
// ---------------------------------------------------------------------------

pub const SQUALL_SEND_FLUSH: c_int = 1;
pub const SQUALL_SEND_FINISH: c_int = 2;
pub const SQUALL_SEND_ABORT: c_int = 4;

// ---------------------------------------------------------------------------
// struct squall_header
// ---------------------------------------------------------------------------

/// One header field for `squall_response_send`: (pointer, length) pairs; a
/// length of [`SQUALL_NTS`] means NUL-terminated.  Layout frozen by the
/// header.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct squall_header {
    pub name: *const c_char,
    pub name_len: usize,
    pub value: *const c_char,
    pub value_len: usize,
}

// ---------------------------------------------------------------------------
// Callback types (nullable function pointers)
// ---------------------------------------------------------------------------

pub type squall_log_fn =
    Option<unsafe extern "C" fn(level: c_int, msg: *const c_char, len: usize, user_data: *mut c_void)>;
pub type squall_release_fn = Option<unsafe extern "C" fn(user_data: *mut c_void)>;
pub type squall_callback_fn = Option<unsafe extern "C" fn(user_data: *mut c_void)>;
pub type squall_done_fn = Option<unsafe extern "C" fn(status: c_int, user_data: *mut c_void)>;
pub type squall_read_fn =
    Option<unsafe extern "C" fn(status: c_int, data: *const c_char, len: usize, user_data: *mut c_void)>;
pub type squall_stream_fn = Option<
    unsafe extern "C" fn(
        stream: *mut squall_stream,
        peer: *const c_char,
        peer_len: usize,
        user_data: *mut c_void,
    ),
>;
pub type squall_handler_fn = Option<unsafe extern "C" fn(req: *mut squall_request, user_data: *mut c_void)>;
pub type squall_access_fn = Option<
    unsafe extern "C" fn(
        method: *const c_char,
        method_len: usize,
        target: *const c_char,
        target_len: usize,
        status: c_int,
        bytes_sent: u64,
        duration_us: u64,
        peer: *const c_char,
        peer_len: usize,
        user_data: *mut c_void,
    ),
>;
pub type squall_error_hook_fn = Option<
    unsafe extern "C" fn(
        kind: c_int,
        http_status: c_int,
        msg: *const c_char,
        msg_len: usize,
        peer: *const c_char,
        peer_len: usize,
        user_data: *mut c_void,
    ),
>;
pub type squall_body_fn =
    Option<unsafe extern "C" fn(data: *const c_void, len: usize, user_data: *mut c_void) -> c_int>;

// ---------------------------------------------------------------------------
// Functions
// ---------------------------------------------------------------------------

unsafe extern "C" {
    // Version and errors
    pub fn squall_version() -> u32;
    pub fn squall_version_string() -> *const c_char;
    pub fn squall_strerror(code: c_int) -> *const c_char;
    pub fn squall_last_error() -> *const c_char;

    // Logging
    pub fn squall_set_log(
        f: squall_log_fn,
        min_level: c_int,
        user_data: *mut c_void,
        release: squall_release_fn,
    ) -> c_int;

    // Loop
    pub fn squall_loop_new(out: *mut *mut squall_loop) -> c_int;
    pub fn squall_loop_run(lp: *mut squall_loop) -> c_int;
    pub fn squall_loop_run_once(lp: *mut squall_loop, timeout_ms: c_int) -> c_int;
    pub fn squall_loop_stop(lp: *mut squall_loop) -> c_int;
    pub fn squall_loop_call_soon(
        lp: *mut squall_loop,
        f: squall_callback_fn,
        user_data: *mut c_void,
    ) -> c_int;
    pub fn squall_loop_free(lp: *mut squall_loop) -> c_int;
    pub fn squall_loop_poll(
        lp: *mut squall_loop,
        timeout_ms: c_int,
        out: *mut *mut squall_request,
        cap: usize,
        n: *mut usize,
    ) -> c_int;
    pub fn squall_loop_call_later(
        out: *mut *mut squall_timer,
        lp: *mut squall_loop,
        delay_ms: i64,
        f: squall_callback_fn,
        user_data: *mut c_void,
        release: squall_release_fn,
    ) -> c_int;
    pub fn squall_loop_call_every(
        out: *mut *mut squall_timer,
        lp: *mut squall_loop,
        interval_ms: i64,
        f: squall_callback_fn,
        user_data: *mut c_void,
        release: squall_release_fn,
    ) -> c_int;
    pub fn squall_timer_cancel(timer: *mut squall_timer) -> c_int;
    pub fn squall_timer_free(timer: *mut squall_timer);

    // Streams
    pub fn squall_stream_read_until(
        stream: *mut squall_stream,
        delim: *const c_char,
        delim_len: usize,
        max_bytes: usize,
        cb: squall_read_fn,
        user_data: *mut c_void,
    ) -> c_int;
    pub fn squall_stream_read_bytes(
        stream: *mut squall_stream,
        n: usize,
        partial: c_int,
        cb: squall_read_fn,
        user_data: *mut c_void,
    ) -> c_int;
    pub fn squall_stream_read_until_close(
        stream: *mut squall_stream,
        cb: squall_read_fn,
        user_data: *mut c_void,
    ) -> c_int;
    pub fn squall_stream_write(
        stream: *mut squall_stream,
        data: *const c_void,
        len: usize,
        cb: squall_done_fn,
        user_data: *mut c_void,
    ) -> c_int;
    pub fn squall_stream_set_close_callback(
        stream: *mut squall_stream,
        f: squall_done_fn,
        user_data: *mut c_void,
        release: squall_release_fn,
    ) -> c_int;
    pub fn squall_stream_set_write_limits(
        stream: *mut squall_stream,
        max_bytes: usize,
        high: usize,
        low: usize,
        on_drain: squall_callback_fn,
        user_data: *mut c_void,
        release: squall_release_fn,
    ) -> c_int;
    pub fn squall_stream_write_buffer_size(stream: *const squall_stream, out: *mut usize) -> c_int;
    pub fn squall_stream_set_max_buffer_size(stream: *mut squall_stream, max_bytes: usize) -> c_int;
    pub fn squall_stream_set_nodelay(stream: *mut squall_stream, on: c_int) -> c_int;
    pub fn squall_stream_close(stream: *mut squall_stream) -> c_int;
    pub fn squall_stream_closed(stream: *const squall_stream, error: *mut c_int) -> c_int;
    pub fn squall_stream_peer(stream: *const squall_stream, p: *mut *const c_char, len: *mut usize) -> c_int;
    pub fn squall_stream_free(stream: *mut squall_stream);
    pub fn squall_stream_connect(
        out: *mut *mut squall_stream,
        lp: *mut squall_loop,
        host: *const c_char,
        host_len: usize,
        port: u16,
        cb: squall_done_fn,
        user_data: *mut c_void,
    ) -> c_int;

    // TCP server
    pub fn squall_tcp_server_new(
        out: *mut *mut squall_tcp_server,
        lp: *mut squall_loop,
        on_stream: squall_stream_fn,
        user_data: *mut c_void,
        release: squall_release_fn,
    ) -> c_int;
    pub fn squall_tcp_server_listen(
        srv: *mut squall_tcp_server,
        host: *const c_char,
        host_len: usize,
        port: c_int,
    ) -> c_int;
    pub fn squall_tcp_server_set_backlog(srv: *mut squall_tcp_server, backlog: c_int) -> c_int;
    pub fn squall_tcp_server_set_reuse_port(srv: *mut squall_tcp_server, on: c_int) -> c_int;
    pub fn squall_tcp_server_listen_unix(
        srv: *mut squall_tcp_server,
        path: *const c_char,
        path_len: usize,
        mode: c_int,
    ) -> c_int;
    pub fn squall_tcp_server_add_socket(srv: *mut squall_tcp_server, fd: c_int) -> c_int;
    pub fn squall_tcp_server_port(srv: *const squall_tcp_server, port: *mut u16) -> c_int;
    pub fn squall_tcp_server_stop(srv: *mut squall_tcp_server) -> c_int;
    pub fn squall_tcp_server_free(srv: *mut squall_tcp_server);

    // Config
    pub fn squall_config_new(out: *mut *mut squall_config) -> c_int;
    pub fn squall_config_set_int(cfg: *mut squall_config, key: c_int, value: i64) -> c_int;
    pub fn squall_config_get_int(cfg: *const squall_config, key: c_int, value: *mut i64) -> c_int;
    pub fn squall_config_set_str(cfg: *mut squall_config, key: c_int, s: *const c_char, len: usize) -> c_int;
    pub fn squall_config_free(cfg: *mut squall_config);
    pub fn squall_config_add_tls_cert(
        cfg: *mut squall_config,
        cert_file: *const c_char,
        key_file: *const c_char,
    ) -> c_int;
    pub fn squall_config_add_tls_cert_pem(
        cfg: *mut squall_config,
        cert_pem: *const c_char,
        cert_len: usize,
        key_pem: *const c_char,
        key_len: usize,
    ) -> c_int;
    pub fn squall_config_set_tls_key_password(cfg: *mut squall_config, password: *const c_char) -> c_int;

    // HTTP server
    pub fn squall_server_new_polled(
        out: *mut *mut squall_server,
        lp: *mut squall_loop,
        cfg: *const squall_config,
    ) -> c_int;
    pub fn squall_server_new(
        out: *mut *mut squall_server,
        lp: *mut squall_loop,
        cfg: *const squall_config,
        handler: squall_handler_fn,
        user_data: *mut c_void,
        release: squall_release_fn,
    ) -> c_int;
    pub fn squall_server_set_headers_hook(
        srv: *mut squall_server,
        f: squall_handler_fn,
        user_data: *mut c_void,
        release: squall_release_fn,
    ) -> c_int;
    pub fn squall_server_set_access_hook(
        srv: *mut squall_server,
        f: squall_access_fn,
        user_data: *mut c_void,
        release: squall_release_fn,
    ) -> c_int;
    pub fn squall_server_set_error_hook(
        srv: *mut squall_server,
        f: squall_error_hook_fn,
        user_data: *mut c_void,
        release: squall_release_fn,
    ) -> c_int;
    pub fn squall_server_listen(
        srv: *mut squall_server,
        host: *const c_char,
        host_len: usize,
        port: c_int,
    ) -> c_int;
    pub fn squall_server_listen_unix(
        srv: *mut squall_server,
        path: *const c_char,
        path_len: usize,
        mode: c_int,
    ) -> c_int;
    pub fn squall_server_add_socket(srv: *mut squall_server, fd: c_int) -> c_int;
    pub fn squall_server_port(srv: *const squall_server, port: *mut u16) -> c_int;
    pub fn squall_server_stop(srv: *mut squall_server) -> c_int;
    pub fn squall_server_shutdown(
        srv: *mut squall_server,
        grace_ms: i64,
        done: squall_done_fn,
        user_data: *mut c_void,
    ) -> c_int;
    pub fn squall_server_free(srv: *mut squall_server);
    pub fn squall_server_reload_tls(srv: *mut squall_server, cfg: *const squall_config) -> c_int;
    pub fn squall_server_stats(srv: *const squall_server, values: *mut u64, count: usize) -> c_int;

    // Scale out: one server on N loops (squall_group)
    pub fn squall_group_new(
        out: *mut *mut squall_group,
        n: c_int,
        cfg: *const squall_config,
        handler: squall_handler_fn,
        user_data: *mut c_void,
        release: squall_release_fn,
    ) -> c_int;
    pub fn squall_group_size(g: *const squall_group) -> c_int;
    pub fn squall_group_loop(g: *mut squall_group, i: c_int) -> *mut squall_loop;
    pub fn squall_group_server(g: *mut squall_group, i: c_int) -> *mut squall_server;
    pub fn squall_group_loop_index(g: *const squall_group, lp: *const squall_loop) -> c_int;
    pub fn squall_group_listen(
        g: *mut squall_group,
        host: *const c_char,
        host_len: usize,
        port: c_int,
    ) -> c_int;
    pub fn squall_group_add_socket(g: *mut squall_group, fd: c_int) -> c_int;
    pub fn squall_group_port(g: *const squall_group, port: *mut u16) -> c_int;
    pub fn squall_group_start(g: *mut squall_group) -> c_int;
    pub fn squall_group_shutdown(
        g: *mut squall_group,
        grace_ms: i64,
        done: squall_done_fn,
        user_data: *mut c_void,
    ) -> c_int;
    pub fn squall_group_stop(g: *mut squall_group) -> c_int;
    pub fn squall_group_join(g: *mut squall_group) -> c_int;
    pub fn squall_group_handle_signals(
        g: *mut squall_group,
        grace_ms: i64,
        restart_argv: *const *const c_char,
    ) -> c_int;
    pub fn squall_group_free(g: *mut squall_group);

    // Prefork processes and inherited sockets
    pub fn squall_fork_processes(n: c_int, max_restarts: c_int, task_id: *mut c_int) -> c_int;
    pub fn squall_bind_sockets(
        host: *const c_char,
        host_len: usize,
        port: c_int,
        backlog: c_int,
        reuse_port: c_int,
        fds: *mut c_int,
        cap: usize,
        n: *mut usize,
    ) -> c_int;
    pub fn squall_task_id() -> c_int;
    pub fn squall_listen_fds(fds: *mut c_int, cap: usize, n: *mut usize) -> c_int;

    // Requests
    pub fn squall_request_get(
        req: *const squall_request,
        field: c_int,
        p: *mut *const c_char,
        len: *mut usize,
    ) -> c_int;
    pub fn squall_request_header(
        req: *const squall_request,
        name: *const c_char,
        name_len: usize,
        nth: usize,
        value: *mut *const c_char,
        value_len: *mut usize,
    ) -> c_int;
    pub fn squall_request_header_count(req: *const squall_request, count: *mut usize) -> c_int;
    pub fn squall_request_header_at(
        req: *const squall_request,
        index: usize,
        name: *mut *const c_char,
        name_len: *mut usize,
        value: *mut *const c_char,
        value_len: *mut usize,
    ) -> c_int;
    pub fn squall_request_body(
        req: *const squall_request,
        data: *mut *const c_void,
        len: *mut usize,
    ) -> c_int;
    pub fn squall_request_argument(
        req: *const squall_request,
        source: c_int,
        name: *const c_char,
        name_len: usize,
        nth: usize,
        value: *mut *const c_char,
        value_len: *mut usize,
    ) -> c_int;
    pub fn squall_request_argument_count(
        req: *const squall_request,
        source: c_int,
        count: *mut usize,
    ) -> c_int;
    pub fn squall_request_argument_at(
        req: *const squall_request,
        source: c_int,
        index: usize,
        name: *mut *const c_char,
        name_len: *mut usize,
        value: *mut *const c_char,
        value_len: *mut usize,
    ) -> c_int;
    pub fn squall_request_file_count(req: *const squall_request, count: *mut usize) -> c_int;
    pub fn squall_request_file_at(
        req: *const squall_request,
        index: usize,
        field: *mut *const c_char,
        field_len: *mut usize,
        filename: *mut *const c_char,
        filename_len: *mut usize,
        content_type: *mut *const c_char,
        content_type_len: *mut usize,
        data: *mut *const c_void,
        data_len: *mut usize,
    ) -> c_int;
    pub fn squall_request_cookie(
        req: *const squall_request,
        name: *const c_char,
        name_len: usize,
        value: *mut *const c_char,
        value_len: *mut usize,
    ) -> c_int;
    pub fn squall_request_cookie_count(req: *const squall_request, count: *mut usize) -> c_int;
    pub fn squall_request_cookie_at(
        req: *const squall_request,
        index: usize,
        name: *mut *const c_char,
        name_len: *mut usize,
        value: *mut *const c_char,
        value_len: *mut usize,
    ) -> c_int;
    pub fn squall_request_time(
        req: *const squall_request,
        start_unix_us: *mut i64,
        elapsed_us: *mut i64,
    ) -> c_int;
    pub fn squall_request_on_done(
        req: *mut squall_request,
        f: squall_done_fn,
        user_data: *mut c_void,
    ) -> c_int;
    pub fn squall_request_set_max_body_size(req: *mut squall_request, max_bytes: i64) -> c_int;
    pub fn squall_request_set_body_timeout(req: *mut squall_request, timeout_ms: i64) -> c_int;
    pub fn squall_request_stream_body(
        req: *mut squall_request,
        f: squall_body_fn,
        user_data: *mut c_void,
        release: squall_release_fn,
    ) -> c_int;
    pub fn squall_request_detach(req: *mut squall_request, out: *mut *mut squall_stream) -> c_int;

    // Responses
    pub fn squall_response_status(
        req: *mut squall_request,
        code: c_int,
        reason: *const c_char,
        reason_len: usize,
    ) -> c_int;
    pub fn squall_response_header(
        req: *mut squall_request,
        name: *const c_char,
        name_len: usize,
        value: *const c_char,
        value_len: usize,
    ) -> c_int;
    pub fn squall_response_write(req: *mut squall_request, data: *const c_void, len: usize) -> c_int;
    pub fn squall_response_flush(
        req: *mut squall_request,
        done: squall_done_fn,
        user_data: *mut c_void,
    ) -> c_int;
    pub fn squall_response_finish(req: *mut squall_request) -> c_int;
    pub fn squall_respond(
        req: *mut squall_request,
        code: c_int,
        content_type: *const c_char,
        ct_len: usize,
        body: *const c_void,
        body_len: usize,
    ) -> c_int;
    pub fn squall_response_abort(req: *mut squall_request) -> c_int;
    pub fn squall_response_send(
        req: *mut squall_request,
        status: c_int,
        headers: *const squall_header,
        n_headers: usize,
        body: *const c_void,
        len: usize,
        flags: c_uint,
    ) -> c_int;
    pub fn squall_request_loop(req: *const squall_request, out: *mut *mut squall_loop) -> c_int;
    pub fn squall_request_call_soon(
        req: *mut squall_request,
        fn_: squall_callback_fn,
        user_data: *mut c_void,
    ) -> c_int;
}
