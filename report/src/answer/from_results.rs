//! A results folder's rows → each scheme's [`Inputs`], one per repeat, each input taken from the
//! measurement made at the condition the answer uses it for:
//!
//! - server CPU per request and the p99 curve: `cpu_vs_load.csv`, the step at the workload's
//!   utilisation (open model, that share of the repeat's own maximum);
//! - Redis CPU per lookup: `redis_direct.csv`, Redis driven directly with the scheme's lookup at
//!   the shards' utilisation (repeat r uses the r-th such window, cycling);
//! - hit ratio: `hit_ratio.csv` at the workload's per-user rate and cache TTL; at any other rate
//!   or TTL the closed-form model ([`super::hit_ratio`]) is used and the answer says so;
//! - login: `login_cost.csv` (production password hashing);
//! - bytes on the wire: `credentials.csv`, request and response of `/api/me`;
//! - Redis bytes per user (sessions) and per family key (JWT variants): `store_bytes.csv`. The
//!   spread that matters for memory is between levels (a hash-table resize, allocator classes),
//!   not between repeats, so repeat r takes the r-th level's bytes per item (cycling): the
//!   answer's memory interval is the spread between levels. Without the file, the session
//!   sweep's slope;
//! - revocation entries: `revocation_memory.csv` (bytes per key, entries per logout);
//! - revocation window: `revocation.csv`'s logout probes, given as its own interval;
//! - the workload's transport and store round trip: [`super::conditions`].

use super::conditions;
use super::hit_ratio::hit_ratio;
use super::model::{Design, Inputs};
use super::workload::Workload;
use crate::results::Results;
use crate::stats::{MeanCi, mean_ci};

/// Factors carrying a folder's CPU figures to another host (`authbench capacity --calibrate`):
/// app-server CPU × `server`, Redis CPU × `redis`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    pub server: f64,
    pub redis: f64,
}

impl Default for Scale {
    fn default() -> Self {
        Scale { server: 1.0, redis: 1.0 }
    }
}

impl Scale {
    fn apply(&self, i: &mut Inputs) {
        i.server_us *= self.server;
        for x in [&mut i.login_us, &mut i.refresh_us, &mut i.logout_us] {
            *x = x.map(|v| v * self.server);
        }
        for x in
            [&mut i.redis_lookup_us, &mut i.login_redis_us, &mut i.refresh_redis_us, &mut i.logout_redis_us]
        {
            *x = x.map(|v| v * self.redis);
        }
    }
}

/// How far a measured condition may be from the workload's and still count as it (relative).
const SAME_CONDITION: f64 = 0.1;

fn close(a: f64, b: f64, tolerance: f64) -> bool {
    (a - b).abs() <= tolerance * b.abs().max(1e-12)
}

/// The lookup `compare::redis_direct` drives for a scheme's per-request Redis work.
pub fn lookup_of(design: Design) -> Option<&'static str> {
    match design {
        Design::Session | Design::SessionCached => Some("GETEX"),
        Design::SessionTracked => Some("GET+PTTL"),
        Design::JwtRevocable => Some("MGET x3"),
        _ => None,
    }
}

/// One scheme's inputs from `r`, one per repeat that has a CPU step at the workload's
/// utilisation (none, with a note, when its transport was not measured); and its logout window
/// with its own interval. Notes say which inputs stand in
/// for a measurement (a model, another condition).
#[derive(Debug, Clone, PartialEq)]
pub struct SchemeInputs {
    pub scheme: String,
    pub repeats: Vec<Inputs>,
    pub window_s: Option<MeanCi>,
    pub notes: Vec<String>,
}

