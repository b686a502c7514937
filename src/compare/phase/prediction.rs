//! The validation phase's prediction: this run's own rows (the output folder as written so far,
//! read back with `Results::read_dir`) through the capacity answer's inputs and arithmetic
//! (`authbench_report::answer`), for the workload the phase then runs. The measurement is
//! [`super::validation`].

use std::path::Path;

use anyhow::{Context, Result};
use authbench_report::answer::Workload;
use authbench_report::answer::from_results::scheme_inputs;
use authbench_report::answer::model::{Design, answer, p99_at};
use authbench_report::results::Results;

use crate::compare::plan::validate::ValidationPlan;

/// What the model predicts for one scheme under the validated workload (means over the run's
/// repeats), with the inputs it came from, for the notes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Predicted {
    pub app_cpu_cores: f64,
    pub redis_cpu_cores: Option<f64>,
    pub redis_memory_bytes: Option<f64>,
    pub hit_ratio: Option<f64>,
    pub p99_us: Option<f64>,
    /// Inputs: server CPU per request at the utilisation step, Redis CPU per lookup, Redis bytes
    /// per stored session, the load share the p99 was read at and the lowest measured share.
    pub server_us: f64,
    pub redis_lookup_us: Option<f64>,
    pub bytes_per_user: Option<f64>,
    pub share: f64,
    pub p99_share: f64,
    /// Notes of `scheme_inputs` (an input that stands in for a measurement).
    pub notes: Vec<String>,
}

/// The workload `v` as the capacity answer takes it: the active users at their rate, no logins
/// or logouts (the phase sends only `GET /api/me`), the plan's utilisation targets.
pub fn workload(v: &ValidationPlan, utilisation: f64, redis_utilisation: f64) -> Workload {
    Workload {
        users: v.active,
        requests_per_user_s: v.rate_per_user,
        logins_per_user_day: 0.0,
        logouts_per_user_day: 0.0,
        cache_ttl: authbench_servers::facts::DEFAULT_CACHE_TTL,
        utilisation,
        redis_utilisation,
        ..Workload::default()
    }
}

fn mean(v: impl Iterator<Item = f64>) -> Option<f64> {
    let v: Vec<f64> = v.filter(|x| x.is_finite()).collect();
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// The mean over repeats of `scheme`'s maximum in the folder `dir`: each utilisation step's
/// offered rate ÷ its share.
pub fn maximum(dir: &Path, scheme: &str, utilisation: f64) -> Result<Option<f64>> {
    let r = Results::read_dir(dir).with_context(|| format!("read {} for the prediction", dir.display()))?;
    Ok(mean(
        r.cpu_vs_load
            .iter()
            .filter(|s| s.scheme == scheme && s.share.is_some_and(|x| (x - utilisation).abs() <= 0.051))
            .map(|s| s.offered_rps / s.share.unwrap_or(1.0)),
    ))
}

/// The prediction for `scheme` from the folder `dir`; `None` when the folder lacks its CPU step
/// at the workload's utilisation.
pub fn predict(dir: &Path, scheme: &str, v: &ValidationPlan, w: &Workload) -> Result<Option<Predicted>> {
    let r = Results::read_dir(dir).with_context(|| format!("read {} for the prediction", dir.display()))?;
    let Some(design) = Design::of(scheme) else { return Ok(None) };
    let Some(inputs) = scheme_inputs(&r, scheme, w) else { return Ok(None) };
    let stored = w.with_users(v.users);
    let answers: Vec<_> = inputs.repeats.iter().map(|i| answer(design, w, i)).collect();
    // The maximum of each repeat: the utilisation step's offered rate ÷ its share.
    let maximum = mean(
        r.cpu_vs_load
            .iter()
            .filter(|s| s.scheme == scheme && s.share.is_some_and(|x| (x - w.utilisation).abs() <= 0.051))
            .map(|s| s.offered_rps / s.share.unwrap_or(1.0)),
    );
    let share = maximum.map_or(f64::NAN, |m| w.requests_s() / m);
    // Below the lowest measured share the curve is read at that share (the p99 of a lightly
    // loaded server changes little further down); stated in the note.
    let lowest =
        mean(inputs.repeats.iter().map(|i| i.p99_curve.iter().map(|p| p.0).fold(f64::INFINITY, f64::min)))
            .unwrap_or(f64::NAN);
    let p99_share = if share < lowest { lowest } else { share };
    let uses_store = design.needs_redis();
    Ok(Some(Predicted {
        // The cores in use at this rate: the answer provisions them ÷ utilisation.
        app_cpu_cores: mean(answers.iter().map(|a| a.app_cores * w.utilisation)).unwrap_or(f64::NAN),
        redis_cpu_cores: uses_store.then(|| mean(answers.iter().map(|a| a.redis_cores))).flatten(),
        redis_memory_bytes: if design.is_session() {
            mean(inputs.repeats.iter().filter_map(|i| answer(design, &stored, i).redis_memory_bytes))
        } else {
            None
        },
        hit_ratio: if design.is_cached() {
            mean(inputs.repeats.iter().filter_map(|i| i.hit_ratio))
        } else {
            None
        },
        p99_us: mean(inputs.repeats.iter().filter_map(|i| p99_at(&i.p99_curve, p99_share))),
        server_us: mean(inputs.repeats.iter().map(|i| i.server_us)).unwrap_or(f64::NAN),
        redis_lookup_us: mean(inputs.repeats.iter().filter_map(|i| i.redis_lookup_us)),
        bytes_per_user: mean(inputs.repeats.iter().filter_map(|i| i.store_bytes_per_user)),
        share,
        p99_share,
        notes: inputs.notes,
    }))
}
