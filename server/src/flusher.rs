//! Group commit: one `sled::Db::flush` covers every write queued since the last flush.
//!
//! `flush_async` is unreliable in sled 0.34, so the blocking `flush` runs on tokio's
//! blocking pool, one at a time; requests that arrive meanwhile wait for the next flush,
//! which covers them all. Completions are reported in request order.

use tokio::sync::{mpsc, oneshot};

use crate::Storage;
use tokio::task::JoinHandle;

/// A handle to the flushing task; clones share it.
#[derive(Clone)]
pub struct Flusher {
    requests: mpsc::UnboundedSender<oneshot::Sender<Result<(), String>>>,
}

impl Flusher {
    /// Starts the flushing task; it ends when every `Flusher` is dropped.
    pub fn start(storage: &Storage) -> (Flusher, JoinHandle<()>) {
        let storage = storage.clone();
        let (requests, mut incoming) = mpsc::unbounded_channel::<oneshot::Sender<Result<(), String>>>();
        let task = tokio::spawn(async move {
            while let Some(first) = incoming.recv().await {
                let mut waiting = vec![first];
                while let Ok(next) = incoming.try_recv() {
                    waiting.push(next);
                }
                let result = match tokio::task::spawn_blocking(storage.durable()).await {
                    Ok(Ok(())) => Ok(()),
                    Ok(Err(error)) => Err(format!("flush failed: {error:#}")),
                    Err(error) => Err(format!("flush task failed: {error}")),
                };
                for waiter in waiting {
                    let _ = waiter.send(result.clone());
                }
            }
        });
        (Flusher { requests }, task)
    }

    /// Resolves once every write made before the call is on disk.
    pub async fn flush(&self) -> Result<(), String> {
        let (done, wait) = oneshot::channel();
        self.requests.send(done).map_err(|_| "the flusher has stopped".to_owned())?;
        wait.await.map_err(|_| "the flusher has stopped".to_owned())?
    }
}
