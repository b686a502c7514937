//! One virtual user's keep-alive connection, on hyper's client connection directly: HTTP/1.1 of
//! its own, or a share of an HTTP/2 connection; clear text or TLS ([`crate::transport`]).
//!
//! The hyper `Connection` future is polled in the virtual user's own task together with the
//! request (no second task per connection, no cross-task wake-up per request; the wake-ups hyper's
//! two halves send each other are absorbed within that poll, see [`crate::quiet`]), and the
//! per-request timeout is one reusable timer that is only re-armed when it fires: no timer
//! is created or moved per request. HTTP/2's connection is driven by a task of its own, since
//! several virtual users share it. Bytes are counted at the socket, below TLS ([`crate::wire`]).
//! A failure is classified here, by phase (connect, head, body) and type: see [`ErrorKind`].

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Method, Request, StatusCode, Uri, header};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::{http1, http2};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

use crate::failure::ErrorKind;
use crate::quiet::Quiet;
use crate::transport::Transport;
use crate::wire::{CountingIo, Io, IoCounters};

/// Connect timeout (the per-request timeout applies on top, from the request's start).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// Loopback source addresses a run's connections are spread over (127.0.0.1 to 127.0.0.8), so the
/// ~28k ephemeral ports of one source address do not cap the connections to one target.
pub const SOURCE_ADDRESSES: u8 = 8;

/// The source address of connection `n` to `target`: spread over 127.0.0.1..=8 for an IPv4
/// loopback target; the system's choice otherwise.
pub fn source_for(target: SocketAddr, n: u64) -> Option<std::net::IpAddr> {
    match target.ip() {
        std::net::IpAddr::V4(ip) if ip.is_loopback() => {
            Some(std::net::Ipv4Addr::new(127, 0, 0, 1 + (n % u64::from(SOURCE_ADDRESSES)) as u8).into())
        }
        _ => None,
    }
}

/// Connects refused by this process's own limits, counted for the run's summary: which limit
/// stopped the generator from opening more connections.
#[derive(Debug, Default)]
pub struct OsLimits {
    /// EMFILE / ENFILE: the open-file limit (per process, or the system's).
    pub files: AtomicU64,
    /// EADDRNOTAVAIL: no free ephemeral port for the source address.
    pub ports: AtomicU64,
}

impl OsLimits {
    fn count(&self, e: &std::io::Error) {
        // Linux errno values: ENFILE 23, EMFILE 24.
        if matches!(e.raw_os_error(), Some(23 | 24)) {
            self.files.fetch_add(1, Ordering::Relaxed);
        } else if e.kind() == std::io::ErrorKind::AddrNotAvailable {
            self.ports.fetch_add(1, Ordering::Relaxed);
        }
    }
}

type Body = Full<Bytes>;
type H1Driver = http1::Connection<TokioIo<Io>, Body>;

/// A connection's sending half.
enum Conn {
    /// HTTP/1.1, this virtual user's own: its connection future is polled in this task.
    H1 { sender: http1::SendRequest<Body>, driver: Pin<Box<H1Driver>>, done: bool },
    /// HTTP/2, driven by a task of its own and shared by up to `--streams` virtual users
    /// ([`H2Pool`]); its bytes are claimed per request from the connection's counters.
    H2 { sender: http2::SendRequest<Body>, counters: Arc<IoCounters> },
}

/// One HTTP/2 connection as the pool keeps it.
type Shared2 = Option<(http2::SendRequest<Body>, Arc<IoCounters>)>;

/// The HTTP/2 connections of a run: virtual user `i` uses connection `i / streams`, made by
/// whichever of its users needs it first, and made again when it is found closed.
#[derive(Default)]
pub struct H2Pool {
    slots: std::sync::Mutex<std::collections::HashMap<u64, Arc<tokio::sync::Mutex<Shared2>>>>,
}

impl H2Pool {
    fn slot(&self, n: u64) -> Arc<tokio::sync::Mutex<Shared2>> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner()).entry(n).or_default().clone()
    }
}

