//! Requests and their responses.
//!
//! A handler receives a [`Request`]: the parsed request (accessors borrow
//! from it, no copies) plus the obligation to answer it.  The request is
//! `Send`: answer it now on the loop thread, or move it to another thread
//! and answer it there (the library queues cross-thread response calls to
//! the loop in call order).  Answering consumes it, so a finished request
//! cannot be touched again.  Dropping it unanswered sends `500`; dropping
//! it with a response begun but not flushed finishes that response; dropping
//! it once the response is streaming aborts it (see [`Responder`]).

use std::ffi::{c_char, c_int, c_uint, c_void};
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::ptr::{self, NonNull};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use squall_sys as sys;

use crate::error::{Error, Result, check};
use crate::trampoline;

const INTERNAL_ERROR_BODY: &[u8] = b"500: Internal Server Error\n";

#[inline]
unsafe fn slice<'a>(p: *const c_char, len: usize) -> &'a [u8] {
    if p.is_null() || len == 0 {
        &[]
    } else {
        // SAFETY: the caller vouches for (p, len) and the lifetime.
        unsafe { std::slice::from_raw_parts(p as *const u8, len) }
    }
}

#[inline]
fn text(b: &[u8]) -> &str {
    // The parser only admits visible ASCII in the request line and
    // header names; anything else would be a library bug, shown as "".
    std::str::from_utf8(b).unwrap_or("")
}

/// Response state of a [`Responder`]: what a drop does.
///
/// Nothing given yet: a drop answers 500.
const FRESH: u8 = 0;
/// Status, headers or body bytes given, nothing on the wire yet: a drop
/// finishes the response as it stands.
const BUFFERED: u8 = 1;
/// Flushed: the head (and maybe part of the body) is on the wire.  A drop
/// aborts (closes the connection without completing the framing), so a cut
/// body never reads as complete.
const STREAMING: u8 = 2;

const SEND_FLUSH: c_int = sys::SQUALL_SEND_FLUSH;
const SEND_FINISH: c_int = sys::SQUALL_SEND_FINISH;
const SEND_ABORT: c_int = sys::SQUALL_SEND_ABORT;

/// Header arrays of up to this many fields are built on the stack.
const INLINE_HEADERS: usize = 16;

const NO_HEADER: sys::squall_header =
    sys::squall_header { name: ptr::null(), name_len: 0, value: ptr::null(), value_len: 0 };

#[inline]
fn raw_header(name: &[u8], value: &[u8]) -> sys::squall_header {
    // A slice is never SQUALL_NTS (usize::MAX) long.
    sys::squall_header {
        name: name.as_ptr().cast(),
        name_len: name.len(),
        value: value.as_ptr().cast(),
        value_len: value.len(),
    }
}

/// Call `f` with `fields` as a `squall_header` array (borrowing the bytes),
/// on the stack when there are at most [`INLINE_HEADERS`].
fn with_headers<'a, R>(
    fields: impl Iterator<Item = (&'a [u8], &'a [u8])>,
    f: impl FnOnce(&[sys::squall_header]) -> R,
) -> R {
    let mut fields = fields;
    let mut inline = [NO_HEADER; INLINE_HEADERS];
    let mut n = 0;
    for (name, value) in fields.by_ref() {
        inline[n] = raw_header(name, value);
        n += 1;
        if n == INLINE_HEADERS {
            break;
        }
    }
    let Some((name, value)) = (if n == INLINE_HEADERS { fields.next() } else { None }) else {
        return f(&inline[..n]);
    };
    let mut all = inline.to_vec();
    all.push(raw_header(name, value));
    all.extend(fields.map(|(n, v)| raw_header(n, v)));
    f(&all)
}

/// The status argument of squall_response_send for an `http` status: 200
/// (the default) leaves the status as it is.
fn http_status(parts: Option<&http::response::Parts>) -> c_int {
    match parts {
        Some(p) if p.status != http::StatusCode::OK => p.status.as_u16() as c_int,
        _ => 0,
    }
}

fn http_fields(parts: Option<&http::response::Parts>) -> impl Iterator<Item = (&[u8], &[u8])> {
    parts.into_iter().flat_map(|p| p.headers.iter()).map(|(n, v)| (n.as_str().as_bytes(), v.as_bytes()))
}

/// The library's apply-time header rules, checked before the call:
/// no `Transfer-Encoding` (squall frames responses itself), and at most one
/// `Content-Length` of 1 to 18 digits.  `Ok(true)` if `headers` give one.
fn check_framing(headers: &[sys::squall_header], length_set: bool) -> Result<bool> {
    let mut length = length_set;
    for h in headers {
        // SAFETY: built from live slices by raw_header.
        let (name, value) = unsafe { (slice(h.name, h.name_len), slice(h.value, h.value_len)) };
        if name.len() == 17 && name.eq_ignore_ascii_case(b"transfer-encoding") {
            return Err(Error::new(
                sys::SQUALL_EINVAL,
                "squall frames responses itself; do not set Transfer-Encoding",
            ));
        }
        if name.len() == 14 && name.eq_ignore_ascii_case(b"content-length") {
            if value.is_empty() || value.len() > 18 || !value.iter().all(u8::is_ascii_digit) {
                return Err(Error::new(sys::SQUALL_EINVAL, "invalid Content-Length value"));
            }
            if length {
                return Err(Error::new(sys::SQUALL_EINVAL, "Content-Length already set"));
            }
            length = true;
        }
    }
    Ok(length && !length_set)
}

