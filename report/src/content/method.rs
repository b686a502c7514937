//! "How the answer is computed": the formulas, every assumption, each input with the condition it
//! was measured at, and the measurements made only for the answer — Redis driven directly, the
//! cached schemes' hit ratio at the workload's rate beside the model, production login and the
//! re-login storm, bytes per stored item up to 10M, and the validation run's prediction against
//! what it measured.

use super::decision::{USERS, host, workload};
use super::format::NOT_MEASURED;
use crate::analysis::Analysis;
use crate::answer::answer_set::ci;
use crate::answer::from_results::scheme_inputs;
use crate::doc::Document;
use crate::stats::mean_ci;
use crate::units;

fn sig3(x: f64) -> String {
    units::sig(x, 3)
}

pub(super) fn method_section(d: &mut Document, a: &Analysis<'_>) {
    d.h(2, "How the answer is computed");
    let w = workload(a);
    d.p(format!(
        "`authbench capacity` (and this section) computes the answer once per repeat from that repeat's \
         inputs, then gives each figure's mean and 95% Student-t interval across repeats; a verdict \
         against the requirement is read off the interval (met, not met, or no verdict). Cores are \
         cores of the host measured ({}): carry them to another host in units of its `/healthz` cost, \
         below. Users: {}.",
        host(a),
        USERS.iter().map(|u| units::count(*u as f64)).collect::<Vec<_>>().join(", ")
    ));
    d.code(
        "app cores    = (R·cpu_me + L·cpu_login + F·cpu_refresh) ÷ 1e6 ÷ utilisation\n\
         Redis cores  = (R·m·redis_lookup + L·redis_login + O·redis_logout + F·redis_refresh) ÷ 1e6\n\
         shards       = max(⌈Redis cores ÷ Redis utilisation⌉, ⌈Redis memory ÷ shard memory⌉)\n\
         Redis memory = N·bytes_per_user (sessions) | L·family_life·family_bytes + O·Σentry_life·entry_bytes (JWT variants)\n\
         wire         = R·(request + response bytes)\n\
         R = N·rate, L, O, F = logins, logouts, refreshes per second, m = 1 − hit ratio (cached schemes)",
    );
    let mut assumptions = w.stated();
    for s in &a.schemes {
        if let Some(i) = scheme_inputs(a.results, s, &w) {
            assumptions.extend(i.notes);
        }
    }
    assumptions.push(
        "sticky routing for the cached schemes (a user's requests reach one server); one stored session \
         per logged-in user; a JWT family per login lives its refresh lifetime, cut at the absolute one"
            .into(),
    );
    d.bullets(assumptions);
    d.p("The answer above is for clients over HTTP/1.1 and Redis on loopback, where every input is \
         measured. `authbench capacity DIR --transport h2-tls --store-rtt 1ms` carries it, repeat by \
         repeat, to another transport and store round trip from this run's Transport and store-RTT \
         phases (server CPU scaled by that transport's ÷ h1's at the same utilisation, a login's handshake \
         added, bytes as counted at the socket, p99 shifted, the logout window as probed at that RTT); \
         a condition the run did not measure gives no answer rather than the loopback one.");
    inputs_table(d, a);
    redis_direct(d, a);
    hit_ratio(d, a);
    login(d, a);
    store_bytes(d, a);
    validation(d, a);
}

fn inputs_table(d: &mut Document, a: &Analysis<'_>) {
    d.h(3, "Inputs, each at the condition it is used for");
    let w = workload(a);
    let mean = |v: Vec<f64>| mean_ci(&v).map_or_else(|| NOT_MEASURED.to_owned(), |m| ci(&m, sig3));
    let rows: Vec<Vec<String>> = a
        .schemes
        .iter()
        .filter_map(|s| scheme_inputs(a.results, s, &w))
        .map(|i| {
            let col = |f: &dyn Fn(&crate::answer::Inputs) -> Option<f64>| {
                mean(i.repeats.iter().filter_map(f).collect())
            };
            let design = crate::answer::Design::of(&i.scheme);
            let applies = |yes: bool, cell: String| if yes { cell } else { "–".to_owned() };
            vec![
                i.scheme.clone(),
                col(&|x| Some(x.server_us)),
                applies(design.is_some_and(|d| d.reads_redis_per_request()), col(&|x| x.redis_lookup_us)),
                applies(design.is_some_and(|d| d.is_cached()), col(&|x| x.hit_ratio)),
                col(&|x| x.login_us.map(|u| u / 1e3)),
                applies(
                    design.is_some_and(|d| d.is_session() || d.is_revocable_jwt()),
                    col(&|x| x.store_bytes_per_user.or(x.family_bytes)),
                ),
                col(&|x| x.bytes_per_request),
            ]
        })
        .collect();
    if rows.is_empty() {
        d.p(NOT_MEASURED);
        return;
    }
    d.table(
        vec![
            "scheme".into(),
            format!("server µs/req at {:.0}%", w.utilisation * 100.0),
            format!("Redis µs/lookup at {:.0}%", w.redis_utilisation * 100.0),
            format!("hit ratio at {} req/s", w.requests_per_user_s),
            "login ms (production)".into(),
            "Redis B/user or /family".into(),
            "wire B/req".into(),
        ],
        rows,
    );
}