/// TLS handshakes the generator made, and how many resumed a session.
#[derive(Debug, Default)]
pub struct Handshakes {
    pub full: AtomicU64,
    pub resumed: AtomicU64,
}

/// What the flows need from a response.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    /// Its headers (moved out of the response, not copied).
    pub headers: http::HeaderMap,
    /// The body, when asked for; empty otherwise (it is still read to keep the connection).
    pub body: Bytes,
}

/// One request of a flow: a static path (the flow lives for the process), the credential and
/// CSRF headers borrowed from what the user holds, an optional body and its content type.
#[derive(Debug, Clone)]
pub struct Call<'a> {
    pub method: Method,
    pub path: &'static str,
    pub credential: Option<&'a (HeaderName, HeaderValue)>,
    pub csrf: Option<&'a (HeaderName, HeaderValue)>,
    pub body: Option<(Bytes, &'a HeaderValue)>,
    pub want_body: bool,
}

impl Call<'_> {
    /// `GET path` without credential or body.
    pub fn get(path: &'static str) -> Call<'static> {
        Call { method: Method::GET, path, credential: None, csrf: None, body: None, want_body: false }
    }
}

/// A lazily (re)connected connection with a per-request timeout: HTTP/1.1 of its own, or a share
/// of an HTTP/2 one; in clear text or TLS ([`Transport`]).
pub struct Client {
    addr: SocketAddr,
    host: HeaderValue,
    timeout: Duration,
    conn: Option<Conn>,
    /// Created on first use, so it belongs to the runtime the client runs on.
    timer: Option<Pin<Box<Sleep>>>,
    /// Bytes of this client's requests (its own connection's, or what it claimed of a shared one).
    counters: Arc<IoCounters>,
    quiet: Quiet,
    /// The last path sent and its parsed form: a loop sends the same path again and again, and
    /// `Uri::from_static` parses it every time.
    uri: Option<(&'static str, Uri)>,
    /// `-H` headers, sent on every request (usually none).
    extra: Arc<[(HeaderName, HeaderValue)]>,
    /// Bind this source address before connecting (see [`source_for`]).
    source: Option<std::net::IpAddr>,
    /// Where connects refused by the process's own limits are counted.
    limits: Option<Arc<OsLimits>>,
    transport: Arc<Transport>,
    /// HTTP/2: the run's shared connections and this client's index among the virtual users.
    pool: Option<(Arc<H2Pool>, u64)>,
    handshakes: Option<Arc<Handshakes>>,
}

impl Client {
    pub fn new(addr: SocketAddr, timeout: Duration) -> Client {
        let host =
            HeaderValue::from_str(&addr.to_string()).expect("a socket address is a valid header value");
        Client {
            addr,
            host,
            timeout,
            conn: None,
            timer: None,
            counters: Arc::new(IoCounters::default()),
            quiet: Quiet::new(),
            uri: None,
            extra: Arc::from([]),
            source: None,
            limits: None,
            transport: Arc::new(Transport::default()),
            pool: None,
            handshakes: None,
        }
    }

    /// Connect from `source` (None: the system's choice) and count limit failures in `limits`.
    pub fn with_source(mut self, source: Option<std::net::IpAddr>, limits: Arc<OsLimits>) -> Client {
        self.source = source;
        self.limits = Some(limits);
        self
    }

    /// Reach the target over `transport`; HTTP/2 connections come from `pool` as virtual user
    /// `index`; TLS handshakes are counted in `handshakes`.
    pub fn with_transport(
        mut self,
        transport: Arc<Transport>,
        pool: Option<(Arc<H2Pool>, u64)>,
        handshakes: Option<Arc<Handshakes>>,
    ) -> Client {
        if let Some(host) = &transport.authority {
            self.host = host.clone();
        }
        self.transport = transport;
        self.pool = pool;
        self.handshakes = handshakes;
        self
    }

    async fn open(&self) -> std::io::Result<TcpStream> {
        let Some(source) = self.source else { return TcpStream::connect(self.addr).await };
        let socket = match source {
            std::net::IpAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
            std::net::IpAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
        };
        socket.bind(SocketAddr::new(source, 0))?;
        socket.connect(self.addr).await
    }

