//! `authbench faults`' race rows: [`crate::reliability::race`]'s two races — a thief refreshing
//! stolen credentials while the victim logs out everywhere, and a login loop racing logout-all —
//! against every scheme that can log out everywhere, each on its own real server and private
//! Redis, `--race-trials` trials per race. One row per scheme × race.

use std::io::IsTerminal;
use std::time::Instant;

use anyhow::Result;
use authbench_servers::{SchemeKind, ServeArgs};

use crate::harness::redis::RedisServer;
use crate::harness::server::ServerProcess;
use crate::reliability::FaultRow;
use crate::reliability::race::{self, Race, RaceOutcome};

/// The schemes with a logout-all to race.
pub const SCHEMES: [SchemeKind; 5] = [
    SchemeKind::Session,
    SchemeKind::SessionCached,
    SchemeKind::SessionTracked,
    SchemeKind::JwtRevocable,
    SchemeKind::JwtPubsub,
];
/// Default of `faults --race-trials`.
pub const DEFAULT_TRIALS: u64 = 1000;
/// Trials run at once, each on its own user.
const CONCURRENCY: usize = 20;

/// The scenario's name for `scheme` and `race`.
pub fn scenario(scheme: SchemeKind, race: Race) -> String {
    format!("race_{}_{}", scheme.as_str().replace('-', "_"), race.as_str())
}

/// Both races against `scheme`: two rows. On a terminal, a progress line is rewritten as trials
/// finish; otherwise nothing is printed here (the caller prints one line per row).
pub async fn races(scheme: SchemeKind, trials: u64) -> Result<Vec<FaultRow>> {
    let redis = tokio::task::block_in_place(RedisServer::start)?;
    // Users 1..=trials race the thief, the next `trials` the login loop.
    let args = ServeArgs {
        users: (2 * trials + 10).max(1000),
        redis_url: Some(redis.url()),
        store_timeout: std::time::Duration::from_secs(5),
        ..crate::harness::server::small(scheme)
    };
    let server = ServerProcess::spawn(&args)?;
    let terminal = std::io::stderr().is_terminal();
    let mut rows = Vec::new();
    for (race, first_user) in [(Race::RefreshingThief, 1), (Race::Login, trials + 1)] {
        let name = scenario(scheme, race);
        let started = Instant::now();
        let out = race::run(server.addr, race, trials, CONCURRENCY, first_user, |so_far| {
            if terminal && (so_far.trials % 50 == 0 || so_far.trials == trials) {
                eprint!("\r  {name}: {}/{trials} trials, {} survived ", so_far.trials, so_far.survived);
            }
        })
        .await;
        if terminal {
            eprintln!();
        }
        rows.push(row(scheme, race, &out, started.elapsed().as_secs_f64()));
    }
    server.stop();
    Ok(rows)
}

fn row(scheme: SchemeKind, race: Race, out: &RaceOutcome, seconds: f64) -> FaultRow {
    let what = match race {
        Race::RefreshingThief => {
            "a thief refreshing two stolen credentials from two connections while the victim calls logout-all"
        }
        Race::Login => "a login loop racing logout-all",
    };
    FaultRow {
        scenario: scenario(scheme, race),
        injected: format!("{scheme}: {what}"),
        requests: out.thief_ops + 3 * out.checked,
        errors: if out.server_errors == 0 {
            "none".into()
        } else {
            format!("status_5xx {}", out.server_errors)
        },
        passed: out.passed() && out.trials > 0,
        // A race writes no files of its own: nothing that could fail to parse.
        files_parse: true,
        detail: format!(
            "{} trials ({} at once, {seconds:.1} s): {} survived (accepted 100 ms after logout-all's 204: {} by /api/me, \
             {} by /auth/refresh) of {} credentials checked; {} thief operations; {} 5xx; {} trials could not run{}",
            out.trials,
            CONCURRENCY,
            out.survived,
            out.accepted_me,
            out.accepted_refresh,
            out.checked,
            out.thief_ops,
            out.server_errors,
            out.broken,
            match race {
                Race::Login => format!("; {} logins sent after the 204 refused", out.refused_after),
                Race::RefreshingThief => String::new(),
            }
        ),
        trials: Some(out.trials),
        survivors: Some(out.survived),
        checked: Some(out.checked),
        thief_ops: Some(out.thief_ops),
        server_errors: Some(out.server_errors),
        ..FaultRow::default()
    }
}
