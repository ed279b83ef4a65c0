//! An axum Router served through the tower adapter.

mod common;

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use common::{Conn, TestServer, get as http_get, parse_chunked, post as http_post, start_drain, wait_until};

/// A body of several frames, to exercise the streamed path.
struct Pieces(Vec<&'static str>);

impl http_body::Body for Pieces {
    type Data = Bytes;
    type Error = std::convert::Infallible;
    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        if self.0.is_empty() {
            Poll::Ready(None)
        } else {
            let s = self.0.remove(0);
            Poll::Ready(Some(Ok(http_body::Frame::data(Bytes::from_static(s.as_bytes())))))
        }
    }
    fn is_end_stream(&self) -> bool {
        self.0.is_empty()
    }
}

/// A body of frames that then fails (`Err`), to exercise truncation.
struct Failing(Vec<&'static str>);

impl http_body::Body for Failing {
    type Data = Bytes;
    type Error = std::io::Error;
    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        if self.0.is_empty() {
            Poll::Ready(Some(Err(std::io::Error::other("body failed on purpose"))))
        } else {
            let s = self.0.remove(0);
            Poll::Ready(Some(Ok(http_body::Frame::data(Bytes::from_static(s.as_bytes())))))
        }
    }
}

fn router(cancelled: Arc<AtomicBool>) -> Router {
    Router::new()
        .route("/", get(|| async { "Hello, world!\n" }))
        .route("/users/{id}", get(|Path(id): Path<u32>| async move { format!("user {id}\n") }))
        .route("/echo", post(|body: Bytes| async move { body }))
        .route(
            "/headers",
            get(|h: HeaderMap| async move {
                let ua = h.get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
                (StatusCode::ACCEPTED, [("x-seen-ua", ua)], "ok\n")
            }),
        )
        .route(
            "/sleep",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(50)).await;
                "slept\n"
            }),
        )
        .route(
            "/tcp/{port}",
            get(|Path(port): Path<u16>| async move {
                // A tokio socket: registered with the runtime's I/O driver
                // in whichever poll reaches it (the loop thread's first one,
                // or the runtime's).
                let s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
                let mut got = Vec::new();
                let mut buf = [0u8; 64];
                loop {
                    s.readable().await.expect("readable");
                    match s.try_read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
                        Err(e) => panic!("read: {e}"),
                    }
                }
                got
            }),
        )
        .route(
            "/on-loop",
            get(|| async { if squall::LoopHandle::current().is_some() { "loop\n" } else { "runtime\n" } }),
        )
        .route("/panic", get(|| async { panic_now() }))
        .route(
            "/stream",
            get(|| async { Response::new(Body::new(Pieces(vec!["one\n", "two\n", "three\n"]))) }),
        )
        .route("/fail-midway", get(|| async { Response::new(Body::new(Failing(vec!["one\n", "two\n"]))) }))
        .route("/fail-at-once", get(|| async { Response::new(Body::new(Failing(vec![]))) }))
        .route(
            "/many-headers",
            get(|| async {
                let mut h = HeaderMap::new();
                for i in 0..30 {
                    h.insert(
                        http::HeaderName::try_from(format!("x-h{i}")).unwrap(),
                        http::HeaderValue::from(i as u32),
                    );
                }
                (StatusCode::CREATED, h, "many\n")
            }),
        )
        .route(
            "/hang",
            get(move || {
                let cancelled = cancelled.clone();
                async move {
                    struct OnDrop(Arc<AtomicBool>);
                    impl Drop for OnDrop {
                        fn drop(&mut self) {
                            self.0.store(true, Ordering::SeqCst);
                        }
                    }
                    let _guard = OnDrop(cancelled);
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    "never\n".into_response()
                }
            }),
        )
}

fn panic_now() -> &'static str {
    panic!("axum handler panicked on purpose")
}

/// A peer for the `/tcp` route: answers every connection with "pong\n"
/// after a short pause (so the handler has to wait for it), then closes.
fn pong_server() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for c in l.incoming() {
            let Ok(mut c) = c else { return };
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(10));
                let _ = std::io::Write::write_all(&mut c, b"pong\n");
            });
        }
    });
    port
}

