//! The "Saturation and load" section: the maximum sustainable throughput per scheme from the
//! open-model stepped search, who was busiest at the knee, throughput and latency against the
//! offered rate past the knee, and CPU per request against load (saturation.csv, cpu_vs_load.csv).

use super::format::NOT_MEASURED;
use super::format::metric_text;
use crate::analysis::Analysis;
use crate::doc::Document;
use crate::metric::Metric;
use crate::plot::Rendered;
use crate::saturation::{LoadStepRow, SchemeLoad};
use crate::stats::MeanCi;
use crate::units;

pub(super) fn load_section(d: &mut Document, a: &Analysis<'_>, plots: &[Rendered]) {
    d.h(2, "Saturation and load");
    let loads = SchemeLoad::all(&a.results.saturation, &a.results.cpu_vs_load, &a.schemes);
    if loads.iter().all(|l| l.steps.is_empty()) {
        d.p(NOT_MEASURED);
        return;
    }
    let env = &a.results.environment;
    let slo =
        env.slo_p99_ms.map_or("the SLO".to_string(), |ms| format!("{} (`--slo-p99`)", units::us(ms * 1e3)));
    let step =
        env.saturation_step_s.map_or("a few seconds".into(), |s| format!("{} per step", units::seconds(s)));
    d.p(format!(
        "**Maximum sustainable throughput**, found by a stepped search in the open model: `/api/me` is sent at \
         a fixed arrival rate for {step} (latency timed from each request's intended send, so a \
         backlog shows), the rate doubling until a step is past the knee, then bisected between the last good \
         and the first bad rate. A step is past the knee when the achieved rate falls \
         below 95% of the offered one, the corrected p99 exceeds {slo}, or any request fails; a step past it on \
         p99 alone runs once more and the second run counts (one stall of a shared machine is not a knee). \
         The knee is the lowest offered rate past it; the maximum is the achieved rate of the highest good \
         step below it."
    ));
    if let Some(text) = population_text(a) {
        d.p(text);
    }
    d.table(
        [
            "scheme",
            "max sustainable",
            "knee (offered)",
            "limit broken at the knee",
            "at the knee: server · Redis · generator · whole machine (% of a core)",
            "generator timer lag",
            "busiest",
        ]
        .map(String::from)
        .to_vec(),
        loads.iter().filter(|l| !l.steps.is_empty()).map(|l| knee_row(a, l)).collect(),
    );
    d.p(shared_cores_text(a, &loads));
    d.p(
        "The virtual-user ramp further down is a different experiment: a closed model of logged-in users who \
         each wait for an answer and then think before the next request. It shows how latency grows with \
         users under a realistic pace; it does not look for the maximum and its throughput is capped by its \
         users and think time, not by the server.",
    );
    for (name, heading, meaning) in [
        (
            "throughput_vs_load",
            "Throughput against offered load",
            meaning_throughput as fn(&Analysis<'_>, &[SchemeLoad<'_>]) -> Option<String>,
        ),
        ("latency_vs_load", "Latency against offered load", meaning_latency),
        ("cpu_vs_load", "CPU per request against load", meaning_cpu),
    ] {
        d.h(3, heading);
        match plots.iter().find(|p| p.plot.name == name) {
            Some(p) => {
                d.plot(name, p.plot.title.clone());
                if let Some(m) = meaning(a, &loads) {
                    d.p(format!("**What this means:** {m}"));
                }
                if name == "cpu_vs_load" {
                    cpu_table(d, &loads);
                }
            }
            None => d.p(NOT_MEASURED),
        }
    }
}

fn pct(m: Option<MeanCi>) -> String {
    m.map_or("—".into(), |m| format!("{:.0}", m.mean))
}

