//! Bounds on connections, so no one address can take every file descriptor: how many one
//! address may hold open, how many all may, how long one may sit without a byte either way,
//! how long a request's headers and a TLS handshake may take, and how much memory the
//! server may hold before it takes no new connection ([`crate::memory`]).
//!
//! [`Guarded`] wraps the TCP listener: a connection over a bound is closed as soon as it is
//! accepted, before anything is read from it, so connections still in their TLS handshake
//! count too. Each accepted stream is [`Watched`]: once [`IDLE`] passes with nothing read
//! or written, a read or write waiting on it fails, and the connection is closed — an idle
//! keep-alive, or a client gone silent. (A sync socket, which the server pings, is judged
//! by its answers instead: `sync::PING_EVERY`.) [`serve`] runs each connection: the handshake
//! within [`HANDSHAKE`], then HTTP/1.1 whose request headers must arrive whole within
//! [`HEADERS`] of their first byte, however steadily they trickle.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::serve::Listener;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::{Instant, Sleep};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;

/// How long a connection may pass without a byte read or written.
pub const IDLE: Duration = Duration::from_secs(60);
/// How long a request's headers may take to arrive: a phone on a poor line sends a few
/// hundred bytes in well under this.
pub const HEADERS: Duration = Duration::from_secs(20);
/// How long a request's body may take to arrive whole: a 10 MB photo at 35 kB/s.
pub const BODY: Duration = Duration::from_secs(300);
/// How long a TLS handshake may take.
pub const HANDSHAKE: Duration = Duration::from_secs(10);
/// How long requests under way are given to finish when the server stops.
const DRAIN: Duration = Duration::from_secs(10);
/// Connections one address may hold open: a site's phones behind one NAT, each with its
/// sync socket and a browser's few connections, fit many times over.
pub const PER_ADDRESS: usize = 256;
/// File descriptors kept back from connections, for the database, backups and files.
const RESERVED_DESCRIPTORS: u64 = 256;

/// The listener `inner`, with connections bounded per address and in all, and watched for
/// idleness. Addresses in `exempt` (trusted proxies, which carry everyone's connections)
/// and loopback (this machine: a proxy in front, the load generator) have no bound of
/// their own.
pub struct Guarded<L> {
    inner: L,
    open: Arc<Mutex<Open>>,
    exempt: Vec<IpAddr>,
    limits: Limits,
    memory: crate::memory::Resident,
}

/// Bounds on open connections.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub per_address: usize,
    pub total: usize,
    pub idle: Duration,
    /// From a request's first byte to the end of its headers.
    pub headers: Duration,
    /// For a request's whole body, once its headers are in.
    pub body: Duration,
    /// Resident memory at which new connections are refused ([`crate::memory`]), bytes.
    pub max_resident: u64,
}

impl Limits {
    /// [`PER_ADDRESS`] and [`IDLE`], and in all as many as the process may open files,
    /// less a reserve (see [`crate::os::raise_descriptor_limit`]).
    pub fn for_this_process() -> Limits {
        let files = crate::os::descriptor_limit().unwrap_or(1024);
        let total = files.saturating_sub(RESERVED_DESCRIPTORS).max(64);
        Limits {
            per_address: PER_ADDRESS,
            total: usize::try_from(total).unwrap_or(usize::MAX),
            idle: IDLE,
            headers: HEADERS,
            body: BODY,
            max_resident: crate::memory::Resident::for_this_machine().bound(),
        }
    }
}

#[derive(Default)]
struct Open {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
}

impl<L> Guarded<L> {
    pub fn new(inner: L, exempt: Vec<IpAddr>, limits: Limits) -> Guarded<L> {
        Guarded { inner, open: Arc::default(), exempt, limits, memory: crate::memory::Resident::new(limits.max_resident) }
    }

    /// Takes a place for a connection from `address`, unless a bound is reached.
    fn admit(&self, address: IpAddr) -> Option<Place> {
        if !self.memory.admits() {
            return None;
        }
        let mut open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if open.total >= self.limits.total {
            return None;
        }
        let counted = !address.is_loopback() && !self.exempt.contains(&address);
        if counted {
            let held = open.by_address.entry(address).or_insert(0);
            if *held >= self.limits.per_address {
                return None;
            }
            *held += 1;
        }
        open.total += 1;
        Some(Place { open: self.open.clone(), address: counted.then_some(address) })
    }
}

