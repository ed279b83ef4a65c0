//! Run a tower [`Service`] (an axum `Router`, say) on squall's loop.
//!
//! The loop thread parses each request and copies it into an
//! `http::Request<Full<Bytes>>`.  By default the service future is then
//! polled once on the loop thread, inside the tokio runtime's context (as
//! hyper polls handlers on its I/O thread): a future that completes at once
//! (routing, in-memory answers: the common case) is answered right there,
//! with no thread hop -- on a polled server (see
//! [`Server::with_config`](crate::Server::with_config)) the responses of a
//! pipelined burst leave in one write.  A future that must wait (a timer, a
//! socket, a channel) is handed to the runtime, which drives it to the end;
//! its response goes back through the request's `Send` [`Responder`]: a
//! response whose body is complete is one `squall_response_send` call
//! (status, headers, body, finish), which the library hands to the loop as
//! one command.  The runtime must be driven by some thread (a
//! multi-thread runtime, or a current-thread one in `block_on` elsewhere).
//!
//! [`Options::poll_on_loop`]`(false)` restores the other mode: every call
//! runs on the runtime (the requests of one loop iteration are spawned
//! together, one wake-up of the runtime per batch), so the loop thread never
//! runs application code, at the price of a thread hop per batch.
//!
//! A streamed body that fails midway is aborted, so the client sees it
//! truncated.  If the client goes away first the task is aborted (the
//! future dropped), as hyper does.
//!
//! ```ignore
//! let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
//! // with_state(()): handlers become routes once, as axum::serve does.
//! let router = axum::Router::new().route("/", axum::routing::get(|| async { "hi\n" })).with_state(());
//! let lp = squall::Loop::new()?;
//! let srv = squall::Server::new(&lp, squall::tower::handler(rt.handle().clone(), router))?;
//! srv.listen("127.0.0.1", 8080)?;
//! lp.run()?;
//! ```

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Waker};

use bytes::{Buf, Bytes};
use http_body::Body;
use http_body_util::Full;
use tokio::runtime::Handle;
use tower_service::Service;

use crate::event_loop::LoopHandle;
use crate::request::{Request, Responder};

/// The request body type handed to services.
pub type RequestBody = Full<Bytes>;

/// Options of [`handler_with`].
#[derive(Debug, Clone)]
pub struct Options {
    cancel_on_disconnect: bool,
    poll_on_loop: bool,
}

impl Options {
    /// The defaults.
    pub fn new() -> Options {
        Options::default()
    }

    /// Abort the service future when the client disconnects (default on).
    pub fn cancel_on_disconnect(mut self, on: bool) -> Options {
        self.cancel_on_disconnect = on;
        self
    }

    /// Poll the service future once on the loop thread (inside the
    /// runtime's context) before handing it to the runtime (default on): a
    /// future that completes at once (most routing, in-memory answers) is
    /// answered with no thread hop, as hyper polls handlers on its I/O
    /// thread; one that waits moves to the runtime.
    ///
    /// The first poll of every handler runs on the loop thread: it must not
    /// block (as on hyper's I/O thread), and APIs that need a runtime worker
    /// thread (`tokio::task::block_in_place`) are not available in that
    /// first poll.  Off: every call runs on the runtime, so the loop thread
    /// never runs application code (a thread hop per batch of requests).
    pub fn poll_on_loop(mut self, on: bool) -> Options {
        self.poll_on_loop = on;
        self
    }
}

impl Default for Options {
    fn default() -> Self {
        Options { cancel_on_disconnect: true, poll_on_loop: true }
    }
}

/// A squall request handler that serves every request with `svc` on the
/// tokio runtime `rt`.  Pass it to [`Server::new`](crate::Server::new).
pub fn handler<S, B>(rt: Handle, svc: S) -> impl Fn(Request) + Send + 'static
where
    S: Service<http::Request<RequestBody>, Response = http::Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: std::fmt::Display + Send + 'static,
    B: Body + Send + 'static,
    B::Data: Send + 'static,
    B::Error: std::fmt::Display,
{
    handler_with(rt, svc, Options::default())
}

