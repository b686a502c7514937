//! The session sweep's two findings, from `sessions.csv`:
//!
//! - **Memory per logged-in user**: the least-squares slope of Redis `used_memory` (read at rest)
//!   against stored sessions — one session per user, so the slope is what one more logged-in user
//!   costs — with its R² and 95% CI ([`stats::slope_ci`]), split by `MEMORY USAGE` of sampled keys
//!   into the session record and the per-user index, each with an equal share of what Redis spends
//!   per key beyond the key itself (its dictionary entry, expiry entry and table slot).
//! - **Claim 4, tested**: does a lookup get slower as sessions grow? Per repeat, the change from
//!   the smallest *stored* level to the largest (level 0 is the pool's few logged-in users hit
//!   thousands of times a second, a hot set: it is left out) of the store scheme's Redis time per
//!   lookup command minus the change of the same command driven directly over the same key spaces
//!   in the same repeat (`redis_direct.csv`'s fixed-rate rows: the control with no scheme around
//!   it), and of server + Redis CPU per request and p99 minus the change the stateless schemes saw
//!   in the same repeat (the machine's drift); the levels ran in a random order per repeat
//!   (environment.json); 95% CI across repeats; [`stats::verdict`]: exactly `no verdict` when every
//!   interval includes 0. The control's own change (what the key space's size alone does to a
//!   `GETEX`) is given beside it.

use std::collections::{BTreeMap, BTreeSet};

use crate::data::SessionsRow;
use crate::results::Results;
use crate::stats::{self, MeanCi, SlopeCi, Verdict, mean};
use crate::units;

/// What one more logged-in user costs in Redis.
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryPerUser {
    pub scheme: String,
    /// Slope of used_memory against stored sessions (B per logged-in user), pooled over repeats.
    pub slope: SlopeCi,
    /// Distinct levels the fit spans.
    pub levels: usize,
    /// Mean `MEMORY USAGE` of a session record / a user index.
    pub record_bytes: Option<f64>,
    pub index_bytes: Option<f64>,
}

impl MemoryPerUser {
    /// Redis's cost per key beyond `MEMORY USAGE` (slope minus both keys, halved: two keys per user).
    pub fn per_key_overhead(&self) -> Option<f64> {
        Some((self.slope.fit.slope - self.record_bytes? - self.index_bytes?) / 2.0)
    }

    /// The session record's share: what one more stored session costs, its index entry aside.
    pub fn session_share(&self) -> Option<f64> {
        Some(self.record_bytes? + self.per_key_overhead()?)
    }

    /// The per-user index's share.
    pub fn index_share(&self) -> Option<f64> {
        Some(self.index_bytes? + self.per_key_overhead()?)
    }
}

impl MemoryPerUser {
    /// The per-user figure with its interval and fit, and the split.
    pub fn text(&self) -> String {
        let f = &self.slope;
        let ci = match (f.ci95_low, f.ci95_high) {
            (Some(lo), Some(hi)) => format!(", 95% CI [{}, {}]", units::bytes(lo.max(0.0)), units::bytes(hi)),
            _ => ", no interval (two points)".to_owned(),
        };
        let r2 = if f.fit.r2.is_finite() { format!(", R² {:.4}", f.fit.r2) } else { String::new() };
        let split = match (self.session_share(), self.index_share(), self.per_key_overhead()) {
            (Some(rec), Some(idx), Some(o)) => format!(
                " Of that, the session record takes {} and the per-user index {} (`MEMORY USAGE` of ~1,000 sampled keys \
                 of each kind, {} and {}, each plus an equal share, {}, of Redis's per-key dictionary, expiry and table \
                 cost); one more session of an already logged-in user costs about the record's share.",
                units::bytes(rec),
                units::bytes(idx),
                units::bytes(self.record_bytes.unwrap_or(0.0)),
                units::bytes(self.index_bytes.unwrap_or(0.0)),
                units::bytes(o)
            ),
            _ => String::new(),
        };
        format!(
            "`{}`: {} per logged-in user (one session per user, memory read at rest, least-squares fit over {} levels{ci}{r2}).{split}",
            self.scheme,
            units::bytes(f.fit.slope),
            self.levels
        )
    }
}