/// A Content-Length value of 1 to 18 digits.
fn parse_length(v: &[u8]) -> Option<u64> {
    if v.is_empty() || v.len() > 18 {
        return None;
    }
    v.iter().try_fold(0u64, |n, &c| c.is_ascii_digit().then(|| n * 10 + u64::from(c - b'0')))
}

fn bad_status() -> Error {
    Error::new(sys::SQUALL_EINVAL, "status code out of range 100..999")
}

fn head_sent() -> Error {
    Error::new(sys::SQUALL_ESTATE, "the response head was already sent (streaming)")
}

/// The right (and duty) to answer one request, from any thread.
///
/// Obtained from [`Request::into_responder`] or
/// [`Request::into_http`](crate::Request::into_http).  Consuming methods
/// ([`finish`](Self::finish), [`respond`](Self::respond),
/// [`send`](Self::send), [`abort`](Self::abort)) end the request; each is
/// one call into the library (one command to the loop from another
/// thread).
///
/// Dropping an unfinished responder sends `500 Internal Server Error` if
/// nothing was given yet; ends the response as it stands if status, headers
/// or body bytes were given but nothing was flushed; and **aborts** it once
/// it is streaming (after a flush): the connection is closed without
/// completing the framing, so a cut body never reads as complete.
pub struct Responder {
    raw: NonNull<sys::squall_request>,
    state: u8,
    /// A Content-Length header was given (the library takes one only).
    length_set: bool,
}

// SAFETY: every squall_response_* call is [any thread] until finish, and
// finish consumes the responder.  &Responder exposes no response call.
unsafe impl Send for Responder {}
unsafe impl Sync for Responder {}

impl Responder {
    fn ptr(&self) -> *mut sys::squall_request {
        self.raw.as_ptr()
    }

    /// The raw handle (valid until this responder finishes).
    pub fn as_raw(&self) -> *mut sys::squall_request {
        self.ptr()
    }

    /// One `squall_response_send`: status (0: as it is), header fields,
    /// body bytes, then `flags`.  Keeps `state` in step.
    ///
    /// `Err` with [`SQUALL_EINVAL`](sys::SQUALL_EINVAL) means nothing was
    /// applied (and an ending call did not end the request); after any
    /// other result of an ending call (FINISH or ABORT) the request is
    /// ended.  The library validates names, values and the status before
    /// applying anything, but checks `Transfer-Encoding` and
    /// `Content-Length` only while applying -- after the status and the
    /// earlier headers, and an ending call then still ends the request --
    /// so those two are checked here first, with the library's rules.
    fn send_raw(
        &mut self,
        status: c_int,
        headers: &[sys::squall_header],
        body: &[u8],
        flags: c_int,
    ) -> Result<()> {
        let length_given = check_framing(headers, self.length_set)?;
        // SAFETY: live, unfinished request; every pointer is valid for the
        // call (the library copies what it keeps).
        let rc = unsafe {
            sys::squall_response_send(
                self.ptr(),
                status,
                headers.as_ptr(),
                headers.len(),
                body.as_ptr().cast(),
                body.len(),
                flags as c_uint,
            )
        };
        if rc == sys::SQUALL_EINVAL {
            return Err(Error::last(rc));
        }
        self.length_set |= length_given;
        if flags & SEND_FLUSH != 0 {
            self.state = STREAMING;
        } else if self.state == FRESH && (status != 0 || !headers.is_empty() || !body.is_empty()) {
            self.state = BUFFERED;
        }
        check(rc)
    }

    /// The ending call: status, headers, body and FINISH in one crossing.
    /// If the library refuses it (`InvalidArgument`: nothing applied) the
    /// request is ended here instead: 500 if nothing was given before, else
    /// aborted.  Status or headers once the response is streaming abort it
    /// (`State`): the library would finish it without them.
    fn end_with(mut self, status: c_int, headers: &[sys::squall_header], body: &[u8]) -> Result<()> {
        if self.state == STREAMING && (status != 0 || !headers.is_empty()) {
            self.end_failed();
            return Err(head_sent());
        }
        match self.send_raw(status, headers, body, SEND_FINISH) {
            Err(e) if e.code() == sys::SQUALL_EINVAL => {
                self.end_failed();
                Err(e)
            }
            res => {
                std::mem::forget(self);
                res
            }
        }
    }

    /// End a request whose ending call could not be made: 500 if nothing
    /// was given yet, else abort (never a success-looking remainder).
    fn end_failed(mut self) {
        if self.state != FRESH {
            self.abort_raw();
            std::mem::forget(self);
        } // else the drop answers 500
    }