    /// Send `headers` on every request as well (`-H`).
    pub fn with_headers(mut self, headers: Arc<[(HeaderName, HeaderValue)]>) -> Client {
        self.extra = headers;
        self
    }

    /// Total bytes sent and received for this client's requests, counted at the socket.
    pub fn bytes(&self) -> (u64, u64) {
        (self.counters.sent.load(Ordering::Relaxed), self.counters.received.load(Ordering::Relaxed))
    }

    /// The next call opens a connection of its own (`--new-connection-per-login`): HTTP/1.1
    /// drops the current one; HTTP/2 leaves the shared one and keeps the new one to itself.
    pub fn reconnect(&mut self) {
        self.conn = None;
        self.pool = None;
    }

    /// TCP, then TLS when asked, counting at the socket into `counters`.
    async fn io(&self, deadline: Instant, counters: Arc<IoCounters>) -> Result<Io, ErrorKind> {
        let limit = CONNECT_TIMEOUT.min(deadline.saturating_duration_since(Instant::now()));
        let stream = match tokio::time::timeout(limit, self.open()).await {
            Ok(Ok(s)) => s,
            Ok(Err(e)) => {
                if let Some(l) = &self.limits {
                    l.count(&e);
                }
                return Err(ErrorKind::of_connect(&e));
            }
            // The connect limit is the request's own deadline when that comes first.
            Err(_) if Instant::now() >= deadline => return Err(ErrorKind::Timeout),
            Err(_) => return Err(ErrorKind::Connect),
        };
        let _ = stream.set_nodelay(true);
        let counting = CountingIo::new(stream, counters);
        let Some(tls) = &self.transport.tls else { return Ok(Io::Plain(counting)) };
        let connector = tokio_rustls::TlsConnector::from(tls.config.clone());
        let limit = deadline.saturating_duration_since(Instant::now());
        let io = match tokio::time::timeout(limit, connector.connect(tls.name.clone(), counting)).await {
            Ok(Ok(t)) => Io::Tls(Box::new(t)),
            Ok(Err(_)) => return Err(ErrorKind::Connect),
            Err(_) => return Err(ErrorKind::Timeout),
        };
        if let Some(h) = &self.handshakes {
            let n = if io.resumed() == Some(true) { &h.resumed } else { &h.full };
            n.fetch_add(1, Ordering::Relaxed);
        }
        Ok(io)
    }

    /// A new HTTP/2 connection, driven by a task of its own.
    async fn h2(&self, deadline: Instant) -> Result<(http2::SendRequest<Body>, Arc<IoCounters>), ErrorKind> {
        let counters = Arc::new(IoCounters::default());
        let io = self.io(deadline, counters.clone()).await?;
        let (sender, driver) = http2::Builder::new(TokioExecutor::new())
            .timer(TokioTimer::new())
            .handshake(TokioIo::new(io))
            .await
            .map_err(|_| ErrorKind::Closed)?;
        tokio::spawn(driver);
        Ok((sender, counters))
    }

    async fn connect(&mut self, deadline: Instant) -> Result<(), ErrorKind> {
        if !self.transport.http2 {
            let io = self.io(deadline, self.counters.clone()).await?;
            // Flatten: a request's head and small body go out in one `write` from one buffer,
            // rather than a `writev` of a queue of buffers (measured: less user time per request).
            let (sender, driver) = http1::Builder::new()
                .writev(false)
                .handshake(TokioIo::new(io))
                .await
                .map_err(|_| ErrorKind::Closed)?;
            self.conn = Some(Conn::H1 { sender, driver: Box::pin(driver), done: false });
            return Ok(());
        }
        let (sender, counters) = match &self.pool {
            None => self.h2(deadline).await?,
            Some((pool, index)) => {
                let slot = pool.slot(index / u64::from(self.transport.streams.max(1)));
                let mut shared = slot.lock().await;
                match shared.as_ref() {
                    Some((sender, counters)) if !sender.is_closed() => (sender.clone(), counters.clone()),
                    _ => {
                        let made = self.h2(deadline).await?;
                        *shared = Some((made.0.clone(), made.1.clone()));
                        made
                    }
                }
            }
        };
        self.conn = Some(Conn::H2 { sender, counters });
        Ok(())
    }

