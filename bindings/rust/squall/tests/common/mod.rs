//! Test helpers: a server on its own loop thread, driven by commands, and a
//! tiny raw HTTP/1.1 client over std's TcpStream.
#![allow(dead_code, clippy::type_complexity)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use squall::{Config, Loop, LoopHandle, Request, Server, ServerHandle};

/// What the test asks the loop thread to do.
pub enum Cmd {
    DropServer(mpsc::Sender<()>),
    DropLoop(mpsc::Sender<()>),
    Run(Box<dyn FnOnce(Option<&Server>) + Send>),
}

/// A server on a loop thread that runs `run_once` and polls a command
/// channel between iterations, so tests can drop things on that thread.
pub struct TestServer {
    pub port: u16,
    pub handle: Option<LoopHandle>,
    pub server: Option<ServerHandle>,
    cmds: mpsc::Sender<Cmd>,
    join: Option<thread::JoinHandle<()>>,
}

impl TestServer {
    pub fn start<F>(handler: F) -> TestServer
    where
        F: Fn(Request) + Send + 'static,
    {
        Self::start_with(Config::new(), handler)
    }

    pub fn start_with<F>(cfg: Config, handler: F) -> TestServer
    where
        F: Fn(Request) + Send + 'static,
    {
        let (ptx, prx) = mpsc::channel();
        let (ctx, crx) = mpsc::channel::<Cmd>();
        let join = thread::spawn(move || {
            let lp = Loop::new().expect("loop");
            let srv = Server::with_config(&lp, &cfg, handler).expect("server");
            srv.listen("127.0.0.1", 0).expect("listen");
            let port = srv.port().expect("port");
            ptx.send((port, lp.handle(), srv.handle())).unwrap();
            let mut lp = Some(lp);
            let mut srv = Some(srv);
            loop {
                match crx.try_recv() {
                    Ok(Cmd::DropServer(ack)) => {
                        srv = None;
                        let _ = ack.send(());
                    }
                    Ok(Cmd::DropLoop(ack)) => {
                        lp = None;
                        let _ = ack.send(());
                    }
                    Ok(Cmd::Run(f)) => f(srv.as_ref()),
                    Err(mpsc::TryRecvError::Disconnected) => break,
                    Err(mpsc::TryRecvError::Empty) => {}
                }
                match &lp {
                    Some(l) => {
                        l.run_once(Some(Duration::from_millis(5))).expect("run_once");
                    }
                    None => thread::sleep(Duration::from_millis(5)),
                }
            }
            drop(srv);
            drop(lp);
        });
        let (port, handle, server) = prx.recv().expect("server thread failed");
        TestServer { port, handle: Some(handle), server: Some(server), cmds: ctx, join: Some(join) }
    }

    pub fn drop_server(&self) {
        let (tx, rx) = mpsc::channel();
        self.cmds.send(Cmd::DropServer(tx)).unwrap();
        rx.recv_timeout(Duration::from_secs(10)).expect("drop server");
    }

    pub fn drop_loop(&self) {
        let (tx, rx) = mpsc::channel();
        self.cmds.send(Cmd::DropLoop(tx)).unwrap();
        rx.recv_timeout(Duration::from_secs(10)).expect("drop loop");
    }

    pub fn run_on_loop(&self, f: impl FnOnce(Option<&Server>) + Send + 'static) {
        let (tx, rx) = mpsc::channel();
        self.cmds
            .send(Cmd::Run(Box::new(move |s| {
                f(s);
                let _ = tx.send(());
            })))
            .unwrap();
        rx.recv_timeout(Duration::from_secs(10)).expect("run on loop");
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let (tx, _rx) = mpsc::channel();
        // Closing the command channel ends the thread.
        let cmds = std::mem::replace(&mut self.cmds, tx);
        drop(cmds);
        if let Some(j) = self.join.take() {
            j.join().expect("loop thread panicked");
        }
    }
}

/// A parsed response.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A keep-alive connection.
pub struct Conn {
    reader: BufReader<TcpStream>,
}

impl Conn {
    pub fn open(port: u16) -> Conn {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        s.set_nodelay(true).unwrap();
        Conn { reader: BufReader::new(s) }
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.reader.get_mut().write_all(bytes).expect("write");
    }

