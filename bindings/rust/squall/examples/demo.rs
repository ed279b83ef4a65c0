//! The demo server's routes with the closure API:
//!   GET any path   -> "You requested <uri>\n"
//!   POST/PUT /echo -> the request body
//!
//!   cargo run --example demo -- [PORT] [CERT KEY]
//!
//! With CERT and KEY (PEM files) it serves HTTPS.
use squall::{Config, Loop, Request, Server};

fn handle(req: Request) {
    let m = req.method();
    if (m == "POST" || m == "PUT") && req.path() == "/echo" {
        let body = req.body().to_vec();
        let _ = req.respond(200, "application/octet-stream", body);
    } else {
        let body = format!("You requested {}\n", req.uri());
        let _ = req.respond(200, "text/plain", body);
    }
}

fn main() -> Result<(), squall::Error> {
    let args: Vec<String> = std::env::args().collect();
    let port = args.get(1).and_then(|p| p.parse().ok()).unwrap_or(8888);
    let mut cfg = Config::new();
    if let [_, _, cert, key, ..] = args.as_slice() {
        cfg = cfg.tls_cert(cert, key);
    }
    let scheme = if args.len() >= 4 { "https" } else { "http" };
    let lp = Loop::new()?;
    let srv = Server::with_config(&lp, &cfg, handle)?;
    srv.listen("127.0.0.1", port)?;
    println!("listening on {scheme}://127.0.0.1:{}/", srv.port()?);
    lp.run()
}