impl<L> Listener for Guarded<L>
where
    L: Listener<Addr = SocketAddr>,
    L::Io: Unpin,
{
    type Io = Watched<L::Io>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, SocketAddr) {
        loop {
            let (io, peer) = self.inner.accept().await;
            match self.admit(peer.ip()) {
                Some(place) => return (Watched::new(io, self.limits.idle, place), peer),
                // Dropped unread: the peer sees its connection closed.
                None => tracing::debug!(%peer, "closed a connection over the bounds"),
            }
        }
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

/// Serves `router` on the connections `listener` admits, each secured by `tls` when given,
/// until `shutdown` resolves; then takes no more, lets requests under way finish for up to
/// [`DRAIN`] and closes the rest. Each request carries its peer's address as
/// `ConnectInfo<SocketAddr>`. A WebSocket leaves its connection's task once upgraded: the
/// sync hub closes those.
pub async fn serve(mut listener: Guarded<TcpListener>, tls: Option<TlsAcceptor>, router: Router, shutdown: impl Future<Output = ()>) {
    let headers = listener.limits.headers;
    let (closing, _) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut shutdown = pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        while connections.try_join_next().is_some() {}
        let (router, tls, mut closing) = (router.clone(), tls.clone(), closing.subscribe());
        connections.spawn(async move {
            let Some(acceptor) = tls else { return connection(stream, peer, router, headers, closing).await };
            let handshake = tokio::select! {
                handshake = tokio::time::timeout(HANDSHAKE, acceptor.accept(stream)) => handshake,
                // Nothing was asked yet: stopping drops it.
                _ = closing.changed() => return,
            };
            match handshake {
                Ok(Ok(secured)) => connection(secured, peer, router, headers, closing).await,
                Ok(Err(error)) => tracing::debug!(%peer, %error, "TLS handshake failed"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        });
    }
    drop(listener);
    let _ = closing.send(true);
    let drained = tokio::time::timeout(DRAIN, async { while connections.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        tracing::info!(left = connections.len(), "closing the connections still busy after {DRAIN:?}");
    }
}

/// One connection's HTTP/1.1, until it closes, is upgraded, or the server stops.
async fn connection<Io>(io: Io, peer: SocketAddr, router: Router, headers: Duration, mut closing: watch::Receiver<bool>)
where
    Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = router.map_request(move |mut request: Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        request
    });
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(headers);
    let mut served = pin!(builder.serve_connection(TokioIo::new(io), TowerToHyperService::new(service)).with_upgrades());
    let outcome = tokio::select! {
        outcome = served.as_mut() => outcome,
        // It only ever turns true: any change is the server stopping.
        _ = closing.changed() => {
            served.as_mut().graceful_shutdown();
            served.await
        }
    };
    if let Err(error) = outcome {
        tracing::debug!(%peer, %error, "connection ended");
    }
}

/// What gives each request's body `limit` to arrive whole, from when its headers are in;
/// past it the body fails, and the request with it. (tower-http's body timeout
/// restarts with every chunk, so a body trickled a byte at a time would never meet it.)
pub fn body_deadline(limit: Duration) -> impl Fn(Request<axum::body::Body>) -> std::future::Ready<Request<axum::body::Body>> + Clone {
    move |request: Request<axum::body::Body>| {
        let (parts, body) = request.into_parts();
        let body = axum::body::Body::new(Deadline { inner: body, sleep: Box::pin(tokio::time::sleep(limit)) });
        std::future::ready(Request::from_parts(parts, body))
    }
}

/// A request body that fails once its time is up.
struct Deadline {
    inner: axum::body::Body,
    sleep: Pin<Box<Sleep>>,
}

impl hyper::body::Body for Deadline {
    type Data = axum::body::Bytes;
    type Error = axum::BoxError;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
        if self.sleep.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Some(Err("the request body took too long to arrive".into())));
        }
        Pin::new(&mut self.inner).poll_frame(cx).map_err(Into::into)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.inner.size_hint()
    }
}

/// A connection's place in the count, given back when it closes.
struct Place {
    open: Arc<Mutex<Open>>,
    /// `None` for an exempt address.
    address: Option<IpAddr>,
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        open.total = open.total.saturating_sub(1);
        if let Some(address) = self.address
            && let Some(held) = open.by_address.get_mut(&address)
        {
            *held -= 1;
            if *held == 0 {
                open.by_address.remove(&address);
            }
        }
    }
}

/// A stream whose waiting reads and writes fail once it has been idle for its limit.
pub struct Watched<Io> {
    io: Io,
    idle: Duration,
    last_active: Instant,
    /// Wakes a pending read when the stream may have become idle.
    check: Pin<Box<Sleep>>,
    _place: Place,
}

impl<Io> Watched<Io> {
    fn new(io: Io, idle: Duration, place: Place) -> Watched<Io> {
        let now = Instant::now();
        Watched { io, idle, last_active: now, check: Box::pin(tokio::time::sleep_until(now + idle)), _place: place }
    }

    fn active(&mut self, bytes: usize) {
        if bytes > 0 {
            self.last_active = Instant::now();
        }
    }

