//! The closure API against real servers on 127.0.0.1.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use common::{Conn, TestServer, demo_handler, get, post, wait_until};
use squall::{ArgSource, Config, ErrorKind, Loop, Request, Server};

#[test]
fn demo_routes() {
    let ts = TestServer::start(demo_handler);
    let r = get(ts.port, "/hello/world?x=1");
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "You requested /hello/world?x=1\n");
    assert_eq!(r.header("content-type"), Some("text/plain"));

    let r = post(ts.port, "/echo", b"ping pong");
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"ping pong");

    let r = Conn::open(ts.port).request("PUT", "/echo", &[], b"put body");
    assert_eq!(r.body, b"put body");

    // POST elsewhere is the generic route.
    let r = post(ts.port, "/other", b"x");
    assert_eq!(r.text(), "You requested /other\n");
}

#[test]
fn keep_alive_and_pipelining() {
    let ts = TestServer::start(demo_handler);
    let mut c = Conn::open(ts.port);
    for i in 0..20 {
        let r = c.request("GET", &format!("/n/{i}"), &[], b"");
        assert_eq!(r.text(), format!("You requested /n/{i}\n"));
    }
    // Three pipelined requests in one write.
    c.send_raw(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\n\r\n");
    for p in ["/a", "/b", "/c"] {
        let r = c.read_response(false).unwrap();
        assert_eq!(r.text(), format!("You requested {p}\n"));
    }
}

#[test]
fn echo_one_mebibyte() {
    let ts = TestServer::start(demo_handler);
    let body: Vec<u8> = (0..(1usize << 20)).map(|i| (i * 31 % 251) as u8).collect();
    let r = post(ts.port, "/echo", &body);
    assert_eq!(r.status, 200);
    assert_eq!(r.body.len(), body.len());
    assert!(r.body == body, "echoed body differs");
}

#[test]
fn panic_in_handler_gives_500_and_server_keeps_serving() {
    let ts = TestServer::start(|req: Request| {
        if req.path() == "/panic" {
            panic!("handler panicked on purpose");
        }
        demo_handler(req)
    });
    let mut c = Conn::open(ts.port);
    let r = c.request("GET", "/panic", &[], b"");
    assert_eq!(r.status, 500);
    // Same connection still usable, and new ones too.
    let r = c.request("GET", "/after", &[], b"");
    assert_eq!(r.text(), "You requested /after\n");
    for _ in 0..3 {
        assert_eq!(get(ts.port, "/panic").status, 500);
    }
    assert_eq!(get(ts.port, "/ok").status, 200);
}

#[test]
fn panic_after_starting_response_ends_it() {
    let ts = TestServer::start(|mut req: Request| {
        if req.path() == "/half" {
            req.set_status(201).unwrap();
            req.add_header("X-Half", "1").unwrap();
            req.write("partial").unwrap();
            panic!("after the response started");
        }
        demo_handler(req)
    });
    let r = get(ts.port, "/half");
    assert_eq!(r.status, 201);
    assert_eq!(r.text(), "partial");
    assert_eq!(get(ts.port, "/x").status, 200);
}

#[test]
fn unanswered_request_gets_500() {
    let ts = TestServer::start(|req: Request| {
        if req.path() == "/forget" {
            drop(req);
        } else {
            demo_handler(req)
        }
    });
    assert_eq!(get(ts.port, "/forget").status, 500);
    assert_eq!(get(ts.port, "/y").status, 200);
}

#[test]
fn response_finished_from_spawned_thread() {
    let ts = TestServer::start(|req: Request| {
        thread::spawn(move || {
            thread::sleep(Duration::from_millis(30));
            let body = format!("late answer to {} from another thread\n", req.uri());
            req.respond(200, "text/plain", body).unwrap();
        });
    });
    let mut c = Conn::open(ts.port);
    for i in 0..5 {
        let r = c.request("GET", &format!("/t{i}"), &[], b"");
        assert_eq!(r.text(), format!("late answer to /t{i} from another thread\n"));
    }
}

#[test]
fn streamed_response_from_thread_with_backpressure() {
    let ts = TestServer::start(|mut req: Request| {
        thread::spawn(move || {
            req.set_status(200).unwrap();
            req.add_header("Content-Type", "text/plain").unwrap();
            for i in 0..10 {
                req.write(format!("piece {i}\n")).unwrap();
                let (tx, rx) = mpsc::channel();
                req.flush_then(move |r| tx.send(r).unwrap()).unwrap();
                rx.recv_timeout(Duration::from_secs(10)).unwrap().unwrap();
            }
            req.finish().unwrap();
        });
    });
    let r = get(ts.port, "/stream");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("transfer-encoding"), Some("chunked"));
    let expect: String = (0..10).map(|i| format!("piece {i}\n")).collect();
    assert_eq!(r.text(), expect);
}

