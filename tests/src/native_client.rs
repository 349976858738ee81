//! A native phone: `shared`'s client role over tokio-tungstenite, with the system clock.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use futures_util::{SinkExt, StreamExt};
use shared::protocol::client::{Client, ClientEvent, Transmit};
use shared::time::Timestamp;
use tokio_tungstenite::tungstenite::Message;

/// Now, by the system clock, as the protocol core takes it.
pub fn now() -> Timestamp {
    let since_epoch = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    Timestamp::from_millis(since_epoch.as_millis() as i64)
}

/// Connects `client` to the sync endpoint at `url` (`ws://…/sync`), runs the protocol
/// until `done(client)` holds while connected, then disconnects. Fails on a server error,
/// a closed connection or the deadline.
pub async fn sync_until(client: &mut Client, url: &str, deadline: Duration, mut done: impl FnMut(&Client) -> bool) -> anyhow::Result<()> {
    let give_up = tokio::time::Instant::now() + deadline;
    let (mut socket, _) = tokio::time::timeout_at(give_up, tokio_tungstenite::connect_async(url))
        .await
        .context("timed out connecting")?
        .with_context(|| format!("cannot connect to {url}"))?;
    client.handle_connected(now());
    let outcome = async {
        loop {
            while let Some(transmit) = client.poll_transmit() {
                match transmit {
                    Transmit::Frame(frame) => socket.send(Message::Binary(frame.into())).await.context("cannot send")?,
                    Transmit::Ping => socket.send(Message::Ping(Vec::new().into())).await.context("cannot ping")?,
                    Transmit::Close => bail!("the client role closed the connection"),
                }
            }
            while let Some(event) = client.poll_event() {
                if let ClientEvent::ServerError(error) = event {
                    bail!("server error: {error}");
                }
            }
            if client.is_online() && done(client) {
                return Ok(());
            }
            match tokio::time::timeout_at(give_up, socket.next()).await {
                Err(_) => bail!("gave up after {deadline:?}"),
                Ok(Some(Ok(Message::Binary(frame)))) => client.handle_frame(now(), &frame),
                Ok(Some(Ok(Message::Close(frame)))) => bail!("the server closed the connection: {frame:?}"),
                Ok(None) => bail!("the connection ended"),
                Ok(Some(Ok(_))) => {}
                Ok(Some(Err(error))) => bail!("socket error: {error}"),
            }
        }
    }
    .await;
    let _ = socket.close(None).await;
    client.handle_disconnected(now(), now().as_millis() as u64);
    outcome
}
