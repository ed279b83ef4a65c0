//! An axum Router on squall's loop through the tower adapter; the service
//! futures run on a current-thread tokio runtime driven by a second thread.
//!
//!   squall_axum PORT [inline]
//!
//! `inline`: Options::poll_on_loop -- poll each future once on the loop
//! thread first (no thread hop for futures that complete at once).
use axum::Router;
use axum::routing::get;
use squall::{Config, Loop, Server};

fn main() -> Result<(), squall::Error> {
    let port: u16 = std::env::args().nth(1).and_then(|p| p.parse().ok()).unwrap_or(8080);
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    let handle = rt.handle().clone();
    std::thread::spawn(move || rt.block_on(std::future::pending::<()>()));
    let app = Router::new().fallback(get(|| async { ([("content-type", "text/plain")], "Hello, world!\n") }));
    let lp = Loop::new()?;
    let inline = std::env::args().nth(2).as_deref() == Some("inline");
    let opts = squall::tower::Options::new().poll_on_loop(inline);
    let srv = Server::with_config(
        &lp,
        &Config::new().nodelay(true),
        squall::tower::handler_with(handle, app, opts),
    )?;
    srv.listen("127.0.0.1", port)?;
    lp.run()
}
