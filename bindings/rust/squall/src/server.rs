//! The HTTP server (Tornado's HTTPServer).

use std::ffi::{c_char, c_int, c_void};
use std::marker::PhantomData;
use std::ptr::{self, NonNull};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use squall_sys as sys;

use crate::config::Config;
use crate::error::{Error, Result, check};
use crate::event_loop::{Loop, PollState, duration_ms};
use crate::request::{HeadRequest, Request};
use crate::shared::SharedPtr;
use crate::trampoline;

/// Counters of [`Server::stats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub connections_accepted: u64,
    pub connections_open: u64,
    pub requests: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub responses_1xx: u64,
    pub responses_2xx: u64,
    pub responses_3xx: u64,
    pub responses_4xx: u64,
    pub responses_5xx: u64,
    pub rejected_parse: u64,
    pub rejected_limit: u64,
    pub timeouts: u64,
    pub accept_pauses: u64,
    /// TLS handshakes that failed or timed out.
    pub tls_handshake_failures: u64,
}

/// One finished exchange, for [`Server::on_access`].
#[derive(Debug, Clone, Copy)]
pub struct AccessRecord<'a> {
    pub method: &'a str,
    pub target: &'a str,
    /// 0 if no response was sent (client gone).
    pub status: u16,
    pub bytes_sent: u64,
    pub duration: Duration,
    pub peer: &'a str,
}

/// What the error hook reports; see [`Server::on_error`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKindHook {
    Parse,
    Limit,
    Timeout,
    /// A TLS handshake failed or timed out (or plain HTTP came to the TLS
    /// port).
    Tls,
    Io,
    Application,
    Other(i32),
}

/// A server-side problem, for [`Server::on_error`].
#[derive(Debug, Clone, Copy)]
pub struct ServerError<'a> {
    pub kind: ErrorKindHook,
    /// HTTP status sent (0 if none).
    pub http_status: u16,
    pub message: &'a str,
    pub peer: &'a str,
}

type ServerShared = SharedPtr<sys::squall_server>;

/// An HTTP server on a [`Loop`].
///
/// Like its loop it stays on the loop's thread.  Dropping it stops
/// listening and closes its connections: the handler is not called again
/// and is dropped once the library releases it.  Requests still held by the
/// application stay valid (answering them reports
/// [`ErrorKind::Closed`](crate::ErrorKind)).  Loop and server may be dropped
/// in either order.
pub struct Server {
    raw: NonNull<sys::squall_server>,
    shared: Arc<ServerShared>,
    /// The loop's poll state, if this is its polled server.
    polled: Option<Rc<PollState>>,
    _not_send: PhantomData<*mut ()>,
}

unsafe extern "C" fn handler_tramp<F: Fn(Request) + Send + 'static>(
    req: *mut sys::squall_request,
    ud: *mut c_void,
) {
    // SAFETY: ud is the Box<F> alive until release; handler calls are on
    // the loop thread and never overlap.
    unsafe { serve_request(req, |request| (*(ud as *const F))(request)) }
}

/// The body of a handler trampoline: `serve(request)` for the request the
/// library hands over, a panic caught (it drops `request` while unwinding,
/// which answers 500).
///
/// # Safety
/// `req` is the handler's argument; `serve` may rely on what its
/// trampoline's user data guarantees.
pub(crate) unsafe fn serve_request(req: *mut sys::squall_request, serve: impl FnOnce(Request)) {
    if req.is_null() {
        return;
    }
    // SAFETY: the library hands the request to the application, once.
    let request = unsafe { Request::from_raw(req) };
    trampoline::guard("request handler", || serve(request));
}

