//! `authbench delay-proxy`: a TCP proxy that holds every chunk of bytes, in each direction, for
//! half a round-trip time, so a server and its Redis are one network hop apart on loopback.
//!
//! Written here, not taken: `netem` is not in this machine's kernel, Toxiproxy is not in Debian,
//! and the Rust port `noxious` is unmaintained. Built to the transport issue's spec:
//! - **sub-millisecond precision**: each chunk is stamped when it is read and released at that
//!   instant + the delay by one release thread sleeping on a futex with a 1 µs timer slack
//!   (tokio's timer has a 1 ms grain, and `sleep(delay)` per chunk would add the wake-up late);
//! - **no serialisation**: a chunk's release time is its own arrival + delay, whatever is queued
//!   before it, so a multiplexed connection's back-to-back commands keep their spacing;
//! - **bytes in order**: per connection and direction, arrivals (and so release times) only grow,
//!   and ties are released in arrival order; a closed side is passed on (`shutdown`) in order too.
//!
//! Plain threads and blocking sockets: a reader thread per connection and direction (Redis
//! clients hold a few long-lived connections), one release thread for all. A destination that
//! stops reading would stall the release thread's blocking write; Redis and its clients read
//! what they are sent.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::num::NonZeroU64;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use clap::Args;

/// Options of `authbench delay-proxy`.
#[derive(Debug, Clone, Args)]
#[command(
    about = "A TCP proxy that delays each direction by half --rtt (a network hop between a server and its Redis, on loopback)"
)]
pub struct DelayProxyArgs {
    /// Where to forward connections (Redis's address).
    #[arg(long)]
    pub upstream: SocketAddr,
    /// Round-trip time to add: each direction is held for half of it. `0` passes bytes through
    /// the same path without delay (so the proxy's own cost is in both arms of a comparison).
    #[arg(long, value_parser = authbench_util::parse::parse_duration)]
    pub rtt: Duration,
    /// Address to listen on; port 0 picks a free one. The first stdout line says which:
    /// `listening on IP:PORT`.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
}

/// One chunk on its way: released at `due`, to `to` (or `to` shut for writing when `data` is
/// empty: the source side closed).
struct Chunk {
    due: Instant,
    seq: u64,
    to: Arc<TcpStream>,
    data: Vec<u8>,
}

impl PartialEq for Chunk {
    fn eq(&self, o: &Self) -> bool {
        (self.due, self.seq) == (o.due, o.seq)
    }
}
impl Eq for Chunk {}
impl PartialOrd for Chunk {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Chunk {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.due, self.seq).cmp(&(o.due, o.seq))
    }
}

/// A running proxy (its threads end with the process).
pub struct DelayProxy {
    pub addr: SocketAddr,
}

/// Bind, start the release thread and the accept loop (on threads of their own); returns the
/// bound address at once.
pub fn start(args: &DelayProxyArgs) -> io::Result<DelayProxy> {
    let listener = TcpListener::bind(args.listen)?;
    let addr = listener.local_addr()?;
    let (tx, rx) = mpsc::channel::<Chunk>();
    std::thread::Builder::new().name("release".into()).spawn(move || release(rx))?;
    let (upstream, half) = (args.upstream, args.rtt / 2);
    std::thread::Builder::new().name("accept".into()).spawn(move || {
        let seq = Arc::new(std::sync::atomic::AtomicU64::new(0));
        for client in listener.incoming().flatten() {
            let Ok(server) = TcpStream::connect(upstream) else { continue };
            let _ = (client.set_nodelay(true), server.set_nodelay(true));
            let (client, server) = (Arc::new(client), Arc::new(server));
            for (from, to) in [(client.clone(), server.clone()), (server, client)] {
                let (tx, seq) = (tx.clone(), seq.clone());
                let _ = std::thread::Builder::new()
                    .name("read".into())
                    .spawn(move || pass(&from, to, half, &tx, &seq));
            }
        }
    })?;
    Ok(DelayProxy { addr })
}

/// Read `from` until it closes, queueing each chunk for release `half` after it arrived.
fn pass(
    from: &TcpStream,
    to: Arc<TcpStream>,
    half: Duration,
    tx: &Sender<Chunk>,
    seq: &std::sync::atomic::AtomicU64,
) {
    let mut buf = vec![0u8; 64 * 1024];
    let next = || seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    loop {
        let n = (&*from).read(&mut buf).unwrap_or(0);
        let due = Instant::now() + half;
        let data = buf[..n].to_vec();
        if tx.send(Chunk { due, seq: next(), to: to.clone(), data }).is_err() || n == 0 {
            return;
        }
    }
}

/// Release every chunk at its time, in time order.
fn release(rx: Receiver<Chunk>) {
    // A 1 µs timer slack (the default is 50 µs) so the futex wait below ends on time.
    let _ = rustix::thread::set_current_timer_slack(NonZeroU64::new(1_000));
    let mut queue: BinaryHeap<Reverse<Chunk>> = BinaryHeap::new();
    loop {
        let got = match queue.peek() {
            None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
            Some(Reverse(c)) => match c.due.checked_duration_since(Instant::now()) {
                None => Err(RecvTimeoutError::Timeout),
                Some(wait) => rx.recv_timeout(wait),
            },
        };
        match got {
            Ok(c) => queue.push(Reverse(c)),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) if queue.is_empty() => return,
            Err(RecvTimeoutError::Disconnected) => {}
        }
        let now = Instant::now();
        while queue.peek().is_some_and(|Reverse(c)| c.due <= now) {
            let Reverse(c) = queue.pop().expect("peeked");
            if c.data.is_empty() {
                let _ = c.to.shutdown(Shutdown::Write);
            } else if (&*c.to).write_all(&c.data).is_err() {
                let _ = c.to.shutdown(Shutdown::Both);
            }
        }
    }
}

/// `authbench delay-proxy`: print the address, serve until killed.
pub fn run(args: DelayProxyArgs) -> i32 {
    use authbench_util::process::{exit, fail};
    match start(&args) {
        Ok(p) => {
            println!("listening on {}", p.addr);
            let _ = io::stdout().flush();
            loop {
                std::thread::park();
            }
        }
        Err(e) => fail(&format!("delay-proxy: cannot listen on {}: {e}", args.listen), exit::BAD_INPUT),
    }
}