/// `inline`: whether the service is polled on the loop thread first (the
/// default), when the loop thread can tell (`LoopHandle::current`: not in
/// a group's loops).
fn check_router(port: u16, cancelled: &AtomicBool, inline: Option<bool>) {
    // Where a future that completes at once ran: the loop thread by
    // default, a runtime thread with poll_on_loop(false).
    if let Some(inline) = inline {
        assert_eq!(http_get(port, "/on-loop").text(), if inline { "loop\n" } else { "runtime\n" });
    }

    let r = http_get(port, "/");
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "Hello, world!\n");
    assert_eq!(r.header("content-length"), Some("14"));
    // HEAD: axum's Content-Length of the GET body, no body bytes.
    let mut c = Conn::open(port);
    c.send("HEAD", "/", &[], b"");
    let r = c.read_response(true).expect("HEAD response");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length"), Some("14"));
    assert_eq!(c.request("GET", "/", &[], b"").text(), "Hello, world!\n");

    assert_eq!(http_get(port, "/users/42").text(), "user 42\n");
    assert_eq!(http_get(port, "/users/notanumber").status, 400);
    assert_eq!(http_get(port, "/missing").status, 404);

    let big: Vec<u8> = (0..(1usize << 20)).map(|i| (i % 253) as u8).collect();
    let r = http_post(port, "/echo", &big);
    assert_eq!(r.status, 200);
    assert!(r.body == big);

    let r = Conn::open(port).request("GET", "/headers", &[("User-Agent", "squall-test")], b"");
    assert_eq!(r.status, 202);
    assert_eq!(r.header("x-seen-ua"), Some("squall-test"));

    // Keep-alive through the adapter, with an async sleep.
    let mut c = Conn::open(port);
    for _ in 0..3 {
        assert_eq!(c.request("GET", "/sleep", &[], b"").text(), "slept\n");
    }

    // A handler that awaits a tokio TcpStream (the runtime's I/O driver),
    // on one keep-alive connection, mixed with answers given at once.
    let peer = pong_server();
    let mut c = Conn::open(port);
    for _ in 0..3 {
        assert_eq!(c.request("GET", &format!("/tcp/{peer}"), &[], b"").text(), "pong\n");
        assert_eq!(c.request("GET", "/", &[], b"").text(), "Hello, world!\n");
    }

    // A panicking handler: 500, and the server goes on.
    assert_eq!(http_get(port, "/panic").status, 500);
    assert_eq!(http_get(port, "/").status, 200);

    // A multi-frame body is streamed.
    let r = http_get(port, "/stream");
    assert_eq!(r.text(), "one\ntwo\nthree\n");

    // A body that fails midway is cut (no terminating chunk, then EOF),
    // not finished; one that fails before its first frame gets a 500.
    let mut c = Conn::open(port);
    c.send("GET", "/fail-midway", &[], b"");
    let raw = c.read_until_close();
    let cut = parse_chunked(&raw);
    assert!(cut.head.starts_with("HTTP/1.1 200 "), "{}", cut.head);
    assert_eq!(cut.data, b"one\ntwo\n");
    assert!(!cut.complete, "a failed body read as complete: {:?}", String::from_utf8_lossy(&raw));
    assert_eq!(http_get(port, "/fail-at-once").status, 500);

    // A complete response with many headers (one call into the library).
    let r = http_get(port, "/many-headers");
    assert_eq!(r.status, 201);
    assert_eq!(r.text(), "many\n");
    for i in 0..30 {
        assert_eq!(r.header(&format!("x-h{i}")), Some(i.to_string().as_str()));
    }

    // Client disconnect aborts the service future.
    let mut c = Conn::open(port);
    c.send("GET", "/hang", &[], b"");
    std::thread::sleep(Duration::from_millis(100));
    drop(c);
    wait_until(10, || cancelled.load(Ordering::SeqCst));
}

#[test]
fn axum_router_on_multi_thread_runtime() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let cancelled = Arc::new(AtomicBool::new(false));
    let ts = TestServer::start(squall::tower::handler(rt.handle().clone(), router(cancelled.clone())));
    check_router(ts.port, &cancelled, Some(true));
    drop(ts);
    drop(rt);
}