    /// ABORT (ends the request; the caller must not use it again).
    fn abort_raw(&mut self) {
        // SAFETY: live, unfinished request; ABORT alone is always valid.
        unsafe {
            sys::squall_response_send(self.ptr(), 0, ptr::null(), 0, ptr::null(), 0, SEND_ABORT as c_uint)
        };
    }

    /// Set the status code (100..=999; default 200) with the standard
    /// reason phrase.
    pub fn set_status(&mut self, code: u16) -> Result<()> {
        if code == 0 {
            return Err(bad_status());
        }
        self.send_raw(code as c_int, &[], &[], 0)
    }

    /// Set the status code with a custom reason phrase (no CR or LF).
    pub fn set_status_reason(&mut self, code: u16, reason: &str) -> Result<()> {
        // SAFETY: live request; reason copied.
        let rc = unsafe {
            sys::squall_response_status(self.ptr(), code as c_int, reason.as_ptr().cast(), reason.len())
        };
        if rc != sys::SQUALL_EINVAL && self.state == FRESH {
            self.state = BUFFERED;
        }
        check(rc)
    }

    /// Add a response header.  The name must be a token and the value free
    /// of CR, LF and NUL ([`ErrorKind::InvalidArgument`](crate::ErrorKind)).
    /// A `Content-Length` set here is trusted as the framing.
    pub fn add_header(&mut self, name: &str, value: impl AsRef<[u8]>) -> Result<()> {
        self.send_raw(0, &[raw_header(name.as_bytes(), value.as_ref())], &[], 0)
    }

    /// Append body bytes (copied; sent on flush or finish).
    pub fn write(&mut self, data: impl AsRef<[u8]>) -> Result<()> {
        self.send_raw(0, &[], data.as_ref(), 0)
    }

    /// Send what was written so far (the response is then streamed:
    /// chunked for HTTP/1.1 unless a Content-Length was set).  From here on
    /// a drop without [`finish`](Self::finish) aborts the response.
    pub fn flush(&mut self) -> Result<()> {
        self.send_raw(0, &[], &[], SEND_FLUSH)
    }

    /// Like [`flush`](Self::flush), and call `done` on the loop thread once
    /// the bytes reached the kernel (`Ok`) or the connection closed first
    /// (`Err`, [`ErrorKind::Closed`](crate::ErrorKind)): backpressure.
    pub fn flush_then<F>(&mut self, done: F) -> Result<()>
    where
        F: FnOnce(Result<()>) + Send + 'static,
    {
        let req = self.ptr();
        let res = trampoline::register_done(
            move |status: c_int| done(status_result(status)),
            // SAFETY: live request; one-shot callback.
            |cb, ud| unsafe { sys::squall_response_flush(req, cb, ud) },
        );
        if !matches!(&res, Err(e) if e.code() == sys::SQUALL_EINVAL) {
            self.state = STREAMING;
        }
        res
    }

    /// [`flush`](Self::flush) as a future resolving when the bytes reached
    /// the kernel: `await` it between pieces of a large streamed response.
    pub fn flush_async(&mut self) -> FlushFuture {
        let shared = Arc::new(Mutex::new(FlushState { result: None, waker: None }));
        let s2 = shared.clone();
        let res = self.flush_then(move |r| {
            let mut g = s2.lock().unwrap_or_else(|p| p.into_inner());
            g.result = Some(r);
            if let Some(w) = g.waker.take() {
                w.wake();
            }
        });
        if let Err(e) = res {
            shared.lock().unwrap_or_else(|p| p.into_inner()).result = Some(Err(e));
        }
        FlushFuture { shared }
    }

    /// End the response (and the request).
    pub fn finish(mut self) -> Result<()> {
        let res = self.send_raw(0, &[], &[], SEND_FINISH);
        std::mem::forget(self);
        // FINISH alone cannot be EINVAL: the request is ended.
        res
    }

    /// End the request by closing the connection without completing the
    /// response: a streamed body then reads as truncated (no terminating
    /// chunk; EOF before the Content-Length), never as complete.  For a
    /// body that failed midway.  [`on_done`](Self::on_done) reports
    /// `Closed`.
    pub fn abort(mut self) -> Result<()> {
        let res = self.send_raw(0, &[], &[], SEND_ABORT);
        std::mem::forget(self);
        res
    }

    /// One shot: status, optional `Content-Type`, body, finish -- one call
    /// into the library.
    ///
    /// On [`ErrorKind::InvalidArgument`](crate::ErrorKind) (a bad code or
    /// content type) nothing of it is sent and the request is answered with
    /// 500 instead (or aborted, if a response had been begun).  Once the
    /// response is streaming (after a flush) a new status cannot be sent:
    /// the response is aborted and [`ErrorKind::State`](crate::ErrorKind)
    /// returned.
    pub fn respond(self, code: u16, content_type: &str, body: impl AsRef<[u8]>) -> Result<()> {
        if self.state == STREAMING {
            self.end_failed();
            return Err(head_sent());
        }
        let rc = respond_raw(self.ptr(), code, content_type, body.as_ref());
        if rc == sys::SQUALL_EINVAL {
            let err = Error::last(rc);
            self.end_failed();
            return Err(err);
        }
        std::mem::forget(self);
        check(rc)
    }

