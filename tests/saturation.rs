//! The saturation search against a server whose capacity is known: a small in-process HTTP/1.1
//! server on 127.0.0.1:0 that answers `GET /healthz` at most `RATE` times a second (one FIFO
//! queue, one answer per 1/RATE), driven by the real open-model generator through
//! `compare::open_model::search`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use authbench::compare::knee::SearchPlan;
use authbench::compare::open_model::{SearchSettings, search};
use authbench_loadgen::CancellationToken;
use authbench_loadgen::LoadConfig;
use authbench_loadgen::{LoadModel, Ramp};
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::time::Instant;

/// Answers per second the throttled server can give.
const RATE: f64 = 1000.0;

/// Serve `GET <anything>` → 200, at most `rate` answers per second in arrival order.
async fn throttled_server(rate: f64) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let next_slot = Arc::new(Mutex::new(Instant::now()));
    let period = Duration::from_secs_f64(1.0 / rate);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            let next_slot = next_slot.clone();
            tokio::spawn(async move {
                let service = service_fn(move |_req: Request<hyper::body::Incoming>| {
                    let next_slot = next_slot.clone();
                    async move {
                        let slot = {
                            let mut next = next_slot.lock().unwrap();
                            let slot = (*next).max(Instant::now());
                            *next = slot + period;
                            slot
                        };
                        tokio::time::sleep_until(slot).await;
                        Ok::<_, Infallible>(Response::new(http_body_util::Full::new(
                            bytes::Bytes::from_static(b"ok"),
                        )))
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_search_finds_the_knee_of_a_server_throttled_to_a_known_rate() {
    let addr = throttled_server(RATE).await;
    let placeholder = LoadModel::Open { rate_stages: Ramp::constant(1.0, Duration::from_secs(1)), vus: 1 };
    let base = LoadConfig::new(addr, None, placeholder);
    let settings = SearchSettings {
        plan: SearchPlan {
            start_rps: RATE / 4.0,
            factor: 2.0,
            max_rps: RATE * 16.0,
            min_rps: 10.0,
            refinements: 2,
            past_knee: 1,
            max_steps: 10,
        },
        step: Duration::from_secs(1),
        // Far above what timer jitter on a busy test machine can cause, so the knee found here is
        // the throughput limit (achieved < 95% of offered), which only the server's cap can set;
        // the p99 limit is covered by the unit tests of `knee`.
        slo_p99_us: 1_000_000.0,
    };
    let mut offered = Vec::new();
    let found =
        search(&base, &settings, None, None, &CancellationToken::new(), |r| offered.push(r)).await.unwrap();
    let table: Vec<String> = found
        .steps
        .iter()
        .map(|s| {
            format!(
                "{:.0} → {:.0} req/s p99 {:?} µs {}",
                s.offered_rps,
                s.achieved_rps(),
                s.p99_us(),
                s.limits.label()
            )
        })
        .collect();
    let table = table.join("\n");
    eprintln!("{table}");
    assert_eq!(offered.len(), found.steps.len());
    assert!(!found.interrupted);

    let knee = found.knee_step().unwrap_or_else(|| panic!("no knee found:\n{table}"));
    let sustained = found.sustained_step().unwrap_or_else(|| panic!("no sustained step:\n{table}"));
    assert!(
        knee.offered_rps >= RATE * 0.8 && knee.offered_rps <= RATE * 1.45,
        "knee at {:.0} req/s offered, the server answers {RATE} req/s:\n{table}",
        knee.offered_rps
    );
    assert!(
        sustained.achieved_rps() >= RATE * 0.65 && sustained.achieved_rps() <= RATE * 1.05,
        "max sustainable {:.0} req/s, the server answers {RATE} req/s:\n{table}",
        sustained.achieved_rps()
    );
    for s in &found.steps {
        if s.offered_rps >= RATE * 1.3 {
            // Well above the cap, the server cannot keep up: achieved < 95% of offered.
            assert!(
                s.limits.throughput,
                "{:.0} req/s offered should not be sustained:\n{table}",
                s.offered_rps
            );
            assert!(s.achieved_rps() <= RATE * 1.1, "achieved above the server's cap:\n{table}");
        }
        if s.offered_rps <= RATE * 0.6 {
            assert!(!s.limits.any(), "{:.0} req/s offered is well below the cap:\n{table}", s.offered_rps);
        }
    }
    // The plots need a step past the knee: at least one step offered above the knee.
    assert!(found.steps.iter().any(|s| s.offered_rps > knee.offered_rps), "{table}");
}
