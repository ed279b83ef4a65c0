//! The demo server's routes with the closure API:
//!   GET any path   -> "You requested <uri>\n"
//!   POST/PUT /echo -> the request body
//!
//!   cargo run --example demo -- [PORT]
use squall::{Loop, Request, Server};

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
    let port = std::env::args().nth(1).and_then(|p| p.parse().ok()).unwrap_or(8888);
    let lp = Loop::new()?;
    let srv = Server::new(&lp, handle)?;
    srv.listen("127.0.0.1", port)?;
    println!("listening on http://127.0.0.1:{}/", srv.port()?);
    lp.run()
}