pub fn scheme_inputs(r: &Results, scheme: &str, w: &Workload) -> Option<SchemeInputs> {
    let design = Design::of(scheme)?;
    let mut notes = Vec::new();
    let mut repeat_ids: Vec<u32> =
        r.cpu_vs_load.iter().filter(|s| s.scheme == scheme).map(|s| s.repeat).collect();
    repeat_ids.sort_unstable();
    repeat_ids.dedup();

    let lookups: Vec<f64> = lookup_of(design)
        .map(|l| {
            r.redis_direct
                .iter()
                .filter(|x| x.lookup == l && close(x.target_busy, w.redis_utilisation, SAME_CONDITION))
                .map(|x| x.us_per_lookup)
                .collect()
        })
        .unwrap_or_default();
    let hits: Vec<f64> = r
        .hit_ratio
        .iter()
        .filter(|x| {
            x.scheme == scheme
                && close(x.rate_per_user, w.requests_per_user_s, SAME_CONDITION)
                && close(x.cache_ttl_s, w.cache_ttl.as_secs_f64(), SAME_CONDITION)
        })
        .map(|x| x.measured)
        .collect();
    // Sticky routing (each user's requests reach one server, at the full per-user rate) and a
    // capacity that does not bind: the cached schemes' best case, stated.
    let model_hit = if design.is_cached() && hits.is_empty() {
        notes.push(format!(
            "{scheme}: hit ratio from the model at {} req/s per user and a {} s TTL (not measured at that rate)",
            w.requests_per_user_s,
            w.cache_ttl.as_secs_f64()
        ));
        Some(hit_ratio(w.requests_per_user_s, w.cache_ttl.as_secs_f64(), 1.0, f64::INFINITY))
    } else {
        None
    };
    let item_bytes = |item: &str| -> Vec<f64> {
        let mut rows: Vec<_> =
            r.store_bytes.iter().filter(|x| x.scheme == scheme && x.item == item).collect();
        rows.sort_by_key(|x| (x.items, x.repeat));
        rows.iter().map(|x| x.bytes_per_item).filter(|b| b.is_finite() && *b > 0.0).collect()
    };
    let mut per_user = item_bytes("session");
    if per_user.is_empty()
        && design.is_session()
        && let Some(m) = crate::sweep::memory_per_user(r, scheme)
    {
        per_user.push(m.slope.fit.slope.max(0.0));
        notes.push(format!(
            "{scheme}: Redis bytes per user from the session sweep's slope (no store_bytes.csv)"
        ));
    }
    let families = item_bytes("family");
    let revocation = r
        .revocation_memory
        .iter()
        .filter(|x| x.scheme == scheme)
        .max_by(|a, b| a.offered_rps.total_cmp(&b.offered_rps));
    let entry_bytes = item_bytes("revoked");
    let pick = |v: &[f64], i: usize| (!v.is_empty()).then(|| v[i % v.len()]);

    let bytes = r
        .credentials
        .iter()
        .find(|c| c.scheme == scheme)
        .map(|c| c.request_bytes as f64 + c.response_bytes.map_or(0.0, |b| b as f64));
    let logins: Vec<_> = r.login_cost.iter().filter(|x| x.scheme == scheme).collect();

    let mut repeats = Vec::new();
    let (mut unmeasured_transport, mut unmeasured_rtt) = (false, false);
    for (i, &rep) in repeat_ids.iter().enumerate() {
        let steps: Vec<_> = r.cpu_vs_load.iter().filter(|s| s.scheme == scheme && s.repeat == rep).collect();
        let Some(at) = steps
            .iter()
            .filter(|s| s.share.is_some_and(|x| (x - w.utilisation).abs() <= 0.051))
            .find_map(|s| s.server_cpu_us_per_req)
        else {
            continue;
        };
        let login = logins.iter().find(|x| x.repeat == rep).or(logins.first());
        let lookup = pick(&lookups, i);
        let mut inputs = Inputs {
            server_us: at,
            // Refresh and logout are not measured on their own: a refresh is counted at an
            // authenticated request's CPU, and a refresh's or a logout's Redis script at one
            // lookup's Redis CPU (stated below; at the default workload they are about 1% of
            // the requests).
            refresh_us: Some(at),
            refresh_redis_us: lookup,
            logout_redis_us: lookup.or(Some(0.0)),
            redis_lookup_us: lookup,
            hit_ratio: pick(&hits, i).or(model_hit),
            login_us: login.map(|x| x.server_cpu_us_per_login),
            login_redis_us: login.and_then(|x| x.redis_cpu_us_per_login),
            bytes_per_request: bytes,
            store_bytes_per_user: pick(&per_user, i),
            family_bytes: pick(&families, i),
            revoked_entry_bytes: pick(&entry_bytes, i).or_else(|| revocation.and_then(|x| x.bytes_per_key())),
            access_entries: revocation.map_or(1, |x| x.access_entries),
            refresh_entries: revocation.map_or(1, |x| x.refresh_entries),
            p99_curve: steps.iter().filter_map(|s| Some((s.share?, s.me_p99_us?))).collect(),
            ..Inputs::default()
        };
        if !conditions::transport(r, scheme, rep, w, &mut inputs) {
            unmeasured_transport = true;
            continue;
        }
        if !conditions::store_rtt(r, scheme, design, rep, w, &mut inputs) {
            unmeasured_rtt = true;
        }
        repeats.push(inputs);
    }
    if unmeasured_transport {
        notes.push(format!(
            "{scheme}: {} not measured with server CPU beside h1 in {} (`compare --transport`)",
            w.transport.name(),
            if repeats.is_empty() {
                "any repeat: no answer".to_owned()
            } else {
                "every repeat: those left out".to_owned()
            }
        ));
    }
    if unmeasured_rtt {
        notes.push(format!(
            "{scheme}: p99 not measured with a {} store round trip (`compare --store-rtt`): no p99",
            humantime::format_duration(w.store_rtt)
        ));
    }
    if repeats.is_empty() {
        // Nothing to answer from; a transport not measured still says so.
        return unmeasured_transport.then(|| SchemeInputs {
            scheme: scheme.to_owned(),
            repeats,
            window_s: None,
            notes,
        });
    }
    if !design.is_session() {
        notes.push(format!("{scheme}: a refresh counted at /api/me's CPU (not measured on its own)"));
    }
    if design.needs_redis() {
        notes.push(format!(
            "{scheme}: a logout's (and a refresh's) Redis script counted at one lookup's Redis CPU"
        ));
    }
    let windows: Vec<f64> = r
        .revocation
        .iter()
        .filter(|x| x.scheme == scheme && x.action == "logout" && x.rejected)
        .map(|x| x.window_s)
        .collect();
    let window_s = match conditions::window_at_rtt(r, scheme, w) {
        None => mean_ci(&windows),
        Some(at_rtt) => at_rtt,
    };
    Some(SchemeInputs { scheme: scheme.to_owned(), repeats, window_s, notes })
}

