//! `authbench compare`: the whole experiment in one command.
//!
//! - [`plan`]: options and the resolved plan (`--quick` defaults).
//! - [`measure`]: one scheme × one repeat — checks, warm-up, healthz vs me CPU, ramp, sweep.
//! - [`checks`]: equivalence and real-work checks run before any number is kept.
//! - [`preload`]: idle sessions through each scheme's real credential-issuing code.
//! - [`revocation`]: the logout / logout-all revocation window, probed.
//! - [`knee`]: deciding the rates of the stepped search for the knee, and judging each step.
//! - [`saturation`]: fixed-rate open-model runs: the knee search and the CPU-per-request ladder.
//! - [`keys`]: key material shared with the server children and the preloader.
//! - [`output`]: the CSV files, spectrum and summary with confidence intervals.
//! - [`progress`]: one progress bar over the whole experiment.
//! - `env`: `environment.json`.

pub mod checks;
pub mod env;
pub mod keys;
pub mod knee;
pub mod measure;
pub mod output;
pub mod plan;
pub mod preload;
pub mod progress;
pub mod revocation;
pub mod saturation;

use anyhow::{Context, Result, bail};
use authbench_loadgen::process::{self, Interrupt, Threads, cancel_on, exit, fail};
use authbench_servers::SchemeKind;
use rand::SeedableRng;
use rand::seq::SliceRandom;
use tokio_util::sync::CancellationToken;

use crate::harness::redis::{self, RedisInfo, RedisServer};
use crate::harness::server::ServerProcess;
pub use keys::Keys;
pub use plan::{CompareArgs, Plan};

/// Shared state of one comparison.
pub struct Ctx {
    pub plan: Plan,
    pub redis_url: String,
    pub redis_info: RedisInfo,
    /// True when compare started the redis-server itself (then strict command counts hold).
    pub owns_redis: bool,
    /// Key prefix of this comparison in Redis.
    pub prefix: String,
    pub keys: Keys,
    pub progress: progress::Progress,
}

/// Exit codes: 0 done, 1 failed, 2 bad input, 130 interrupted.
pub fn run(args: CompareArgs) -> i32 {
    let plan = match Plan::from_args(&args) {
        Ok(p) => p,
        Err(e) => return fail(&format!("{e:#}"), exit::BAD_INPUT),
    };
    if let Err(e) = output::prepare_dir(&plan.out) {
        return fail(&format!("{e:#}"), exit::BAD_INPUT);
    }
    let runtime = match process::runtime(Threads::Multi) {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let stop =
        cancel_on(&runtime, Interrupt::CtrlC, "\ninterrupted: finishing the files of what was measured");
    // The private redis-server is started here, on the main thread, which lives for the whole
    // run (it is tied to the thread that spawns it).
    let own_redis = match &plan.redis_url {
        Some(_) => None,
        None => match RedisServer::start() {
            Ok(r) => Some(r),
            Err(e) => return fail(&e.to_string(), e.exit_code()),
        },
    };
    let result = runtime.block_on(run_async(plan.clone(), own_redis.as_ref(), stop.clone()));
    drop(own_redis);
    match result {
        Ok(()) if stop.is_cancelled() => exit::INTERRUPTED,
        Ok(()) => exit::OK,
        Err(e) if stop.is_cancelled() => {
            eprintln!("authbench: interrupted ({e:#}); results so far are in {}", plan.out.display());
            exit::INTERRUPTED
        }
        Err(e) => {
            fail(&format!("{e:#}\nresults measured so far are in {}", plan.out.display()), exit::FAILED)
        }
    }
}

async fn run_async(plan: Plan, own: Option<&RedisServer>, stop: CancellationToken) -> Result<()> {
    let redis_url = match (&plan.redis_url, own) {
        (Some(url), _) => url.clone(),
        (None, Some(r)) => r.url(),
        (None, None) => bail!("no Redis"),
    };
    let redis_info = RedisInfo::connect(&redis_url).await.with_context(
        || "cannot reach Redis (pass a reachable --redis-url, or omit it to start a private redis-server)",
    )?;
    let redis_version = redis_info.version().await.ok();
    let run_id = format!("{:x}", plan.seed & 0xffff_ffff);
    let ctx = Ctx {
        progress: progress::Progress::new(plan.total_seconds(), plan.progress),
        owns_redis: own.is_some(),
        prefix: format!("authbench:cmp:{run_id}:"),
        keys: Keys::generate()?,
        redis_url,
        redis_info,
        plan,
    };
    let plan = &ctx.plan;
    let mut rng = rand::rngs::StdRng::seed_from_u64(plan.seed);
    let orders: Vec<Vec<SchemeKind>> = (0..plan.repeat)
        .map(|_| {
            let mut o = plan.schemes.clone();
            o.shuffle(&mut rng);
            o
        })
        .collect();
    let mut env = env::collect(redis_version);
    let extra = serde_json::json!({
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
        "redis": if ctx.owns_redis { "private redis-server, persistence off" } else { "external (--redis-url), key prefix" },
        "rate_per_user_rps": plan.rate_per_user,
        "date": env["date_utc"].clone(),
    });
    if let (Some(e), Some(x)) = (env.as_object_mut(), extra.as_object()) {
        e.extend(x.clone());
    }
    let mut out = output::Collected::new(plan.out.clone(), env);
    out.write()?;

    'repeats: for (i, order) in orders.iter().enumerate() {
        let repeat = i as u32 + 1;
        for &scheme in order {
            let unit = measure::unit(&ctx, scheme, repeat, &stop).await;
            match unit {
                Ok(u) => {
                    let interrupted = u.interrupted;
                    out.add_unit(scheme, u);
                    out.write()?;
                    if interrupted {
                        break 'repeats;
                    }
                }
                Err(e) => {
                    out.write()?;
                    if stop.is_cancelled() {
                        break 'repeats;
                    }
                    return Err(e.context(format!("{scheme}, repeat {repeat}")));
                }
            }
            if stop.is_cancelled() {
                break 'repeats;
            }
        }
    }

    if !stop.is_cancelled() {
        for &scheme in &plan.schemes {
            ctx.progress.phase(scheme, 0, "revocation window");
            let prefix = format!("{}{scheme}:revocation:", ctx.prefix);
            let args = measure::server_args(&ctx, scheme, &prefix, Some(plan.revocation_ttl));
            let server = ServerProcess::spawn(scheme, &args)?;
            let rows = revocation::measure(scheme, server.addr, plan.revocation_ttl).await?;
            server.stop();
            redis::clear_prefix(&ctx.redis_url, &prefix).await?;
            out.add_revocation(rows);
            out.write()?;
        }
    }
    out.finish()?;
    ctx.progress.finish();
    let rendered = authbench_report::render(&plan.out).context("render the report")?;
    eprintln!(
        "authbench compare: {} plots, report at {}",
        rendered.plots.len(),
        plan.out.join("report.md").display()
    );
    Ok(())
}
