//! Whole responses in one library call (`squall_response_send`), and
//! truncation: a response cut after streaming began must read as cut
//! (connection closed without the terminating chunk), never as complete.

mod common;

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use common::{Conn, TestServer, demo_handler, get, parse_chunked};
use squall::{ErrorKind, Request};

/// 40 headers: more than the 16 kept on the stack.
fn many_headers() -> http::Response<Vec<u8>> {
    let mut b = http::Response::builder().status(http::StatusCode::ACCEPTED);
    for i in 0..40 {
        b = b.header(format!("x-h{i}"), format!("v{i}"));
    }
    b.header("content-type", "text/plain").body(b"forty headers\n".to_vec()).unwrap()
}

fn check_many(port: u16, path: &str) {
    let r = get(port, path);
    assert_eq!(r.status, 202);
    assert_eq!(r.text(), "forty headers\n");
    assert_eq!(r.header("content-length"), Some("14"));
    let xs: Vec<&(String, String)> = r.headers.iter().filter(|(n, _)| n.starts_with("x-h")).collect();
    assert_eq!(xs.len(), 40);
    for (i, (n, v)) in xs.iter().enumerate() {
        assert_eq!((n.as_str(), v.as_str()), (format!("x-h{i}").as_str(), format!("v{i}").as_str()));
    }
}

#[test]
fn send_many_headers_on_loop_and_from_thread() {
    let ts = TestServer::start(|req: Request| {
        if req.path() == "/thread" {
            thread::spawn(move || req.send(many_headers()).unwrap());
        } else {
            req.send(many_headers()).unwrap();
        }
    });
    check_many(ts.port, "/loop");
    check_many(ts.port, "/thread");
}

#[test]
fn respond_with_bad_content_type_sends_nothing_of_it_and_answers_500() {
    let (tx, rx) = mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let ts = TestServer::start(move |req: Request| {
        let e = req.respond(200, "text/plain\r\nX-Injected: 1", "never").unwrap_err();
        tx.lock().unwrap().send(e.kind()).unwrap();
    });
    let r = get(ts.port, "/");
    assert_eq!(r.status, 500);
    assert_eq!(r.header("x-injected"), None);
    assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), ErrorKind::InvalidArgument);
    // A bad status code: the same.
    let ts = TestServer::start(|req: Request| {
        assert_eq!(req.respond(0, "text/plain", "x").unwrap_err().kind(), ErrorKind::InvalidArgument);
    });
    assert_eq!(get(ts.port, "/").status, 500);
}

/// Head, one flushed chunk, then the responder is dropped (by a panic on
/// the loop thread, or on another thread).
fn streaming_then_dropped(req: Request) {
    let mut req = req;
    match req.path() {
        "/panic" => {
            req.add_header("Content-Type", "text/plain").unwrap();
            req.write("part one\n").unwrap();
            req.flush().unwrap();
            panic!("after the response started streaming");
        }
        "/thread" => {
            let mut r = req.into_responder();
            thread::spawn(move || {
                r.write("part one\n").unwrap();
                let (tx, rx) = mpsc::channel();
                r.flush_then(move |res| tx.send(res).unwrap()).unwrap();
                rx.recv_timeout(Duration::from_secs(10)).unwrap().unwrap();
                assert!(r.is_streaming());
                drop(r);
            });
        }
        "/sized" => {
            // Content-Length framing: an abort leaves the body short.
            req.add_header("Content-Length", "100").unwrap();
            req.write("only ten\n\n").unwrap();
            req.flush().unwrap();
            drop(req);
        }
        _ => demo_handler(req),
    }
}

#[test]
fn responder_dropped_while_streaming_aborts() {
    let ts = TestServer::start(streaming_then_dropped);
    for path in ["/panic", "/thread"] {
        let mut c = Conn::open(ts.port);
        c.send("GET", path, &[], b"");
        let raw = c.read_until_close();
        let cut = parse_chunked(&raw);
        assert!(cut.head.starts_with("HTTP/1.1 200 "), "{path}: {}", cut.head);
        assert!(cut.head.to_ascii_lowercase().contains("transfer-encoding: chunked"), "{}", cut.head);
        assert_eq!(cut.data, b"part one\n", "{path}");
        assert!(!cut.complete, "{path}: a cut body read as complete: {:?}", String::from_utf8_lossy(&raw));
        assert!(!raw.ends_with(b"0\r\n\r\n"));
    }
    let mut c = Conn::open(ts.port);
    c.send("GET", "/sized", &[], b"");
    let raw = c.read_until_close();
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    assert!(head.contains("Content-Length: 100"), "{head}");
    assert_eq!(body, "only ten\n\n");
    // The server goes on.
    assert_eq!(get(ts.port, "/after").status, 200);
}