    /// Send an [`http::Response`] whose body is in memory, and finish: one
    /// call into the library (status, every header, body).  Errors as for
    /// [`respond`](Self::respond).
    pub fn send<B: AsRef<[u8]>>(self, resp: http::Response<B>) -> Result<()> {
        let (parts, body) = resp.into_parts();
        self.send_http(Some(&parts), body.as_ref())
    }

    /// Status and headers of `parts` (if any) and `body`, then finish.
    pub(crate) fn send_http(self, parts: Option<&http::response::Parts>, body: &[u8]) -> Result<()> {
        with_headers(http_fields(parts), |h| self.end_with(http_status(parts), h, body))
    }

    /// [`send_http`](Self::send_http) for a response whose whole body is
    /// `body`: a `Content-Length` equal to its length is left out, as the
    /// library sets that one itself when it finishes a response with
    /// nothing sent before (one header less to check, copy and encode).
    pub(crate) fn send_http_whole(self, parts: Option<&http::response::Parts>, body: &[u8]) -> Result<()> {
        if self.state != FRESH {
            return self.send_http(parts, body);
        }
        let n = body.len() as u64;
        let fields = http_fields(parts).filter(|(name, value)| {
            !(name.len() == 14
                && name.eq_ignore_ascii_case(b"content-length")
                && parse_length(value) == Some(n))
        });
        with_headers(fields, |h| self.end_with(http_status(parts), h, body))
    }

    /// Status and headers of an [`http`] response head (one call; not sent
    /// before a flush or finish).
    pub fn send_head(&mut self, parts: &http::response::Parts) -> Result<()> {
        self.write_http(Some(parts), &[])
    }

    /// Status and headers of `parts` (if any) and `body`, without flags.
    pub(crate) fn write_http(&mut self, parts: Option<&http::response::Parts>, body: &[u8]) -> Result<()> {
        let status = http_status(parts);
        with_headers(http_fields(parts), |h| {
            if self.state == STREAMING && (status != 0 || !h.is_empty()) {
                return Err(head_sent());
            }
            self.send_raw(status, h, body, 0)
        })
    }

    /// Call `f` on the loop thread once the exchange is over: `Ok(())` when
    /// the response has been handed to the kernel in full, `Err` (closed)
    /// when the connection closed first -- possibly before the response was
    /// finished: the signal to stop working on it.  One per request.
    pub fn on_done<F>(&mut self, f: F) -> Result<()>
    where
        F: FnOnce(Result<()>) + Send + 'static,
    {
        on_done_raw(self.ptr(), f)
    }

    /// Whether the response is streaming (flushed at least once), so that
    /// a drop would abort it.
    pub fn is_streaming(&self) -> bool {
        self.state == STREAMING
    }
}

pub(crate) fn on_done_raw<F>(req: *mut sys::squall_request, f: F) -> Result<()>
where
    F: FnOnce(Result<()>) + Send + 'static,
{
    trampoline::register_done(
        move |status: c_int| f(status_result(status)),
        // SAFETY: live request; one-shot callback.
        |cb, ud| unsafe { sys::squall_request_on_done(req, cb, ud) },
    )
}

fn status_result(status: c_int) -> Result<()> {
    if status >= 0 { Ok(()) } else { Err(Error::new(status, crate::error::strerror(status))) }
}

/// `squall_respond`: status, Content-Type (unless empty), body and finish
/// in one call -- the one-header case of `squall_response_send`, without
/// its header array.  Everything it takes is validated before anything is
/// applied (status range, a value free of CR, LF and NUL; Content-Type is
/// not one of the headers checked only while applying), so `SQUALL_EINVAL`
/// means nothing was applied.
fn respond_raw(req: *mut sys::squall_request, code: u16, content_type: &str, body: &[u8]) -> c_int {
    // SAFETY: the caller's live, unfinished request; strings copied.
    unsafe {
        sys::squall_respond(
            req,
            c_int::from(code),
            if content_type.is_empty() { ptr::null() } else { content_type.as_ptr().cast() },
            content_type.len(),
            body.as_ptr().cast(),
            body.len(),
        )
    }
}

/// `500 Internal Server Error`, for an unanswered request.
fn internal_error(r: &mut Responder) -> c_int {
    respond_raw(r.ptr(), 500, "text/plain; charset=utf-8", INTERNAL_ERROR_BODY)
}

impl Drop for Responder {
    fn drop(&mut self) {
        // Live, unfinished request (consuming methods forget self).
        match self.state {
            FRESH => {
                if internal_error(self) == sys::SQUALL_EINVAL {
                    // Cannot happen (constant arguments); end it anyway.
                    let _ = self.send_raw(0, &[], &[], SEND_FINISH);
                }
            }
            BUFFERED => {
                let _ = self.send_raw(0, &[], &[], SEND_FINISH);
            }
            _ => self.abort_raw(),
        }
    }
}

