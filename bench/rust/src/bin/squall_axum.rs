//! An axum Router on squall's loop through the tower adapter; futures that
//! must wait run on a current-thread tokio runtime driven by a second
//! thread.
//!
//!   squall_axum PORT [hop] [callback]
//!
//! Default: `squall::tower::handler` with its default options (each service
//! future is polled on the loop thread first; only one that must wait moves
//! to tokio).  `hop`: `Options::poll_on_loop(false)`, every call runs on the
//! runtime (a thread hop per batch: the adapter's default before issue 13).
//! `callback`: the server gets its requests through the C callback instead
//! of `squall_loop_poll` (a first, unused server takes the loop's polled
//! slot).  `hop callback` is the adapter as it was before issue 13.
use axum::Router;
use axum::routing::get;
use squall::{Config, Loop, Server};

fn main() -> Result<(), squall::Error> {
    let port: u16 = std::env::args().nth(1).and_then(|p| p.parse().ok()).unwrap_or(8080);
    let words: Vec<String> = std::env::args().skip(2).collect();
    let has = |w: &str| words.iter().any(|x| x == w);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let handle = rt.handle().clone();
    std::thread::spawn(move || rt.block_on(std::future::pending::<()>()));
    // with_state(()): every handler turned into a route once, as
    // axum::serve does (Router::into_make_service), not per request.
    let app = Router::new()
        .fallback(get(|| async { ([("content-type", "text/plain")], "Hello, world!\n") }))
        .with_state(());
    let lp = Loop::new()?;
    let _slot = if has("callback") { Some(Server::new(&lp, drop)?) } else { None };
    let opts = squall::tower::Options::new().poll_on_loop(!has("hop"));
    let srv = Server::with_config(
        &lp,
        &Config::new().nodelay(true),
        squall::tower::handler_with(handle, app, opts),
    )?;
    srv.listen("127.0.0.1", port)?;
    lp.run()
}
