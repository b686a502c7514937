//! Combining agents' results on one absolute clock.
//!
//! Each agent's second `t_s` ends at `load_started_at + t_s` by its own clock; the merged run starts
//! at the earliest agent's start `T0`, and an agent's row lands in merged second
//! `round(load_started_at + t_s − T0)` (at least 1). Counts and errors add up; per-second and
//! whole-run percentiles come from the merged histograms; means of bytes are weighted by requests;
//! server and Redis figures come from the one agent that sampled them. Their CPU per request is
//! re-divided by every agent's requests when every agent loaded the same target (one server served
//! them all); when agents loaded different targets (each its own server), the sampled server
//! served only its agent's requests, so the sampler's own figure stands. Generator figures are the worst agent's per second, and
//! each agent's own are kept in the summary's `agents`.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use crate::agent::Definition;
use crate::hlog::Series;
use crate::output::{EndpointRow, Row};
use crate::record::{Endpoint, new_histogram};
use crate::summary::{
    AgentResult, EndpointSummary, GeneratorCost, Latency, OpenStarts, RedisCost, ServerCost, Summary, Total,
    error_rate,
};
use crate::threshold::Threshold;

use super::read::AgentFolder;

/// One merged second: its row and each (endpoint, series) histogram.
pub struct Second {
    pub row: Row,
    pub histograms: Vec<(Endpoint, Series, Histogram<u64>)>,
    /// Seconds after T0 at which the second's earliest contribution started.
    pub from_s: f64,
}

/// Requests attempted in a row (what per-request means are divided by).
fn attempts(r: &Row) -> u64 {
    r.endpoints.iter().map(|e| e.count + e.errors).sum()
}

fn add(h: &mut Histogram<u64>, other: &Histogram<u64>) {
    // Same bounds on both sides (every histogram is made by `new_histogram`); auto-resize covers
    // a log written by another tool.
    h.auto(true);
    h.add(other).expect("histograms of the same bounds add");
}

/// Whether every agent loaded the same target, so that the sampled server (and its Redis) served
/// every agent's requests rather than only the sampling agent's.
pub fn one_target(agents: &[AgentFolder]) -> bool {
    agents.windows(2).all(|w| w[0].summary.target == w[1].summary.target)
}

/// Merge every agent's rows and intervals second by second.
pub fn timeline(agents: &[AgentFolder], t0: f64, keys: &[(Endpoint, Series)]) -> Vec<Second> {
    struct Acc {
        rows: Vec<(usize, Row)>,
        histograms: Vec<Histogram<u64>>,
        from_s: f64,
        to_s: f64,
    }
    let shared = one_target(agents);
    let mut seconds: BTreeMap<u64, Acc> = BTreeMap::new();
    for (a, folder) in agents.iter().enumerate() {
        let offset = folder.agent.load_started_at - t0;
        for (i, row) in folder.rows.iter().enumerate() {
            let end = offset + row.t_s;
            let k = (end.round().max(1.0)) as u64;
            let acc = seconds.entry(k).or_insert_with(|| Acc {
                rows: Vec::new(),
                histograms: keys.iter().map(|_| new_histogram()).collect(),
                from_s: f64::MAX,
                to_s: 0.0,
            });
            acc.from_s = acc.from_s.min(end - row.interval_s);
            acc.to_s = acc.to_s.max(end);
            acc.rows.push((a, row.clone()));
            for (h, key) in acc.histograms.iter_mut().zip(keys) {
                if let Some((_, _, intervals)) = folder.hlogs.iter().find(|(e, s, _)| (*e, *s) == *key) {
                    add(h, &intervals[i].histogram);
                }
            }
        }
    }
    seconds
        .into_values()
        .map(|acc| {
            let from_s = acc.from_s.max(0.0);
            let interval_s = (acc.to_s - from_s).max(1e-6);
            let rows: Vec<&Row> = acc.rows.iter().map(|(_, r)| r).collect();
            let mut row = combine_rows(&rows, shared);
            row.t_s = acc.to_s;
            row.interval_s = interval_s;
            for (i, e) in Endpoint::ALL.iter().enumerate() {
                let er = &mut row.endpoints[i];
                er.rps = er.count as f64 / interval_s;
                for ((endpoint, series), h) in keys.iter().zip(&acc.histograms) {
                    if endpoint != e {
                        continue;
                    }
                    match series {
                        Series::Latency => er.latency = Latency::of(h),
                        Series::Uncorrected => {
                            er.p99_uncorrected = (!h.is_empty()).then(|| h.value_at_quantile(0.99));
                        }
                    }
                }
            }
            let histograms =
                keys.iter().zip(acc.histograms).map(|((e, s), h)| (*e, *s, h)).collect::<Vec<_>>();
            Second { row, histograms, from_s }
        })
        .collect()
}