fn rows<'a>(r: &'a Results, scheme: &str) -> Vec<&'a SessionsRow> {
    r.sessions.iter().filter(|x| x.scheme == scheme).collect()
}

pub fn memory_per_user(r: &Results, scheme: &str) -> Option<MemoryPerUser> {
    let rows = rows(r, scheme);
    let points: Vec<(f64, f64)> =
        rows.iter().filter_map(|x| Some((x.sessions as f64, x.redis_used_memory?))).collect();
    let slope = stats::slope_ci(&points)?;
    let levels = points.iter().map(|p| p.0 as u64).collect::<BTreeSet<_>>().len();
    let stored = |f: fn(&SessionsRow) -> Option<f64>| {
        mean(&rows.iter().filter(|x| x.sessions > 0).filter_map(|x| f(x)).collect::<Vec<_>>())
    };
    Some(MemoryPerUser {
        scheme: scheme.to_owned(),
        slope,
        levels,
        record_bytes: stored(|x| x.redis_bytes_session_record),
        index_bytes: stored(|x| x.redis_bytes_user_index),
    })
}

/// One figure's change from the fewest to the most stored sessions.
#[derive(Debug, Clone, PartialEq)]
pub struct FigureChange {
    pub name: &'static str,
    /// Mean at the fewest / the most sessions (this scheme, all repeats).
    pub base: f64,
    pub top: f64,
    /// Paired per-repeat difference, drift-corrected when `controlled`.
    pub diff: MeanCi,
    pub controlled: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Claim4 {
    pub scheme: String,
    pub base_sessions: u64,
    pub top_sessions: u64,
    /// Stateless schemes used as the drift control (empty: none ran, no correction).
    pub controls: Vec<String>,
    pub figures: Vec<FigureChange>,
    pub verdict: Verdict,
    /// The control's own change: Redis's time per `GETEX` driven directly over the same two key
    /// spaces, per repeat (`None`: no such rows).
    pub direct: Option<FigureChange>,
}

/// The lookup claim 4's control drives (the session scheme's).
const CONTROL_LOOKUP: &str = "GETEX";

/// Per repeat, (Redis µs per `GETEX` at `base` keys, at `top` keys) of the control.
fn control_pairs(r: &Results, base: u64, top: u64) -> BTreeMap<u32, (f64, f64)> {
    let at = |keys: u64| -> BTreeMap<u32, f64> {
        r.redis_direct
            .iter()
            .filter(|x| x.is_fixed_rate() && x.lookup == CONTROL_LOOKUP && x.keyspace == keys)
            .filter_map(|x| Some((x.repeat, x.usec_per_call?)))
            .collect()
    };
    let (b, t) = (at(base), at(top));
    b.into_iter().filter_map(|(rep, v)| Some((rep, (v, *t.get(&rep)?)))).collect()
}

type Figure = fn(&SessionsRow) -> Option<f64>;

fn cpu(x: &SessionsRow) -> Option<f64> {
    Some(x.server_cpu_us_per_req? + x.redis_cpu_us_per_req.unwrap_or(0.0))
}

/// Per repeat, (value at `base`, value at `top`) of `figure` for `scheme`.
fn paired(r: &Results, scheme: &str, base: u64, top: u64, figure: Figure) -> BTreeMap<u32, (f64, f64)> {
    let at = |level: u64| -> BTreeMap<u32, f64> {
        rows(r, scheme)
            .iter()
            .filter(|x| x.sessions == level)
            .filter_map(|x| Some((x.repeat, figure(x)?)))
            .collect()
    };
    let (b, t) = (at(base), at(top));
    b.into_iter().filter_map(|(rep, v)| Some((rep, (v, *t.get(&rep)?)))).collect()
}

/// Which control a figure's change is corrected by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Correction {
    /// The same command driven directly over the same key spaces (`redis_direct.csv`).
    Direct,
    /// The stateless schemes' change in the same repeat (drift).
    Stateless,
}