fn knee_row(a: &Analysis<'_>, l: &SchemeLoad<'_>) -> Vec<String> {
    let knees = l.knees();
    let runs = l.steps.iter().map(|x| x.repeat).max().unwrap_or(0);
    let reasons: Vec<String> = {
        let mut v: Vec<String> = knees.iter().map(|k| k.limits.replace('+', " + ")).collect();
        v.sort();
        v.dedup();
        v
    };
    let saturated = knees.iter().filter(|k| k.generator_saturated).count();
    let lag = l.at_knee(|x| Some(x.generator_lag_ms)).map_or("—".into(), |m| {
        let flag = if saturated > 0 {
            format!(" (saturated in {saturated} of {})", knees.len())
        } else {
            String::new()
        };
        format!("{}{flag}", units::seconds(m.mean / 1e3))
    });
    vec![
        l.scheme.clone(),
        metric_text(a, &l.scheme, Metric::MeRpsSustained).unwrap_or_else(|| "none found".into()),
        if knees.is_empty() {
            format!(
                "none up to {} req/s",
                units::count(l.steps.iter().map(|x| x.offered_rps).fold(0.0, f64::max))
            )
        } else {
            metric_text(a, &l.scheme, Metric::MeKneeOffered).unwrap_or_default()
        },
        if reasons.is_empty() { "—".into() } else { reasons.join("; ") },
        format!(
            "{} · {} · {} · {}",
            pct(l.at_knee(|x| x.server_cpu_pct)),
            pct(l.at_knee(|x| x.redis_cpu_pct)),
            pct(l.at_knee(|x| Some(x.generator_cpu_pct))),
            pct(l.at_knee(|x| x.machine_cpu_pct)),
        ),
        lag,
        l.busiest_at_knee().map_or("—".into(), |(who, p)| format!("{who} ({p:.0}%)"))
            + &if knees.len() < runs as usize {
                format!("; knee in {} of {runs} repeats", knees.len())
            } else {
                String::new()
            },
    ]
}

/// Server, Redis and generator share the cores: say so, with the figures at the knee.
fn shared_cores_text(a: &Analysis<'_>, loads: &[SchemeLoad<'_>]) -> String {
    let cores = a.results.environment.cores.map(|c| c as f64).unwrap_or(0.0);
    let capacity = if cores > 0.0 { format!("{:.0}%", cores * 100.0) } else { "all cores".into() };
    let mut parts = Vec::new();
    let mut others = Vec::new();
    for l in loads {
        let (Some(s), Some(g)) = (l.at_knee(|x| x.server_cpu_pct), l.at_knee(|x| Some(x.generator_cpu_pct)))
        else {
            continue;
        };
        let r = l.at_knee(|x| x.redis_cpu_pct).map_or(0.0, |m| m.mean);
        let ours = s.mean + r + g.mean;
        parts.push(format!("{} {:.0}% of {capacity}", l.scheme, ours));
        if let Some(m) = l.at_knee(|x| x.machine_cpu_pct) {
            let other = m.mean - ours;
            if cores > 0.0 && other > 0.15 * cores * 100.0 {
                others.push(format!("{} {:.0}%", l.scheme, other));
            }
        }
    }
    let mut t = format!(
        "**On this machine the knee belongs to server, Redis and load generator together**: all three run on \
         the same {} cores, so each scheme's maximum is where the three of them (and whatever else runs) \
         together run out of CPU or of timely scheduling, not where the server alone would. At the knee they \
         used together: {}. The busiest of the three is named in the table; generator timer lag above 10 ms \
         means the generator itself may have been late, so the knee is partly the generator's.",
        if cores > 0.0 { format!("{cores:.0}") } else { "shared".into() },
        if parts.is_empty() { "not measured".into() } else { parts.join("; ") }
    );
    if !others.is_empty() {
        t.push_str(&format!(
            " Other processes (or the hypervisor) took a large share of the machine at the knee ({}): the \
             machine was not quiet, so these maxima are lower than a quiet machine's.",
            others.join("; ")
        ));
    }
    t
}

fn meaning_throughput(a: &Analysis<'_>, loads: &[SchemeLoad<'_>]) -> Option<String> {
    let mut parts = Vec::new();
    for l in loads {
        let max = metric_text(a, &l.scheme, Metric::MeRpsSustained)?;
        let beyond = l
            .steps
            .iter()
            .filter(|x| l.knees().iter().any(|k| k.repeat == x.repeat && x.offered_rps > k.offered_rps))
            .count();
        parts.push(format!("{} tops out at {max} ({beyond} step(s) measured beyond its knee)", l.scheme));
    }
    (!parts.is_empty()).then(|| {
        format!(
            "Below the knee the points sit on the diagonal (every offered request is served); past it the \
             achieved rate flattens while the offered rate grows: {}. Each line is one repeat; the crosses mark \
             each repeat's knee.",
            parts.join("; ")
        )
    })
}

fn meaning_latency(a: &Analysis<'_>, loads: &[SchemeLoad<'_>]) -> Option<String> {
    let at: Vec<String> = loads
        .iter()
        .filter_map(|l| {
            let k = l.at_knee(|x| x.me_p99_us)?;
            let good = mean_of(&l.sustained(), |x| x.me_p99_us)?;
            Some(format!(
                "{} p99 {} at its maximum, {} at its knee",
                l.scheme,
                units::us(good),
                units::us(k.mean)
            ))
        })
        .collect();
    let slo = a.results.environment.slo_p99_ms?;
    (!at.is_empty()).then(|| {
        format!(
            "Latency is timed from the intended send (coordinated-omission corrected), so once arrivals outpace \
             service the backlog shows at once and p99 leaves the SLO line ({}): {}.",
            units::us(slo * 1e3),
            at.join("; ")
        )
    })
}