#[test]
fn axum_router_on_current_thread_runtime() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let handle = rt.handle().clone();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let driver = std::thread::spawn(move || {
        rt.block_on(async {
            let _ = stop_rx.await;
        })
    });
    let cancelled = Arc::new(AtomicBool::new(false));
    let ts = TestServer::start(squall::tower::handler(handle, router(cancelled.clone())));
    check_router(ts.port, &cancelled, Some(true));
    drop(ts);
    stop_tx.send(()).unwrap();
    driver.join().unwrap();
}

/// `poll_on_loop(false)`: every service call runs on the runtime.
#[test]
fn axum_router_all_on_runtime_multi_thread() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let cancelled = Arc::new(AtomicBool::new(false));
    let opts = squall::tower::Options::new().poll_on_loop(false);
    let ts =
        TestServer::start(squall::tower::handler_with(rt.handle().clone(), router(cancelled.clone()), opts));
    check_router(ts.port, &cancelled, Some(false));
    drop(ts);
    drop(rt);
}

#[test]
fn axum_router_all_on_runtime_current_thread() {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let handle = rt.handle().clone();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let driver = std::thread::spawn(move || {
        rt.block_on(async {
            let _ = stop_rx.await;
        })
    });
    let cancelled = Arc::new(AtomicBool::new(false));
    let opts = squall::tower::Options::new().poll_on_loop(false);
    let ts = TestServer::start(squall::tower::handler_with(handle, router(cancelled.clone()), opts));
    check_router(ts.port, &cancelled, Some(false));
    drop(ts);
    stop_tx.send(()).unwrap();
    driver.join().unwrap();
}

#[test]
fn server_dropped_while_service_futures_pending() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let app = Router::new().route(
        "/slow",
        get(|| async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            "late\n"
        }),
    );
    let ts = TestServer::start(squall::tower::handler_with(
        rt.handle().clone(),
        app,
        squall::tower::Options::new().cancel_on_disconnect(false),
    ));
    let mut conns: Vec<Conn> = (0..4).map(|_| Conn::open(ts.port)).collect();
    for c in conns.iter_mut() {
        c.send("GET", "/slow", &[], b"");
    }
    std::thread::sleep(Duration::from_millis(50));
    ts.drop_server();
    ts.drop_loop();
    // The futures finish after server and loop are gone; their writes
    // report Closed inside the adapter.  Nothing may crash.
    std::thread::sleep(Duration::from_millis(400));
    for c in conns.iter_mut() {
        assert!(c.read_response(false).is_none());
    }
    drop(ts);
    drop(rt);
}

/// The axum Router on two loops: one tower handler per loop, one runtime.
#[test]
fn axum_router_on_a_group_of_two_loops() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let cancelled = Arc::new(AtomicBool::new(false));
    let per_loop: Arc<[std::sync::atomic::AtomicUsize; 2]> = Arc::new(Default::default());
    let g = squall::Group::new(2, &squall::Config::new(), |i| {
        let h = squall::tower::handler(rt.handle().clone(), router(cancelled.clone()));
        let per_loop = per_loop.clone();
        move |req| {
            per_loop[i].fetch_add(1, Ordering::Relaxed);
            h(req)
        }
    })
    .unwrap();
    g.listen("127.0.0.1", 0).unwrap();
    let port = g.port().unwrap();
    g.start().unwrap();
    // Several connections at once, so both loops get some.
    let workers: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(move || {
                let mut c = Conn::open(port);
                for i in 0..50 {
                    assert_eq!(
                        c.request("GET", &format!("/users/{i}"), &[], b"").text(),
                        format!("user {i}\n")
                    );
                }
            })
        })
        .collect();
    check_router(port, &cancelled, None);
    for w in workers {
        w.join().unwrap();
    }
    let counts = [per_loop[0].load(Ordering::Relaxed), per_loop[1].load(Ordering::Relaxed)];
    assert!(counts[0] > 0 && counts[1] > 0, "requests per loop: {counts:?}");
    let rx = start_drain(&g, Duration::from_secs(5));
    assert!(rx.recv_timeout(Duration::from_secs(10)).unwrap());
    g.join().unwrap();
}