/// Test claim 4 on `scheme` (the one that stores sessions) from its smallest stored level to its
/// largest, with `controls` (stateless schemes) as drift control and Redis driven directly as the
/// lookup's control.
pub fn claim4(r: &Results, scheme: &str, controls: &[String]) -> Option<Claim4> {
    let levels: BTreeSet<u64> = rows(r, scheme).iter().map(|x| x.sessions).filter(|&n| n > 0).collect();
    let (base, top) = (*levels.first()?, *levels.last()?);
    if base == top {
        return None;
    }
    let direct_pairs = control_pairs(r, base, top);
    let direct_change: BTreeMap<u32, f64> = direct_pairs.iter().map(|(rep, (b, t))| (*rep, t - b)).collect();
    // Every figure is in µs.
    let spec: [(&'static str, Figure, Correction); 3] = [
        ("Redis time per lookup (GETEX Δusec ÷ Δcalls)", |x| x.redis_usec_per_call, Correction::Direct),
        ("server + Redis CPU per request", cpu, Correction::Stateless),
        ("p99", |x| Some(x.me_p99_us), Correction::Stateless),
    ];
    let mut figures = Vec::new();
    for (name, figure, correction) in spec {
        let pairs = paired(r, scheme, base, top, figure);
        if pairs.is_empty() {
            continue;
        }
        // The control's change in each repeat: the direct GETEX's, or the mean over the stateless
        // schemes that have the figure.
        let change: BTreeMap<u32, f64> = match correction {
            Correction::Direct => direct_change.clone(),
            Correction::Stateless => pairs
                .keys()
                .filter_map(|rep| {
                    let d: Vec<f64> = controls
                        .iter()
                        .filter_map(|c| paired(r, c, base, top, figure).get(rep).map(|(b, t)| t - b))
                        .collect();
                    Some((*rep, mean(&d)?))
                })
                .collect(),
        };
        let controlled = match correction {
            Correction::Direct => !direct_change.is_empty(),
            Correction::Stateless => !controls.is_empty(),
        };
        let before: Vec<f64> = pairs.values().map(|p| p.0).collect();
        let after: Vec<f64> = pairs.values().map(|p| p.1).collect();
        let control: Vec<f64> =
            pairs.keys().map(|rep| change.get(rep).copied().unwrap_or(f64::NAN)).collect();
        let Some(diff) = stats::difference_ci(&before, &after, controlled.then_some(control.as_slice()))
        else {
            continue;
        };
        figures.push(FigureChange { name, base: mean(&before)?, top: mean(&after)?, diff, controlled });
    }
    if figures.is_empty() {
        return None;
    }
    let verdict = stats::verdict(&figures.iter().map(|f| f.diff).collect::<Vec<_>>());
    let direct = {
        let before: Vec<f64> = direct_pairs.values().map(|p| p.0).collect();
        let after: Vec<f64> = direct_pairs.values().map(|p| p.1).collect();
        stats::difference_ci(&before, &after, None).and_then(|diff| {
            Some(FigureChange {
                name: "control: Redis time per GETEX driven directly, no scheme",
                base: mean(&before)?,
                top: mean(&after)?,
                diff,
                controlled: false,
            })
        })
    };
    Some(Claim4 {
        scheme: scheme.to_owned(),
        base_sessions: base,
        top_sessions: top,
        controls: controls.to_vec(),
        figures,
        verdict,
        direct,
    })
}

fn signed(x: f64) -> String {
    if x < 0.0 { format!("−{}", units::us(-x)) } else { format!("+{}", units::us(x)) }
}

impl FigureChange {
    fn text(&self) -> String {
        let interval = match (self.diff.ci95_low, self.diff.ci95_high) {
            (Some(lo), Some(hi)) => format!(" [{}, {}]", signed(lo), signed(hi)),
            _ => " (no interval)".to_owned(),
        };
        let rel = if self.base > 0.0 {
            format!(", {}", units::change(self.base, self.base + self.diff.mean))
        } else {
            String::new()
        };
        format!(
            "{}: {} → {}, change {}{interval}{rel}{}",
            self.name,
            units::us(self.base),
            units::us(self.top),
            signed(self.diff.mean),
            if self.controlled { " after the control's drift" } else { "" }
        )
    }
}

impl Claim4 {
    /// The verdict, the test that gave it, and every figure with its interval.
    pub fn text(&self) -> String {
        let n = self.figures.iter().map(|f| f.diff.n).min().unwrap_or(0);
        let drift = if self.controls.is_empty() {
            "no stateless scheme ran, so no drift control".to_owned()
        } else {
            format!(
                "CPU and p99 minus the change {} saw in the same repeat (machine drift)",
                self.controls.join(" and ")
            )
        };
        let lookup = if self.direct.is_some() {
            "Redis's time per lookup minus the change of the same `GETEX` driven directly over the same key spaces \
             in the same repeat (the control: no scheme around it)"
        } else {
            "Redis's time per lookup uncorrected (no control of Redis driven directly in this run)"
        };
        let control = format!("{lookup}; {drift}; levels in a random order per repeat");
        let test = format!(
            "Test: per repeat, the change of `{}` from {} to {} stored sessions (the smallest stored level: level 0 is a \
             hot set), {control}; 95% CI across {n} repeat{}; a figure whose interval lies wholly above zero moved.",
            self.scheme,
            units::count(self.base_sessions as f64),
            units::count(self.top_sessions as f64),
            if n == 1 { "" } else { "s" }
        );
        let figures = self.figures.iter().map(FigureChange::text).collect::<Vec<_>>().join("; ");
        let moved: Vec<&str> = self
            .figures
            .iter()
            .filter(|f| stats::direction(&f.diff) == stats::Direction::Up)
            .map(|f| f.name)
            .collect();
        let head = match &self.verdict {
            Verdict::Supports => format!(
                "**Supports the claim**: {} rose beyond the noise as sessions grew.{}",
                moved.join(", "),
                if moved.iter().any(|m| m.starts_with("Redis time")) {
                    " Redis's own time per lookup rose, so the lookup itself got slower in the larger key space \
                     (consistent with more CPU cache misses in a larger hash table; not measured directly)."
                } else {
                    ""
                }
            ),
            Verdict::Contradicts => {
                "**Contradicts the claim**: no figure rose; at least one fell beyond the noise.".to_owned()
            }
            Verdict::NoVerdict { why } => format!("**no verdict**: {why}."),
        };
        let direct = self.direct.as_ref().map_or(String::new(), |d| format!(" {}.", d.text()));
        format!("{head} {test} Measured: {figures}.{direct}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(scheme: &str, repeat: u32, sessions: u64, p99: f64, usec: Option<f64>, mem: f64) -> SessionsRow {
        SessionsRow {
            scheme: scheme.into(),
            repeat,
            sessions,
            me_p50_us: p99 / 4.0,
            me_p99_us: p99,
            server_cpu_us_per_req: Some(20.0),
            redis_cpu_us_per_req: Some(3.0),
            redis_usec_per_call: usec,
            redis_used_memory: Some(mem),
            redis_bytes_session_record: (sessions > 0).then_some(150.0),
            redis_bytes_user_index: (sessions > 0).then_some(250.0),
            ..SessionsRow::default()
        }
    }

    #[test]
    fn memory_per_user_splits_record_and_index() {
        let mut r = Results::default();
        for (n, m) in [(0, 2e6), (100_000, 2e6 + 5.5e7), (200_000, 2e6 + 1.1e8)] {
            r.sessions.push(row("session", 1, n, 1000.0, Some(1.0), m));
        }
        let m = memory_per_user(&r, "session").unwrap();
        assert!((m.slope.fit.slope - 550.0).abs() < 1e-9);
        assert_eq!(m.levels, 3);
        // 550 = 150 + 250 + 2 × 75.
        assert_eq!(m.per_key_overhead(), Some(75.0));
        assert_eq!((m.session_share(), m.index_share()), (Some(225.0), Some(325.0)));
    }

    #[test]
    fn claim4_reads_the_drift_corrected_change_across_repeats() {
        let mut r = Results::default();
        // Session p99 rises 600 µs in every repeat; jwt's (the control) 100 µs: 500 µs is the store's.
        // The hot level 0 is left out: a change there (here +5 ms) is no evidence.
        for (rep, noise) in [(1, 0.0), (2, 30.0), (3, -30.0)] {
            r.sessions.push(row("session", rep, 0, 6000.0, Some(9.0), 2e6));
            r.sessions.push(row("session", rep, 10_000, 1000.0 + noise, Some(1.0), 2e6));
            r.sessions.push(row("session", rep, 1_000_000, 1600.0 + noise, Some(1.0 + noise / 1000.0), 5e8));
            r.sessions.push(row("jwt", rep, 10_000, 900.0, None, 2e6));
            r.sessions.push(row("jwt", rep, 1_000_000, 1000.0 + noise, None, 2e6));
        }
        let c = claim4(&r, "session", &["jwt".into()]).unwrap();
        assert_eq!(c.verdict, Verdict::Supports);
        let p99 = c.figures.iter().find(|f| f.name == "p99").unwrap();
        assert!(p99.controlled && (p99.diff.mean - 500.0).abs() < 1e-9, "{p99:?}");
        let t = c.text();
        assert!(t.starts_with("**Supports the claim**: p99 rose"), "{t}");
        assert!(t.contains("3 repeats") && t.contains("jwt"), "{t}");

        assert_eq!((c.base_sessions, c.top_sessions), (10_000, 1_000_000));
        assert!(c.direct.is_none() && t.contains("uncorrected"), "{t}");

        // One repeat only: exactly `no verdict`, and why.
        r.sessions.retain(|x| x.repeat == 1);
        let c = claim4(&r, "session", &["jwt".into()]).unwrap();
        assert_eq!(c.verdict.label(), "no verdict");
        assert!(c.text().starts_with("**no verdict**: 1 repeat"), "{}", c.text());
    }

    fn direct(repeat: u32, keyspace: u64, usec: f64) -> crate::plan_inputs::RedisDirectRow {
        crate::plan_inputs::RedisDirectRow {
            lookup: "GETEX".into(),
            repeat,
            keyspace,
            target_busy: f64::NAN,
            busy: 0.05,
            offered_rps: 2000.0,
            achieved_rps: 2000.0,
            us_per_lookup: 20.0,
            connections: 8,
            usec_per_call: Some(usec),
            commands_per_read: None,
        }
    }

    #[test]
    fn claim4_subtracts_the_direct_getex_and_says_no_verdict_inside_the_noise() {
        let mut r = Results::default();
        // The scheme's GETEX rises 0.8 µs from 10k to 1M; the same GETEX driven directly rises
        // 0.8 µs too (± noise): nothing beyond the key space's own effect, so no verdict.
        for (rep, noise) in [(1u32, 0.0), (2, 0.05), (3, -0.05)] {
            r.sessions.push(row("session", rep, 10_000, 1000.0, Some(1.5), 2e6));
            r.sessions.push(row("session", rep, 1_000_000, 1000.0 + 200.0 * noise, Some(2.3 + noise), 5e8));
            r.redis_direct.push(direct(rep, 10_000, 1.4));
            r.redis_direct.push(direct(rep, 1_000_000, 2.2 - noise));
            // A window at the utilisation (not the control) is ignored.
            r.redis_direct
                .push(crate::plan_inputs::RedisDirectRow { target_busy: 0.6, ..direct(rep, 1_000_000, 9.0) });
        }
        let c = claim4(&r, "session", &[]).unwrap();
        let lookup = &c.figures[0];
        assert!(lookup.controlled && lookup.diff.mean.abs() < 1e-9, "{lookup:?}");
        assert_eq!(c.verdict.label(), "no verdict", "{:?}", c.figures);
        let d = c.direct.as_ref().unwrap();
        assert!((d.diff.mean - 0.8).abs() < 1e-9 && d.diff.ci95_low.unwrap() > 0.0, "{d:?}");
        let t = c.text();
        assert!(t.starts_with("**no verdict**: every difference"), "{t}");
        assert!(t.contains("driven directly"), "{t}");
    }
}
