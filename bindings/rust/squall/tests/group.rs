//! One handler served by two loops (squall::Group) against real clients.

mod common;

use std::sync::mpsc;
use std::sync::{Arc, OnceLock};
use std::thread;
use std::time::Duration;

use common::{Conn, start_drain};
use squall::{Config, Group, GroupHandle, Request};

/// 50 keep-alive connections x 200 requests; every response names its
/// path (so it landed on its own connection) and the loop that served it.
fn load(port: u16, loops: usize) -> Vec<usize> {
    let workers: Vec<_> = (0..50)
        .map(|c| {
            thread::spawn(move || {
                let mut conn = Conn::open(port);
                let mut served = vec![0usize; loops];
                for i in 0..200 {
                    let path = format!("/{c}/{i}");
                    let r = conn.request("GET", &path, &[], b"");
                    assert_eq!(r.status, 200);
                    let text = r.text();
                    let (lp, p) = text.split_once(' ').expect("<loop> <path>");
                    assert_eq!(p, path, "answer for another request");
                    served[lp.parse::<usize>().unwrap()] += 1;
                }
                served
            })
        })
        .collect();
    let mut total = vec![0usize; loops];
    for w in workers {
        for (t, n) in total.iter_mut().zip(w.join().unwrap()) {
            *t += n;
        }
    }
    total
}

fn check_share(served: &[usize]) {
    let total: usize = served.iter().sum();
    for (i, n) in served.iter().enumerate() {
        let share = *n as f64 / total as f64;
        assert!((0.4..=0.6).contains(&share), "loop {i} served {n} of {total}: {served:?}");
    }
    eprintln!("requests per loop: {served:?}");
}

/// Each loop's handler answers from another thread.
#[test]
fn two_loops_share_and_answer_from_other_threads() {
    let handle: Arc<OnceLock<GroupHandle>> = Arc::new(OnceLock::new());
    let h2 = handle.clone();
    let g = Group::new(2, &Config::new(), move |i| {
        let h = h2.clone();
        move |req: Request| {
            let lp = h.get().and_then(|h| h.loop_index(&req));
            assert_eq!(lp, Some(i), "handler {i} got a request of another loop");
            thread::spawn(move || {
                let body = format!("{i} {}", req.path());
                req.respond(200, "text/plain", body).unwrap();
            });
        }
    })
    .unwrap();
    assert_eq!(g.size(), 2);
    handle.set(g.handle()).unwrap();
    g.listen("127.0.0.1", 0).unwrap();
    let port = g.port().unwrap();
    g.start().unwrap();
    check_share(&load(port, 2));
    // Drain, stop, join.
    let rx = start_drain(&g, Duration::from_secs(5));
    assert!(rx.recv_timeout(Duration::from_secs(10)).unwrap());
    g.join().unwrap();
    drop(g);
    assert!(handle.get().unwrap().stop().is_err(), "handle outlives the group");
}

/// A drain with requests in flight on both loops: every one completes.
#[test]
fn shutdown_keeps_requests_in_flight() {
    let (held_tx, held_rx) = mpsc::channel::<Request>();
    let g = Group::new(2, &Config::new(), move |_| {
        let tx = held_tx.clone();
        move |req: Request| tx.send(req).unwrap()
    })
    .unwrap();
    g.listen("127.0.0.1", 0).unwrap();
    let port = g.port().unwrap();
    g.start().unwrap();
    let clients: Vec<_> = (0..10)
        .map(|c| {
            thread::spawn(move || {
                let r = Conn::open(port).request("GET", &format!("/{c}"), &[], b"");
                (r.status, r.text(), r.header("connection").map(str::to_owned))
            })
        })
        .collect();
    let held: Vec<Request> =
        (0..10).map(|_| held_rx.recv_timeout(Duration::from_secs(10)).unwrap()).collect();
    let rx = start_drain(&g, Duration::from_secs(10));
    assert!(rx.recv_timeout(Duration::from_millis(200)).is_err(), "drained with requests in flight");
    for req in held {
        let body = format!("done {}", req.path());
        req.respond(200, "text/plain", body).unwrap();
    }
    for (c, t) in clients.into_iter().enumerate() {
        let (status, text, _conn) = t.join().unwrap();
        assert_eq!(status, 200);
        assert_eq!(text, format!("done /{c}"));
    }
    assert!(rx.recv_timeout(Duration::from_secs(10)).unwrap());
    g.join().unwrap();
}