    pub fn send(&mut self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) {
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        for (n, v) in headers {
            head.push_str(&format!("{n}: {v}\r\n"));
        }
        if !body.is_empty() || method == "POST" || method == "PUT" {
            head.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        head.push_str("\r\n");
        let mut all = head.into_bytes();
        all.extend_from_slice(body);
        self.send_raw(&all);
    }

    pub fn request(&mut self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
        self.send(method, path, headers, body);
        self.read_response(method == "HEAD").expect("response")
    }

    /// Read one response; `None` if the connection closed first.
    pub fn read_response(&mut self, head_only: bool) -> Option<Resp> {
        let mut line = String::new();
        if self.reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let mut parts = line.trim_end().splitn(3, ' ');
        let _version = parts.next()?;
        let status: u16 = parts.next()?.parse().ok()?;
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if self.reader.read_line(&mut h).ok()? == 0 {
                return None;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            let (n, v) = h.split_once(':')?;
            headers.push((n.trim().to_string(), v.trim().to_string()));
        }
        let mut resp = Resp { status, headers, body: Vec::new() };
        if head_only || status == 204 || status == 304 || (100..200).contains(&status) {
            return Some(resp);
        }
        if let Some(cl) = resp.header("content-length") {
            let n: usize = cl.parse().ok()?;
            let mut body = vec![0u8; n];
            self.reader.read_exact(&mut body).ok()?;
            resp.body = body;
        } else if resp.header("transfer-encoding").is_some_and(|t| t.eq_ignore_ascii_case("chunked")) {
            loop {
                let mut size = String::new();
                self.reader.read_line(&mut size).ok()?;
                let n = usize::from_str_radix(size.trim().split(';').next()?, 16).ok()?;
                if n == 0 {
                    // trailers until an empty line
                    loop {
                        let mut t = String::new();
                        self.reader.read_line(&mut t).ok()?;
                        if t.trim_end().is_empty() {
                            break;
                        }
                    }
                    break;
                }
                let mut chunk = vec![0u8; n + 2];
                self.reader.read_exact(&mut chunk).ok()?;
                chunk.truncate(n);
                resp.body.extend_from_slice(&chunk);
            }
        } else {
            self.reader.read_to_end(&mut resp.body).ok()?;
        }
        Some(resp)
    }

    /// `true` if the server closed the connection (EOF) within the timeout.
    pub fn closed_by_peer(&mut self) -> bool {
        let mut buf = [0u8; 1];
        matches!(self.reader.read(&mut buf), Ok(0) | Err(_))
    }
}

/// One request on a fresh connection.
pub fn get(port: u16, path: &str) -> Resp {
    Conn::open(port).request("GET", path, &[], b"")
}

pub fn post(port: u16, path: &str, body: &[u8]) -> Resp {
    Conn::open(port).request("POST", path, &[], body)
}

/// The demo server's routes: POST/PUT /echo answer the body, anything else
/// "You requested <uri>\n".
pub fn demo_handler(req: Request) {
    let m = req.method();
    if (m == "POST" || m == "PUT") && req.path() == "/echo" {
        let body = req.body().to_vec();
        let _ = req.respond(200, "application/octet-stream", body);
    } else {
        let body = format!("You requested {}\n", req.uri());
        let _ = req.respond(200, "text/plain", body);
    }
}

/// Wait until `f` is true (polling), or panic after `secs`.
pub fn wait_until(secs: u64, mut f: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(std::time::Instant::now() < deadline, "condition not met in {secs}s");
        thread::sleep(Duration::from_millis(5));
    }
}

impl Conn {
    /// Every byte the server sends until it closes the connection (EOF or
    /// reset); panics if it keeps it open past the read timeout.
    pub fn read_until_close(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match self.reader.read(&mut buf) {
                Ok(0) => return out,
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return out,
                Err(e) => panic!("connection not closed ({e}); got {:?}", String::from_utf8_lossy(&out)),
            }
        }
    }
}

/// A raw chunked response cut by the server: the head (up to the blank
/// line), the data of the complete chunks, and whether the terminating
/// zero-size chunk came.
#[derive(Debug)]
pub struct Chunked {
    pub head: String,
    pub data: Vec<u8>,
    pub complete: bool,
}

pub fn parse_chunked(raw: &[u8]) -> Chunked {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("no response head") + 4;
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut rest = &raw[end..];
    let mut data = Vec::new();
    loop {
        let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") else {
            return Chunked { head, data, complete: false };
        };
        let size = usize::from_str_radix(std::str::from_utf8(&rest[..eol]).unwrap().trim(), 16)
            .expect("bad chunk size line");
        rest = &rest[eol + 2..];
        if size == 0 {
            return Chunked { head, data, complete: rest.starts_with(b"\r\n") };
        }
        if rest.len() < size + 2 {
            data.extend_from_slice(&rest[..rest.len().min(size)]);
            return Chunked { head, data, complete: false };
        }
        data.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

/// Start a drain of `g` (grace `grace`) that stops its loops when done;
/// the receiver gets whether it finished without cutting connections.
pub fn start_drain(g: &squall::Group, grace: Duration) -> mpsc::Receiver<bool> {
    let (tx, rx) = mpsc::channel();
    let h = g.handle();
    g.handle()
        .shutdown(Some(grace), move |r| {
            tx.send(r.is_ok()).unwrap();
            h.stop().unwrap();
        })
        .unwrap();
    rx
}
