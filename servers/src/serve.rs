//! The accept loop shared by every scheme (HTTP/1.1 and HTTP/2, clear text or TLS), and `authbench serve`'s start-up.
//!
//! hyper's connection builder is used directly (rather than `axum::serve`) for the limits a
//! benchmark target needs and axum does not expose: a header-size cap (431 above 8 KiB), a header
//! read timeout so idle or slow connections cannot pin the server, a body read timeout so a
//! request head followed by a trickled (or never sent) body cannot either, and graceful shutdown.
//! [`ServeLimits`] holds the timeouts; [`serve`] uses its defaults.

use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use authbench_util::signal::shutdown_signal;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

use crate::body::TimedBody;
use crate::build::build;
use crate::config::ServeArgs;
use crate::error::{Error, Result};
use crate::tls::Tls;
use crate::limits::{MAX_H2_HEADER_LIST_BYTES, BODY_READ_TIMEOUT, HEADER_READ_TIMEOUT, MAX_HEAD_BYTES};

/// Per-connection time limits of [`serve_with`]. `Default` is what [`serve`] and `authbench serve`
/// use; tests shorten them to watch slow connections being closed without waiting 10 s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeLimits {
    /// Time allowed for a complete request head, counted from the connection's first read and,
    /// on keep-alive connections, from the end of the previous response (so it is also the idle
    /// timeout).
    pub header_read_timeout: Duration,
    /// Requests (logins aside) in progress at once, over every connection ([`crate::in_flight`]).
    pub max_in_flight: usize,
    /// Time allowed for a request body to arrive in full, counted from when the handler first
    /// waits for it (at once, for login and refresh).
    pub body_read_timeout: Duration,
}

impl Default for ServeLimits {
    fn default() -> Self {
        ServeLimits {
            header_read_timeout: HEADER_READ_TIMEOUT,
            body_read_timeout: BODY_READ_TIMEOUT,
            max_in_flight: crate::in_flight::default_limit(None),
        }
    }
}

/// Bind a loopback address. Anything else is refused: authbench targets only this machine.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener> {
    if !addr.ip().is_loopback() {
        return Err(Error::NotLoopback(addr));
    }
    TcpListener::bind(addr).await.map_err(|source| Error::Bind { addr, source })
}

/// `serve --addr`: loopback as [`bind`]; any other address is bound too (for generators on other
/// hosts, `load --allow-remote`), with a warning on stderr.
pub async fn bind_announced(addr: SocketAddr) -> Result<TcpListener> {
    if addr.ip().is_loopback() {
        return bind(addr).await;
    }
    eprintln!(
        "authbench serve: warning: listening on {addr}, not on loopback: whoever reaches it can log in \
as the synthetic users and load this machine"
    );
    TcpListener::bind(addr).await.map_err(|source| Error::Bind { addr, source })
}

/// Serve `router` on `listener` until `shutdown` resolves, then drain open connections (5 s max).
pub async fn serve(listener: TcpListener, router: Router, shutdown: impl Future<Output = ()>) -> Result<()> {
    serve_with(listener, router, shutdown, ServeLimits::default(), None).await
}

/// HTTP/1.1 and HTTP/2 on one port: hyper-util's auto builder reads the connection's first bytes
/// (HTTP/2's preface, else HTTP/1.1), so clear text serves h2c with prior knowledge beside
/// HTTP/1.1, and over TLS whichever ALPN chose. HTTP/1.1 keeps its head-size cap and read
/// timeout; HTTP/2 gets a cap on its header list (see [`MAX_H2_HEADER_LIST_BYTES`]) and a bound on
/// concurrent streams.
fn http_builder(limits: ServeLimits) -> auto::Builder<TokioExecutor> {
    let mut http = auto::Builder::new(TokioExecutor::new());
    http.http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(MAX_HEAD_BYTES)
        .keep_alive(true);
    http.http2()
        .timer(TokioTimer::new())
        .max_header_list_size(MAX_H2_HEADER_LIST_BYTES)
        .max_concurrent_streams(MAX_STREAMS)
        .keep_alive_interval(Some(limits.header_read_timeout))
        .keep_alive_timeout(limits.header_read_timeout);
    http
}

/// Streams one HTTP/2 connection may have open at once (a client beyond it waits).
pub const MAX_STREAMS: u32 = 256;

