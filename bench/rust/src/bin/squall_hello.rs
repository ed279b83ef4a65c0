//! squall's closure API: GET any path -> 200 "Hello, world!\n".
//!
//!   squall_hello PORT [callback]
//!
//! `callback`: the server gets its requests through the C callback instead
//! of `squall_loop_poll` (a first, unused server takes the loop's polled
//! slot), as before issue 13.
use squall::{Config, Loop, Server};

fn main() -> Result<(), squall::Error> {
    let port: u16 = std::env::args().nth(1).and_then(|p| p.parse().ok()).unwrap_or(8080);
    let lp = Loop::new()?;
    let _slot = if std::env::args().nth(2).as_deref() == Some("callback") {
        Some(Server::new(&lp, drop)?)
    } else {
        None
    };
    let srv = Server::with_config(&lp, &Config::new().nodelay(true), |req| {
        let _ = req.respond(200, "text/plain", b"Hello, world!\n");
    })?;
    srv.listen("127.0.0.1", port)?;
    lp.run()
}