fn mean_of(rows: &[&LoadStepRow], f: impl Fn(&LoadStepRow) -> Option<f64>) -> Option<f64> {
    let v: Vec<f64> = rows.iter().filter_map(|x| f(x)).collect();
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

fn meaning_cpu(a: &Analysis<'_>, loads: &[SchemeLoad<'_>]) -> Option<String> {
    let total = |x: &LoadStepRow| Some(x.server_cpu_us_per_req? + x.redis_cpu_us_per_req.unwrap_or(0.0));
    let parts: Vec<String> = loads
        .iter()
        .filter_map(|l| {
            let shares = l.shares();
            let (lo, hi) = (*shares.first()?, *shares.last()?);
            let (a_lo, a_hi) = (l.at_share(lo, total)?, l.at_share(hi, total)?);
            Some(format!(
                "{} {} at {:.0}% → {} at {:.0}%",
                l.scheme,
                units::us(a_lo.mean),
                lo * 100.0,
                units::us(a_hi.mean),
                hi * 100.0
            ))
        })
        .collect();
    if parts.is_empty() {
        return None;
    }
    let util = a.results.environment.utilization;
    Some(format!(
        "A server at partial load spends more CPU per request than a saturated one (idle wake-ups, smaller \
         batches per system call): {}. The capacity projection uses the figure at {} of the maximum \
         (`--utilization`), the load a fleet is sized to run at, not the one at saturation.",
        parts.join("; "),
        util.map_or("the assumed utilisation".into(), |u| format!("{:.0}%", u * 100.0))
    ))
}

fn cpu_table(d: &mut Document, loads: &[SchemeLoad<'_>]) {
    let mut rows = Vec::new();
    for l in loads {
        for share in l.shares() {
            let f = |m: Option<MeanCi>| {
                m.map_or("—".into(), |m| match m.half_width() {
                    Some(h) => format!("{} ± {}", units::us(m.mean), units::us(h)),
                    None => units::us(m.mean),
                })
            };
            rows.push(vec![
                l.scheme.clone(),
                format!("{:.0}%", share * 100.0),
                l.at_share(share, |x| Some(x.offered_rps))
                    .map_or("—".into(), |m| format!("{} req/s", units::count(m.mean))),
                f(l.at_share(share, |x| x.server_cpu_us_per_req)),
                f(l.at_share(share, |x| x.redis_cpu_us_per_req)),
                l.at_share(share, |x| x.me_p99_us).map_or("—".into(), |m| units::us(m.mean)),
            ]);
        }
    }
    d.table(
        ["scheme", "share of max", "offered", "server CPU / req", "Redis CPU / req", "p99 (corrected)"]
            .map(String::from)
            .to_vec(),
        rows,
    );
}

/// How the cached variants' steps drew their users, when they did (`users` in the step rows).
fn population_text(a: &Analysis<'_>) -> Option<String> {
    let r = a.results;
    let drawn: Vec<_> = r.saturation.iter().chain(&r.cpu_vs_load).filter(|x| x.users.is_some()).collect();
    let most = drawn.iter().filter_map(|x| x.users).max()?;
    let mut schemes: Vec<&str> = drawn.iter().map(|x| x.scheme.as_str()).collect();
    schemes.sort_unstable();
    schemes.dedup();
    let hits: Vec<f64> = r
        .cpu_vs_load
        .iter()
        .filter(|x| {
            x.users.is_some()
                && x.share.zip(r.environment.utilization).is_some_and(|(s, u)| (s - u).abs() < 0.01)
        })
        .filter_map(|x| x.hit_ratio)
        .collect();
    let at = crate::stats::mean_ci(&hits).map_or_else(String::new, |m| {
        format!(" At the utilisation's step the servers counted a hit ratio of {:.2}.", m.mean)
    });
    Some(format!(
        "{} drew each step's credentials uniformly from about offered rate ÷ the workload's per-user rate \
         preloaded sessions (at most {}; above that every one of them, each a little faster), so their \
         maximum and CPU per request are measured at the workload's cache hit ratio, not with the few hot \
         users of the other schemes' pool (whose cost does not depend on who is active); each step's users \
         and hit ratio are in `saturation.csv` and `cpu_vs_load.csv`.{at}",
        schemes.join(" and "),
        units::count(most as f64)
    ))
}
