//! Rows of the results folder taken from one load run's typed output (`authbench_loadgen`'s
//! `Recorded` and its `Summary`), never from its files: the one place a run's output becomes
//! result rows and `summary.csv` figures (vegeta's reporters folding over one result type).
//!
//! - [`ramp`]: a ramp's `ramp.csv` rows ([`RampRow::from_second`](crate::data::RampRow)) and
//!   its metrics.
//! - [`step`]: a fixed-rate run's `saturation.csv` / `cpu_vs_load.csv` row and the figures the
//!   knee search judges.
//! - [`steady`]: the CPU phase's metrics and the `credentials.csv` row.
//! - [`sweep_level`]: a sweep level's `sessions.csv` row, as far as its run says.
//!
//! Imports go one way: this file re-exports; the four modules use none of each other.

mod ramp;
mod steady;
mod step;
mod sweep_level;

pub use ramp::ramp_metrics;
pub use steady::{Presented, steady_metrics};
pub use step::{StepRun, achieved_rps, main_latency_us, redis_cpu_pct};