#[test]
fn request_accessors() {
    let (tx, rx) = mpsc::channel::<String>();
    let tx = std::sync::Mutex::new(tx);
    let ts = TestServer::start(move |req: Request| {
        let mut out = String::new();
        out +=
            &format!("method={} uri={} path={} query={}\n", req.method(), req.uri(), req.path(), req.query());
        out += &format!("version={} host={} host_name={}\n", req.version(), req.host(), req.host_name());
        out += &format!("ip={} proto={}\n", req.remote_ip(), req.protocol());
        out += &format!(
            "x-multi={:?}\n",
            req.header_all("x-multi").map(|v| String::from_utf8_lossy(v).into_owned()).collect::<Vec<_>>()
        );
        out += &format!("ua={:?}\n", req.header_str("USER-AGENT"));
        out += &format!("missing={:?}\n", req.header("nope"));
        out += &format!("count={}\n", req.headers().count());
        out += &format!("a={:?} b={:?}\n", req.query_argument("a"), req.argument("b"));
        out += &format!("args={:?}\n", req.arguments(ArgSource::Query));
        out += &format!("cookie={:?} cookies={:?}\n", req.cookie("sid"), req.cookies());
        assert!(req.elapsed() < Duration::from_secs(10));
        tx.lock().unwrap().send(out).unwrap();
        let _ = req.respond(204, "", b"");
    });
    let r = Conn::open(ts.port).request(
        "GET",
        "/p/q?a=1&b=two%20words",
        &[
            ("X-Multi", "one"),
            ("User-Agent", "rust-test"),
            ("X-Multi", "two"),
            ("Cookie", "sid=abc; theme=dark"),
        ],
        b"",
    );
    assert_eq!(r.status, 204);
    let out = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(
        out.contains("method=GET uri=/p/q?a=1&b=two%20words path=/p/q query=a=1&b=two%20words\n"),
        "{out}"
    );
    assert!(out.contains("version=HTTP/1.1 host=127.0.0.1 host_name=127.0.0.1\n"), "{out}");
    assert!(out.contains("ip=127.0.0.1 proto=http\n"), "{out}");
    assert!(out.contains("x-multi=[\"one\", \"two\"]\n"), "{out}");
    assert!(out.contains("ua=Some(\"rust-test\")\n"), "{out}");
    assert!(out.contains("missing=None\n"), "{out}");
    assert!(out.contains("count=5\n"), "{out}");
    assert!(out.contains("a=Some(\"1\") b=Some(\"two words\")\n"), "{out}");
    assert!(out.contains("args=[(\"a\", \"1\"), (\"b\", \"two words\")]\n"), "{out}");
    assert!(
        out.contains("cookie=Some(\"abc\") cookies=[(\"sid\", \"abc\"), (\"theme\", \"dark\")]\n"),
        "{out}"
    );
}

