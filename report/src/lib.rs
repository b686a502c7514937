//! The results folder of authbench: every file name in it, one typed row per CSV, reading and
//! writing, plots (PNG + SVG), `report.md`, a self-contained `report.html` and `reliability.md`.
//! `compare`, `faults` and the attack battery hand typed rows over; `authbench report DIR` calls
//! [`render`] to rebuild the report from the CSVs without re-running anything. A load run's own
//! files (`runs/*/*/timeseries.csv`, `summary.json`, `summary.csv`, `*.hlog`) are the generator's
//! (`authbench_loadgen::output`); this crate reads them through the generator's types.
//!
//! # Layout
//! Imports go one way (`tests/layout.rs` checks it): [`render`] → [`content`] → [`plot`] →
//! [`answer`] → [`analysis`] → [`results`] → the rows ([`data`], [`saturation`], [`ramp_levels`],
//! [`revocation_entries`], [`plan_inputs`], [`store_rtt`], [`transport`]) → [`stats`], [`metric`], [`error`]; [`unit_rows`] (compare's writer) and
//! [`reliability`] → the rows.
//!
//! - [`render`]: `authbench report DIR` ([`render()`]): the files a folder holds → plots and report.
//! - [`results`]: everything in one results folder, read at once ([`Results`]).
//! - [`data`]: the file names ([`data::file`]), one typed row struct per CSV, readers and writers.
//! - [`metric`]: the figures of `summary.csv`, each [`Metric`] with its name and unit.
//! - [`unit_rows`]: what `compare` measured ([`UnitRows`]) gathered into the files: summary means
//!   and CIs, per-session slopes, equivalence check, percentile spectrum, saturation and load rows,
//!   phase timings and `environment.json` ([`Collected`]).
//! - [`run`]: rows taken from one load run's typed output (`ramp.csv` from its per-second rows).
//! - [`reliability`]: `attacks.csv`, `lost.csv`, `faults.csv` and `reliability.md`.
//! - [`write`]: whole-file writes through a temporary name.
//! - [`stats`]: mean and Student-t 95% CI, least-squares fit with R².
//! - [`ramp_levels`]: the ramp per users level from merged per-second histograms of the run
//!   folders (`ramp_levels.csv`).
//! - [`revocation_window`]: what a revocation window is made of (TTL, leeway) and its projection for
//!   the default TTL.
//! - [`plan_inputs`]: rows of the capacity answer's own measurements (Redis driven directly, hit
//!   ratio at the workload's rate, production login, bytes per stored item, `/healthz` pairs,
//!   the validation run).
//! - [`transport`]: `/api/me` per scheme over h1, h2, h1-tls, h2-tls: CPU, latency, bytes per
//!   request, login CPU on a new connection, and the credential's bytes on requests 1, 2 and 100.
//! - [`store_rtt`]: `/api/me` latency against the store's round-trip time (a delay proxy before
//!   Redis), the session − jwt gap paired per repeat, and revocation windows with the RTT in place.
//! - [`revocation_entries`]: the JWT variants' Redis memory against logout rate
//!   (`revocation_memory.csv`) and its projection for the default lifetimes.
//! - [`analysis`]: aggregation of the raw rows (per level, per scheme, fits) shared by plots and text.
//! - [`saturation`]: saturation and load — rows of `saturation.csv`, `cpu_vs_load.csv`, `phases.csv`
//!   (their columns are documented there) and the knee, busiest process and CPU at a share of the maximum.
//! - [`sweep`]: the session sweep's findings — memory per logged-in user (slope with CI, record vs
//!   index) and claim 4 tested across repeats with the stateless schemes as drift control.
//! - [`capacity`]: the capacity projection (cores, Redis memory, Redis shards) from measured slopes.
//! - [`plot`]: the plotters charts, each drawn once per backend (PNG and SVG), one file per family.
//! - [`doc`], [`content`]: the report as a small document model, built from the data, one file
//!   per section.
//! - [`markdown`], [`html`]: writers of that document (`impl Write`).
//! - [`environment`]: `environment.json` as one type ([`Environment`]), written by compare.
//! - [`error`]: the crate's one [`Error`].
//! - [`units`]: number formatting (µs, bytes, counts) shared by plots and text.
//! - [`load_run`]: the report of one `authbench load` folder (timeseries.csv + summary.json).
//!
//! # CSV contract (files in the results directory)
//! All files are optional: a missing file (or one with no rows) makes its sections say
//! "not measured in this run". Comma-separated, header row first, columns by name (order free,
//! extra columns ignored). Numbers are plain decimals; an empty cell means "not sampled" where
//! the column is marked optional (`?`). Latencies are microseconds, memory bytes, time seconds.
//! Scheme names are free strings; `cookie`, `session`, `jwt` are shown in that order, others after.
//!
//! | file | columns | rows |
//! |---|---|---|
//! | `summary.csv` | `scheme,metric,unit,n,mean,ci95_low?,ci95_high?` | one per scheme × metric: mean and 95% CI (Student t) across `n` repeats; CI empty when n < 2 ([`data::SummaryRow::from_repeats`]) |
//! | `ramp.csv` | `scheme,repeat,t_s,active_vus,me_rps,me_p50_us,me_p99_us,errors,server_cpu_us_per_req?,redis_cpu_us_per_req?,server_rss_bytes?,redis_used_memory?` | one per second of each ramp run |
//! | `sessions.csv` | `scheme,repeat,sessions,distinct_sessions_used?,me_p50_us,me_p90_us?,me_p99_us,me_p999_us?,server_cpu_us_per_req?,redis_cpu_us_per_req?,redis_usec_per_call?,redis_used_memory?,redis_bytes_session_record?,redis_bytes_user_index?,redis_keys?,server_rss_bytes?,generator_cpu_pct?,generator_lag_ms?,redis_lookup_calls?,redis_keyspace_hits?,preload_s?,rest_wait_s?,cache_hit_ratio?,cache_entries?,cache_capacity?,cache_bytes?,redis_tracking_keys?` | one per stored-sessions level per repeat (0, 10k, 100k, 1M…): one session per user 1..=N, lookups drawn uniformly from all N, memory at rest ([`data::SessionsRow`]) |
//! | `shards.csv` | `scheme,repeat,sessions,node,keys,used_memory` | one per data-holding Redis node per sweep level per repeat, at rest: one row on one Redis, one per primary on a Redis Cluster ([`data::ShardRow`]) |
//! | `spectrum.csv` | `scheme,percentile,latency_us` | HdrHistogram percentile spectrum of `/api/me`, merged across repeats; `percentile` in percent (0–100, e.g. `99.9`; values all ≤ 1 are read as fractions) |
//! | `revocation.csv` | `scheme,action,window_s,rejected,note,ttl_s?,leeway_s?,default_ttl_s?` | `action` ∈ `logout`, `logout_all`; `rejected` `true`/`false`; when never rejected before expiry, `window_s` = remaining TTL and `note` says so |
//! | `revocation_memory.csv` | see [`revocation_entries::RevocationMemoryRow`] | one per JWT variant × paced logout rate: Redis `used_memory` and keys above the baseline, revocation entries, the lifetimes used; one run each (no interval) |
//! | `credentials.csv` | `scheme,header,credential_bytes,request_bytes` | bytes of the Cookie/Authorization header (`header` = its name) and of the whole `/api/me` request |
//! | `checks.csv` | `scheme,check,passed,detail,category?` | facts tested before measuring; `category` ∈ `security`, `equivalence`, `store`, `revocation` (empty: inferred from the check name, see [`data::CheckRow::category`]) |
//! | `saturation.csv`, `cpu_vs_load.csv`, `phases.csv` | see [`saturation`] | the knee search, CPU against load, phase timings |
//! | `environment.json` | [`Environment`]: one typed field per key compare writes; unknown keys kept | header, sections and the appendix |
//! | `attacks.csv` | `scheme,kind,tried,rejected_4xx,accepted,server_errors` | forged credentials per kind thrown at `/api/me` ([`reliability::AttackRow`]); read by `reliability.md` only |
//! | `lost.csv` | `run,endpoint,measured,in_hlog,errors_summary,errors_timeseries,lost` | each run's counts against its files ([`reliability::LostRow`]); `reliability.md` only |
//! | `transport.csv` | see [`transport`] | one per scheme × transport × repeat |
//! | `store_rtt.csv`, `store_rtt_revocation.csv` | see [`store_rtt`] | `/api/me` at one rate per scheme × store RTT × repeat (p50, p99, server and delay-proxy CPU); revocation windows probed with the RTT in place |
//! | `faults.csv` | `scenario,injected,requests,errors,worst_latency_ms?,recovery_s?,exit_code?,files_parse,passed,detail` | one per injected fault, by `authbench faults` ([`reliability::FaultRow`]); `reliability.md` only |
//!
//! `summary.csv` metrics read by the report (others are listed in the appendix table as they are):
//! `healthz_cpu_us_per_req`, `me_cpu_us_per_req_server`, `me_cpu_us_per_req_redis`,
//! `me_cpu_us_per_req_total`, `cpu_ratio_me_over_healthz`, `me_p50_us`, `me_p99_us`, `me_rps_max`,
//! `credential_bytes`, `login_p50_us`, `refresh_p50_us`, `server_rss_bytes_max`,
//! `redis_used_memory_max`, `store_bytes_per_session` (slope of Redis used_memory against stored
//! sessions, B/session), `store_bytes_per_session_r2`, `server_rss_bytes_per_session` (slope).
//! Names and units are [`Metric::name`] and [`Metric::unit`], also for the open-model figures
//! (`me_rps_sustained`, `me_knee_offered_rps`, `me_cpu_us_per_req_{server,redis}_at_utilization`,
//! `me_fixed_rate_p99_us`). `generator_saturated_seconds` counts seconds (timeseries rows) in
//! which the generator may have been the bottleneck: its unit is `seconds (count)` (written `s`
//! before issue 10; both are shown as a count).
//!
//! `environment.json` is [`Environment`], the one type compare writes and the report reads: every
//! key is optional (an older folder lacks some), unknown keys are kept in `other` and listed in
//! the appendix with the rest. `redis_shard_memory_bytes` (default 16 GiB) is not written by
//! compare; set by hand, it changes the capacity projection. `redis_shard_utilisation` is the
//! `--redis-utilization` compare drove Redis to directly (`redis_direct.csv`; before issue 21 it
//! was hand-set only, default 0.7).
//!
//! # Outputs (written into the same directory)
//! [`render`]: `report.md`, `report.html`, and for each plot with data `<name>.png` and `<name>.svg`:
//! `latency_vs_users`, `throughput_vs_users`, `latency_vs_sessions`, `memory_vs_sessions`,
//! `cpu_per_request`, `latency_spectrum`, `credential_bytes`, `revocation_window`,
//! `memory_vs_logout_rate`; and
//! `ramp_levels.csv` (`scheme,repeat,active_vus,seconds,requests,me_rps,me_p50_us?,me_p99_us?,
//! me_p999_us?,errors`) when the run folders hold the ramp's histograms.
//! Rendering is deterministic: the same CSVs give byte-identical `report.md` and `report.html`.
//! [`reliability::render`]: `reliability.md` from `attacks.csv`, `lost.csv`, `faults.csv`.

pub mod analysis;
pub mod answer;
pub mod capacity;
pub mod content;
pub mod data;
pub mod doc;
pub mod environment;
pub mod error;
pub mod html;
pub mod load_run;
pub mod markdown;
pub mod metric;
pub mod plan_inputs;
pub mod plot;
pub mod ramp_levels;
pub mod reliability;
pub mod render;
pub mod results;
pub mod revocation_entries;
pub mod revocation_window;
pub mod run;
pub mod saturation;
pub mod stats;
pub mod store_rtt;
pub mod sweep;
pub mod transport;
pub mod unit_rows;
pub mod units;
pub mod write;

pub use environment::Environment;
pub use error::Error;
pub use metric::{Metric, Unit};
pub use plot::RenderedPlot;
pub use reliability::Reliability;
pub use render::{RenderedReport, render};
pub use results::Results;
pub use unit_rows::{Collected, UnitRows, Verdict};
