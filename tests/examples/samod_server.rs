//! An unpatched samod (crates.io) sync server with file storage on axum, for the
//! side-by-side sync benchmarks. Like the JavaScript reference server there (and like
//! Houqin's), it never announces documents: peers ask for what they want. Prints `ws://…`
//! once listening; stops on standard input closing.
//!
//! usage: samod_server <storage directory>

use axum::extract::ws::WebSocketUpgrade;
use axum::routing::get;
use tokio::io::AsyncReadExt as _;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let directory = std::env::args().nth(1).ok_or_else(|| anyhow::anyhow!("usage: samod_server <storage directory>"))?;
    let repo = samod::Repo::build_tokio()
        .with_storage(samod::storage::TokioFilesystemStorage::new(&directory))
        .with_share_policy(samod::ShareConfig::read_write().with_announce(false))
        .load()
        .await;
    let acceptor = repo.make_acceptor(url::Url::parse("ws://127.0.0.1/")?)?;
    let app = axum::Router::new().route(
        "/",
        get(move |upgrade: WebSocketUpgrade| {
            let acceptor = acceptor.clone();
            async move {
                upgrade.max_message_size(64 << 20).on_upgrade(move |socket| async move {
                    acceptor.accept_axum(socket, None).expect("samod is running");
                })
            }
        }),
    );
    // The same accept queue as Houqin's server, so that phones reconnecting together
    // are not dropped by the kernel (and retried a second later) for one and not the other.
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind("127.0.0.1:0".parse()?)?;
    let listener = socket.listen(4096)?;
    println!("ws://{}/", listener.local_addr()?);
    let stdin_closed = async {
        let mut sink = Vec::new();
        let _ = tokio::io::stdin().read_to_end(&mut sink).await;
    };
    axum::serve(listener, app).with_graceful_shutdown(stdin_closed).await?;
    repo.stop().await;
    Ok(())
}
