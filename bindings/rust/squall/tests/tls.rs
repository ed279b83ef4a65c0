//! HTTPS with real clients: curl (`--cacert`, client certificates, SNI by
//! `--resolve`, keep-alive, POST) and `openssl s_client` (certificate
//! shown, a connection held open across a reload).  Certificates are made
//! at test time by the repository's tests/util/make_certs.sh.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use common::{Conn, TestServer, wait_until};
use squall::{ClientAuth, Config, ErrorKind, ErrorKindHook, Loop, Request, Server, TlsInfo, TlsVersion};

/// The directory with ca.pem, server.pem, ... (made once per test binary,
/// under Cargo's per-target scratch directory).
fn certs() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let src = std::env::var("SQUALL_SOURCE_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.."));
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("tls-certs");
        let _ = std::fs::remove_dir_all(&dir);
        let out = tool("bash")
            .arg(src.join("tests/util/make_certs.sh"))
            .arg(&dir)
            .output()
            .expect("run make_certs.sh");
        assert!(out.status.success(), "make_certs.sh: {}", String::from_utf8_lossy(&out.stderr));
        dir
    })
}

/// A client program (curl, openssl, bash).  Without the ASan runtime a
/// sanitized libsquall's test run preloads (ctest.sh): curl deadlocks under
/// it, and these programs are not ours to check.
fn tool(prog: &str) -> Command {
    let mut c = Command::new(prog);
    c.env_remove("LD_PRELOAD");
    c
}

fn cert(name: &str) -> PathBuf {
    certs().join(name)
}

fn tls_config() -> Config {
    Config::new().tls_cert(cert("server.pem"), cert("server.key"))
}

