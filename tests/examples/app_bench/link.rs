//! A slow mobile link between the browser and the server: a TCP relay on loopback that
//! every request of the phone goes through — the page's and its service worker's alike,
//! which Chromium's own network emulation does not reach (it slows one page's requests).
//!
//! Each direction has one bandwidth shared by all connections, as a phone's radio is; a
//! chunk leaves when the link has carried what was queued before it and arrives half a
//! round trip later. A connection has at most about a round trip's worth of bytes queued
//! on the link (its window), so connections share it rather than the first filling it.
//! A new connection waits one round trip before its first byte, as a TCP handshake does.
//! Not modelled: TCP's slow start and loss.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Mutex, mpsc};
use tokio::time::Instant;

/// A mobile link's speeds.
#[derive(Clone, Copy, Debug)]
pub struct Link {
    pub name: &'static str,
    /// Bits per second towards the phone.
    pub down: u64,
    /// Bits per second from the phone.
    pub up: u64,
    pub round_trip: Duration,
}

/// 4G as the performance targets name it: 9 Mbps down, 170 ms round trip.
pub const FOUR_G: Link = Link { name: "4G (9 Mbps, 170 ms)", down: 9_000_000, up: 1_500_000, round_trip: Duration::from_millis(170) };
/// Chromium's "Fast 3G": 1.6 Mbps down, 150 ms round trip.
pub const FAST_3G: Link = Link { name: "Fast 3G (1.6 Mbps, 150 ms)", down: 1_600_000, up: 750_000, round_trip: Duration::from_millis(150) };

/// One direction of the link: when it is free again, and what it has carried.
struct Pipe {
    bits_per_second: u64,
    free_at: Mutex<Instant>,
    carried: AtomicU64,
}

impl Pipe {
    fn new(bits_per_second: u64) -> Arc<Pipe> {
        Arc::new(Pipe { bits_per_second, free_at: Mutex::new(Instant::now()), carried: AtomicU64::new(0) })
    }

    /// Queues `bytes` behind what the link carries already; gives when they have left.
    async fn send(&self, bytes: usize) -> Instant {
        self.carried.fetch_add(bytes as u64, Ordering::Relaxed);
        let on_the_wire = Duration::from_secs_f64(bytes as f64 * 8.0 / self.bits_per_second as f64);
        let mut free_at = self.free_at.lock().await;
        *free_at = (*free_at).max(Instant::now()) + on_the_wire;
        *free_at
    }
}

/// The relay: connect to `address` to reach the server over the link.
pub struct Relay {
    pub address: SocketAddr,
    down: Arc<Pipe>,
    task: tokio::task::JoinHandle<()>,
}

impl Relay {
    pub async fn start(link: Link, server: SocketAddr) -> anyhow::Result<Relay> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let (down, up) = (Pipe::new(link.down), Pipe::new(link.up));
        let pipes = (down.clone(), up);
        let task = tokio::spawn(async move {
            while let Ok((phone, _)) = listener.accept().await {
                let (down, up) = pipes.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(link.round_trip).await;
                    let Ok(server) = TcpStream::connect(server).await else { return };
                    let (_, _) = (phone.set_nodelay(true), server.set_nodelay(true));
                    let (phone_reads, phone_writes) = phone.into_split();
                    let (server_reads, server_writes) = server.into_split();
                    let half_way = link.round_trip / 2;
                    let window = |bits_per_second: u64| (bits_per_second as f64 / 8.0 * link.round_trip.as_secs_f64()) as usize;
                    tokio::join!(
                        carry(phone_reads, server_writes, up, half_way, window(link.up)),
                        carry(server_reads, phone_writes, down, half_way, window(link.down))
                    );
                });
            }
        });
        Ok(Relay { address, down, task })
    }

    /// Bytes carried towards the phone so far (TLS records included).
    pub fn downloaded(&self) -> u64 {
        self.down.carried.load(Ordering::Relaxed)
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The size of the chunks carried.
const CHUNK: usize = 16 * 1024;

/// Carries one direction of a connection: each chunk read is written out when the link
/// has sent it and it has travelled half a round trip; the end of the stream likewise.
/// At most `window` bytes (rounded up to chunks) are on their way at once.
async fn carry(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, pipe: Arc<Pipe>, half_way: Duration, window: usize) {
    let (queue, mut queued) = mpsc::channel::<(Instant, Vec<u8>)>(window.div_ceil(CHUNK).max(2));
    let reading = async move {
        let mut buffer = vec![0; CHUNK];
        while let Ok(read) = from.read(&mut buffer).await {
            if read == 0 {
                break;
            }
            // Wait for room in the window before taking the link's time.
            let Ok(room) = queue.reserve().await else { break };
            let arrives = pipe.send(read).await + half_way;
            room.send((arrives, buffer[..read].to_vec()));
        }
    };
    let writing = async move {
        while let Some((arrives, bytes)) = queued.recv().await {
            tokio::time::sleep_until(arrives).await;
            if to.write_all(&bytes).await.is_err() {
                return;
            }
        }
        let _ = to.shutdown().await;
    };
    tokio::join!(reading, writing);
}