#[test]
fn http_crate_conversions() {
    let ts = TestServer::start(|req: Request| {
        let (hreq, responder) = req.into_http().unwrap();
        assert_eq!(hreq.method(), http::Method::POST);
        assert_eq!(hreq.uri().path(), "/conv");
        assert_eq!(hreq.uri().query(), Some("k=v"));
        assert_eq!(hreq.version(), http::Version::HTTP_11);
        assert_eq!(hreq.headers()["x-test"], "yes");
        assert!(hreq.extensions().get::<squall::RemoteIp>().is_some());
        let body = hreq.body().clone();
        let resp = http::Response::builder()
            .status(http::StatusCode::CREATED)
            .header("content-type", "application/octet-stream")
            .header("x-len", body.len().to_string())
            .body(body)
            .unwrap();
        responder.send(resp).unwrap();
    });
    let r = Conn::open(ts.port).request("POST", "/conv?k=v", &[("X-Test", "yes")], b"converted");
    assert_eq!(r.status, 201);
    assert_eq!(r.header("x-len"), Some("9"));
    assert_eq!(r.body, b"converted");
}

#[test]
fn invalid_header_is_an_error_not_a_crash() {
    let ts = TestServer::start(|mut req: Request| {
        let e = req.add_header("Bad Name", "v").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        let e = req.add_header("X-Ok", "bad\r\nvalue").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::InvalidArgument);
        assert!(!e.message().is_empty());
        req.respond(200, "text/plain", "fine").unwrap();
    });
    assert_eq!(get(ts.port, "/").text(), "fine");
}

#[test]
fn config_limits_apply() {
    let ts = TestServer::start_with(Config::new().max_body_size(1000), demo_handler);
    let r = post(ts.port, "/echo", &[b'x'; 2000]);
    assert_eq!(r.status, 413);
    let r = post(ts.port, "/echo", &[b'y'; 500]);
    assert_eq!(r.status, 200);
}

#[test]
fn server_header_option_covers_error_responses() {
    // Default: every response, the library's own 413 included, says squall.
    let ts = TestServer::start_with(Config::new().max_body_size(10), demo_handler);
    assert_eq!(get(ts.port, "/").header("Server"), Some("squall"));
    assert_eq!(post(ts.port, "/echo", &[b'x'; 20]).header("Server"), Some("squall"));
    drop(ts);
    let ts = TestServer::start_with(Config::new().max_body_size(10).server_header("app/2"), demo_handler);
    assert_eq!(get(ts.port, "/").header("Server"), Some("app/2"));
    let r = post(ts.port, "/echo", &[b'x'; 20]);
    assert_eq!((r.status, r.header("Server")), (413, Some("app/2")));
    drop(ts);
    let ts = TestServer::start_with(Config::new().max_body_size(10).server_header(""), demo_handler);
    assert_eq!(get(ts.port, "/").header("Server"), None);
    let r = post(ts.port, "/echo", &[b'x'; 20]);
    assert_eq!((r.status, r.header("Server")), (413, None));
}

#[test]
fn bad_config_is_reported() {
    let lp = Loop::new().unwrap();
    let e = Server::with_config(&lp, &Config::new().set_int(9999, 1), demo_handler).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotSupported);
}