/// Answers with what the handler saw of the connection.
fn tls_echo(req: Request) {
    let body = match req.tls() {
        None => "no TLS".to_string(),
        Some(t) => {
            let ext = req.to_http_parts().ok().and_then(|p| p.extensions.get::<TlsInfo<'static>>().cloned());
            format!(
                "version={} cipher={} sni={} alpn={} resumed={} subject={:?} pem={} ext={} protocol={} url={} len={}",
                t.version,
                t.cipher,
                t.server_name,
                t.alpn,
                t.resumed,
                t.peer_subject,
                t.peer_cert_pem.starts_with("-----BEGIN CERTIFICATE-----"),
                ext.as_ref() == Some(&t.clone().into_owned()),
                req.protocol(),
                req.full_url(),
                req.body().len()
            )
        }
    };
    let _ = req.respond(200, "text/plain", body);
}

/// Runs curl with the test CA; returns (success, stdout).
fn curl(args: &[&str]) -> (bool, String) {
    let out = tool("curl")
        .args(["-sS", "--max-time", "20", "--cacert"])
        .arg(cert("ca.pem"))
        .args(args)
        .output()
        .expect("run curl");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
}

fn url(port: u16, path: &str) -> String {
    format!("https://127.0.0.1:{port}{path}")
}

fn contains(s: &str, subs: &[&str]) {
    for sub in subs {
        assert!(s.contains(sub), "{s:?} lacks {sub:?}");
    }
}

/// The subject of the certificate a server presents, by `openssl s_client`.
fn presented_subject(port: u16) -> String {
    let out = tool("openssl")
        .args(["s_client", "-connect", &format!("127.0.0.1:{port}"), "-CAfile"])
        .arg(cert("ca.pem"))
        .stdin(Stdio::null())
        .output()
        .expect("run openssl s_client");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.lines()
        .find(|l| l.starts_with("subject="))
        .unwrap_or_else(|| panic!("no subject in {text}"))
        .to_string()
}

#[test]
fn https_get_post_keep_alive() {
    let srv = TestServer::start_with(tls_config(), tls_echo);
    let (ok, out) = curl(&["--http1.1", &url(srv.port, "/a")]);
    assert!(ok, "curl failed: {out}");
    contains(
        &out,
        &[
            "version=TLSv1.3",
            "cipher=TLS_",
            "sni= ",
            "alpn=http/1.1",
            "resumed=false",
            "subject=\"\"",
            "pem=false",
            "ext=true",
            "protocol=https",
            &format!("url=https://127.0.0.1:{}/a", srv.port),
        ],
    );

    // Two requests in one curl run share one connection.
    let (ok, out) = curl(&["-w", " connects=%{num_connects}\n", &url(srv.port, "/1"), &url(srv.port, "/2")]);
    assert!(ok, "{out}");
    assert!(out.contains("connects=1") && out.contains("connects=0"), "no reuse: {out}");

    // POST, chunked.
    let body = "x".repeat(300_000);
    let file = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("tls-post-body");
    std::fs::write(&file, &body).unwrap();
    let (ok, out) = curl(&[
        "-H",
        "Transfer-Encoding: chunked",
        "--data-binary",
        &format!("@{}", file.display()),
        &url(srv.port, "/post"),
    ]);
    assert!(ok, "{out}");
    contains(&out, &["len=300000"]);

    // TLS 1.2 with a chosen cipher.
    let (ok, out) =
        curl(&["--tls-max", "1.2", "--ciphers", "ECDHE-ECDSA-AES256-GCM-SHA384", &url(srv.port, "/")]);
    assert!(ok, "{out}");
    contains(&out, &["version=TLSv1.2", "cipher=ECDHE-ECDSA-AES256-GCM-SHA384"]);
}

#[test]
fn options_min_version_ciphers() {
    let cfg = tls_config()
        .tls_min_version(TlsVersion::Tls13)
        .tls_ciphersuites("TLS_CHACHA20_POLY1305_SHA256")
        .tls_handshake_timeout(Duration::from_secs(5));
    let srv = TestServer::start_with(cfg, tls_echo);
    let (ok, _) = curl(&["--tls-max", "1.2", &url(srv.port, "/")]);
    assert!(!ok, "a TLS 1.2 client was served with min version 1.3");
    let (ok, out) = curl(&[&url(srv.port, "/")]);
    assert!(ok, "{out}");
    contains(&out, &["version=TLSv1.3", "cipher=TLS_CHACHA20_POLY1305_SHA256"]);

    let srv12 = TestServer::start_with(tls_config().tls_ciphers("ECDHE-ECDSA-AES128-SHA"), tls_echo);
    let (ok, out) = curl(&["--tls-max", "1.2", &url(srv12.port, "/")]);
    assert!(ok, "{out}");
    contains(&out, &["cipher=ECDHE-ECDSA-AES128-SHA "]);
}

#[test]
fn sni_chooses_the_certificate() {
    let cfg = Config::new()
        .tls_cert(cert("server.pem"), cert("server.key"))
        .tls_cert_pem(std::fs::read(cert("other.pem")).unwrap(), std::fs::read(cert("other.key")).unwrap());
    let srv = TestServer::start_with(cfg, tls_echo);
    // curl verifies the name: only other.pem covers www.other.test.
    let resolve = format!("www.other.test:{}:127.0.0.1", srv.port);
    let (ok, out) = curl(&["--resolve", &resolve, &format!("https://www.other.test:{}/", srv.port)]);
    assert!(ok, "SNI www.other.test: {out}");
    contains(&out, &["sni=www.other.test "]);
    let resolve = format!("localhost:{}:127.0.0.1", srv.port);
    let (ok, out) = curl(&["--resolve", &resolve, &format!("https://localhost:{}/", srv.port)]);
    assert!(ok, "SNI localhost: {out}");
    contains(&out, &["sni=localhost "]);
}

#[test]
fn client_certificates() {
    let cfg = tls_config().tls_client_auth(ClientAuth::Require).tls_client_ca(cert("ca.pem"));
    let srv = TestServer::start_with(cfg, tls_echo);
    let (ok, _) = curl(&[&url(srv.port, "/")]);
    assert!(!ok, "served without a client certificate");
    let (client, key) = (cert("client.pem"), cert("client.key"));
    let with_cert = ["--cert", client.to_str().unwrap(), "--key", key.to_str().unwrap()];
    let (ok, out) = curl(&[&with_cert[..], &[url(srv.port, "/").as_str()]].concat());
    assert!(ok, "{out}");
    contains(&out, &["subject=\"O=squall,CN=squall test client\"", "pem=true"]);

    let cfg = tls_config().tls_client_auth(ClientAuth::Request).tls_client_ca(cert("ca.pem"));
    let opt = TestServer::start_with(cfg, tls_echo);
    let (ok, out) = curl(&[&url(opt.port, "/")]);
    assert!(ok, "{out}");
    contains(&out, &["subject=\"\"", "pem=false"]);
    let (ok, out) = curl(&[&with_cert[..], &[url(opt.port, "/").as_str()]].concat());
    assert!(ok, "{out}");
    contains(&out, &["CN=squall test client"]);
}

#[test]
fn session_resumption() {
    let srv = TestServer::start_with(tls_config(), tls_echo);
    let sess = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("tls-sess-{}", srv.port));
    let s_client = |arg: &str| {
        let mut child = tool("openssl")
            .args(["s_client", "-connect", &format!("127.0.0.1:{}", srv.port), "-tls1_2", "-CAfile"])
            .arg(cert("ca.pem"))
            .arg(arg)
            .arg(&sess)
            .arg("-quiet") // implies -ign_eof: read until the server closes
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl s_client");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut out = String::new();
        child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
        child.wait().unwrap();
        out
    };
    contains(&s_client("-sess_out"), &["resumed=false"]);
    contains(&s_client("-sess_in"), &["resumed=true"]);
    let _ = std::fs::remove_file(&sess);
}

