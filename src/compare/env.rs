//! `environment.json`: the machine, build and command line a run's numbers belong to.

use authbench_report::environment::{Environment, StoreNode};
use authbench_servers::SchemeKind;

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

/// The machine and the build: everything but the run's plan.
pub fn collect(redis_version: Option<String>) -> Environment {
    let date = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    Environment {
        date_utc: Some(date),
        cpu_model: Some(cpu_model()),
        cores: Some(std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0) as u64),
        memory_bytes: mem_total_bytes(),
        kernel: read("/proc/sys/kernel/osrelease").map(|s| s.trim().to_owned()),
        os: read("/etc/os-release").and_then(|t| {
            t.lines().find_map(|l| l.strip_prefix("PRETTY_NAME=").map(|v| v.trim_matches('"').to_owned()))
        }),
        redis_version,
        build_profile: Some(if cfg!(debug_assertions) { "debug" } else { "release" }.into()),
        authbench_version: Some(env!("CARGO_PKG_VERSION").into()),
        // The build, not the directory the binary runs in (build.rs).
        git_commit: GIT_COMMIT.map(str::to_owned),
        git_dirty: GIT_DIRTY.map(|d| d == "true"),
        rustc: RUSTC.map(str::to_owned),
        // A --redis-url may carry a password: URLs are recorded with credentials replaced.
        command_line: Some(
            std::env::args()
                .map(|a| if a.contains("://") { authbench_servers::facts::redact_url(&a) } else { a })
                .collect(),
        ),
        ..Environment::default()
    }
}

/// The whole `environment.json` of a comparison: [`collect`] plus the plan and scheme orders.
pub fn describe(ctx: &Ctx, orders: &[Vec<SchemeKind>], redis_version: Option<String>) -> Environment {
    let plan = &ctx.plan;
    let names = |schemes: &[SchemeKind]| schemes.iter().map(|s| s.as_str().to_owned()).collect::<Vec<_>>();
    let machine = collect(redis_version);
    Environment {
        seed: Some(plan.seed),
        quick: Some(plan.quick),
        schemes: Some(names(&plan.schemes)),
        scheme_order_per_repeat: Some(orders.iter().map(|o| names(o)).collect()),
        repeats: Some(plan.repeat),
        stages: Some(plan.stages_text.clone()),
        think_ms: Some(plan.think.as_millis() as u64),
        session_levels: Some(plan.levels.clone()),
        sweep_rate_rps: Some(plan.rate),
        sweep_duration_s: Some(plan.sweep.as_secs_f64()),
        steady_vus: Some(plan.steady_vus),
        utilisation_step_s: Some(plan.saturation.utilisation_step.as_secs_f64()),
        users: Some(plan.users),
        login_cost: Some(
            "argon2id m=64 KiB t=1 p=1 (--fast-login) in every phase but production login, which runs the \
             servers' default m=19 MiB t=2 p=1 (login_cost.csv)"
                .into(),
        ),
        redis: Some(ctx.store.describe()),
        replicas: Some(plan.replicas),
        workers_per_replica: plan.workers.map(|w| w as u64),
        cores: Some(plan.cores() as u64),
        pinning: Some(plan.pin.as_ref().map_or_else(
            || "off: the scheduler places generator, servers and Redis on any core".to_owned(),
            |p| p.describe(),
        )),
        load_balancer: (plan.replicas > 1).then(|| "haproxy: mode http, round robin, no stickiness".into()),
        store: Some(if ctx.store.is_cluster() { "cluster" } else { "redis" }.into()),
        redis_persistence: (ctx.store.owned && !ctx.store.is_cluster())
            .then(|| plan.persistence.as_str().to_owned()),
        store_nodes: Some(
            ctx.store.nodes.iter().map(|n| StoreNode { node: n.name.clone(), primary: n.primary }).collect(),
        ),
        rate_per_user_rps: Some(plan.rate_per_user),
        slo_p99_ms: Some(plan.saturation.slo_p99.as_secs_f64() * 1e3),
        utilization: Some(plan.saturation.utilization),
        redis_shard_utilisation: Some(plan.redis_utilisation),
        session_level_order_per_repeat: Some(plan.level_orders()),
        memory_levels: Some(plan.memory_levels.clone()),
        spectrum_rate_rps: Some(plan.saturation.spectrum_rps),
        saturation_step_s: Some(plan.saturation.step.as_secs_f64()),
        cpu_vs_load_shares: Some(plan.saturation.shares.clone()),
        // What the run time section holds the whole run against (it depends on the schemes).
        run_budget_s: Some(super::schedule::total_budget(plan)),
        run_budget_basis: Some(super::schedule::budget_basis(plan).into()),
        date: machine.date_utc.clone(),
        ..machine
    }
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
        assert_eq!(env.git_commit.as_deref(), GIT_COMMIT);
        assert_eq!(env.rustc.as_deref(), RUSTC);
    }
}
