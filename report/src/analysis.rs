//! Aggregation of the raw rows into the figures the plots and the text share: ramp curves per
//! concurrency level, session-scaling levels with CIs across repeats, memory slopes, spectra.

use std::collections::BTreeMap;

use super::data::{CheckCategory, RevocationRow, SessionsRow, SummaryRow};
use super::metric::Metric;
use super::results::Results;
use super::stats::{LinearFit, MeanCi, geometric_ci, linear_fit, mean, mean_ci};

/// One concurrency level of the ramp: each repeat's figure for the level (percentiles of its
/// merged histograms, see [`crate::ramp_levels`]), then the mean and 95% CI across repeats.
#[derive(Debug, Clone, PartialEq)]
pub struct RampLevel {
    pub active_vus: u64,
    /// `None` when no second of the level completed a request.
    pub p50_us: Option<MeanCi>,
    pub p99_us: Option<MeanCi>,
    pub rps: MeanCi,
    pub errors: u64,
    pub seconds: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SchemeRamp {
    pub scheme: String,
    pub levels: Vec<RampLevel>,
}

/// One stored-sessions level: figures across repeats.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionLevel {
    pub sessions: u64,
    pub p50_us: MeanCi,
    pub p99_us: MeanCi,
    /// The same percentiles as geometric means with their interval on log values: what the
    /// log-scale latency chart draws.
    pub p50_geo: MeanCi,
    pub p99_geo: MeanCi,
    pub p999_us: Option<MeanCi>,
    pub server_rss_bytes: Option<MeanCi>,
    pub redis_used_memory: Option<MeanCi>,
    pub server_cpu_us_per_req: Option<MeanCi>,
    pub redis_cpu_us_per_req: Option<MeanCi>,
    pub redis_keys: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SchemeSessions {
    pub scheme: String,
    pub levels: Vec<SessionLevel>,
    /// Redis used_memory against stored sessions (every repeat's points).
    pub redis_fit: Option<LinearFit>,
    /// Server RSS against stored sessions.
    pub rss_fit: Option<LinearFit>,
}

impl SchemeSessions {
    pub fn first(&self) -> Option<&SessionLevel> {
        self.levels.first()
    }
    pub fn last(&self) -> Option<&SessionLevel> {
        self.levels.last()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SchemeSpectrum {
    pub scheme: String,
    /// (percentile in percent, latency µs), sorted by percentile.
    pub points: Vec<(f64, f64)>,
}

impl SchemeSpectrum {
    /// Latency at the first recorded percentile ≥ `p` (HdrHistogram's reading), else the last.
    pub fn at(&self, p: f64) -> Option<f64> {
        self.points.iter().find(|(q, _)| *q >= p - 1e-9).or(self.points.last()).map(|&(_, v)| v)
    }
}

/// CPU per `/api/me` request, split server / Redis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CpuPerRequest {
    pub server_us: f64,
    pub redis_us: f64,
    /// HAProxy in front of replicas (`compare --replicas N`), 0 without.
    pub proxy_us: f64,
    /// CI half width of the total, when the summary has one.
    pub total_ci_half: Option<f64>,
    pub healthz_us: Option<f64>,
    /// The share of the maximum the figures were read at (open model, the answer's one
    /// definition); `None`: an older folder's saturated closed-loop figures.
    pub share: Option<f64>,
    /// Repeats behind the figure.
    pub n: usize,
}

impl CpuPerRequest {
    pub fn total_us(&self) -> f64 {
        self.server_us + self.redis_us + self.proxy_us
    }
}

/// Memory cost of one stored session, B/session, with its fit quality.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StoreSlope {
    pub bytes_per_session: f64,
    pub r2: Option<f64>,
    pub ci_half: Option<f64>,
}

/// The results with the aggregations computed once.
#[derive(Debug, Clone)]
pub struct Analysis<'a> {
    pub results: &'a Results,
    pub schemes: Vec<String>,
    pub ramp: Vec<SchemeRamp>,
    pub sessions: Vec<SchemeSessions>,
    pub spectrum: Vec<SchemeSpectrum>,
}

