//! squall's closure API: GET any path -> 200 "Hello, world!\n".
use squall::{Config, Loop, Server};

fn main() -> Result<(), squall::Error> {
    let port: u16 = std::env::args().nth(1).and_then(|p| p.parse().ok()).unwrap_or(8080);
    let lp = Loop::new()?;
    let srv = Server::with_config(&lp, &Config::new().nodelay(true), |req| {
        let _ = req.respond(200, "text/plain", b"Hello, world!\n");
    })?;
    srv.listen("127.0.0.1", port)?;
    lp.run()
}