/// Cancellation state of one request's task.
#[derive(Default)]
struct Slot {
    cancelled: bool,
    handle: Option<tokio::task::AbortHandle>,
}

type AbortSlot = Arc<Mutex<Slot>>;

fn lock(slot: &AbortSlot) -> std::sync::MutexGuard<'_, Slot> {
    slot.lock().unwrap_or_else(|p| p.into_inner())
}

/// Register "abort the task in `slot` if the client goes away".
fn watch_disconnect(req: *mut squall_sys::squall_request) -> Option<AbortSlot> {
    let slot: AbortSlot = Arc::new(Mutex::new(Slot::default()));
    let s2 = slot.clone();
    crate::request::on_done_raw(req, move |res| {
        if res.is_err() {
            let mut g = lock(&s2);
            g.cancelled = true;
            if let Some(h) = g.handle.take() {
                h.abort();
            }
        }
    })
    .ok()
    .map(|()| slot)
}

type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Spawn `fut` on `rt`, unless its client already left.
fn spawn_watched(rt: &Handle, fut: BoxFuture, slot: Option<AbortSlot>) {
    match slot {
        None => {
            rt.spawn(fut);
        }
        Some(slot) => {
            if lock(&slot).cancelled {
                return; // dropping the future ends the request (Closed)
            }
            let task = rt.spawn(fut);
            let mut g = lock(&slot);
            if g.cancelled {
                task.abort();
            } else {
                g.handle = Some(task.abort_handle());
            }
        }
    }
}

/// Requests handed over during one loop iteration, spawned together at its
/// end: one wake-up of the runtime per batch instead of one per request.
#[derive(Default)]
struct Batch {
    pending: Vec<(BoxFuture, Option<AbortSlot>)>,
}

/// [`handler`] with [`Options`].
pub fn handler_with<S, B>(rt: Handle, svc: S, opts: Options) -> impl Fn(Request) + Send + 'static
where
    S: Service<http::Request<RequestBody>, Response = http::Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: std::fmt::Display + Send + 'static,
    B: Body + Send + 'static,
    B::Data: Send + 'static,
    B::Error: std::fmt::Display,
{
    let batch: Arc<Mutex<Batch>> = Arc::new(Mutex::new(Batch::default()));
    move |req: Request| {
        let (parts, body) = match req.to_http_parts() {
            Ok(p) => (p, Bytes::copy_from_slice(req.body())),
            Err(_) => {
                let _ = req.respond(400, "text/plain", b"400: Bad Request\n");
                return;
            }
        };
        let responder = req.into_responder();
        let raw = responder.as_raw();
        let http_req = http::Request::from_parts(parts, Full::new(body));
        let mut svc = svc.clone();
        let fut = async move {
            if let Err(e) = poll_fn(|cx| svc.poll_ready(cx)).await {
                let _ = responder.respond(503, "text/plain", format!("503: {e}\n"));
                return;
            }
            match svc.call(http_req).await {
                Ok(resp) => write_response(responder, resp).await,
                Err(e) => {
                    let _ = responder.respond(500, "text/plain", format!("500: {e}\n"));
                }
            }
        };

        let mut fut: BoxFuture = Box::pin(fut);
        if opts.poll_on_loop {
            let ready = {
                let _ctx = rt.enter();
                let mut cx = Context::from_waker(Waker::noop());
                // A panic here drops the future (and its responder: 500).
                fut.as_mut().poll(&mut cx).is_ready()
            };
            if ready {
                return;
            }
            // Still waiting: the response is not finished (it is finished
            // only as the future's last step), so `raw` is still valid.
        }
        // on_done runs on this thread, so it cannot fire before the slot
        // is in place.
        let slot = if opts.cancel_on_disconnect { watch_disconnect(raw) } else { None };
        let Some(lp) = LoopHandle::current() else {
            spawn_watched(&rt, fut, slot);
            return;
        };
        // Queue; the first request of an iteration schedules the flush,
        // which the loop runs after the events already due (no syscall from
        // the loop thread).
        let first = {
            let mut b = batch.lock().unwrap_or_else(|p| p.into_inner());
            b.pending.push((fut, slot));
            b.pending.len() == 1
        };
        if first {
            let (batch2, rt2) = (batch.clone(), rt.clone());
            let flush = move || {
                let items = std::mem::take(&mut batch2.lock().unwrap_or_else(|p| p.into_inner()).pending);
                for (f, s) in items {
                    spawn_watched(&rt2, f, s);
                }
            };
            if let Err(e) = lp.call_soon(flush) {
                // The loop is going away: nothing will flush; drop the
                // futures (their responders end the requests).
                let _ = e;
                batch.lock().unwrap_or_else(|p| p.into_inner()).pending.clear();
            }
        }
    }
}