fn redis_direct(d: &mut Document, a: &Analysis<'_>) {
    d.h(3, "Redis driven directly");
    let rows = &a.results.redis_direct;
    if rows.is_empty() {
        d.p(format!("{NOT_MEASURED} (`redis_direct.csv`): Redis CPU per lookup is counted as 0."));
        return;
    }
    let mut kinds: Vec<&str> =
        rows.iter().filter(|r| !r.is_fixed_rate()).map(|r| r.lookup.as_str()).collect();
    kinds.dedup();
    kinds.sort_unstable();
    kinds.dedup();
    let conns = rows.iter().filter(|r| r.target_busy.is_finite()).map(|r| r.connections).max().unwrap_or(1);
    // Folders before issue 21's fix drove Redis with hundreds of connections, one command a write.
    let pattern = if conns > 16 {
        format!("one command per write on {conns} connections")
    } else {
        format!(
            "the way the servers send them: up to {conns} connection(s), one per app-server process the plan \
             puts on a shard (its rate ÷ what one server sent at the utilisation step; each server holds one \
             multiplexed connection), each writing the lookups due in each millisecond as one pipelined write"
        )
    };
    d.p(format!(
        "The schemes drive Redis to a few percent of its core at their knee; a shard in the plan runs far \
         busier, and Redis's cost per command changes with how busy it is. So each scheme's lookup is sent \
         straight to Redis, {pattern}, at the rate that makes Redis as busy as the plan's shards, over a key \
         space of the sweep's top level."
    ));
    let table: Vec<Vec<String>> = kinds
        .iter()
        .map(|k| {
            // The windows at the busy share only: claim 4's control rows (fixed rate) are its own.
            let of: Vec<_> = rows.iter().filter(|r| r.lookup == *k && !r.is_fixed_rate()).collect();
            let us = mean_ci(&of.iter().map(|r| r.us_per_lookup).collect::<Vec<_>>());
            let busy = mean_ci(&of.iter().map(|r| r.busy * 100.0).collect::<Vec<_>>());
            let per_read = mean_ci(&of.iter().filter_map(|r| r.commands_per_read).collect::<Vec<_>>());
            vec![
                (*k).to_owned(),
                of.len().to_string(),
                busy.map_or_else(String::new, |m| ci(&m, |x| format!("{}%", units::sig(x, 2)))),
                us.map_or_else(String::new, |m| ci(&m, |x| format!("{} µs", units::sig(x, 3)))),
                of.iter().map(|r| r.keyspace).max().map_or_else(String::new, |k| units::count(k as f64)),
                per_read.map_or_else(|| "not measured".into(), |m| units::sig(m.mean, 2)),
            ]
        })
        .collect();
    d.table(
        vec![
            "lookup".into(),
            "windows".into(),
            "Redis busy".into(),
            "CPU per lookup".into(),
            "keys".into(),
            "commands per read".into(),
        ],
        table,
    );
}