    /// Send one request and read its whole response; the timeout counts from `start` (the caller's
    /// clock reading, so the hot path reads the clock once per end). Any failure closes the connection.
    pub async fn call(&mut self, call: &Call<'_>, start: Instant) -> Result<Reply, ErrorKind> {
        let deadline = start + self.timeout;
        let result = self.exchange(call, deadline).await;
        if let Some(Conn::H2 { counters, .. }) = &self.conn {
            let (sent, received) = counters.claim();
            self.counters.add(sent, received);
        }
        if result.is_err() {
            self.conn = None;
        }
        result
    }

    /// The request's URI: the path for HTTP/1.1, absolute for HTTP/2 (its `:scheme` and
    /// `:authority`), parsed once per path.
    fn uri(&mut self, path: &'static str) -> Uri {
        match &self.uri {
            Some((p, uri)) if std::ptr::eq(*p, path) => uri.clone(),
            _ => {
                let uri = if self.transport.http2 {
                    let scheme = if self.transport.tls.is_some() { "https" } else { "http" };
                    Uri::builder()
                        .scheme(scheme)
                        .authority(self.host.to_str().expect("an address"))
                        .path_and_query(path)
                        .build()
                        .expect("a valid URI")
                } else {
                    Uri::from_static(path)
                };
                self.uri = Some((path, uri.clone()));
                uri
            }
        }
    }