#[test]
fn responder_dropped_before_flush_keeps_todays_behaviour() {
    let ts = TestServer::start(|mut req: Request| match req.path() {
        // Nothing given: 500.
        "/nothing" => drop(req),
        // Begun, nothing on the wire: finished as it stands.
        _ => {
            req.set_status(203).unwrap();
            req.write("buffered").unwrap();
            drop(req);
        }
    });
    assert_eq!(get(ts.port, "/nothing").status, 500);
    let r = get(ts.port, "/begun");
    assert_eq!(r.status, 203);
    assert_eq!(r.text(), "buffered");
}

#[test]
fn explicit_abort_and_on_done() {
    let (tx, rx) = mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let ts = TestServer::start(move |mut req: Request| {
        let tx = tx.lock().unwrap().clone();
        req.on_done(move |r| tx.send(r.map_err(|e| e.kind())).unwrap()).unwrap();
        match req.path() {
            "/fresh" => req.abort().unwrap(),
            _ => {
                req.write("some").unwrap();
                req.flush().unwrap();
                thread::spawn(move || req.abort().unwrap());
            }
        }
    });
    // Aborted before anything was sent: no response at all.
    let mut c = Conn::open(ts.port);
    c.send("GET", "/fresh", &[], b"");
    assert!(c.read_until_close().is_empty());
    assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), Err(ErrorKind::Closed));
    // Aborted from another thread while streaming.
    let mut c = Conn::open(ts.port);
    c.send("GET", "/streaming", &[], b"");
    let cut = parse_chunked(&c.read_until_close());
    assert_eq!(cut.data, b"some");
    assert!(!cut.complete);
    assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), Err(ErrorKind::Closed));
}

#[test]
fn new_head_after_flush_aborts() {
    let (tx, rx) = mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let ts = TestServer::start(move |mut req: Request| {
        req.write("streamed ").unwrap();
        req.flush().unwrap();
        let e = if req.path() == "/respond" {
            req.respond(404, "text/plain", "not found").unwrap_err()
        } else {
            req.send(many_headers()).unwrap_err()
        };
        tx.lock().unwrap().send(e.kind()).unwrap();
    });
    for path in ["/respond", "/send"] {
        let mut c = Conn::open(ts.port);
        c.send("GET", path, &[], b"");
        let cut = parse_chunked(&c.read_until_close());
        assert!(cut.head.starts_with("HTTP/1.1 200 "));
        assert_eq!(cut.data, b"streamed ");
        assert!(!cut.complete, "{path}");
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), ErrorKind::State);
    }
}

#[test]
fn streamed_then_finished_is_complete() {
    // The control: the same stream, finished, reads as complete.
    let ts = TestServer::start(|mut req: Request| {
        req.write("part one\n").unwrap();
        req.flush().unwrap();
        thread::spawn(move || {
            req.write("part two\n").unwrap();
            req.finish().unwrap();
        });
    });
    let mut c = Conn::open(ts.port);
    c.send("GET", "/", &[("Connection", "close")], b"");
    let raw = c.read_until_close();
    let whole = parse_chunked(&raw);
    assert_eq!(whole.data, b"part one\npart two\n");
    assert!(whole.complete);
    assert!(raw.ends_with(b"0\r\n\r\n"));
}

#[test]
fn framing_headers_are_refused_before_anything_is_applied() {
    // Transfer-Encoding, a bad or second Content-Length: the library checks
    // these only while applying (after the status and earlier headers, and
    // it still finishes); the binding refuses them first, so the request is
    // answered 500 once and the keep-alive connection stays in step.
    let (tx, rx) = mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let ts = TestServer::start(move |mut req: Request| {
        let resp = |name: &str, value: &str| {
            http::Response::builder()
                .status(http::StatusCode::CREATED)
                .header("x-before", "1")
                .header(name, value)
                .body(b"body".to_vec())
                .unwrap()
        };
        let res = match req.path() {
            "/te" => req.send(resp("transfer-encoding", "chunked")),
            "/cl-bad" => req.send(resp("content-length", "4x")),
            "/cl-twice" => {
                req.add_header("Content-Length", "4").unwrap();
                req.send(resp("content-length", "4"))
            }
            "/cl-ok" => req.send(resp("content-length", "4")),
            _ => return demo_handler(req),
        };
        tx.lock().unwrap().send(res.map_err(|e| e.kind())).unwrap();
    });
    let mut c = Conn::open(ts.port);
    for path in ["/te", "/cl-bad"] {
        let r = c.request("GET", path, &[], b"");
        assert_eq!(r.status, 500, "{path}");
        assert_eq!(r.header("x-before"), None, "{path}");
        assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), Err(ErrorKind::InvalidArgument));
        let r = c.request("GET", "/next", &[], b"");
        assert_eq!(r.text(), "You requested /next\n", "after {path}");
    }
    // Begun with a Content-Length, then refused: aborted (no success).
    c.send("GET", "/cl-twice", &[], b"");
    assert!(c.read_until_close().is_empty());
    assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), Err(ErrorKind::InvalidArgument));
    let r = get(ts.port, "/cl-ok");
    assert_eq!((r.status, r.text().as_str(), r.header("content-length")), (201, "body", Some("4")));
    assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap(), Ok(()));
}