/// [`serve`] with explicit time limits, over TLS when `tls` is given.
pub async fn serve_with(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()>,
    limits: ServeLimits,
    tls: Option<&Tls>,
) -> Result<()> {
    let graceful = GracefulShutdown::new();
    // Clear text: the auto builder reads the first bytes to tell h2c from HTTP/1.1. Over TLS,
    // ALPN has said which already.
    let auto = http_builder(limits);
    let http = Arc::new([auto.clone(), auto.clone().http1_only(), auto.http2_only()]);
    tokio::pin!(shutdown);
    // Connections open now, for saying which limit stops the server from accepting more.
    let open = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut said_limit: Option<std::time::Instant> = None;
    let slots = crate::in_flight::Slots::new(limits.max_in_flight);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Linux ENFILE 23 / EMFILE 24: the open-file limit. Said once per 10 s.
                        if matches!(e.raw_os_error(), Some(23 | 24))
                            && said_limit.is_none_or(|t| t.elapsed() >= Duration::from_secs(10))
                        {
                            said_limit = Some(std::time::Instant::now());
                            eprintln!(
                                "authbench serve: LIMIT: the open-file limit ({}) refuses new connections with {} open ({e}); \
        they wait in the listen backlog",
                                authbench_util::sys::raise_nofile_limit().unwrap_or(0),
                                open.load(std::sync::atomic::Ordering::Relaxed)
                            );
                        }
                        // EMFILE and friends: back off instead of spinning; the listener stays up.
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let body_timeout = limits.body_read_timeout;
                let service = TowerToHyperService::new(tower::ServiceExt::map_request(
                    slots.around(router.clone()),
                    move |mut req: http::Request<Incoming>| {
                        // The client's address, for the login throttle's per-source count.
                        req.extensions_mut().insert(axum::extract::ConnectInfo(peer));
                        req.map(|body| TimedBody::new(body, body_timeout))
                    },
                ));
                let (http, watcher, open) = (http.clone(), graceful.watcher(), open.clone());
                let tls = tls.map(|t| (t.acceptor.clone(), t.resumption.clone()));
                open.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tokio::spawn(async move {
                    // A silent client gets the head's time limit, whichever protocol it would speak:
                    // the auto builder's first read and the TLS handshake have no limit of their own.
                    let limit = limits.header_read_timeout;
                    match tls {
                        None => {
                            if let Ok(Ok(1..)) = tokio::time::timeout(limit, stream.peek(&mut [0u8; 1])).await {
                                let conn = http[0].serve_connection(TokioIo::new(stream), service);
                                let _ = watcher.watch(conn).await;
                            }
                        }
                        Some((acceptor, resumption)) => {
                            if let Ok(Ok(stream)) = tokio::time::timeout(limit, acceptor.accept(stream)).await {
                                resumption.count(stream.get_ref().1);
                                let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
                                let conn = http[if h2 { 2 } else { 1 }].serve_connection(TokioIo::new(stream), service);
                                let _ = watcher.watch(conn).await;
                            }
                        }
                    }
                    open.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(Duration::from_secs(5)) => {}
    }
    Ok(())
}

/// The tokio runtime every server runs on: multi-threaded, one worker per core unless told.
pub fn runtime(workers: Option<usize>) -> std::io::Result<tokio::runtime::Runtime> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all();
    if let Some(n) = workers {
        builder.worker_threads(n.max(1));
    }
    builder.build()
}

/// `authbench serve`: build, bind, announce, serve until a signal.
///
/// The first stdout line is `listening on http://IP:PORT`; details go to stderr so the line is
/// easy to read from a child process.
pub async fn run(args: ServeArgs) -> Result<()> {
    let started = Instant::now();
    // One socket per client connection: 10,000 users need more than the usual 1,024 soft limit.
    let nofile = authbench_util::sys::raise_nofile_limit().unwrap_or(0);
    let listener = bind_announced(args.addr).await?;
    let built = build(&args).await?;
    let tls = match args.tls {
        true => {
            let out = args.cert_out.clone().unwrap_or_else(crate::tls::default_cert_out);
            Some(crate::tls::setup(args.cert.as_deref(), args.key.as_deref(), &out)?)
        }
        false => None,
    };
    let addr = listener.local_addr()?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", authbench_contract::listening::line_over(addr, tls.is_some()))?;
        out.flush()?;
    }
    if let Some(path) = tls.as_ref().and_then(|t| t.written.as_ref()) {
        eprintln!("authbench serve: TLS certificate (self-signed, generated) written to {}", path.display());
    }
    eprintln!(
        "authbench serve {}: {} users, login cost {}{}, open-file limit {nofile}, started in {:.0} ms{}",
        built.scheme,
        built.users.len(),
        built.users.cost(),
        if args.fast_login { " (--fast-login)" } else { "" },
        started.elapsed().as_secs_f64() * 1e3,
        match (&built.redis_url, &built.redis) {
            (Some(url), Some(_)) => format!(", private redis-server at {}", crate::redis_conn::redact_url(url)),
            // The URL may carry a password: say only which prefix is ours.
            (Some(_), None) =>
                format!(", external redis, key prefix {}", built.redis_prefix.as_deref().unwrap_or("")),
            _ => String::new(),
        } + &match &built.store_proxy {
            Some(p) => format!(
                ", store {} µs RTT away through delay-proxy pid {} at {}",
                p.rtt().as_micros(),
                p.pid(),
                p.addr()
            ),
            None => String::new(),
        }
    );
    let limits = ServeLimits {
        header_read_timeout: args.idle_timeout,
        max_in_flight: args.max_in_flight(),
        ..ServeLimits::default()
    };
    serve_with(listener, built.router, shutdown_signal(), limits, tls.as_ref()).await?;
    if let Some(t) = &tls {
        eprintln!("authbench serve: {}", t.resumption.describe());
        if let Some(path) = &t.written {
            let _ = std::fs::remove_file(path);
        }
    }
    drop(built.redis);
    Ok(())
}