#[test]
fn reload_swaps_certificates() {
    let srv = TestServer::start_with(tls_config(), tls_echo);
    assert_eq!(presented_subject(srv.port), "subject=CN = localhost");

    // A connection whose handshake finished before the reload.
    let mut held = tool("openssl")
        .args(["s_client", "-connect", &format!("127.0.0.1:{}", srv.port), "-CAfile"])
        .arg(cert("ca.pem"))
        .arg("-no_ign_eof")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl s_client");
    let mut lines = BufReader::new(held.stdout.take().unwrap()).lines();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut seen = Vec::new();
        for l in lines.by_ref() {
            let l = l.unwrap_or_default();
            if l.contains("Verify return code") {
                let _ = tx.send(());
            }
            seen.push(l);
        }
        seen.join("\n")
    });
    rx.recv_timeout(Duration::from_secs(10)).expect("handshake of the held connection");

    let h = srv.server.clone().unwrap();
    // From another thread (ServerHandle).
    h.reload_tls(&Config::new().tls_cert(cert("rsa.pem"), cert("rsa.key"))).expect("reload");
    assert_eq!(presented_subject(srv.port), "subject=CN = localhost, O = rsa");

    // The held connection still works, with its certificate.
    let mut stdin = held.stdin.take().unwrap();
    stdin.write_all(b"GET /held HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let out = reader.join().unwrap();
    drop(stdin);
    held.wait().unwrap();
    contains(&out, &["subject=CN = localhost\n", "HTTP/1.1 200", "version=TLSv1.3"]);

    // A bad one is refused; the current one keeps serving.
    let e = h
        .reload_tls(&Config::new().tls_cert(cert("server.pem"), cert("other.key")))
        .expect_err("a mismatched key was loaded");
    assert_eq!(e.kind(), ErrorKind::Tls, "{e}");
    assert!(e.message().contains("other.key"), "{e}");
    assert_eq!(presented_subject(srv.port), "subject=CN = localhost, O = rsa");
    let e = h.reload_tls(&Config::new()).expect_err("a config without a certificate");
    assert_eq!(e.kind(), ErrorKind::InvalidArgument, "{e}");

    // On the loop thread, through the Server.
    let res = Arc::new(Mutex::new(None));
    let r2 = res.clone();
    srv.run_on_loop(move |s| {
        let cfg = Config::new().tls_cert(cert("server2.pem"), cert("server2.key"));
        *r2.lock().unwrap() = Some(s.unwrap().reload_tls(&cfg));
    });
    res.lock().unwrap().take().unwrap().expect("reload on the loop thread");
    assert_eq!(presented_subject(srv.port), "subject=CN = localhost, O = reloaded");

    // A plain server has nothing to reload.
    let plain = TestServer::start(tls_echo);
    let e = plain.server.clone().unwrap().reload_tls(&tls_config()).expect_err("reload on plain HTTP");
    assert_eq!(e.kind(), ErrorKind::State, "{e}");
}