    /// Whether the stream has been idle too long; otherwise arranges to be woken when it
    /// next might have been. Moving the timer only when it fires keeps each read and write
    /// to a clock read.
    fn timed_out(&mut self, cx: &mut Context<'_>) -> bool {
        loop {
            let deadline = self.last_active + self.idle;
            if Instant::now() >= deadline {
                return true;
            }
            if self.check.deadline() != deadline {
                self.check.as_mut().reset(deadline);
            }
            if self.check.as_mut().poll(cx).is_pending() {
                return false;
            }
        }
    }
}

impl<Io: AsyncRead + Unpin> AsyncRead for Watched<Io> {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.io).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                this.active(buf.filled().len() - before);
                Poll::Ready(Ok(()))
            }
            Poll::Pending if this.timed_out(cx) => {
                Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "the connection was idle too long")))
            }
            other => other,
        }
    }
}

impl<Io> Watched<Io> {
    /// A write's outcome: progress counts as activity; a write that cannot go on (the peer
    /// reads nothing) fails once the stream has been idle too long.
    fn wrote<T>(&mut self, cx: &mut Context<'_>, written: Poll<io::Result<T>>, bytes: impl Fn(&T) -> usize) -> Poll<io::Result<T>> {
        match written {
            Poll::Ready(Ok(value)) => {
                self.active(bytes(&value));
                Poll::Ready(Ok(value))
            }
            Poll::Pending if self.timed_out(cx) => {
                Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "the peer read nothing for too long")))
            }
            other => other,
        }
    }
}

impl<Io: AsyncWrite + Unpin> AsyncWrite for Watched<Io> {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.io).poll_write(cx, data);
        this.wrote(cx, written, |bytes| *bytes)
    }

    fn poll_write_vectored(self: Pin<&mut Self>, cx: &mut Context<'_>, data: &[io::IoSlice<'_>]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.io).poll_write_vectored(cx, data);
        this.wrote(cx, written, |bytes| *bytes)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let flushed = Pin::new(&mut this.io).poll_flush(cx);
        this.wrote(cx, flushed, |()| 0)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guarded(exempt: Vec<IpAddr>) -> Guarded<()> {
        Guarded::new((), exempt, Limits { per_address: 2, total: 3, idle: IDLE, headers: HEADERS, body: BODY, max_resident: u64::MAX })
    }

    #[test]
    fn each_address_and_all_together_hold_at_most_their_share() {
        let listener = guarded(vec!["10.0.0.9".parse().unwrap()]);
        let this_machine = listener.admit("127.0.0.1".parse().unwrap()).expect("loopback");
        let again = listener.admit("127.0.0.1".parse().unwrap()).expect("loopback again");
        let and_again = listener.admit("::1".parse().unwrap()).expect("loopback has no bound of its own");
        assert!(listener.admit("10.0.0.1".parse().unwrap()).is_none(), "but counts in all");
        drop((this_machine, again, and_again));
        let (phone, other, proxy) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap(), "10.0.0.9".parse().unwrap());
        let first = listener.admit(phone).expect("a first connection");
        let _second = listener.admit(phone).expect("a second");
        assert!(listener.admit(phone).is_none(), "a third from one address is over its bound");
        drop(first);
        let _third = listener.admit(phone).expect("a place given back is taken again");
        let _from_proxy = listener.admit(proxy).expect("a trusted proxy has no bound of its own");
        assert!(listener.admit(other).is_none(), "over the bound for all");
        assert!(listener.admit(proxy).is_none(), "which holds for a proxy too");
    }

    #[tokio::test(start_paused = true)]
    async fn a_stream_idle_past_its_limit_fails_its_next_read() {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let listener = guarded(Vec::new());
        let (near, mut far) = tokio::io::duplex(64);
        let mut watched = Watched::new(near, Duration::from_secs(60), listener.admit("10.0.0.1".parse().unwrap()).unwrap());
        let mut byte = [0u8; 1];
        // Bytes now and then keep it open.
        for _ in 0..3 {
            tokio::time::advance(Duration::from_secs(45)).await;
            far.write_all(b"x").await.unwrap();
            watched.read_exact(&mut byte).await.unwrap();
        }
        let started = Instant::now();
        let error = watched.read(&mut byte).await.expect_err("idle too long");
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        assert_eq!(started.elapsed(), Duration::from_secs(60));
        drop(watched);
        assert_eq!(listener.open.lock().unwrap().total, 0, "its place is given back");

        // A peer that reads nothing: the write waiting on it fails as well.
        let (near, _far) = tokio::io::duplex(64);
        let mut watched = Watched::new(near, Duration::from_secs(60), listener.admit("10.0.0.1".parse().unwrap()).unwrap());
        let started = Instant::now();
        let error = watched.write_all(&[0; 1000]).await.expect_err("the peer reads nothing");
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        assert_eq!(started.elapsed(), Duration::from_secs(60));
    }
}