/// The sums, maxima and weighted means of the rows of one second (times and percentiles are the
/// caller's). `shared`: every agent loaded one target (see [`one_target`]).
fn combine_rows(rows: &[&Row], shared: bool) -> Row {
    let mut m = Row::default();
    let total_attempts: u64 = rows.iter().map(|r| attempts(r)).sum();
    // `over_all`: divide by every row's requests (a figure every row's requests share); otherwise
    // by the requests of the rows that have the figure.
    let weighted = |f: &dyn Fn(&Row) -> Option<f64>, over_all: bool| -> Option<f64> {
        let (mut sum, mut weight, mut any) = (0.0, 0u64, false);
        for r in rows {
            if let Some(v) = f(r) {
                sum += v * attempts(r) as f64;
                weight += attempts(r);
                any = true;
            }
        }
        let weight = if over_all { total_attempts } else { weight };
        (any && weight > 0).then(|| sum / weight as f64)
    };
    m.bytes_sent_per_req = weighted(&|r| r.bytes_sent_per_req, false);
    m.bytes_received_per_req = weighted(&|r| r.bytes_received_per_req, false);
    m.server_cpu_us_per_req = weighted(&|r| r.server_cpu_us_per_req, shared);
    m.redis_cpu_us_per_req = weighted(&|r| r.redis_cpu_us_per_req, shared);
    for r in rows {
        m.stage = m.stage.max(r.stage);
        m.target += r.target;
        m.active_vus += r.active_vus;
        for (me, re) in m.endpoints.iter_mut().zip(&r.endpoints) {
            me.count += re.count;
            me.errors += re.errors;
            me.unfinished += re.unfinished;
        }
        for (a, b) in m.errors.iter_mut().zip(&r.errors) {
            *a += b;
        }
        m.late_starts += r.late_starts;
        m.server_rss_bytes = m.server_rss_bytes.max(r.server_rss_bytes);
        m.redis_used_memory = m.redis_used_memory.max(r.redis_used_memory);
        m.redis_keys = m.redis_keys.max(r.redis_keys);
        m.gen_cpu_percent = match (m.gen_cpu_percent, r.gen_cpu_percent) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        m.gen_lag_max_us = m.gen_lag_max_us.max(r.gen_lag_max_us);
        m.gen_saturated |= r.gen_saturated;
        m.in_flight += r.in_flight;
        m.oldest_in_flight_ms = match (m.oldest_in_flight_ms, r.oldest_in_flight_ms) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        m.unfinished += r.unfinished;
        m.dropped += r.dropped;
    }
    // Stalled: nothing answered anywhere all second while some agent had requests waiting.
    m.stalled = rows.iter().any(|r| r.stalled) && total_attempts == 0;
    m.endpoints = m.endpoints.map(|e| EndpointRow { latency: None, p99_uncorrected: None, ..e });
    m
}

