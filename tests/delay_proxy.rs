//! The delay proxy (`authbench delay-proxy`): a round trip through it at delay D takes D longer
//! than through it at delay 0 (median of 1,000 `PING`s, within 20% of D, for 250 µs and 1 ms), and
//! bytes stay in order, pipelined or large.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use authbench::delay_proxy::{DelayProxyArgs, start};
use common::{RedisServer, ServeArgs, require_redis};

/// Redis's address in its URL (which may carry a password).
fn upstream(redis: &RedisServer) -> SocketAddr {
    match redis::Client::open(redis.url()).unwrap().get_connection_info().addr() {
        redis::ConnectionAddr::Tcp(host, port) => format!("{host}:{port}").parse().unwrap(),
        other => panic!("not TCP: {other:?}"),
    }
}

/// A proxy at `rtt` in front of `redis`; the URL to reach Redis through it.
fn proxy(redis: &RedisServer, rtt: Duration) -> String {
    let up = upstream(redis);
    let addr =
        start(&DelayProxyArgs { upstream: up, rtt, listen: "127.0.0.1:0".parse().unwrap() }).unwrap().addr;
    redis.url().replace(&up.to_string(), &addr.to_string())
}

fn median_ping(url: String) -> Duration {
    let mut conn = redis::Client::open(url).unwrap().get_connection().unwrap();
    let mut times: Vec<Duration> = (0..1_000)
        .map(|_| {
            let t = Instant::now();
            let _: String = redis::cmd("PING").query(&mut conn).unwrap();
            t.elapsed()
        })
        .collect();
    times.sort_unstable();
    times[times.len() / 2]
}

#[test]
fn a_round_trip_takes_the_rtt_longer_and_bytes_stay_in_order() {
    require_redis();
    let redis = RedisServer::start().unwrap();
    let zero = median_ping(proxy(&redis, Duration::ZERO));
    for rtt in [Duration::from_micros(250), Duration::from_millis(1)] {
        let added = median_ping(proxy(&redis, rtt)).saturating_sub(zero);
        let err = (added.as_secs_f64() - rtt.as_secs_f64()).abs() / rtt.as_secs_f64();
        eprintln!(
            "rtt {rtt:?}: median through the proxy at 0 {zero:?}, added {added:?} ({:.0}% off)",
            err * 100.0
        );
        assert!(err < 0.2, "rtt {rtt:?}: added {added:?} over {zero:?}");
    }

    // In order: 2,000 pipelined INCRs answer 1..=2000, and a 1 MiB value comes back whole.
    let mut conn =
        redis::Client::open(proxy(&redis, Duration::from_micros(500))).unwrap().get_connection().unwrap();
    let mut pipe = redis::pipe();
    for _ in 0..2_000 {
        pipe.cmd("INCR").arg("ab:delay:n");
    }
    let got: Vec<u64> = pipe.query(&mut conn).unwrap();
    assert_eq!(got, (1..=2_000).collect::<Vec<u64>>());
    let big: Vec<u8> = (0..1 << 20).map(|i| (i % 251) as u8).collect();
    let _: () = redis::cmd("SET").arg("ab:delay:big").arg(&big).query(&mut conn).unwrap();
    let back: Vec<u8> = redis::cmd("GET").arg("ab:delay:big").query(&mut conn).unwrap();
    assert!(back == big, "the value came back changed");
}

/// `serve --store-rtt`: every store call of a session server crosses the hop (a `GET /api/me`
/// takes at least the RTT), through a proxy child that dies with the server.
#[test]
fn serve_store_rtt_puts_the_hop_under_every_store_call() {
    require_redis();
    let rtt = Duration::from_millis(4);
    let server = common::Server::spawn(&ServeArgs { store_rtt: Some(rtt), ..common::serve("session") });
    let proxies: Vec<common::Proc> =
        common::descendants(server.pid()).into_iter().filter(|p| p.comm == "authbench").collect();
    assert_eq!(proxies.len(), 1, "one delay-proxy child: {proxies:?}");
    let cookie = server.login(1).cookie_pair();
    let mut times: Vec<Duration> = (0..15)
        .map(|_| {
            let t = Instant::now();
            assert_eq!(server.get("/api/me", &[("Cookie", &cookie)]).status, 200);
            t.elapsed()
        })
        .collect();
    times.sort_unstable();
    assert!(times[times.len() / 2] >= rtt, "median {:?} below the {rtt:?} RTT", times[times.len() / 2]);
    drop(server);
    let gone = (0..100).any(|_| {
        std::thread::sleep(Duration::from_millis(20));
        proxies.iter().all(|p| !p.running())
    });
    assert!(gone, "the delay proxy outlived its server");
}