#[test]
fn configuration_errors_name_the_file() {
    let lp = Loop::new().unwrap();
    let try_cfg = |cfg: Config| Server::with_config(&lp, &cfg, |_req: Request| {}).map(|_| ());
    let cases: Vec<(Config, &str)> = vec![
        (Config::new().tls_cert("/nonexistent/cert.pem", cert("server.key")), "/nonexistent/cert.pem"),
        (Config::new().tls_cert(cert("server.pem"), "/nonexistent/key.pem"), "/nonexistent/key.pem"),
        (Config::new().tls_cert(cert("server.pem"), cert("other.key")), "other.key"),
        (tls_config().tls_ciphers("NOT-A-CIPHER"), "NOT-A-CIPHER"),
        (tls_config().tls_client_ca("/nonexistent/ca.pem"), "/nonexistent/ca.pem"),
        (tls_config().set_str(squall::sys::SQUALL_OPT_TLS_MIN_VERSION, "1.1"), "1.1"),
        (Config::new().tls_key_password("wrong").tls_cert(cert("server.pem"), cert("enc.key")), "enc.key"),
        (Config::new().tls_cert_pem(b"not a certificate", b"not a key"), ""),
    ];
    for (cfg, want) in cases {
        let dbg = format!("{cfg:?}");
        let e = try_cfg(cfg).expect_err(&dbg);
        assert_eq!(e.kind(), ErrorKind::Tls, "{dbg}: {e}");
        assert!(e.message().contains(want), "{dbg}: {e}");
        let io: std::io::Error = e.into();
        assert_eq!(io.kind(), std::io::ErrorKind::InvalidData);
    }
}

#[test]
fn key_password_and_pem_in_memory() {
    let cfg = Config::new()
        .tls_key_password("hunter2")
        .tls_cert_pem(std::fs::read(cert("server.pem")).unwrap(), std::fs::read(cert("enc.key")).unwrap());
    let dbg = format!("{cfg:?}");
    assert!(!dbg.contains("hunter2") && !dbg.contains("PRIVATE KEY"), "Debug shows secrets: {dbg}");
    let srv = TestServer::start_with(cfg, tls_echo);
    let (ok, out) = curl(&[&url(srv.port, "/")]);
    assert!(ok, "{out}");
    contains(&out, &["version=TLSv1.3"]);
}

#[test]
fn plain_http_on_the_tls_port_is_counted() {
    let srv = TestServer::start_with(tls_config(), tls_echo);
    let kinds = Arc::new(Mutex::new(Vec::new()));
    let k2 = kinds.clone();
    srv.run_on_loop(move |s| {
        s.unwrap().on_error(move |e| k2.lock().unwrap().push(e.kind)).unwrap();
    });
    let mut c = Conn::open(srv.port);
    c.send_raw(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    let reply = c.read_until_close();
    let text = String::from_utf8_lossy(&reply);
    assert!(reply.is_empty() || text.starts_with("HTTP/1.1 400"), "plain HTTP answered: {text}");
    let h = srv.server.clone().unwrap();
    wait_until(10, || h.stats().unwrap().tls_handshake_failures >= 1);
    wait_until(10, || kinds.lock().unwrap().contains(&ErrorKindHook::Tls));
    // HTTPS still works.
    let (ok, out) = curl(&[&url(srv.port, "/")]);
    assert!(ok, "{out}");
}

#[test]
fn stalled_handshake_times_out() {
    let srv =
        TestServer::start_with(tls_config().tls_handshake_timeout(Duration::from_millis(300)), tls_echo);
    let began = std::time::Instant::now();
    let mut stalled = Conn::open(srv.port); // sends nothing
    let (ok, out) = curl(&[&url(srv.port, "/")]);
    assert!(ok, "another client was not served meanwhile: {out}");
    assert!(stalled.read_until_close().is_empty());
    let waited = began.elapsed();
    assert!(
        waited >= Duration::from_millis(250) && waited < Duration::from_secs(5),
        "closed after {waited:?}"
    );
    let h = srv.server.clone().unwrap();
    wait_until(10, || h.stats().unwrap().tls_handshake_failures >= 1);
}