impl fmt::Debug for Responder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            FRESH => "fresh",
            BUFFERED => "buffered",
            _ => "streaming",
        };
        f.debug_struct("Responder").field("state", &state).finish()
    }
}

#[derive(Debug)]
struct FlushState {
    result: Option<Result<()>>,
    waker: Option<Waker>,
}

/// Resolves when flushed bytes reached the kernel; see
/// [`Responder::flush_async`].
#[derive(Debug)]
pub struct FlushFuture {
    shared: Arc<Mutex<FlushState>>,
}

impl Future for FlushFuture {
    type Output = Result<()>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        let mut g = self.shared.lock().unwrap_or_else(|p| p.into_inner());
        match g.result.take() {
            Some(r) => Poll::Ready(r),
            None => {
                g.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}

/// Which arguments [`Request::arguments`] lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgSource {
    /// Query string, then form body (Tornado's `arguments`).
    All,
    /// The query string.
    Query,
    /// urlencoded or multipart form fields of the body.
    Body,
}

impl ArgSource {
    fn raw(self) -> c_int {
        match self {
            ArgSource::All => sys::SQUALL_ARGS_ALL,
            ArgSource::Query => sys::SQUALL_ARGS_QUERY,
            ArgSource::Body => sys::SQUALL_ARGS_BODY,
        }
    }
}

/// An uploaded file (a multipart part with a filename), borrowed from its
/// request.
#[derive(Debug, Clone, Copy)]
pub struct File<'a> {
    /// The form field name.
    pub field: &'a str,
    /// The client's file name.
    pub filename: &'a str,
    /// The part's Content-Type.
    pub content_type: &'a str,
    /// The bytes.
    pub data: &'a [u8],
}

/// An HTTP request received by a handler, and the duty to answer it.
///
/// Accessors borrow from the library's parsed request (no copies).  The
/// response methods are those of [`Responder`], available directly.
pub struct Request {
    resp: Responder,
}

// Request is Send + Sync through Responder: the accessors are [any thread]
// and the request is immutable after dispatch.

impl Request {
    /// Wrap a handler's request.
    ///
    /// # Safety
    /// `raw` must be a request handed to a handler (or otherwise owned by
    /// the application and not yet finished), wrapped at most once.
    pub unsafe fn from_raw(raw: *mut sys::squall_request) -> Request {
        Request {
            resp: Responder {
                raw: NonNull::new(raw).expect("squall: NULL request"),
                state: FRESH,
                length_set: false,
            },
        }
    }

    /// The raw handle (valid until this request is answered).
    pub fn as_raw(&self) -> *mut sys::squall_request {
        self.resp.ptr()
    }

    fn cptr(&self) -> *const sys::squall_request {
        self.resp.ptr()
    }

    /// A request-line field as bytes.
    pub(crate) fn field(&self, f: c_int) -> &[u8] {
        let mut p = ptr::null();
        let mut len = 0usize;
        // SAFETY: live request; output valid until finish (which needs
        // `self` by value, so it outlives this borrow).
        let rc = unsafe { sys::squall_request_get(self.cptr(), f, &mut p, &mut len) };
        if rc < 0 { &[] } else { unsafe { slice(p, len) } }
    }

    /// `"GET"`, `"POST"`, ...
    pub fn method(&self) -> &str {
        text(self.field(sys::SQUALL_REQ_METHOD))
    }
    /// The request target as sent (`"/a/b?x=1"`).
    pub fn uri(&self) -> &str {
        text(self.field(sys::SQUALL_REQ_URI))
    }
    /// The path part, not percent-decoded.
    pub fn path(&self) -> &str {
        text(self.field(sys::SQUALL_REQ_PATH))
    }
    /// The query string without `?` (`""` if none).
    pub fn query(&self) -> &str {
        text(self.field(sys::SQUALL_REQ_QUERY))
    }
    /// `"HTTP/1.1"` or `"HTTP/1.0"`.
    pub fn version(&self) -> &str {
        text(self.field(sys::SQUALL_REQ_VERSION))
    }
    /// Host header (or the absolute-form authority).
    pub fn host(&self) -> &str {
        text(self.field(sys::SQUALL_REQ_HOST))
    }
    /// Host without the port.
    pub fn host_name(&self) -> &str {
        text(self.field(sys::SQUALL_REQ_HOST_NAME))
    }
    /// The peer's IP (or X-Real-IP when xheaders is on).
    pub fn remote_ip(&self) -> &str {
        text(self.field(sys::SQUALL_REQ_REMOTE_IP))
    }
    /// `"http"` or `"https"`.
    pub fn protocol(&self) -> &str {
        text(self.field(sys::SQUALL_REQ_PROTOCOL))
    }
    /// `protocol://host/uri`.
    pub fn full_url(&self) -> &str {
        text(self.field(sys::SQUALL_REQ_FULL_URL))
    }

