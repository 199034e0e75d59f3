//! Fixtures shared by the end-to-end tests: ports, servers in-process and as a child process.
#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use nianbao::server::{run, ServerOptions};
use nianbao::store::Store;
use tonic::transport::Channel;

/// A port free at the time of asking.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A channel to 127.0.0.1:`port`, waiting up to five seconds for the server to listen.
pub async fn connect(port: u16) -> Channel {
    for _ in 0..200 {
        if let Ok(c) = Channel::from_shared(format!("http://127.0.0.1:{port}"))
            .unwrap()
            .connect()
            .await
        {
            return c;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("no server on port {port}");
}

/// A server in this process on `listener`, with a store in `dir`; send on the returned
/// sender to stop it.
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    dir: &Path,
    options: ServerOptions,
) -> tokio::sync::oneshot::Sender<()> {
    let store = Store::open(dir).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        run(listener, store, options, async {
            let _ = stopped.await;
        })
        .await
        .unwrap();
    });
    stop
}

/// [`serve_on`] a fresh port: returns "127.0.0.1:port" and the stop sender.
pub async fn serve(
    dir: &Path,
    options: ServerOptions,
) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    (addr, serve_on(listener, dir, options).await)
}
