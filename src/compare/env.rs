//! `environment.json`: the machine, build and command line a run's numbers belong to.

use serde_json::{Value, json};

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

fn command_output(cmd: &str, args: &[&str]) -> Option<String> {
    let out = std::process::Command::new(cmd).args(args).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

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
        "git_commit": command_output("git", &["rev-parse", "HEAD"]),
        "git_dirty": command_output("git", &["status", "--porcelain"]).map(|s| !s.is_empty()),
        "rustc": command_output("rustc", &["--version"]),
        // A --redis-url may carry a password: URLs are recorded with credentials replaced.
        "command_line": std::env::args()
            .map(|a| if a.contains("://") { authbench_servers::session::redact_url(&a) } else { a })
            .collect::<Vec<_>>(),
    })
}
