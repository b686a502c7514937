//! Reference loops for `scripts/bench-loadgen.sh throughput` (with `REFS=1`): what a closed-loop
//! `GET /healthz` generator costs with nothing but the HTTP client, so the figures can separate
//! authbench's own overhead (recording, flows, timeouts) from its HTTP layer's.
//!
//!   cargo run --release -p authbench-loadgen --example floor -- <hyper|raw> ADDR CONNS SECS
//!
//! - `hyper`: hyper's HTTP/1.1 client connection as its documentation uses it (the connection
//!   driven by its own task), `send_request` + collect the body;
//! - `raw`: a hand-written keep-alive loop: one `write` of a prebuilt request, `read` + httparse
//!   until the Content-Length body is complete (enough for /healthz, nothing more).
//!
//! Both run one single-threaded tokio runtime per core with the connections spread over them (as
//! authbench and wrk do), record nothing, and print `requests N seconds S rps R`.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const USAGE: &str = "usage: floor <hyper|raw> ADDR CONNS SECS   (ADDR a loopback ip:port, SECS 1..=600)";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (mode, addr, conns, secs) = match parse(&args) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("floor: {e}\n{USAGE}");
            std::process::exit(2);
        }
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let end = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let mine = (t..conns).step_by(threads).count();
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
                rt.block_on(async move {
                    let loops: Vec<_> = (0..mine)
                        .map(|_| match mode {
                            Mode::Hyper => tokio::spawn(hyper_loop(addr, end)),
                            Mode::Raw => tokio::spawn(raw_loop(addr, end)),
                        })
                        .collect();
                    let mut n = 0;
                    for l in loops {
                        n += l.await.expect("loop task").unwrap_or_else(|e| {
                            eprintln!("floor: {e}");
                            std::process::exit(1);
                        });
                    }
                    n
                })
            })
        })
        .collect();
    let requests: u64 = workers.into_iter().map(|w| w.join().expect("worker thread")).sum();
    let elapsed = started.elapsed().as_secs_f64();
    println!("requests {requests} seconds {elapsed:.3} rps {:.0}", requests as f64 / elapsed);
}

#[derive(Clone, Copy)]
enum Mode {
    Hyper,
    Raw,
}

fn parse(args: &[String]) -> Result<(Mode, SocketAddr, usize, u64), String> {
    let [mode, addr, conns, secs] = args else { return Err("expected four arguments".into()) };
    let mode = match mode.as_str() {
        "hyper" => Mode::Hyper,
        "raw" => Mode::Raw,
        other => return Err(format!("unknown mode {other:?}")),
    };
    let addr: SocketAddr = addr.parse().map_err(|e| format!("ADDR {addr:?}: {e}"))?;
    if !addr.ip().is_loopback() {
        return Err(format!("{addr} is not a loopback address: load goes to this machine only"));
    }
    let conns = conns.parse().ok().filter(|c| (1..=10_000).contains(c)).ok_or("CONNS must be 1..=10000")?;
    let secs = secs.parse().ok().filter(|s| (1..=600).contains(s)).ok_or("SECS must be 1..=600")?;
    Ok((mode, addr, conns, secs))
}

async fn connect(addr: SocketAddr) -> Result<TcpStream, String> {
    let s = TcpStream::connect(addr).await.map_err(|e| format!("connect {addr}: {e}"))?;
    s.set_nodelay(true).map_err(|e| e.to_string())?;
    Ok(s)
}

async fn hyper_loop(addr: SocketAddr, end: Instant) -> Result<u64, String> {
    let io = TokioIo::new(connect(addr).await?);
    let (mut sender, conn) = http1::handshake::<_, Empty<Bytes>>(io).await.map_err(|e| e.to_string())?;
    tokio::spawn(conn);
    let host = addr.to_string();
    let mut n = 0;
    while Instant::now() < end {
        let req = hyper::Request::get("/healthz").header(hyper::header::HOST, &host).body(Empty::new());
        let res = sender.send_request(req.map_err(|e| e.to_string())?).await.map_err(|e| e.to_string())?;
        if !res.status().is_success() {
            return Err(format!("GET /healthz answered {}", res.status()));
        }
        res.into_body().collect().await.map_err(|e| e.to_string())?;
        n += 1;
    }
    Ok(n)
}

async fn raw_loop(addr: SocketAddr, end: Instant) -> Result<u64, String> {
    let mut s = connect(addr).await?;
    let req = format!("GET /healthz HTTP/1.1\r\nhost: {addr}\r\n\r\n").into_bytes();
    let mut buf = vec![0u8; 8192];
    let mut n = 0;
    while Instant::now() < end {
        s.write_all(&req).await.map_err(|e| e.to_string())?;
        let mut have = 0;
        loop {
            let got = s.read(&mut buf[have..]).await.map_err(|e| e.to_string())?;
            if got == 0 {
                return Err("connection closed by the server".into());
            }
            have += got;
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut res = httparse::Response::new(&mut headers);
            let httparse::Status::Complete(head) = res.parse(&buf[..have]).map_err(|e| e.to_string())? else {
                continue;
            };
            if res.code != Some(200) {
                return Err(format!("GET /healthz answered {:?}", res.code));
            }
            let len = res
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                .and_then(|h| std::str::from_utf8(h.value).ok()?.parse::<usize>().ok())
                .ok_or("no Content-Length (the raw loop reads nothing else)")?;
            if have >= head + len {
                break; // one request in flight per connection: nothing follows the body
            }
            if head + len > buf.len() {
                return Err("response larger than the read buffer".into());
            }
        }
        n += 1;
    }
    Ok(n)
}