/// Write an `http::Response` with any body through a [`Responder`].
///
/// A body that ends with its first frame goes out with the head in one call
/// into the library (status, headers, body, finish: Content-Length framing;
/// from another thread, one command to the loop).  A longer one is
/// streamed (chunked): the head with the first frame, then each frame
/// flushed with backpressure, the last one with the finish.  A body that
/// fails before its first frame is answered with 500; one that fails
/// midway is aborted (the connection is closed without the terminating
/// chunk), so the client sees a truncated response, never a complete one.
/// Trailers are ignored.
pub async fn write_response<B>(mut responder: Responder, resp: http::Response<B>)
where
    B: Body,
    B::Data: Send + 'static,
    B::Error: std::fmt::Display,
{
    let (parts, body) = resp.into_parts();
    let mut body = std::pin::pin!(body);
    // The head, until it is handed to the library with the first frame.
    let mut head = Some(parts);
    loop {
        let data = if body.is_end_stream() {
            None
        } else {
            match next_data(body.as_mut()).await {
                Ok(d) => d,
                Err(()) if head.is_some() => {
                    let _ = responder.respond(500, "text/plain", b"500: response body failed\n");
                    return;
                }
                Err(()) => {
                    // Failed midway: truncated, not finished.
                    let _ = responder.abort();
                    return;
                }
            }
        };
        let last = data.is_none() || body.is_end_stream();
        let parts = head.take();
        if last {
            // With the head: the whole response in one call.
            let _ = with_bytes(data, |b| responder.send_http_whole(parts.as_ref(), b));
            return;
        }
        // More to come: head (first time) and this frame, then a flush whose
        // completion paces the next poll.  On an error the client is gone;
        // dropping the responder ends the request.
        if with_bytes(data, |b| responder.write_http(parts.as_ref(), b)).is_err() {
            return;
        }
        if responder.flush_async().await.is_err() {
            return;
        }
    }
}

/// The next data frame of `body` (`None` at its end), skipping trailers.
async fn next_data<B: Body>(mut body: Pin<&mut B>) -> Result<Option<B::Data>, ()> {
    loop {
        match poll_fn(|cx| body.as_mut().poll_frame(cx)).await {
            None => return Ok(None),
            Some(Err(_)) => return Err(()),
            Some(Ok(frame)) => {
                if let Ok(d) = frame.into_data() {
                    return Ok(Some(d));
                }
            }
        }
    }
}

/// `f` over the bytes of `data` as one slice (copied only if the buffer is
/// not contiguous).
fn with_bytes<D: Buf, R>(data: Option<D>, f: impl FnOnce(&[u8]) -> R) -> R {
    match data {
        None => f(&[]),
        Some(d) if d.chunk().len() == d.remaining() => f(d.chunk()),
        Some(mut d) => {
            let all = d.copy_to_bytes(d.remaining());
            f(&all)
        }
    }
}