    /// What the TLS handshake of this request's connection settled
    /// (borrowed, no copies); `None` on plain HTTP.
    pub fn tls(&self) -> Option<crate::TlsInfo<'_>> {
        use std::borrow::Cow::Borrowed;
        let mut p = ptr::null();
        let mut len = 0usize;
        // SAFETY: live request; SQUALL_ENOTFOUND on a plain connection.
        if unsafe { sys::squall_request_get(self.cptr(), sys::SQUALL_REQ_TLS_VERSION, &mut p, &mut len) } < 0
        {
            return None;
        }
        // Subjects may hold UTF-8; a field that is not UTF-8 reads as "".
        let f = |k| Borrowed(std::str::from_utf8(self.field(k)).unwrap_or(""));
        Some(crate::TlsInfo {
            version: f(sys::SQUALL_REQ_TLS_VERSION),
            cipher: f(sys::SQUALL_REQ_TLS_CIPHER),
            server_name: f(sys::SQUALL_REQ_TLS_SERVER_NAME),
            alpn: f(sys::SQUALL_REQ_TLS_ALPN),
            peer_subject: f(sys::SQUALL_REQ_TLS_PEER_SUBJECT),
            peer_cert_pem: f(sys::SQUALL_REQ_TLS_PEER_CERT),
            resumed: self.field(sys::SQUALL_REQ_TLS_RESUMED) == b"1",
        })
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.header_nth(name, 0)
    }

    /// The first value of header `name` if it is UTF-8.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.header(name).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// The `nth` (0-based) value of header `name`.
    pub fn header_nth(&self, name: &str, nth: usize) -> Option<&[u8]> {
        let mut p = ptr::null();
        let mut len = 0usize;
        // SAFETY: live request; name copied/only read during the call.
        let rc = unsafe {
            sys::squall_request_header(self.cptr(), name.as_ptr().cast(), name.len(), nth, &mut p, &mut len)
        };
        if rc < 0 { None } else { Some(unsafe { slice(p, len) }) }
    }

    /// Every value of header `name`, in arrival order.
    pub fn header_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        (0..).map_while(move |i| self.header_nth(name, i))
    }

    /// Number of header fields.
    pub fn header_count(&self) -> usize {
        let mut n = 0usize;
        // SAFETY: live request.
        unsafe { sys::squall_request_header_count(self.cptr(), &mut n) };
        n
    }

    /// Header field `i` as bytes (`None` past the end).
    pub(crate) fn header_bytes_at(&self, i: usize) -> Option<(&[u8], &[u8])> {
        let (mut np, mut nl, mut vp, mut vl) = (ptr::null(), 0usize, ptr::null(), 0usize);
        // SAFETY: live request; the bytes live as long as the borrow.
        let rc = unsafe { sys::squall_request_header_at(self.cptr(), i, &mut np, &mut nl, &mut vp, &mut vl) };
        if rc < 0 { None } else { unsafe { Some((slice(np, nl), slice(vp, vl))) } }
    }

    /// All header fields `(name, value)` in arrival order.
    pub fn headers(&self) -> Headers<'_> {
        Headers { req: self, index: 0, count: self.header_count() }
    }

    /// The body (decoded from chunked / gzip).
    pub fn body(&self) -> &[u8] {
        let mut p = ptr::null();
        let mut len = 0usize;
        // SAFETY: live request.
        let rc = unsafe { sys::squall_request_body(self.cptr(), &mut p, &mut len) };
        if rc < 0 { &[] } else { unsafe { slice(p as *const c_char, len) } }
    }

    /// The first value of argument `name` from the query or form body,
    /// percent-decoded (Tornado's `get_argument`).
    pub fn argument(&self, name: &str) -> Option<&str> {
        self.argument_from(ArgSource::All, name, 0)
    }

    /// The first value of query argument `name`.
    pub fn query_argument(&self, name: &str) -> Option<&str> {
        self.argument_from(ArgSource::Query, name, 0)
    }

    /// The first value of form-body argument `name`.
    pub fn body_argument(&self, name: &str) -> Option<&str> {
        self.argument_from(ArgSource::Body, name, 0)
    }

    /// The `nth` value of argument `name` from `source`.
    pub fn argument_from(&self, source: ArgSource, name: &str, nth: usize) -> Option<&str> {
        let mut p = ptr::null();
        let mut len = 0usize;
        // SAFETY: live request.
        let rc = unsafe {
            sys::squall_request_argument(
                self.cptr(),
                source.raw(),
                name.as_ptr().cast(),
                name.len(),
                nth,
                &mut p,
                &mut len,
            )
        };
        if rc < 0 { None } else { std::str::from_utf8(unsafe { slice(p, len) }).ok() }
    }

    /// All `(name, value)` arguments of `source`, decoded.
    pub fn arguments(&self, source: ArgSource) -> Vec<(&str, &str)> {
        let mut n = 0usize;
        // SAFETY: live request.
        unsafe { sys::squall_request_argument_count(self.cptr(), source.raw(), &mut n) };
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let (mut np, mut nl, mut vp, mut vl) = (ptr::null(), 0usize, ptr::null(), 0usize);
            // SAFETY: live request.
            let rc = unsafe {
                sys::squall_request_argument_at(
                    self.cptr(),
                    source.raw(),
                    i,
                    &mut np,
                    &mut nl,
                    &mut vp,
                    &mut vl,
                )
            };
            if rc < 0 {
                break;
            }
            let (name, value) = unsafe { (slice(np, nl), slice(vp, vl)) };
            out.push((std::str::from_utf8(name).unwrap_or(""), std::str::from_utf8(value).unwrap_or("")));
        }
        out
    }

    /// The value of cookie `name`.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        let mut p = ptr::null();
        let mut len = 0usize;
        // SAFETY: live request.
        let rc = unsafe {
            sys::squall_request_cookie(self.cptr(), name.as_ptr().cast(), name.len(), &mut p, &mut len)
        };
        if rc < 0 { None } else { std::str::from_utf8(unsafe { slice(p, len) }).ok() }
    }

    /// All cookies `(name, value)`.
    pub fn cookies(&self) -> Vec<(&str, &str)> {
        let mut n = 0usize;
        // SAFETY: live request.
        unsafe { sys::squall_request_cookie_count(self.cptr(), &mut n) };
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let (mut np, mut nl, mut vp, mut vl) = (ptr::null(), 0usize, ptr::null(), 0usize);
            // SAFETY: live request.
            let rc =
                unsafe { sys::squall_request_cookie_at(self.cptr(), i, &mut np, &mut nl, &mut vp, &mut vl) };
            if rc < 0 {
                break;
            }
            let (name, value) = unsafe { (slice(np, nl), slice(vp, vl)) };
            out.push((text(name), std::str::from_utf8(value).unwrap_or("")));
        }
        out
    }

    /// Uploaded files (multipart parts with a filename).
    pub fn files(&self) -> Vec<File<'_>> {
        let mut n = 0usize;
        // SAFETY: live request.
        unsafe { sys::squall_request_file_count(self.cptr(), &mut n) };
        let mut out = Vec::with_capacity(n);
        for i in 0..n {
            let (mut fp, mut fl, mut np, mut nl, mut cp, mut cl) =
                (ptr::null(), 0usize, ptr::null(), 0usize, ptr::null(), 0usize);
            let (mut dp, mut dl) = (ptr::null(), 0usize);
            // SAFETY: live request.
            let rc = unsafe {
                sys::squall_request_file_at(
                    self.cptr(),
                    i,
                    &mut fp,
                    &mut fl,
                    &mut np,
                    &mut nl,
                    &mut cp,
                    &mut cl,
                    &mut dp,
                    &mut dl,
                )
            };
            if rc < 0 {
                break;
            }
            unsafe {
                out.push(File {
                    field: std::str::from_utf8(slice(fp, fl)).unwrap_or(""),
                    filename: std::str::from_utf8(slice(np, nl)).unwrap_or(""),
                    content_type: std::str::from_utf8(slice(cp, cl)).unwrap_or(""),
                    data: slice(dp as *const c_char, dl),
                });
            }
        }
        out
    }

    /// When the request's first byte was read (wall clock).
    pub fn start_time(&self) -> SystemTime {
        let mut start = 0i64;
        // SAFETY: live request.
        unsafe { sys::squall_request_time(self.cptr(), &mut start, ptr::null_mut()) };
        UNIX_EPOCH + Duration::from_micros(start.max(0) as u64)
    }

    /// Time since the request's first byte (Tornado's `request_time()`).
    pub fn elapsed(&self) -> Duration {
        let mut us = 0i64;
        // SAFETY: live request.
        unsafe { sys::squall_request_time(self.cptr(), ptr::null_mut(), &mut us) };
        Duration::from_micros(us.max(0) as u64)
    }

    /// Give up access to the fields and keep only the duty to answer.
    pub fn into_responder(self) -> Responder {
        self.resp
    }

    // --- the response, forwarded to the Responder -------------------------

    /// See [`Responder::set_status`].
    pub fn set_status(&mut self, code: u16) -> Result<()> {
        self.resp.set_status(code)
    }
    /// See [`Responder::set_status_reason`].
    pub fn set_status_reason(&mut self, code: u16, reason: &str) -> Result<()> {
        self.resp.set_status_reason(code, reason)
    }
    /// See [`Responder::add_header`].
    pub fn add_header(&mut self, name: &str, value: impl AsRef<[u8]>) -> Result<()> {
        self.resp.add_header(name, value)
    }
    /// See [`Responder::write`].
    pub fn write(&mut self, data: impl AsRef<[u8]>) -> Result<()> {
        self.resp.write(data)
    }
    /// See [`Responder::flush`].
    pub fn flush(&mut self) -> Result<()> {
        self.resp.flush()
    }
    /// See [`Responder::flush_then`].
    pub fn flush_then<F: FnOnce(Result<()>) + Send + 'static>(&mut self, done: F) -> Result<()> {
        self.resp.flush_then(done)
    }
    /// See [`Responder::flush_async`].
    pub fn flush_async(&mut self) -> FlushFuture {
        self.resp.flush_async()
    }
    /// See [`Responder::on_done`].
    pub fn on_done<F: FnOnce(Result<()>) + Send + 'static>(&mut self, f: F) -> Result<()> {
        self.resp.on_done(f)
    }
    /// See [`Responder::finish`].
    pub fn finish(self) -> Result<()> {
        self.resp.finish()
    }
    /// See [`Responder::abort`].
    pub fn abort(self) -> Result<()> {
        self.resp.abort()
    }
    /// See [`Responder::respond`].
    pub fn respond(self, code: u16, content_type: &str, body: impl AsRef<[u8]>) -> Result<()> {
        self.resp.respond(code, content_type, body)
    }
    /// See [`Responder::send`].
    pub fn send<B: AsRef<[u8]>>(self, resp: http::Response<B>) -> Result<()> {
        self.resp.send(resp)
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method())
            .field("uri", &self.uri())
            .field("version", &self.version())
            .field("remote_ip", &self.remote_ip())
            .finish()
    }
}

