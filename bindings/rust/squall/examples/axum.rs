//! An axum Router, unchanged, on squall's loop; handlers run on a tokio
//! runtime.
//!
//!   cargo run --features tower --example axum -- [PORT]
use axum::Router;
use axum::extract::Path;
use axum::routing::{get, post};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port = std::env::args().nth(1).and_then(|p| p.parse().ok()).unwrap_or(8888);
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_time().build()?;
    let app = Router::new()
        .route("/", get(|| async { "Hello from axum on squall\n" }))
        .route("/users/{id}", get(|Path(id): Path<u32>| async move { format!("user {id}\n") }))
        .route("/echo", post(|body: bytes::Bytes| async move { body }))
        // Handlers turned into routes once, as axum::serve does.
        .with_state(());
    let lp = squall::Loop::new()?;
    let srv = squall::Server::new(&lp, squall::tower::handler(rt.handle().clone(), app))?;
    srv.listen("127.0.0.1", port)?;
    println!("listening on http://127.0.0.1:{}/", srv.port()?);
    lp.run()?;
    Ok(())
}