#[test]
fn handler_is_released_when_server_dropped() {
    struct Flag(Arc<AtomicBool>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let dropped = Arc::new(AtomicBool::new(false));
    let flag = Flag(dropped.clone());
    let ts = TestServer::start(move |req: Request| {
        let _keep = &flag;
        demo_handler(req)
    });
    assert_eq!(get(ts.port, "/").status, 200);
    assert!(!dropped.load(Ordering::SeqCst));
    ts.drop_server();
    wait_until(10, || dropped.load(Ordering::SeqCst));
    // Nothing listens any more.
    assert!(std::net::TcpStream::connect(("127.0.0.1", ts.port)).is_err());
}

#[test]
fn drop_server_with_requests_outstanding() {
    let (tx, rx) = mpsc::channel::<Request>();
    let tx = std::sync::Mutex::new(tx);
    let ts = TestServer::start(move |req: Request| tx.lock().unwrap().send(req).unwrap());
    let mut conns: Vec<Conn> = (0..3).map(|_| Conn::open(ts.port)).collect();
    for (i, c) in conns.iter_mut().enumerate() {
        c.send("GET", &format!("/held/{i}"), &[], b"");
    }
    let held: Vec<Request> = (0..3).map(|_| rx.recv_timeout(Duration::from_secs(10)).unwrap()).collect();
    ts.drop_server();
    // Clients see their connections closed.
    for c in conns.iter_mut() {
        assert!(c.read_response(false).is_none());
    }
    // The requests are still valid: fields readable, answering is harmless
    // (Closed, or Ok when the call is queued before the library noticed).
    let mut it = held.into_iter();
    let a = it.next().unwrap();
    assert!(a.uri().starts_with("/held/"));
    if let Err(e) = a.respond(200, "text/plain", "too late") {
        assert!(e.is_closed(), "{e:?}");
    }
    // One answered from another thread, one dropped (500 attempt).
    let b = it.next().unwrap();
    thread::spawn(move || {
        let mut b = b;
        let _ = b.write("x");
        let _ = b.finish();
    })
    .join()
    .unwrap();
    drop(it);
}

#[test]
fn drop_loop_then_server_and_requests() {
    let (tx, rx) = mpsc::channel::<Request>();
    let tx = std::sync::Mutex::new(tx);
    let ts = TestServer::start(move |req: Request| tx.lock().unwrap().send(req).unwrap());
    let mut c = Conn::open(ts.port);
    c.send("GET", "/held", &[], b"");
    let held = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    let h = ts.handle.clone().unwrap();
    assert!(h.is_alive());
    ts.drop_loop(); // server still alive (orphaned)
    assert!(!h.is_alive());
    assert!(h.call_soon(|| ()).unwrap_err().is_closed());
    assert!(h.stop().unwrap_err().is_closed());
    // Orphaned server: calls report Closed or succeed harmlessly, no crash.
    ts.run_on_loop(|srv| {
        let srv = srv.unwrap();
        let _ = srv.port();
        let _ = srv.stats();
    });
    assert_eq!(held.uri(), "/held");
    let _ = held.respond(200, "text/plain", "orphan");
    ts.drop_server();
    let _ = ts.server.as_ref().unwrap().stats().unwrap_err();
}

#[test]
fn drop_server_then_loop_then_requests() {
    let (tx, rx) = mpsc::channel::<Request>();
    let tx = std::sync::Mutex::new(tx);
    let ts = TestServer::start(move |req: Request| tx.lock().unwrap().send(req).unwrap());
    let mut c = Conn::open(ts.port);
    c.send("POST", "/held", &[], b"body bytes");
    let held = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    ts.drop_server();
    ts.drop_loop();
    assert_eq!(held.body(), b"body bytes");
    let r = thread::spawn(move || held.respond(200, "text/plain", "nobody listens")).join().unwrap();
    assert!(r.unwrap_err().is_closed());
}

#[test]
fn drop_orders_without_traffic() {
    for order in 0..2 {
        let lp = Loop::new().unwrap();
        let srv = Server::new(&lp, demo_handler).unwrap();
        srv.listen("127.0.0.1", 0).unwrap();
        let t = lp.call_every(Duration::from_millis(1), || ()).unwrap();
        if order == 0 {
            drop(srv);
            drop(t);
            drop(lp);
        } else {
            drop(lp);
            drop(t);
            drop(srv);
        }
    }
}

#[test]
fn call_soon_from_threads_and_timers() {
    let lp = Loop::new().unwrap();
    let h = lp.handle();
    let hits = Arc::new(AtomicUsize::new(0));
    let mut joins = Vec::new();
    for _ in 0..4 {
        let h = h.clone();
        let hits = hits.clone();
        joins.push(thread::spawn(move || {
            for _ in 0..25 {
                let hits = hits.clone();
                h.call_soon(move || {
                    hits.fetch_add(1, Ordering::SeqCst);
                })
                .unwrap();
            }
        }));
    }
    for j in joins {
        j.join().unwrap();
    }
    // A periodic timer stops the loop once it ticked 3 times and the
    // one-shot timer fired (no wall-clock assumptions: valgrind is slow).
    let ticks = Arc::new(AtomicUsize::new(0));
    let later = Arc::new(AtomicBool::new(false));
    let (t2, l2, h2) = (ticks.clone(), later.clone(), h.clone());
    let every = lp
        .call_every(Duration::from_millis(2), move || {
            if t2.fetch_add(1, Ordering::SeqCst) >= 2 && l2.load(Ordering::SeqCst) {
                h2.stop().unwrap();
            }
        })
        .unwrap();
    let l3 = later.clone();
    lp.call_later(Duration::from_millis(5), move || l3.store(true, Ordering::SeqCst)).unwrap();
    let cancelled = Arc::new(AtomicBool::new(false));
    let c2 = cancelled.clone();
    let never = lp.timer(Duration::from_secs(60), move || c2.store(true, Ordering::SeqCst)).unwrap();
    drop(never);
    lp.call_soon(|| panic!("a panicking callback is contained")).unwrap();
    lp.run().unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 100);
    assert!(ticks.load(Ordering::SeqCst) >= 3);
    assert!(later.load(Ordering::SeqCst));
    assert!(!cancelled.load(Ordering::SeqCst));
    every.cancel().unwrap();
    // Pending call_soon closures run when the loop is dropped.
    let ran = Arc::new(AtomicBool::new(false));
    let r2 = ran.clone();
    h.call_soon(move || r2.store(true, Ordering::SeqCst)).unwrap();
    drop(every);
    drop(lp);
    assert!(ran.load(Ordering::SeqCst));
    assert!(h.call_soon(|| ()).is_err());
}