unsafe extern "C" fn headers_tramp<F: Fn(&mut HeadRequest<'_>) + Send + 'static>(
    req: *mut sys::squall_request,
    ud: *mut c_void,
) {
    if req.is_null() {
        return;
    }
    trampoline::guard("headers hook", || {
        // SAFETY: the request is borrowed for this call.
        let mut head = unsafe { HeadRequest::from_raw(req) };
        let f = unsafe { &*(ud as *const F) };
        f(&mut head);
    });
}

#[allow(clippy::too_many_arguments)]
unsafe extern "C" fn access_tramp<F: Fn(&AccessRecord<'_>) + Send + 'static>(
    method: *const c_char,
    method_len: usize,
    target: *const c_char,
    target_len: usize,
    status: c_int,
    bytes_sent: u64,
    duration_us: u64,
    peer: *const c_char,
    peer_len: usize,
    ud: *mut c_void,
) {
    trampoline::guard("access hook", || unsafe {
        let rec = AccessRecord {
            method: lossless(method, method_len),
            target: lossless(target, target_len),
            status: status.clamp(0, u16::MAX as c_int) as u16,
            bytes_sent,
            duration: Duration::from_micros(duration_us),
            peer: lossless(peer, peer_len),
        };
        (*(ud as *const F))(&rec);
    });
}

unsafe extern "C" fn error_tramp<F: Fn(&ServerError<'_>) + Send + 'static>(
    kind: c_int,
    http_status: c_int,
    msg: *const c_char,
    msg_len: usize,
    peer: *const c_char,
    peer_len: usize,
    ud: *mut c_void,
) {
    trampoline::guard("error hook", || unsafe {
        let kind = match kind {
            sys::SQUALL_ERRKIND_PARSE => ErrorKindHook::Parse,
            sys::SQUALL_ERRKIND_LIMIT => ErrorKindHook::Limit,
            sys::SQUALL_ERRKIND_TIMEOUT => ErrorKindHook::Timeout,
            sys::SQUALL_ERRKIND_TLS => ErrorKindHook::Tls,
            sys::SQUALL_ERRKIND_IO => ErrorKindHook::Io,
            sys::SQUALL_ERRKIND_APPLICATION => ErrorKindHook::Application,
            k => ErrorKindHook::Other(k),
        };
        let e = ServerError {
            kind,
            http_status: http_status.clamp(0, u16::MAX as c_int) as u16,
            message: lossless(msg, msg_len),
            peer: lossless(peer, peer_len),
        };
        (*(ud as *const F))(&e);
    });
}

unsafe fn lossless<'a>(p: *const c_char, len: usize) -> &'a str {
    if p.is_null() || len == 0 {
        return "";
    }
    // SAFETY: valid during the callback.
    std::str::from_utf8(unsafe { std::slice::from_raw_parts(p as *const u8, len) }).unwrap_or("")
}

impl Server {
    /// A server on `lp` with the default options; `handler` runs on the
    /// loop thread for every request.
    pub fn new<F>(lp: &Loop, handler: F) -> Result<Server>
    where
        F: Fn(Request) + Send + 'static,
    {
        Server::with_config(lp, &Config::default(), handler)
    }

    /// A server on `lp` with options `cfg`.
    ///
    /// The first server made on a loop is *polled*: the library queues its
    /// requests and [`Loop::run`] / [`Loop::run_once`] take them with
    /// `squall_loop_poll` and call `handler` (no call from C into Rust per
    /// request; a response given in the handler to a pipelined request
    /// leaves with the rest of the burst in one write).  Further servers on
    /// the same loop, and servers made while the loop runs in callback mode
    /// (inside a callback of a loop with no polled server), get their
    /// requests through a C callback.  Either way `handler` runs on the loop
    /// thread, once per request.
    pub fn with_config<F>(lp: &Loop, cfg: &Config, handler: F) -> Result<Server>
    where
        F: Fn(Request) + Send + 'static,
    {
        let raw_cfg = cfg.to_raw()?;
        let poll = lp.poll_state();
        if poll.available() {
            let mut out = ptr::null_mut();
            // SAFETY: live loop, owning thread (Loop is !Send); cfg read
            // during the call.
            check(unsafe { sys::squall_server_new_polled(&mut out, lp.as_ptr(), raw_cfg.as_ptr()) })?;
            let raw = NonNull::new(out).ok_or_else(|| Error::new(sys::SQUALL_ERROR, "no server handle"))?;
            poll.install(Rc::new(move |req| {
                // SAFETY: a request taken by squall_loop_poll, handed over once.
                unsafe { serve_request(req, &handler) }
            }));
            return Ok(Server {
                raw,
                shared: SharedPtr::new(raw.as_ptr()),
                polled: Some(poll.clone()),
                _not_send: PhantomData,
            });
        }
        let ud = Box::into_raw(Box::new(handler)) as *mut c_void;
        let mut out = ptr::null_mut();
        // SAFETY: ud is released by release_box::<F> exactly once after the
        // last handler call iff this succeeds; else we free it.
        let rc = unsafe {
            sys::squall_server_new(
                &mut out,
                lp.as_ptr(),
                raw_cfg.as_ptr(),
                Some(handler_tramp::<F>),
                ud,
                Some(trampoline::release_box::<F>),
            )
        };
        if rc < 0 {
            let err = Error::last(rc);
            // SAFETY: registration failed.
            drop(unsafe { Box::from_raw(ud as *mut F) });
            return Err(err);
        }
        let raw = NonNull::new(out).ok_or_else(|| Error::new(sys::SQUALL_ERROR, "no server handle"))?;
        Ok(Server { raw, shared: SharedPtr::new(raw.as_ptr()), polled: None, _not_send: PhantomData })
    }

    /// The raw handle (valid while this `Server` lives).
    pub fn as_raw(&self) -> *mut sys::squall_server {
        self.raw.as_ptr()
    }

    /// Listen on `host:port` (`""`: every address; port 0: ephemeral, see
    /// [`port`](Self::port)).
    pub fn listen(&self, host: &str, port: u16) -> Result<()> {
        // SAFETY: live server; host copied.
        check(unsafe {
            sys::squall_server_listen(self.as_raw(), host.as_ptr().cast(), host.len(), port as c_int)
        })
    }

    /// Listen on a unix socket with permissions `mode` (e.g. 0o600).
    pub fn listen_unix(&self, path: &str, mode: u32) -> Result<()> {
        // SAFETY: live server; path copied.
        check(unsafe {
            sys::squall_server_listen_unix(self.as_raw(), path.as_ptr().cast(), path.len(), mode as c_int)
        })
    }

    /// Serve a listening socket opened elsewhere (ownership passes).
    pub fn add_socket(&self, fd: std::os::fd::OwnedFd) -> Result<()> {
        use std::os::fd::IntoRawFd;
        let fd = fd.into_raw_fd();
        // SAFETY: live server; fd ownership passes.
        check(unsafe { sys::squall_server_add_socket(self.as_raw(), fd) })
    }

    /// Port of the first bound TCP socket.
    pub fn port(&self) -> Result<u16> {
        let mut port = 0u16;
        // SAFETY: live server.
        check(unsafe { sys::squall_server_port(self.as_raw(), &mut port) })?;
        Ok(port)
    }

    /// Stop accepting; connections in flight continue.
    pub fn stop(&self) -> Result<()> {
        // SAFETY: live server.
        check(unsafe { sys::squall_server_stop(self.as_raw()) })
    }

    /// Graceful shutdown: stop accepting, close idle connections, let the
    /// requests in flight finish, cut the rest after `grace` (`None`: wait
    /// forever).  `done` runs on the loop thread: `Ok` if everything
    /// finished, `Err` (timed out) if connections were cut.
    pub fn shutdown<F>(&self, grace: Option<Duration>, done: F) -> Result<()>
    where
        F: FnOnce(Result<()>) + Send + 'static,
    {
        shutdown_raw(self.as_raw(), grace, done)
    }

    /// A `Send + Sync` handle for shutting the server down from another
    /// thread.
    pub fn handle(&self) -> ServerHandle {
        ServerHandle { shared: self.shared.clone() }
    }

    /// The server's counters.
    pub fn stats(&self) -> Result<Stats> {
        stats_raw(self.as_raw())
    }

    /// Reload TLS without a restart: the certificates, keys and TLS
    /// options become those of `cfg` (its other options are ignored).
    /// Handshakes that start afterwards use them; open connections keep
    /// theirs.  On error ([`ErrorKind::Tls`](crate::ErrorKind::Tls): a bad
    /// file, a key that does not match) the old ones keep serving.
    /// [`ErrorKind::State`](crate::ErrorKind::State) if the server was
    /// made without TLS.  From another thread: [`ServerHandle::reload_tls`].
    pub fn reload_tls(&self, cfg: &Config) -> Result<()> {
        reload_tls_raw(self.as_raw(), cfg)
    }

    /// Headers hook: `f` sees each request head before its body is read,
    /// and may lower its limits, stream the body, or answer at once.
    pub fn on_headers<F>(&self, f: F) -> Result<()>
    where
        F: Fn(&mut HeadRequest<'_>) + Send + 'static,
    {
        let ud = Box::into_raw(Box::new(f)) as *mut c_void;
        // SAFETY: multi-shot with release; on failure we free ud.
        let rc = unsafe {
            sys::squall_server_set_headers_hook(
                self.as_raw(),
                Some(headers_tramp::<F>),
                ud,
                Some(trampoline::release_box::<F>),
            )
        };
        finish_registration::<F>(rc, ud)
    }

    /// Access hook: `f` sees every finished exchange.
    pub fn on_access<F>(&self, f: F) -> Result<()>
    where
        F: Fn(&AccessRecord<'_>) + Send + 'static,
    {
        let ud = Box::into_raw(Box::new(f)) as *mut c_void;
        // SAFETY: multi-shot with release; on failure we free ud.
        let rc = unsafe {
            sys::squall_server_set_access_hook(
                self.as_raw(),
                Some(access_tramp::<F>),
                ud,
                Some(trampoline::release_box::<F>),
            )
        };
        finish_registration::<F>(rc, ud)
    }

    /// Error hook: malformed requests, limits, timeouts, socket errors
    /// (rate-limited).
    pub fn on_error<F>(&self, f: F) -> Result<()>
    where
        F: Fn(&ServerError<'_>) + Send + 'static,
    {
        let ud = Box::into_raw(Box::new(f)) as *mut c_void;
        // SAFETY: multi-shot with release; on failure we free ud.
        let rc = unsafe {
            sys::squall_server_set_error_hook(
                self.as_raw(),
                Some(error_tramp::<F>),
                ud,
                Some(trampoline::release_box::<F>),
            )
        };
        finish_registration::<F>(rc, ud)
    }
}

fn finish_registration<F>(rc: c_int, ud: *mut c_void) -> Result<()> {
    if rc < 0 {
        let err = Error::last(rc);
        // SAFETY: registration failed, the library never uses ud.
        drop(unsafe { Box::from_raw(ud as *mut F) });
        return Err(err);
    }
    Ok(())
}

fn shutdown_raw<F>(srv: *mut sys::squall_server, grace: Option<Duration>, done: F) -> Result<()>
where
    F: FnOnce(Result<()>) + Send + 'static,
{
    let grace_ms = grace.map(duration_ms).unwrap_or(-1);
    // SAFETY: live server (caller's guarantee); one-shot callback.
    register_result_done(done, |cb, ud| unsafe { sys::squall_server_shutdown(srv, grace_ms, cb, ud) })
}

/// Register a one-shot `done(status)` through `reg` for a closure taking
/// the status as a `Result` (`Err`: the negative code).
pub(crate) fn register_result_done<F>(
    done: F,
    reg: impl FnOnce(squall_sys::squall_done_fn, *mut c_void) -> c_int,
) -> Result<()>
where
    F: FnOnce(Result<()>) + Send + 'static,
{
    trampoline::register_done(
        move |status: c_int| {
            done(if status >= 0 { Ok(()) } else { Err(Error::new(status, crate::error::strerror(status))) })
        },
        reg,
    )
}

fn reload_tls_raw(srv: *mut sys::squall_server, cfg: &Config) -> Result<()> {
    let raw = cfg.to_raw()?;
    // SAFETY: live server (caller's guarantee); [any thread]; cfg read
    // during the call.
    check(unsafe { sys::squall_server_reload_tls(srv, raw.as_ptr()) })
}

fn stats_raw(srv: *mut sys::squall_server) -> Result<Stats> {
    let mut v = [0u64; sys::SQUALL_STAT_COUNT as usize];
    // SAFETY: live server, buffer of the stated length.
    check(unsafe { sys::squall_server_stats(srv, v.as_mut_ptr(), v.len()) })?;
    Ok(Stats {
        connections_accepted: v[0],
        connections_open: v[1],
        requests: v[2],
        bytes_in: v[3],
        bytes_out: v[4],
        responses_1xx: v[5],
        responses_2xx: v[6],
        responses_3xx: v[7],
        responses_4xx: v[8],
        responses_5xx: v[9],
        rejected_parse: v[10],
        rejected_limit: v[11],
        timeouts: v[12],
        accept_pauses: v[13],
        tls_handshake_failures: v[14],
    })
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shared.clear();
        // SAFETY: live handle, loop thread (Server is !Send).
        unsafe { sys::squall_server_free(self.as_raw()) };
        // The handler goes last, as the library's release would drop it.
        if let Some(p) = self.polled.take() {
            drop(p.uninstall());
        }
    }
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("raw", &self.raw).finish()
    }
}

/// A `Send + Sync` handle to a [`Server`]; calls after the server was
/// dropped return [`ErrorKind::Closed`](crate::ErrorKind::Closed).
#[derive(Clone)]
pub struct ServerHandle {
    shared: Arc<ServerShared>,
}

impl ServerHandle {
    fn with<R>(&self, f: impl FnOnce(*mut sys::squall_server) -> Result<R>) -> Result<R> {
        self.shared.with("the server has been dropped", f)
    }

    /// See [`Server::shutdown`].
    pub fn shutdown<F>(&self, grace: Option<Duration>, done: F) -> Result<()>
    where
        F: FnOnce(Result<()>) + Send + 'static,
    {
        self.with(|p| shutdown_raw(p, grace, done))
    }

    /// See [`Server::stats`].
    pub fn stats(&self) -> Result<Stats> {
        self.with(stats_raw)
    }

    /// See [`Server::reload_tls`]; callable from any thread.
    pub fn reload_tls(&self, cfg: &Config) -> Result<()> {
        self.with(|p| reload_tls_raw(p, cfg))
    }
}

impl std::fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerHandle")
    }
}
