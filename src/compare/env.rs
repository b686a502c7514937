//! `environment.json`: the machine, build and command line a run's numbers belong to.

use authbench_servers::SchemeKind;
use serde_json::{Value, json};

use super::ctx::Ctx;

fn read(path: &str) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

fn cpu_model() -> String {
    read("/proc/cpuinfo")
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("model name")?.split_once(':').map(|(_, v)| v.trim().to_owned()))
        })
        .unwrap_or_else(|| "unknown".into())
}

fn mem_total_bytes() -> Option<u64> {
    read("/proc/meminfo")?
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:")?.trim().strip_suffix("kB")?.trim().parse::<u64>().ok())
        .map(|kib| kib * 1024)
}

/// The commit this binary was built from (`build.rs`; absent outside a git checkout).
pub const GIT_COMMIT: Option<&str> = option_env!("AUTHBENCH_GIT_COMMIT");
/// Whether tracked files differed from [`GIT_COMMIT`] when this binary was built.
pub const GIT_DIRTY: Option<&str> = option_env!("AUTHBENCH_GIT_DIRTY");
/// `rustc --version` of the compiler that built this binary.
pub const RUSTC: Option<&str> = option_env!("AUTHBENCH_RUSTC");

/// Everything but the run-specific fields, which the caller merges in.
pub fn collect(redis_version: Option<String>) -> Value {
    json!({
        "date_utc": humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        "cpu_model": cpu_model(),
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "memory_bytes": mem_total_bytes(),
        "kernel": read("/proc/sys/kernel/osrelease").map(|s| s.trim().to_owned()),
        "os": read("/etc/os-release").and_then(|t| t.lines().find_map(|l| l.strip_prefix("PRETTY_NAME=").map(|v| v.trim_matches('"').to_owned()))),
        "redis_version": redis_version,
        "build_profile": if cfg!(debug_assertions) { "debug" } else { "release" },
        "authbench_version": env!("CARGO_PKG_VERSION"),
        // The build, not the directory the binary runs in (build.rs).
        "git_commit": GIT_COMMIT,
        "git_dirty": GIT_DIRTY.map(|d| d == "true"),
        "rustc": RUSTC,
        // A --redis-url may carry a password: URLs are recorded with credentials replaced.
        "command_line": std::env::args()
            .map(|a| if a.contains("://") { authbench_servers::session::redact_url(&a) } else { a })
            .collect::<Vec<_>>(),
    })
}

/// The whole `environment.json` of a comparison: [`collect`] plus the plan and scheme orders.
pub fn describe(ctx: &Ctx, orders: &[Vec<SchemeKind>], redis_version: Option<String>) -> Value {
    let plan = &ctx.plan;
    let mut env = collect(redis_version);
    let extra = json!({
        "seed": plan.seed,
        "quick": plan.quick,
        "schemes": plan.schemes.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        "scheme_order_per_repeat": orders.iter().map(|o| o.iter().map(|s| s.as_str()).collect::<Vec<_>>()).collect::<Vec<_>>(),
        "repeats": plan.repeat,
        "stages": plan.stages_text,
        "think_ms": plan.think.as_millis() as u64,
        "session_levels": plan.levels,
        "sweep_rate_rps": plan.rate,
        "sweep_duration_s": plan.sweep.as_secs_f64(),
        "steady_vus": plan.steady_vus,
        "steady_duration_s": plan.steady.as_secs_f64(),
        "users": plan.users,
        "login_cost": "argon2id m=64 KiB t=1 p=1 (--fast-login)",
        "redis": ctx.store.describe(),
        "replicas": plan.replicas,
        "workers_per_replica": plan.workers,
        "cores": super::plan::cores(),
        "load_balancer": (plan.replicas > 1).then_some("haproxy: mode http, round robin, no stickiness"),
        "store": if ctx.store.is_cluster() { "cluster" } else { "redis" },
        "redis_persistence": if ctx.store.owned && !ctx.store.is_cluster() { Some(plan.persistence.as_str()) } else { None },
        "store_nodes": ctx.store.nodes.iter().map(|n| json!({"node": n.name, "primary": n.primary})).collect::<Vec<_>>(),
        "rate_per_user_rps": plan.rate_per_user,
        "slo_p99_ms": plan.saturation.slo_p99.as_secs_f64() * 1e3,
        "utilization": plan.saturation.utilization,
        "spectrum_rate_rps": plan.saturation.spectrum_rps,
        "saturation_step_s": plan.saturation.step.as_secs_f64(),
        "cpu_vs_load_shares": plan.saturation.shares,
        // What the run time section holds the whole run against (it depends on the schemes).
        "run_budget_s": super::phases::total_budget(plan),
        "run_budget_basis": super::phases::budget_basis(plan),
        "date": env["date_utc"].clone(),
    });
    if let (Some(e), Some(x)) = (env.as_object_mut(), extra.as_object()) {
        e.extend(x.clone());
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_info_names_a_commit_and_a_rustc() {
        if let Some(c) = GIT_COMMIT {
            assert!(c.len() >= 40 && c.bytes().all(|b| b.is_ascii_hexdigit()), "{c}");
            assert!(matches!(GIT_DIRTY, Some("true" | "false")), "{GIT_DIRTY:?}");
        }
        assert!(RUSTC.is_some_and(|r| r.starts_with("rustc ")), "{RUSTC:?}");
        let env = collect(None);
        assert_eq!(env["git_commit"].as_str(), GIT_COMMIT);
        assert_eq!(env["rustc"].as_str(), RUSTC);
    }
}