#[test]
fn graceful_shutdown_from_another_thread() {
    let (tx, rx) = mpsc::channel::<Request>();
    let tx = std::sync::Mutex::new(tx);
    let ts = TestServer::start(move |req: Request| tx.lock().unwrap().send(req).unwrap());
    let mut c = Conn::open(ts.port);
    c.send("GET", "/slow", &[], b"");
    let held = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    let (dtx, drx) = mpsc::channel();
    ts.server
        .as_ref()
        .unwrap()
        .shutdown(Some(Duration::from_secs(10)), move |r| dtx.send(r.is_ok()).unwrap())
        .unwrap();
    thread::sleep(Duration::from_millis(50));
    // New connections are refused (or closed at once) while the request in flight finishes.
    held.respond(200, "text/plain", "finished during shutdown").unwrap();
    let r = c.read_response(false).unwrap();
    assert_eq!(r.text(), "finished during shutdown");
    assert!(drx.recv_timeout(Duration::from_secs(10)).unwrap());
}

#[test]
fn stats_and_hooks() {
    let accessed = Arc::new(AtomicUsize::new(0));
    let a2 = accessed.clone();
    let ts = TestServer::start(demo_handler);
    ts.run_on_loop(move |srv| {
        srv.unwrap()
            .on_access(move |rec| {
                assert!(!rec.method.is_empty());
                a2.fetch_add(1, Ordering::SeqCst);
            })
            .unwrap();
    });
    for _ in 0..3 {
        assert_eq!(get(ts.port, "/s").status, 200);
    }
    wait_until(5, || accessed.load(Ordering::SeqCst) == 3);
    let st = ts.server.as_ref().unwrap().stats().unwrap();
    assert!(st.requests >= 3, "{st:?}");
    assert!(st.responses_2xx >= 3, "{st:?}");
}

#[test]
fn headers_hook_can_answer_early() {
    let ts = TestServer::start(demo_handler);
    ts.run_on_loop(|srv| {
        srv.unwrap()
            .on_headers(|head| {
                if head.request().path() == "/denied" {
                    head.respond(403, "text/plain", "no\n").unwrap();
                }
            })
            .unwrap();
    });
    assert_eq!(get(ts.port, "/denied").status, 403);
    assert_eq!(get(ts.port, "/allowed").text(), "You requested /allowed\n");
}

#[test]
fn version_matches() {
    assert!(squall::version().starts_with("0."));
}
