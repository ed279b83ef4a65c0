//! Run a tower [`Service`] (an axum `Router`, say) on squall's loop.
//!
//! The loop thread parses each request, copies it into an
//! `http::Request<Full<Bytes>>` and spawns the service call on a tokio
//! runtime; the response is written back from the runtime's thread through
//! the request's `Send` [`Responder`].  If the client goes away first the
//! task is aborted (the future dropped), as hyper does.
//!
//! ```ignore
//! let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build()?;
//! let router = axum::Router::new().route("/", axum::routing::get(|| async { "hi\n" }));
//! let lp = squall::Loop::new()?;
//! let srv = squall::Server::new(&lp, squall::tower::handler(rt.handle().clone(), router))?;
//! srv.listen("127.0.0.1", 8080)?;
//! lp.run()?;
//! ```

use std::future::poll_fn;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use bytes::{Buf, Bytes};
use http_body::Body;
use http_body_util::Full;
use tokio::runtime::Handle;
use tower_service::Service;

use crate::request::{Request, Responder};

/// The request body type handed to services.
pub type RequestBody = Full<Bytes>;

/// Options of [`handler_with`].
#[derive(Debug, Clone)]
pub struct Options {
    /// Abort the service future when the client disconnects (default on).
    pub cancel_on_disconnect: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { cancel_on_disconnect: true }
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
    B::Data: Send,
    B::Error: std::fmt::Display,
{
    handler_with(rt, svc, Options::default())
}

/// [`handler`] with [`Options`].
pub fn handler_with<S, B>(rt: Handle, svc: S, opts: Options) -> impl Fn(Request) + Send + 'static
where
    S: Service<http::Request<RequestBody>, Response = http::Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: std::fmt::Display + Send + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: std::fmt::Display,
{
    move |req: Request| {
        let (parts, body) = match req.to_http_parts() {
            Ok(p) => (p, Bytes::copy_from_slice(req.body())),
            Err(_) => {
                let _ = req.respond(400, "text/plain", b"400: Bad Request\n");
                return;
            }
        };
        let mut responder = req.into_responder();
        let http_req = http::Request::from_parts(parts, Full::new(body));

        // Cancel on disconnect: on_done(Err) aborts the task.  The slot is
        // filled before the loop thread can run on_done (we are on it).
        let slot: Option<Arc<Mutex<Option<tokio::task::AbortHandle>>>> = if opts.cancel_on_disconnect {
            let slot = Arc::new(Mutex::new(None::<tokio::task::AbortHandle>));
            let s2 = slot.clone();
            let ok = responder
                .on_done(move |res| {
                    if res.is_err() {
                        if let Some(h) = s2.lock().unwrap_or_else(|p| p.into_inner()).take() {
                            h.abort();
                        }
                    }
                })
                .is_ok();
            ok.then_some(slot)
        } else {
            None
        };

        let mut svc = svc.clone();
        let task = rt.spawn(async move {
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
        });
        if let Some(slot) = slot {
            *slot.lock().unwrap_or_else(|p| p.into_inner()) = Some(task.abort_handle());
        }
    }
}

/// Write an `http::Response` with any body through a [`Responder`]:
/// status and headers, then the body frames.  A body that ends with its
/// first frame goes out with the head (Content-Length framing); a longer one
/// is streamed (chunked) with backpressure.
pub async fn write_response<B>(mut responder: Responder, resp: http::Response<B>)
where
    B: Body,
    B::Error: std::fmt::Display,
{
    let (parts, body) = resp.into_parts();
    if responder.send_head(&parts).is_err() {
        // Invalid header: nothing useful can follow; dropping `responder`
        // ends the response as it stands.
        return;
    }
    let mut body = std::pin::pin!(body);
    loop {
        let frame = match poll_fn(|cx| Pin::as_mut(&mut body).poll_frame(cx)).await {
            None => break,
            Some(Ok(frame)) => frame,
            // The body failed mid-way: end what was sent.
            Some(Err(_)) => break,
        };
        // Trailers are not supported by squall's responses: ignored.
        let Ok(mut data) = frame.into_data() else { continue };
        while data.has_remaining() {
            let chunk = data.chunk();
            let n = chunk.len();
            if responder.write(chunk).is_err() {
                return; // client gone: dropping the responder ends it
            }
            data.advance(n);
        }
        if !body.is_end_stream() {
            // More to come: stream what we have and wait until the kernel
            // took it (backpressure).
            if responder.flush_async().await.is_err() {
                return;
            }
        }
    }
    let _ = responder.finish();
}