fn hit_ratio(d: &mut Document, a: &Analysis<'_>) {
    d.h(3, "Cache hit ratio at the workload's rate");
    let rows = &a.results.hit_ratio;
    let cached = a.schemes.iter().any(|s| crate::answer::Design::of(s).is_some_and(|d| d.is_cached()));
    if rows.is_empty() && !cached {
        d.p("No cached scheme in this run.");
        return;
    }
    if rows.is_empty() {
        d.p(format!(
            "{NOT_MEASURED} (`hit_ratio.csv`): the answer uses the model h = λT ÷ (1 + λT) for Poisson users at λ \
             req/s against a cache that serves a record for T after the miss that inserted it."
        ));
        return;
    }
    d.p("Many users, each at the workload's per-user rate (credentials drawn uniformly from N users at a \
         total rate of N × λ, so each user's stream is about Poisson at λ), after a warm-up; hits and misses \
         from the servers' `/metrics`. Beside it, the model h = min(λT ÷ (1 + λT), capacity ÷ N).");
    let table = rows
        .iter()
        .map(|r| {
            vec![
                r.scheme.clone(),
                r.repeat.to_string(),
                units::count(r.users as f64),
                format!("{} req/s", units::sig(r.rate_per_user, 2)),
                units::seconds(r.cache_ttl_s),
                format!("{:.3}", r.measured),
                format!("{:.3}", r.model),
            ]
        })
        .collect();
    d.table(
        vec!["scheme", "repeat", "users", "per user", "TTL", "measured", "model"]
            .into_iter()
            .map(String::from)
            .collect(),
        table,
    );
}

fn login(d: &mut Document, a: &Analysis<'_>) {
    d.h(3, "Login at the production password-hashing cost");
    let rows = &a.results.login_cost;
    if rows.is_empty() {
        d.p(format!("{NOT_MEASURED} (`login_cost.csv`): the answer counts login CPU as 0."));
        return;
    }
    d.p(
        "Servers started without `--fast-login` (argon2id at the servers' default cost). The re-login storm: \
         after a store outage without persistence every user logs in again; one app core re-admits 1M users in \
         1M ÷ (logins per core per second).",
    );
    let table = rows
        .iter()
        .map(|r| {
            vec![
                r.scheme.clone(),
                format!("m={} KiB t={} p={}", r.argon2_m_kib, r.argon2_t, r.argon2_p),
                format!("{} ms", units::sig(r.server_cpu_us_per_login / 1e3, 3)),
                format!("{} ms", units::sig(r.p99_ms, 3)),
                units::sig(r.logins_per_core_s, 3),
                units::seconds(1e6 / r.logins_per_core_s.max(1e-9)),
            ]
        })
        .collect();
    d.table(
        vec!["scheme", "argon2id", "CPU per login", "p99", "logins/s per core", "1M re-logins per core"]
            .into_iter()
            .map(String::from)
            .collect(),
        table,
    );
}

fn store_bytes(d: &mut Document, a: &Analysis<'_>) {
    d.h(3, "Redis bytes per stored item, up to 10M");
    let rows = &a.results.store_bytes;
    if rows.is_empty() {
        d.p(format!("{NOT_MEASURED} (`store_bytes.csv`): sessions use the sweep's slope; JWT families are counted as 0."));
        return;
    }
    d.p(
        "`used_memory` before and after each level, divided by the items added: the spread between levels (a \
         hash-table resize, allocator size classes) is the memory figure's interval in the answer.",
    );
    let table = rows
        .iter()
        .map(|r| {
            vec![
                r.scheme.clone(),
                r.item.clone(),
                units::count(r.items as f64),
                format!("{} B", units::sig(r.bytes_per_item, 4)),
                r.table_buckets.map_or_else(String::new, |b| units::count(b as f64)),
            ]
        })
        .collect();
    d.table(
        vec!["scheme", "item", "items", "bytes each", "table buckets"]
            .into_iter()
            .map(String::from)
            .collect(),
        table,
    );
}

fn validation(d: &mut Document, a: &Analysis<'_>) {
    d.h(3, "The answer checked against a run");
    let rows = &a.results.validation;
    if rows.is_empty() {
        d.p(format!("{NOT_MEASURED} (`validation.csv`)."));
        return;
    }
    let source = a
        .results
        .environment
        .other
        .get("validate_from")
        .and_then(|v| v.as_str())
        .unwrap_or("an earlier results folder");
    d.p(format!(
        "A workload this machine can hold, predicted from {source} before the run, then run: predicted against \
         measured. Goal: within 15%; a figure outside it names the input that is off."
    ));
    let table = rows
        .iter()
        .map(|r| {
            vec![
                r.scheme.clone(),
                r.figure.clone(),
                units::sig(r.predicted, 3),
                units::sig(r.measured, 3),
                format!("{:+.1}%", r.error_pct),
                r.note.clone(),
            ]
        })
        .collect();
    d.table(
        vec!["scheme", "figure", "predicted", "measured", "error", "why"]
            .into_iter()
            .map(String::from)
            .collect(),
        table,
    );
}