    async fn exchange(&mut self, call: &Call<'_>, deadline: Instant) -> Result<Reply, ErrorKind> {
        let stale = match &self.conn {
            None => true,
            Some(Conn::H1 { done, sender, .. }) => *done || sender.is_closed(),
            Some(Conn::H2 { sender, .. }) => sender.is_closed(),
        };
        if stale {
            self.connect(deadline).await?;
        }
        let mut req = Request::new(call.body.as_ref().map(|(b, _)| Full::new(b.clone())).unwrap_or_default());
        *req.method_mut() = call.method.clone();
        *req.uri_mut() = self.uri(call.path);
        let h = req.headers_mut();
        if !self.transport.http2 {
            h.insert(header::HOST, self.host.clone());
        }
        if let Some((name, value)) = call.credential {
            h.insert(name.clone(), value.clone());
        }
        if let Some((name, value)) = call.csrf {
            h.insert(name.clone(), value.clone());
        }
        if let Some((_, content_type)) = &call.body {
            h.insert(header::CONTENT_TYPE, (*content_type).clone());
        }
        for (name, value) in self.extra.iter() {
            h.append(name.clone(), value.clone());
        }
        let Client { conn, timer, quiet, counters, .. } = self;
        let timer = timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        let (response, mut driver) = match conn.as_mut().expect("connected above") {
            Conn::H1 { sender, driver, done } => {
                let mut driver = Some((driver, done));
                // hyper's `send_request` future owns a channel receiver and does not borrow the
                // sender. Sending wakes the dispatcher, which `drive` polls next anyway.
                let sent = std::pin::pin!(quiet.round(|| sender.send_request(req)).0);
                (
                    drive(driver.as_mut().map(|(d, x)| (&mut **d, &mut **x)), timer, deadline, quiet, sent)
                        .await?,
                    driver,
                )
            }
            Conn::H2 { sender, .. } => {
                // A shared connection may have all its streams busy: wait for a free one.
                {
                    let ready = std::pin::pin!(sender.ready());
                    drive(None, timer, deadline, quiet, ready).await?.map_err(|_| ErrorKind::Closed)?;
                }
                let sent = std::pin::pin!(sender.send_request(req));
                (drive(None, timer, deadline, quiet, sent).await?, None)
            }
        };
        let response = response.map_err(|e| {
            let (head, n) = counters.head();
            ErrorKind::of_head_error(&e, &head[..n])
        })?;
        let (head, mut body) = response.into_parts();
        let mut kept = Vec::new();
        // A Content-Length body reports its end with its last frame: no extra poll for `None`.
        while !hyper::body::Body::is_end_stream(&body) {
            let d = driver.as_mut().map(|(d, x)| (&mut **d, &mut **x));
            match drive(d, timer, deadline, quiet, std::pin::pin!(body.frame())).await? {
                None => break,
                Some(Err(e)) => return Err(ErrorKind::of_body_error(&e)),
                Some(Ok(frame)) => {
                    if call.want_body
                        && let Some(data) = frame.data_ref()
                    {
                        kept.extend_from_slice(data);
                    }
                }
            }
        }
        Ok(Reply { status: head.status, headers: head.headers, body: Bytes::from(kept) })
    }
}

/// Poll `fut` (and an HTTP/1.1 connection's driver, when given) together until `fut` is ready,
/// the connection ends, or the request's deadline passes. The timer is re-armed only when it
/// fires early (it was set for an earlier request), so the common case costs no timer operation.
async fn drive<F: Future>(
    mut driver: Option<(&mut Pin<Box<H1Driver>>, &mut bool)>,
    timer: &mut Pin<Box<Sleep>>,
    deadline: Instant,
    quiet: &Quiet,
    // Pinned by the caller: hyper's request future is a few hundred bytes, not worth moving.
    mut fut: Pin<&mut F>,
) -> Result<F::Output, ErrorKind> {
    std::future::poll_fn(|cx| {
        quiet.state.task.register(cx.waker());
        let mut icx = Context::from_waker(&quiet.waker);
        for _ in 0..QUIET_ROUNDS {
            let (polled, woken) = quiet.round(|| {
                if let Poll::Ready(v) = fut.as_mut().poll(&mut icx) {
                    return Some(Ok(v));
                }
                if let Some((d, done)) = driver.as_mut()
                    && !**done
                    && d.as_mut().poll(&mut icx).is_ready()
                {
                    **done = true;
                    // The dispatcher is gone: the request future resolves now (with an error) or never.
                    return Some(match fut.as_mut().poll(&mut icx) {
                        Poll::Ready(v) => Ok(v),
                        Poll::Pending => Err(ErrorKind::Closed),
                    });
                }
                while timer.as_mut().poll(&mut icx).is_ready() {
                    if Instant::now() >= deadline {
                        return Some(Err(ErrorKind::Timeout));
                    }
                    timer.as_mut().reset(deadline);
                }
                None
            });
            if let Some(out) = polled {
                return Poll::Ready(out);
            }
            // Woken by our own polling (the driver handed `fut` its answer, or took a request
            // off its channel): poll again now instead of a round trip through the scheduler.
            if !woken {
                return Poll::Pending;
            }
        }
        // Still being woken (a cooperative-budget yield, say): give the task back to the scheduler.
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await
}

/// How many times [`drive`] re-polls in place before yielding to the scheduler.
const QUIET_ROUNDS: usize = 4;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_connections_spread_over_eight_source_addresses() {
        let target: SocketAddr = "127.0.0.1:80".parse().unwrap();
        let sources: std::collections::BTreeSet<_> =
            (0..100).map(|n| source_for(target, n).unwrap()).collect();
        assert_eq!(sources.len(), 8);
        assert!(sources.iter().all(|s| s.is_loopback()));
        assert_eq!(
            source_for("10.0.0.1:80".parse().unwrap(), 3),
            None,
            "a remote target: the system's route"
        );
        assert_eq!(source_for("[::1]:80".parse().unwrap(), 3), None);
    }

    #[tokio::test]
    async fn a_client_connects_from_its_source_address() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = Client::new(addr, Duration::from_secs(1))
            .with_source(source_for(addr, 2), Arc::new(OsLimits::default()));
        let (_stream, (_, peer)) = tokio::join!(client.open(), async { listener.accept().await.unwrap() });
        assert_eq!(peer.ip(), "127.0.0.3".parse::<std::net::IpAddr>().unwrap());
    }
}