/// `summary.json` of the merged run, recomputed from the merged histograms.
pub fn summary(agents: &[AgentFolder], test: &Definition, t0: f64) -> Summary {
    let open = agents.iter().any(|a| a.summary.open.is_some());
    let end = agents.iter().map(|a| a.agent.load_started_at + a.summary.duration_s).fold(t0, f64::max);
    let duration_s = end - t0;
    let names: Vec<Endpoint> = Endpoint::ALL
        .into_iter()
        .filter(|e| agents.iter().any(|a| a.summary.endpoints.contains_key(e)))
        .collect();
    let mut all = new_histogram();
    let mut endpoints = BTreeMap::new();
    for e in &names {
        let parts: Vec<&EndpointSummary> = agents.iter().filter_map(|a| a.summary.endpoints.get(e)).collect();
        let mut latency = new_histogram();
        let mut uncorrected = new_histogram();
        for a in agents {
            if let Some(h) = a.histogram(*e, Series::Latency) {
                add(&mut latency, &h);
            }
            if let Some(h) = a.histogram(*e, Series::Uncorrected) {
                add(&mut uncorrected, &h);
            }
        }
        add(&mut all, &latency);
        let count: u64 = parts.iter().map(|p| p.count).sum();
        let errors: u64 = parts.iter().map(|p| p.errors).sum();
        let unfinished: u64 = parts.iter().map(|p| p.unfinished).sum();
        let att = |p: &EndpointSummary| (p.count + p.errors) as f64;
        let attempts: f64 = parts.iter().map(|p| att(p)).sum();
        let mean = |f: &dyn Fn(&EndpointSummary) -> f64| {
            if attempts > 0.0 { parts.iter().map(|p| f(p) * att(p)).sum::<f64>() / attempts } else { 0.0 }
        };
        let cred: Vec<&&EndpointSummary> =
            parts.iter().filter(|p| p.credential_bytes_per_req.is_some()).collect();
        let cred_w: f64 = cred.iter().map(|p| att(p)).sum();
        let sum_maps = |f: &dyn Fn(&EndpointSummary) -> &BTreeMap<String, u64>| {
            let mut m = BTreeMap::new();
            for p in &parts {
                for (k, v) in f(p) {
                    *m.entry(k.clone()).or_insert(0) += v;
                }
            }
            m
        };
        endpoints.insert(
            *e,
            EndpointSummary {
                count,
                errors,
                errors_by_kind: sum_maps(&|p| &p.errors_by_kind),
                errors_by_status: sum_maps(&|p| &p.errors_by_status),
                unfinished,
                unfinished_max_age_ms: parts.iter().filter_map(|p| p.unfinished_max_age_ms).reduce(f64::max),
                error_rate: error_rate(count, errors, unfinished),
                rps: if duration_s > 0.0 { count as f64 / duration_s } else { 0.0 },
                latency_us: Latency::of(&latency),
                uncorrected_latency_us: if open { Latency::of(&uncorrected) } else { None },
                bytes_sent_per_req: mean(&|p| p.bytes_sent_per_req),
                bytes_received_per_req: mean(&|p| p.bytes_received_per_req),
                credential_bytes_per_req: (cred_w > 0.0).then(|| {
                    cred.iter().map(|p| p.credential_bytes_per_req.unwrap_or(0.0) * att(p)).sum::<f64>()
                        / cred_w
                }),
            },
        );
    }
    let sum = |f: &dyn Fn(&Summary) -> u64| agents.iter().map(|a| f(&a.summary)).sum::<u64>();
    let (count, errors, unfinished) =
        (sum(&|s| s.total.count), sum(&|s| s.total.errors), sum(&|s| s.total.unfinished));
    let attempts = (count + errors) as f64;
    let tw = |f: &dyn Fn(&Summary) -> f64| {
        if attempts > 0.0 {
            agents
                .iter()
                .map(|a| f(&a.summary) * (a.summary.total.count + a.summary.total.errors) as f64)
                .sum::<f64>()
                / attempts
        } else {
            0.0
        }
    };
    let sampler =
        agents.iter().find(|a| a.summary.server.pid.is_some() || a.summary.redis.used_memory_max.is_some());
    // Server and Redis CPU per request: the sampling agent's CPU time over everyone's requests when
    // all loaded one target; else its server served only its own requests, and its figure stands.
    let shared = one_target(agents);
    let per_all = |per: Option<f64>, s: &Summary| {
        if !shared {
            return per;
        }
        per.map(|p| p * (s.total.count + s.total.errors) as f64 / attempts.max(1.0))
    };
    let server = sampler.map_or_else(ServerCost::default, |a| ServerCost {
        cpu_us_per_req: per_all(a.summary.server.cpu_us_per_req, &a.summary),
        ..a.summary.server.clone()
    });
    let redis = sampler.map_or_else(RedisCost::default, |a| RedisCost {
        cpu_us_per_req: per_all(a.summary.redis.cpu_us_per_req, &a.summary),
        ..a.summary.redis.clone()
    });
    let open_starts = open.then(|| OpenStarts {
        scheduled: agents.iter().filter_map(|a| a.summary.open.as_ref()).map(|o| o.scheduled).sum(),
        started: agents.iter().filter_map(|a| a.summary.open.as_ref()).map(|o| o.started).sum(),
        late: agents.iter().filter_map(|a| a.summary.open.as_ref()).map(|o| o.late).sum(),
        dropped: agents.iter().filter_map(|a| a.summary.open.as_ref()).map(|o| o.dropped).sum(),
        dropped_oldest_age_ms: agents
            .iter()
            .filter_map(|a| a.summary.open.as_ref()?.dropped_oldest_age_ms)
            .reduce(f64::max),
    });
    let generator = GeneratorCost {
        cpu_percent: agents.iter().map(|a| a.summary.generator.cpu_percent).sum(),
        cores: agents.iter().map(|a| a.summary.generator.cores).sum(),
        max_lag_us: agents.iter().map(|a| a.summary.generator.max_lag_us).max().unwrap_or(0),
        saturated_seconds: agents.iter().map(|a| a.summary.generator.saturated_seconds).max().unwrap_or(0),
        saturated: agents.iter().any(|a| a.summary.generator.saturated),
    };
    let shift = |a: &AgentFolder| a.agent.load_started_at - t0;
    let mut stalls = Vec::new();
    for a in agents {
        for s in &a.summary.stalls {
            let mut s = s.clone();
            s.from_s += shift(a);
            s.to_s += shift(a);
            stalls.push(s);
        }
    }
    stalls.sort_by(|x, y| x.from_s.total_cmp(&y.from_s));
    let stopped_answering = agents
        .iter()
        .filter_map(|a| {
            let mut s = a.summary.stopped_answering.clone()?;
            s.at_s += shift(a);
            Some(s)
        })
        .min_by(|x, y| x.at_s.total_cmp(&y.at_s));
    let mut targets: Vec<&str> = agents.iter().map(|a| a.summary.target.as_str()).collect();
    targets.dedup();
    let mut merged = Summary {
        scheme: test.scheme.clone(),
        model: test.model.name().to_owned(),
        target: targets.join(" "),
        duration_s,
        started_at: t0,
        vus_max: 0,
        interrupted: agents.iter().any(|a| a.summary.interrupted),
        target_lost: agents.iter().any(|a| a.summary.target_lost),
        stopped_answering,
        stalls,
        endpoints,
        requests: Vec::new(),
        total: Total {
            count,
            errors,
            unfinished,
            unfinished_max_age_ms: agents
                .iter()
                .filter_map(|a| a.summary.total.unfinished_max_age_ms)
                .reduce(f64::max),
            error_rate: error_rate(count, errors, unfinished),
            rps: if duration_s > 0.0 { count as f64 / duration_s } else { 0.0 },
            bytes_sent_per_req: tw(&|s| s.total.bytes_sent_per_req),
            bytes_received_per_req: tw(&|s| s.total.bytes_received_per_req),
            latency_us: Latency::of(&all),
        },
        open: open_starts,
        server,
        // Agents do not sample a load balancer (merge is for agents of one target).
        proxy: None,
        redis,
        generator,
        thresholds: Vec::new(),
        aborted_by_threshold: agents.iter().find_map(|a| a.summary.aborted_by_threshold.clone()),
        agent: None,
        limits: None,
        transport: agents.first().and_then(|a| a.summary.transport.clone()),
        tls: agents.iter().filter_map(|a| a.summary.tls).reduce(|x, y| crate::summary::TlsHandshakes {
            full: x.full + y.full,
            resumed: x.resumed + y.resumed,
        }),
        agents: agents
            .iter()
            .map(|a| AgentResult {
                dir: a.dir.display().to_string(),
                index: a.agent.index,
                target: a.summary.target.clone(),
                users: a.agent.users,
                load_started_at: a.agent.load_started_at,
                clock_offset_s: shift(a),
                late_by_s: a.agent.late_by_s,
                count: a.summary.total.count,
                errors: a.summary.total.errors,
                generator: a.summary.generator.clone(),
            })
            .collect(),
    };
    // Thresholds judged on the merged result (the test's own rules; they parsed when it ran).
    merged.thresholds =
        test.thresholds.iter().filter_map(|t| Threshold::parse(t).ok()).map(|t| t.check(&merged)).collect();
    merged
}

/// Most virtual users alive in any merged second.
pub fn vus_max(seconds: &[Second]) -> u64 {
    seconds.iter().map(|s| s.row.active_vus).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(count: u64, server_cpu: Option<f64>) -> Row {
        let mut r = Row::default();
        r.endpoints[0].count = count;
        r.server_cpu_us_per_req = server_cpu;
        r
    }

    #[test]
    fn sampled_cpu_is_shared_only_when_one_server_served_every_agent() {
        // Agent 1 sampled 10 µs/request over its 100 requests; agent 2 sent 300 unsampled ones.
        let (sampler, other) = (row(100, Some(10.0)), row(300, None));
        // One target: the sampled CPU time served all 400 requests.
        assert_eq!(combine_rows(&[&sampler, &other], true).server_cpu_us_per_req, Some(2.5));
        // One server per agent: the sampled server served only its agent's 100.
        assert_eq!(combine_rows(&[&sampler, &other], false).server_cpu_us_per_req, Some(10.0));
        assert_eq!(combine_rows(&[&other], true).server_cpu_us_per_req, None);
    }
}