impl<'a> Analysis<'a> {
    pub fn new(results: &'a Results) -> Self {
        let schemes = results.schemes();
        let ramp = schemes.iter().filter_map(|s| ramp_of(results, s)).collect();
        let sessions = schemes.iter().filter_map(|s| sessions_of(results, s)).collect();
        let spectrum = schemes
            .iter()
            .filter_map(|s| {
                let mut points: Vec<(f64, f64)> = results
                    .spectrum
                    .iter()
                    .filter(|r| &r.scheme == s && r.percentile.is_finite() && r.latency_us.is_finite())
                    .map(|r| (r.percentile, r.latency_us))
                    .collect();
                points.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
                (!points.is_empty()).then(|| SchemeSpectrum { scheme: s.clone(), points })
            })
            .collect();
        Analysis { results, schemes, ramp, sessions, spectrum }
    }

    pub fn metric(&self, scheme: &str, name: Metric) -> Option<&SummaryRow> {
        self.results.metric(scheme, name)
    }

    pub fn metric_mean(&self, scheme: &str, name: Metric) -> Option<f64> {
        self.metric(scheme, name).map(|r| r.mean)
    }

    pub fn sessions_of(&self, scheme: &str) -> Option<&SchemeSessions> {
        self.sessions.iter().find(|s| s.scheme == scheme)
    }

    pub fn ramp_of(&self, scheme: &str) -> Option<&SchemeRamp> {
        self.ramp.iter().find(|s| s.scheme == scheme)
    }

    pub fn spectrum_of(&self, scheme: &str) -> Option<&SchemeSpectrum> {
        self.spectrum.iter().find(|s| s.scheme == scheme)
    }

    /// The first probe of a scheme and action: its note and what its window is made of (every
    /// probe of a scheme runs against the same servers and TTL).
    pub fn revocation(&self, scheme: &str, action: &str) -> Option<&RevocationRow> {
        self.results.revocation.iter().find(|r| r.scheme == scheme && r.action == action)
    }

    /// The first probe's row with the window of all probes (geometric mean) in place of its own,
    /// revoked only when every probe was: what the texts and plots describe.
    pub fn revocation_summary(
        &self,
        scheme: &str,
        action: &str,
    ) -> Option<(RevocationRow, crate::revocation_window::Window)> {
        let w = self.revocation_window(scheme, action)?;
        let mut row = self.revocation(scheme, action)?.clone();
        row.window_s = w.mean_s;
        row.rejected = w.all_rejected();
        Some((row, w))
    }

    /// The window of a scheme and action over all its probes, with its interval.
    pub fn revocation_window(&self, scheme: &str, action: &str) -> Option<crate::revocation_window::Window> {
        let rows: Vec<&RevocationRow> =
            self.results.revocation.iter().filter(|r| r.scheme == scheme && r.action == action).collect();
        crate::revocation_window::Window::of(&rows)
    }