/// Iterator over a request's header fields; see [`Request::headers`].
#[derive(Debug)]
pub struct Headers<'a> {
    req: &'a Request,
    index: usize,
    count: usize,
}

impl<'a> Iterator for Headers<'a> {
    type Item = (&'a str, &'a [u8]);
    fn next(&mut self) -> Option<Self::Item> {
        if self.index >= self.count {
            return None;
        }
        let (mut np, mut nl, mut vp, mut vl) = (ptr::null(), 0usize, ptr::null(), 0usize);
        // SAFETY: live request (borrowed for 'a).
        let rc = unsafe {
            sys::squall_request_header_at(self.req.cptr(), self.index, &mut np, &mut nl, &mut vp, &mut vl)
        };
        self.index += 1;
        if rc < 0 {
            self.index = self.count;
            return None;
        }
        unsafe { Some((text(slice(np, nl)), slice(vp, vl))) }
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.count - self.index;
        (n, Some(n))
    }
}

/// A request borrowed for the duration of the headers hook (head parsed,
/// body not read yet).  See [`Server::on_headers`](crate::Server::on_headers).
#[derive(Debug)]
pub struct HeadRequest<'a> {
    req: std::mem::ManuallyDrop<Request>,
    answered: bool,
    _borrow: PhantomData<&'a mut ()>,
}