/// Every scheme's answer under `w` at each of `users` from the folder `r`, and the notes on
/// inputs that stand in for a measurement.
pub fn answer_set(
    r: &Results,
    w: &Workload,
    users: &[u64],
    host: &str,
    source: &str,
) -> (super::answer_set::AnswerSet, Vec<String>) {
    answer_set_scaled(r, w, users, host, source, Scale::default())
}

/// [`answer_set`] with every CPU input carried to another host by `scale`.
pub fn answer_set_scaled(
    r: &Results,
    w: &Workload,
    users: &[u64],
    host: &str,
    source: &str,
    scale: Scale,
) -> (super::answer_set::AnswerSet, Vec<String>) {
    let mut inputs: Vec<SchemeInputs> = r.schemes().iter().filter_map(|s| scheme_inputs(r, s, w)).collect();
    for i in &mut inputs {
        i.repeats.iter_mut().for_each(|x| scale.apply(x));
    }
    let notes = inputs.iter().flat_map(|i| i.notes.iter().cloned()).collect();
    let by_users = users
        .iter()
        .map(|&u| {
            let w = w.with_users(u);
            let answers = inputs
                .iter()
                .filter_map(|i| super::across::across(&i.scheme, &w, &i.repeats, i.window_s))
                .collect();
            (u, answers)
        })
        .collect();
    let set = super::answer_set::AnswerSet {
        workload: w.clone(),
        host: host.to_owned(),
        source: source.to_owned(),
        by_users,
    };
    (set, notes)
}