    /// From `summary.csv` (server + Redis metrics), else the mean of the ramp's per-second values.
    /// CPU per `/api/me`: at the run's utilisation of the scheme's maximum (open model) — one
    /// definition for every table, plot and the answer — with `/healthz` at the same offered rate
    /// beside it; an older folder without those steps falls back to its steady-run figures,
    /// labelled as such (`share: None`).
    pub fn cpu(&self, scheme: &str) -> Option<CpuPerRequest> {
        let pairs: Vec<f64> = self
            .results
            .healthz_pairs
            .iter()
            .filter(|p| p.scheme == scheme)
            .map(|p| p.healthz_server_cpu_us)
            .collect();
        if let Some(server) = self.metric(scheme, Metric::MeCpuServerAtUtilization) {
            let redis = self.metric_mean(scheme, Metric::MeCpuRedisAtUtilization).unwrap_or(0.0).max(0.0);
            // The total's interval from each repeat's own server + Redis at that step.
            let share = self.results.environment.utilization;
            let totals: Vec<f64> = self
                .results
                .cpu_vs_load
                .iter()
                .filter(|r| {
                    r.scheme == scheme && r.share.zip(share).is_some_and(|(a, b)| (a - b).abs() < 0.01)
                })
                .filter_map(|r| {
                    Some(r.server_cpu_us_per_req? + r.redis_cpu_us_per_req.unwrap_or(0.0).max(0.0))
                })
                .collect();
            let total_ci_half = mean_ci(&totals).and_then(|m| m.half_width()).or_else(|| ci_half(server));
            return Some(CpuPerRequest {
                server_us: server.mean,
                redis_us: redis,
                proxy_us: 0.0,
                total_ci_half,
                healthz_us: mean(&pairs).or_else(|| self.metric_mean(scheme, Metric::HealthzCpu)),
                share: self.results.environment.utilization,
                n: server.n,
            });
        }
        let healthz_us = self.metric_mean(scheme, Metric::HealthzCpu);
        if let Some(server) = self.metric(scheme, Metric::MeCpuServer) {
            let redis = self.metric_mean(scheme, Metric::MeCpuRedis).unwrap_or(0.0);
            let total_ci_half = self.metric(scheme, Metric::MeCpuTotal).and_then(ci_half);
            return Some(CpuPerRequest {
                server_us: server.mean,
                redis_us: redis,
                proxy_us: self.metric_mean(scheme, Metric::MeCpuProxy).unwrap_or(0.0),
                total_ci_half,
                healthz_us,
                share: None,
                n: server.n,
            });
        }
        let rows: Vec<_> = self.results.ramp.iter().filter(|r| r.scheme == scheme).collect();
        let server = mean(&rows.iter().filter_map(|r| r.server_cpu_us_per_req).collect::<Vec<_>>())?;
        let redis =
            mean(&rows.iter().filter_map(|r| r.redis_cpu_us_per_req).collect::<Vec<_>>()).unwrap_or(0.0);
        Some(CpuPerRequest {
            server_us: server,
            redis_us: redis,
            proxy_us: 0.0,
            total_ci_half: None,
            healthz_us,
            share: None,
            n: 1,
        })
    }

    /// Store bytes per session: `summary.csv`'s slope, else the fit of sessions.csv.
    pub fn store_slope(&self, scheme: &str) -> Option<StoreSlope> {
        if let Some(row) = self.metric(scheme, Metric::StoreBytesPerSession) {
            return Some(StoreSlope {
                bytes_per_session: row.mean,
                r2: self.metric_mean(scheme, Metric::StoreBytesPerSessionR2),
                ci_half: ci_half(row),
            });
        }
        let fit = self.sessions_of(scheme)?.redis_fit?;
        Some(StoreSlope {
            bytes_per_session: fit.slope,
            r2: fit.r2.is_finite().then_some(fit.r2),
            ci_half: None,
        })
    }

    /// Server RSS bytes per stored session: `summary.csv`, else the fit of sessions.csv.
    pub fn rss_slope(&self, scheme: &str) -> Option<StoreSlope> {
        if let Some(row) = self.metric(scheme, Metric::ServerRssPerSession) {
            return Some(StoreSlope { bytes_per_session: row.mean, r2: None, ci_half: ci_half(row) });
        }
        let fit = self.sessions_of(scheme)?.rss_fit?;
        Some(StoreSlope {
            bytes_per_session: fit.slope,
            r2: fit.r2.is_finite().then_some(fit.r2),
            ci_half: None,
        })
    }

    /// Whether `/api/me` of this scheme uses the Redis store. A passed check decides when there is
    /// one (`no_store…` → no; another store check, e.g. `one_store_lookup_per_request` → yes);
    /// otherwise the measurement: Redis CPU per request ≥ 1% of the server's, or ≥ 16 B per stored
    /// session (less is Redis's own bookkeeping, not a session record).
    pub fn uses_store(&self, scheme: &str) -> bool {
        let store_checks: Vec<_> = self
            .results
            .checks
            .iter()
            .filter(|c| c.scheme == scheme && c.passed && c.category() == CheckCategory::Store)
            .collect();
        if store_checks.iter().any(|c| c.check.to_lowercase().contains("no_store")) {
            return false;
        }
        if !store_checks.is_empty() {
            return true;
        }
        let cpu = self.cpu(scheme);
        let cpu_says = cpu.is_some_and(|c| c.redis_us >= 0.01 * c.server_us && c.redis_us > 0.0);
        let memory_says = self.store_slope(scheme).is_some_and(|s| s.bytes_per_session >= 16.0);
        cpu_says || memory_says
    }

