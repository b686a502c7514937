//! The cross-replica checks of `compare --replicas N` (N > 1), before anything is measured: each
//! replica is addressed directly, bypassing HAProxy.
//!
//! - `credential_accepted_across_replicas` (every scheme): a credential issued by replica 1 is
//!   accepted by every other replica — the replicas share their keys or their store.
//! - `revocation_holds_across_replicas` (the schemes that keep state and so promise revocation):
//!   after every replica has served the credential (so a per-replica cache holds it), a logout
//!   through replica 1 is rejected by every other replica within the scheme's promised window
//!   ([`super::revocation::promised_window`]) plus [`SLACK`].

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::Result;
use authbench_contract::path;
use authbench_report::data::CheckRow;
use authbench_servers::SchemeKind;

use crate::harness::credential::{login, me_status};
use crate::harness::http;

/// Time beyond the promised window for the store's round trip on a busy machine. Below the cache
/// TTL (1 s), so that session-tracked (promised: one push, about a millisecond) fails the check
/// when its pushes do not arrive and only the cache TTL ends the copy.
pub const SLACK: Duration = Duration::from_millis(250);
/// The user these checks log in (the other checks use users 1, 2 and 3; revocation 31 and 32).
const USER: u64 = 4;

/// Rows of `checks.csv` for `replicas` (each replica's own address, at least two).
pub async fn check(scheme: SchemeKind, replicas: &[SocketAddr]) -> Result<Vec<CheckRow>> {
    let row = |check: &str, passed: bool, detail: String| CheckRow {
        scheme: scheme.to_string(),
        check: check.to_owned(),
        passed,
        detail,
        category: None,
    };
    let Some((&issuer, others)) = replicas.split_first() else { return Ok(Vec::new()) };
    let cred = login(issuer, USER).await?;
    let mut statuses = Vec::new();
    for &other in others {
        statuses.push(me_status(other, &cred).await?);
    }
    let mut rows = vec![row(
        "credential_accepted_across_replicas",
        statuses.iter().all(|&s| s == 200),
        format!(
            "issued by replica 1 of {}: GET /api/me on replicas 2..{} answered {statuses:?}",
            replicas.len(),
            replicas.len()
        ),
    )];
    if !scheme.uses_store() {
        return Ok(rows);
    }
    let out = http::send(issuer, "POST", path::LOGOUT, &cred.headers(), None).await?;
    let limit = super::revocation::promised_window(scheme) + SLACK;
    let started = Instant::now();
    let mut windows = Vec::new();
    for &other in others {
        let rejected = loop {
            let status = me_status(other, &cred).await?;
            if status == 401 {
                break Some(started.elapsed());
            }
            if started.elapsed() > limit {
                break None;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        windows.push(rejected);
    }
    let held = out.status == 204 && windows.iter().all(Option::is_some);
    let shown: Vec<String> = windows
        .iter()
        .map(|w| {
            w.map_or("still accepted".to_owned(), |d| format!("401 after {:.0} ms", d.as_secs_f64() * 1e3))
        })
        .collect();
    rows.push(row(
        "revocation_holds_across_replicas",
        held,
        format!(
            "logout through replica 1 answered {}; replicas 2..{}: {} (limit {} ms: promised window + slack)",
            out.status,
            replicas.len(),
            shown.join(", "),
            limit.as_millis()
        ),
    ));
    Ok(rows)
}