impl HeadRequest<'_> {
    pub(crate) unsafe fn from_raw(raw: *mut sys::squall_request) -> Self {
        HeadRequest {
            // SAFETY: borrowed for the hook call; never finished implicitly.
            req: std::mem::ManuallyDrop::new(unsafe { Request::from_raw(raw) }),
            answered: false,
            _borrow: PhantomData,
        }
    }

    /// The request head (its body is not there yet).
    pub fn request(&self) -> &Request {
        &self.req
    }

    /// Lower (or raise) this request's body limit.
    pub fn set_max_body_size(&mut self, max: usize) -> Result<()> {
        // SAFETY: live request, headers hook.
        check(unsafe {
            sys::squall_request_set_max_body_size(self.req.as_raw(), max.min(i64::MAX as usize) as i64)
        })
    }

    /// This request's body timeout (zero: none).
    pub fn set_body_timeout(&mut self, d: Duration) -> Result<()> {
        // SAFETY: live request, headers hook.
        check(unsafe {
            sys::squall_request_set_body_timeout(self.req.as_raw(), crate::event_loop::duration_ms(d))
        })
    }

    /// Answer now: the body is not read and the handler is not called.
    pub fn respond(&mut self, code: u16, content_type: &str, body: impl AsRef<[u8]>) -> Result<()> {
        if self.answered {
            return Err(Error::new(sys::SQUALL_ESTATE, "already answered"));
        }
        let rc = respond_raw(self.req.as_raw(), code, content_type, body.as_ref());
        if rc == sys::SQUALL_EINVAL {
            return Err(Error::last(rc));
        }
        self.answered = true;
        check(rc)
    }

    /// Take the body as a stream: `f` gets each decoded piece as it
    /// arrives (return `false` to abort and close the connection); the
    /// handler then runs at the end with an empty body.
    pub fn stream_body<F>(&mut self, f: F) -> Result<()>
    where
        F: FnMut(&[u8]) -> bool + Send + 'static,
    {
        unsafe extern "C" fn body_tramp<F: FnMut(&[u8]) -> bool>(
            data: *const c_void,
            len: usize,
            ud: *mut c_void,
        ) -> c_int {
            trampoline::guard("body callback", || {
                // SAFETY: ud is a Box<F> alive until release; data valid
                // during the call.
                let f = unsafe { &mut *(ud as *mut F) };
                let piece = unsafe { slice(data as *const c_char, len) };
                if f(piece) { 0 } else { -1 }
            })
            .unwrap_or(-1)
        }
        let ud = Box::into_raw(Box::new(f)) as *mut c_void;
        // SAFETY: multi-shot with release; on failure we free ud.
        let rc = unsafe {
            sys::squall_request_stream_body(
                self.req.as_raw(),
                Some(body_tramp::<F>),
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
        Ok(())
    }
}
