//! `authbench capacity RESULTS_DIR`: a workload in (a TOML file, flags, or the stated defaults),
//! the answer out — per scheme app cores, Redis cores, memory and shards, bytes/s, revocation
//! window, p99 and cost, each with its interval — from a results folder, re-running nothing.
//! Printed, and written as `answer.csv` and `answer.md` into `--out`.

use std::path::PathBuf;
use std::time::Duration;

use authbench_report::answer::workload::Transport;
use authbench_report::answer::{Workload, answer_set};
use authbench_report::data::file;
use authbench_report::results::Results;
use authbench_util::parse::{parse_count, parse_duration};
use authbench_util::process::{exit, fail};
use clap::Args;

/// Options of `authbench capacity`.
#[derive(Debug, Clone, Args)]
#[command(
    about = "Answer a design review from a results folder: cores, Redis shards and memory, bytes/s, revocation window, p99 and cost per scheme for a workload",
    after_help = "The workload: a TOML file (--workload; fields as the flags below, durations as \"15m\"), \
                  then any flag overrides it; every field has a stated default, printed with the answer. \
                  Example file:\n  users = 10000000\n  requests_per_user_s = 0.1\n  access_ttl = \"15m\"\n  \
                  revoke_within = \"1s\"\n  price_core_hour = 0.04\n  price_gib_hour = 0.005\n\
                  Every input is read from the measurement made at the condition it is used for (CPU at the \
                  utilisation, Redis driven at the shards' utilisation, the hit ratio at the per-user rate); \
                  an input the folder lacks is named and counted as 0."
)]
pub struct CapacityArgs {
    /// A results folder written by `authbench compare`.
    pub dir: PathBuf,
    /// Workload file (TOML).
    #[arg(long)]
    pub workload: Option<PathBuf>,
    /// Logged-in users; several (`1m,10m,100m`) answer for each.
    #[arg(long, value_delimiter = ',', value_parser = parse_count)]
    pub users: Vec<u64>,
    /// Authenticated requests per user per second.
    #[arg(long)]
    pub rate: Option<f64>,
    #[arg(long)]
    pub logins_per_day: Option<f64>,
    #[arg(long)]
    pub logouts_per_day: Option<f64>,
    /// Access lifetime (JWT access token, cookie, session idle timeout).
    #[arg(long, value_parser = parse_duration)]
    pub access_ttl: Option<Duration>,
    #[arg(long, value_parser = parse_duration)]
    pub refresh_ttl: Option<Duration>,
    #[arg(long, value_parser = parse_duration)]
    pub max_age: Option<Duration>,
    #[arg(long, value_parser = parse_duration)]
    pub cache_ttl: Option<Duration>,
    /// The revocation requirement: a logged-out credential refused within this long.
    #[arg(long, value_parser = parse_duration)]
    pub revoke_within: Option<Duration>,
    #[arg(long, value_parser = parse_duration)]
    pub p99_slo: Option<Duration>,
    /// Share of a core each app server runs at (0–1).
    #[arg(long)]
    pub utilisation: Option<f64>,
    /// Share of its core each Redis shard runs at (0–1).
    #[arg(long)]
    pub redis_utilisation: Option<f64>,
    #[arg(long)]
    pub shard_memory_gib: Option<f64>,
    #[arg(long)]
    pub redis_replicas: Option<u32>,
    /// The clients' transport: h1, h2, h1-tls or h2-tls. Other than h1, server CPU, a login's
    /// handshake, bytes and p99 are carried over from the folder's `compare --transport` runs.
    #[arg(long, value_parser = parse_transport)]
    pub transport: Option<Transport>,
    /// Round trip between an app server and Redis (e.g. 250us, 1ms): p99 and the logout window
    /// from the folder's `compare --store-rtt` runs at that RTT.
    #[arg(long, value_parser = parse_duration)]
    pub store_rtt: Option<Duration>,
    #[arg(long)]
    pub price_core_hour: Option<f64>,
    #[arg(long)]
    pub price_gib_hour: Option<f64>,
    /// Where to write answer.csv and answer.md (default: DIR/capacity).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Carry the answer to this machine: measure `/healthz`'s server CPU at the folder's rate and
    /// Redis's CPU per GETEX at the plan's Redis utilisation here (about 20 s, on loopback, a
    /// private redis-server), and rescale the folder's CPU figures by here ÷ there. Prints both.
    #[arg(long)]
    pub calibrate: bool,
}

impl CapacityArgs {
    /// The workload: the file's (or the defaults), each flag given overriding it.
    fn workload(&self) -> Result<Workload, String> {
        let mut w = match &self.workload {
            Some(p) => {
                let text =
                    std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
                Workload::from_toml(&text).map_err(|e| format!("{}: {e}", p.display()))?
            }
            None => Workload::default(),
        };
        macro_rules! set {
            ($($flag:ident => $field:ident),*) => { $( if let Some(v) = self.$flag { w.$field = v; } )* };
        }
        set!(rate => requests_per_user_s, logins_per_day => logins_per_user_day, logouts_per_day => logouts_per_user_day,
             access_ttl => access_ttl, refresh_ttl => refresh_ttl, max_age => max_age, cache_ttl => cache_ttl,
             revoke_within => revoke_within, p99_slo => p99_slo, utilisation => utilisation,
             redis_utilisation => redis_utilisation, shard_memory_gib => shard_memory_gib,
             redis_replicas => redis_replicas, transport => transport, store_rtt => store_rtt);
        w.price_core_hour = self.price_core_hour.or(w.price_core_hour);
        w.price_gib_hour = self.price_gib_hour.or(w.price_gib_hour);
        if let Some(&u) = self.users.first() {
            w.users = u;
        }
        w.checked().map_err(|e| e.to_string())
    }
}