    /// Credential bytes per request: `credentials.csv`, else `summary.csv`.
    pub fn credential_bytes(&self, scheme: &str) -> Option<f64> {
        self.results
            .credentials
            .iter()
            .find(|c| c.scheme == scheme)
            .map(|c| c.credential_bytes as f64)
            .or_else(|| self.metric_mean(scheme, Metric::CredentialBytes))
    }
}

pub fn ci_half(row: &SummaryRow) -> Option<f64> {
    Some((row.ci95_high? - row.ci95_low?) / 2.0)
}

fn ramp_of(results: &Results, scheme: &str) -> Option<SchemeRamp> {
    let mut by_level: BTreeMap<u64, Vec<&crate::ramp_levels::RampLevelRow>> = BTreeMap::new();
    for r in results.ramp_levels.iter().filter(|r| r.scheme == scheme && r.active_vus > 0) {
        by_level.entry(r.active_vus).or_default().push(r);
    }
    let levels: Vec<RampLevel> = by_level
        .into_iter()
        .filter_map(|(active_vus, rows)| {
            let of = |f: fn(&crate::ramp_levels::RampLevelRow) -> Option<f64>| {
                mean_ci(&rows.iter().filter_map(|r| f(r)).filter(|v| *v > 0.0).collect::<Vec<_>>())
            };
            Some(RampLevel {
                active_vus,
                p50_us: of(|r| r.me_p50_us),
                p99_us: of(|r| r.me_p99_us),
                rps: mean_ci(&rows.iter().map(|r| r.me_rps).collect::<Vec<_>>())?,
                errors: rows.iter().map(|r| r.errors).sum(),
                seconds: rows.iter().map(|r| r.seconds as usize).sum(),
            })
        })
        .collect();
    (!levels.is_empty()).then(|| SchemeRamp { scheme: scheme.to_string(), levels })
}

fn sessions_of(results: &Results, scheme: &str) -> Option<SchemeSessions> {
    let rows: Vec<_> = results.sessions.iter().filter(|r| r.scheme == scheme).collect();
    if rows.is_empty() {
        return None;
    }
    let mut by_level: BTreeMap<u64, Vec<_>> = BTreeMap::new();
    for r in &rows {
        by_level.entry(r.sessions).or_default().push(*r);
    }
    let opt = |v: Vec<Option<f64>>| mean_ci(&v.into_iter().flatten().collect::<Vec<_>>());
    let levels = by_level
        .into_iter()
        .filter_map(|(sessions, rs)| {
            Some(SessionLevel {
                sessions,
                p50_us: mean_ci(&rs.iter().map(|r| r.me_p50_us).collect::<Vec<_>>())?,
                p99_us: mean_ci(&rs.iter().map(|r| r.me_p99_us).collect::<Vec<_>>())?,
                p50_geo: geometric_ci(&rs.iter().map(|r| r.me_p50_us).collect::<Vec<_>>())?,
                p99_geo: geometric_ci(&rs.iter().map(|r| r.me_p99_us).collect::<Vec<_>>())?,
                p999_us: opt(rs.iter().map(|r| r.me_p999_us).collect()),
                server_rss_bytes: opt(rs.iter().map(|r| r.server_rss_bytes).collect()),
                redis_used_memory: opt(rs.iter().map(|r| r.redis_used_memory).collect()),
                server_cpu_us_per_req: opt(rs.iter().map(|r| r.server_cpu_us_per_req).collect()),
                redis_cpu_us_per_req: opt(rs.iter().map(|r| r.redis_cpu_us_per_req).collect()),
                redis_keys: mean(
                    &rs.iter().filter_map(|r| r.redis_keys.map(|k| k as f64)).collect::<Vec<_>>(),
                ),
            })
        })
        .collect();
    let fit = |f: fn(&SessionsRow) -> Option<f64>| {
        linear_fit(&rows.iter().filter_map(|r| Some((r.sessions as f64, f(r)?))).collect::<Vec<_>>())
    };
    Some(SchemeSessions {
        scheme: scheme.to_string(),
        levels,
        redis_fit: fit(|r| r.redis_used_memory),
        rss_fit: fit(|r| r.server_rss_bytes),
    })
}
