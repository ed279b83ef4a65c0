//! The closure API driven by `squall_loop_poll`: the first server of a loop
//! is polled by `Loop::run` / `run_once`, later ones use callbacks.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Duration;

use common::get as http_get;
use squall::{Loop, LoopHandle, Server};

/// `run` on a loop with a polled server and a callback server: both serve;
/// a stop from a handler (given through the request's loop) ends `run`.
#[test]
fn polled_and_callback_servers_on_one_loop() {
    let (tx, rx) = std::sync::mpsc::channel();
    let join = thread::spawn(move || {
        let lp = Loop::new().unwrap();
        let a = Server::new(&lp, |req| {
            let _ = req.respond(200, "text/plain", b"a\n");
        })
        .unwrap();
        let b = Server::new(&lp, |req| {
            let body = if req.path() == "/stop" { "stopping\n" } else { "b\n" };
            if req.path() == "/stop" {
                LoopHandle::current().expect("on the loop thread").stop().unwrap();
            }
            let _ = req.respond(200, "text/plain", body);
        })
        .unwrap();
        a.listen("127.0.0.1", 0).unwrap();
        b.listen("127.0.0.1", 0).unwrap();
        tx.send((a.port().unwrap(), b.port().unwrap())).unwrap();
        lp.run().unwrap();
        (a.stats().unwrap().requests, b.stats().unwrap().requests)
    });
    let (pa, pb) = rx.recv().unwrap();
    for _ in 0..3 {
        assert_eq!(http_get(pa, "/").text(), "a\n");
        assert_eq!(http_get(pb, "/").text(), "b\n");
    }
    assert_eq!(http_get(pb, "/stop").text(), "stopping\n");
    let (na, nb) = join.join().unwrap();
    assert_eq!((na, nb), (3, 4));
}

/// A stop requested before `run` makes it return at once, also when the
/// loop is driven by polling; a stop from a timer ends `run` too.
#[test]
fn stop_before_run_and_from_a_timer() {
    let lp = Loop::new().unwrap();
    let _srv = Server::new(&lp, drop).unwrap();
    lp.stop().unwrap();
    lp.run().unwrap();
    let h = lp.handle();
    lp.call_later(Duration::from_millis(5), move || h.stop().unwrap()).unwrap();
    lp.run().unwrap();
}

/// A pipelined burst of 32 requests on one connection: every response, in
/// order, while handlers answer on the loop thread.
#[test]
fn pipelined_burst_in_order() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c2 = calls.clone();
    let ts = common::TestServer::start(move |req| {
        c2.fetch_add(1, Ordering::Relaxed);
        let body = format!("{}\n", req.path());
        let _ = req.respond(200, "text/plain", body);
    });
    let mut s = TcpStream::connect(("127.0.0.1", ts.port)).unwrap();
    let mut burst = String::new();
    for i in 0..32 {
        burst.push_str(&format!("GET /r{i} HTTP/1.1\r\nHost: x\r\n\r\n"));
    }
    burst.push_str("GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    s.write_all(burst.as_bytes()).unwrap();
    let mut all = String::new();
    s.read_to_string(&mut all).unwrap();
    let bodies: Vec<&str> =
        all.split("\r\n\r\n").skip(1).map(|chunk| chunk.split('\n').next().unwrap_or("")).collect();
    let mut want: Vec<String> = (0..32).map(|i| format!("/r{i}")).collect();
    want.push("/last".into());
    assert_eq!(bodies, want);
    assert_eq!(calls.load(Ordering::Relaxed), 33);
}

/// The polled server is dropped and another made on the same loop: the new
/// one is polled and serves; `run_once` with a timeout returns without
/// requests.
#[test]
fn polled_server_replaced() {
    let lp = Loop::new().unwrap();
    let first = Server::new(&lp, |req| {
        let _ = req.respond(200, "text/plain", b"first\n");
    })
    .unwrap();
    drop(first);
    let second = Server::new(&lp, |req| {
        let _ = req.respond(200, "text/plain", b"second\n");
    })
    .unwrap();
    second.listen("127.0.0.1", 0).unwrap();
    let port = second.port().unwrap();
    lp.run_once(Some(Duration::from_millis(1))).unwrap();
    let client = thread::spawn(move || http_get(port, "/").text());
    while !client.is_finished() {
        lp.run_once(Some(Duration::from_millis(5))).unwrap();
    }
    assert_eq!(client.join().unwrap(), "second\n");
}