fn parse_transport(s: &str) -> Result<Transport, String> {
    s.parse().map_err(|e: authbench_report::answer::workload::BadWorkload| e.0)
}

/// The host a results folder was measured on, as the answer names it.
pub fn host_of(r: &Results) -> String {
    let e = &r.environment;
    let cpu = e.cpu_model.clone().unwrap_or_else(|| "unknown CPU".into());
    match e.cores {
        Some(c) => format!("{cpu}, {c} cores"),
        None => cpu,
    }
}

pub fn run(args: CapacityArgs) -> i32 {
    let w = match args.workload() {
        Ok(w) => w,
        Err(e) => return fail(&e, exit::BAD_INPUT),
    };
    let r = match Results::read_dir(&args.dir) {
        Ok(r) => r,
        Err(e) => return fail(&e.to_string(), exit::BAD_INPUT),
    };
    let users = if args.users.is_empty() { vec![w.users] } else { args.users.clone() };
    let (mut set, mut notes) = answer_set(&r, &w, &users, &host_of(&r), &args.dir.display().to_string());
    if args.calibrate {
        let runtime = match authbench_util::process::runtime(authbench_util::process::Threads::Multi) {
            Ok(rt) => rt,
            Err(code) => return code,
        };
        eprintln!("calibrating: /healthz and Redis GETEX on this machine (about 20 s)");
        let c = match runtime.block_on(crate::calibrate::calibrate(&r, w.redis_utilisation)) {
            Ok(c) => c,
            Err(e) => return fail(&format!("calibration: {e:#}"), exit::FAILED),
        };
        let scale = c.scale();
        let mut before = Vec::new();
        if set.markdown_table(&mut before).is_ok() {
            println!("As measured on {}:\n\n{}", set.host, String::from_utf8_lossy(&before));
        }
        (set, notes) = authbench_report::answer::from_results::answer_set_scaled(
            &r,
            &w,
            &users,
            "this machine (calibrated)",
            &args.dir.display().to_string(),
            scale,
        );
        notes.push(format!(
            "calibrated: /healthz {:.1} µs/req here against {:.1} there at {:.0} req/s (app CPU × {:.2}); Redis GETEX {} (Redis CPU × {:.2})",
            c.healthz_here_us,
            c.healthz_there_us,
            c.healthz_rps,
            scale.server,
            match (c.getex_here_us, c.getex_there_us) {
                (Some(h), Some(t)) => format!("{h:.2} µs here against {t:.2} there"),
                _ => "not calibrated (the folder has no redis_direct.csv)".into(),
            },
            scale.redis
        ));
        println!("Carried to this machine:\n");
    }
    if set.by_users.iter().all(|(_, a)| a.is_empty()) {
        return fail(
            &format!(
                "{} holds no CPU-against-load steps at {:.0}% of a scheme's maximum: nothing to answer from \
                 (run `authbench compare`, or pass the --utilisation it measured)",
                args.dir.display(),
                w.utilisation * 100.0
            ),
            exit::BAD_INPUT,
        );
    }
    let mut md = Vec::new();
    let written = (|| -> std::io::Result<()> {
        use std::io::Write;
        set.markdown_table(&mut md)?;
        writeln!(md)?;
        for v in set.verdicts() {
            writeln!(md, "- {v}")?;
        }
        writeln!(md, "\nAssumptions:\n")?;
        set.assumptions(&mut md)?;
        for n in &notes {
            writeln!(md, "- {n}")?;
        }
        Ok(())
    })();
    if let Err(e) = written {
        return fail(&format!("formatting the answer: {e}"), exit::FAILED);
    }
    print!("{}", String::from_utf8_lossy(&md));
    let out = args.out.clone().unwrap_or_else(|| args.dir.join("capacity"));
    let mut csv = Vec::new();
    if let Err(e) = set.csv(&mut csv) {
        return fail(&format!("formatting answer.csv: {e}"), exit::FAILED);
    }
    let put = |name: &str, bytes: &[u8]| {
        authbench_report::write::write_file(&out.join(name), |f| std::io::Write::write_all(f, bytes))
            .map_err(|e| e.to_string())
    };
    let result = std::fs::create_dir_all(&out)
        .map_err(|e| e.to_string())
        .and_then(|()| put(file::ANSWER_MD, &md))
        .and_then(|()| put(file::ANSWER_CSV, &csv));
    match result {
        Ok(()) => {
            eprintln!(
                "wrote {} and {}",
                out.join(file::ANSWER_MD).display(),
                out.join(file::ANSWER_CSV).display()
            );
            exit::OK
        }
        Err(e) => fail(&format!("cannot write into {}: {e}", out.display()), exit::FAILED),
    }
}
