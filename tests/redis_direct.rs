//! Redis driven directly (compare's Redis-at-the-plan's-load phase): a paced window against a
//! private redis-server executes what it was asked, and Redis's cost per lookup is read from its
//! own counters.

mod common;

use std::time::Duration;

use authbench::compare::redis_direct::{Lookup, drive, populate, resize};
use common::{RedisServer, require_redis};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paced_window_runs_at_its_rate_and_reads_redis_cost_per_lookup() {
    require_redis();
    let redis = RedisServer::start().unwrap();
    let url = redis.url();
    populate(&url, "ab:rd:", 10_000).await.unwrap();
    for lookup in [Lookup::Getex, Lookup::Mget3, Lookup::GetPttl] {
        let r = drive(&url, "ab:rd:", lookup, 10_000, 2_000.0, Duration::from_secs(1), 2).await.unwrap();
        eprintln!("{r:?}");
        assert!((r.achieved_rps / 2_000.0 - 1.0).abs() < 0.25, "{r:?}");
        assert!(r.us_per_lookup > 0.0 && r.us_per_lookup < 1_000.0, "{r:?}");
        assert!((r.busy - r.achieved_rps * r.us_per_lookup / 1e6).abs() < 1e-6, "{r:?}");
        // Redis's own time per command, as the sweep reads it for a scheme: below its whole CPU.
        let usec = r.usec_per_call.expect("commandstats usec");
        assert!(usec > 0.0 && usec < r.us_per_lookup, "{r:?}");
        // Redis's own count of commands per socket read: at least one (the drive's batching).
        assert!(r.commands_per_read.is_some_and(|c| c >= 1.0), "{r:?}");
    }
    // A level after a larger one holds exactly its own keys (claim 4's control in random order).
    resize(&url, "ab:rd:", 10_000, 4_000).await.unwrap();
    assert_eq!(authbench::harness::redis::count_matching(&url, "ab:rd:*").await.unwrap(), 4_000);
    resize(&url, "ab:rd:", 4_000, 6_000).await.unwrap();
    assert_eq!(authbench::harness::redis::count_matching(&url, "ab:rd:*").await.unwrap(), 6_000);
}

/// Not a test: what `at_utilisation` reaches on this machine (`--ignored --nocapture`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn probe_at_sixty_percent() {
    let redis = RedisServer::start().unwrap();
    let url = redis.url();
    populate(&url, "ab:rd:", 100_000).await.unwrap();
    for lookup in [Lookup::Getex, Lookup::Mget3] {
        let r = authbench::compare::redis_direct::at_utilisation(
            &url,
            "ab:rd:",
            lookup,
            100_000,
            0.6,
            Duration::from_secs(3),
            Some(40_000.0),
            1,
        )
        .await
        .unwrap();
        eprintln!("{r:?}");
    }
}
