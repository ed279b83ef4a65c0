//! axum::serve (hyper underneath) on a current-thread tokio runtime.
use axum::Router;
use axum::routing::get;
use axum::serve::ListenerExt;

fn main() {
    let port: u16 = std::env::args().nth(1).and_then(|p| p.parse().ok()).unwrap_or(8080);
    let rt = tokio::runtime::Builder::new_current_thread().enable_io().build().expect("runtime");
    rt.block_on(async move {
        let listener =
            tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("bind").tap_io(|tcp| {
                let _ = tcp.set_nodelay(true);
            });
        let app =
            Router::new().fallback(get(|| async { ([("content-type", "text/plain")], "Hello, world!\n") }));
        axum::serve(listener, app).await.expect("serve");
    });
}
