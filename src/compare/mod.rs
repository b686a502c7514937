//! `authbench compare`: the whole experiment in one command.
//!
//! - [`plan`]: options and the resolved plan (`--quick` defaults), the `--out` directory.
//! - [`ctx`]: what every phase shares — plan, Redis, keys, progress — and the server arguments.
//! - [`measure`]: one scheme × one repeat: one server through its phases, what they produced.
//! - [`phase`]: the phases, one function each — checks (and the attack battery), warm-up, CPU
//!   (healthz vs me), ramp, session sweep; revocation once per scheme after the repeats (and the
//!   JWT variants' memory against logout rate); last, validation: this run's own rows predict a
//!   workload the machine holds, which is then run and measured (`phase::validation`).
//! - [`session_levels`]: the session-scaling sweep's engine — one session per user at each level,
//!   uniform lookups, memory at rest (the phase that runs it is `phase::sweep`).
//! - [`state_store`]: where the schemes keep state (`--store redis|cluster`, private or existing),
//!   as one typed target.
//! - [`store_hop`]: `--store-rtt`'s delay proxies before the store (a Cluster's nodes announce
//!   them), started and stopped around each measurement at an RTT.
//! - [`store_probe`]: Redis readings around a sweep level (rehashing, commandstats, MEMORY USAGE).
//! - [`redis_direct`]: Redis driven directly with a scheme's lookup at a paced rate (its CPU per
//!   lookup at the capacity answer's Redis utilisation).
//! - [`preload`]: idle sessions through each scheme's real credential-issuing code.
//! - [`keys`]: key material shared with the server children and the preloader.
//! - [`knee`]: deciding the rates of the stepped search for the knee, and judging each step.
//! - [`rate_step`]: one open-model run at a fixed arrival rate and what it measured ([`rate_step::RateStep`]).
//! - [`open_model`]: the fixed-rate open-model runs of one unit: the knee search, the CPU ladder and
//!   the percentile spectrum's run at one rate for every scheme.
//! - [`population`]: the cached variants' preloaded users, about rate ÷ `--rate-per-user` of them
//!   drawn by each step of their search and ladder (the workload's hit ratio, not a hot cache).
//! - [`schedule`]: the phases ([`schedule::Phase`]: label and budget) and their wall-clock time
//!   against the budget (rows of `phases.csv`, printed).
//! - [`progress`]: one progress bar over the whole experiment, or a line per phase when stderr is
//!   not a terminal.
//! - `env`: `environment.json`.
//! - [`foreign`]: `--target`s, a user's services run through their flow files after the built-in
//!   schemes: the ramp, knee search, CPU against load, spectrum, credential bytes and revocation
//!   probe through the built-ins' own phase code, and the list of the phases that cannot run.
//!
//! Imports go one way: this file (the run's order) → `foreign` → `open_model`, `phase::ramp`; → `measure` (one unit) → `phase::*` → `ctx` →
//! `progress` → `schedule` → `plan` → the engines: `session_levels` → `preload`, `store_probe`,
//! `store_hop` → `state_store`, `keys`; `open_model` → `rate_step` → `population`, `knee`; `redis_direct` stands alone.

pub mod ctx;
pub mod env;
pub mod foreign;
pub mod keys;
pub mod knee;
pub mod measure;
pub mod open_model;
pub mod phase;
pub mod plan;
pub mod population;
pub mod preload;
pub mod progress;
pub mod rate_step;
pub mod redis_direct;
pub mod schedule;
pub mod session_levels;
pub mod state_store;
pub mod store_hop;
pub mod store_probe;

use anyhow::{Context, Result, bail};
use authbench_report::Collected;
use authbench_report::data::file;
use authbench_util::process::{self, Interrupt, Threads, cancel_on, exit, fail};
use tokio_util::sync::CancellationToken;

pub use ctx::Ctx;
pub use keys::Keys;
pub use plan::{CompareArgs, Plan};
use state_store::Owned;

/// Exit codes: 0 done, 1 failed, 2 bad input, 130 interrupted.
pub fn run(args: CompareArgs) -> i32 {
    let plan = match Plan::from_args(&args) {
        Ok(p) => p,
        Err(e) => return fail(&format!("{e:#}"), exit::BAD_INPUT),
    };
    if let Err(e) = plan::prepare_dir(&plan.out) {
        return fail(&format!("{e:#}"), exit::BAD_INPUT);
    }
    // Before the runtime and any child: every thread and child started later inherits its pin.
    if let Some(pin) = &plan.pin
        && let Err(e) = pin.apply()
    {
        return fail(&format!("--pin auto: cannot set CPU affinity ({e}); use --pin off"), exit::FAILED);
    }
    let runtime = match process::runtime(Threads::Multi) {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let stop =
        cancel_on(&runtime, Interrupt::CtrlC, "\ninterrupted: finishing the files of what was measured");
    // The private redis-server or cluster lives for the whole run (every repeat shares it); like
    // every child it is forked by `child::spawn`'s long-lived spawner thread, so it dies with
    // authbench.
    let owned = match plan.store.start(plan.persistence) {
        Ok(o) => o,
        Err(e) => return fail(&e.to_string(), e.exit_code()),
    };
    let result = runtime.block_on(run_async(plan.clone(), &owned, stop.clone()));
    drop(owned);
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

async fn run_async(plan: Plan, owned: &Owned, stop: CancellationToken) -> Result<()> {
    let (ctx, redis_version) = Ctx::start(plan, owned).await?;
    let plan = &ctx.plan;
    let orders = plan.scheme_orders();
    let mut env = env::describe(&ctx, &orders, redis_version);
    if !plan.targets.is_empty() {
        env.other.insert("targets".into(), foreign::describe(&plan.targets));
    }
    let mut out = Collected::new(plan.out.clone(), env);
    out.write()?;

    let mut utilisation_rps = std::collections::HashMap::new();
    'repeats: for (i, order) in orders.iter().enumerate() {
        let repeat = i as u32 + 1;
        for &scheme in order {
            let unit = measure::unit(&ctx, scheme, repeat, &stop).await;
            match unit {
                Ok(u) => {
                    let interrupted = u.interrupted;
                    // The revocation phase loads its probed server (one process) at the latest
                    // repeat's utilisation-step rate, per replica.
                    if let Some(pair) = u.rows.healthz_pairs.first() {
                        utilisation_rps.insert(scheme, pair.offered_rps / plan.replicas.max(1) as f64);
                    }
                    out.add_unit(scheme.as_str(), u.rows);
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
            let load = utilisation_rps.get(&scheme).copied();
            let (rows, costs) = phase::revocation::run(&ctx, scheme, load).await?;
            out.add_revocation(rows.into_iter().map(phase::revocation::Revocation::row).collect());
            out.add_metrics(scheme.as_str(), costs);
            for &rtt in plan.store_rtts.iter().filter(|r| !r.is_zero()) {
                out.add_store_rtt_revocation(phase::revocation::with_rtt(&ctx, scheme, rtt).await?);
            }
            out.write()?;
            if phase::logout_memory::applies(scheme) {
                // Rates measured before a failure are kept on disk.
                let mut rows = Vec::new();
                let measured = phase::logout_memory::run(&ctx, scheme, &mut rows).await;
                out.add_store_bytes(phase::store_bytes::revoked_rows(&rows));
                out.add_revocation_memory(rows);
                out.write()?;
                measured?;
            }
        }
    }
    if !stop.is_cancelled() {
        out.environment_mut().skipped.extend(phase::login_cost::skipped_note(plan));
        for &scheme in plan.schemes.iter().filter(|&&s| phase::login_cost::applies(plan, s)) {
            if let Some(row) = phase::login_cost::run(&ctx, scheme, &stop).await? {
                out.add_login_cost(row);
                out.write()?;
            }
            if stop.is_cancelled() {
                break;
            }
        }
    }
    if !stop.is_cancelled() {
        let mut rows = Vec::new();
        let measured = phase::store_bytes::run(&ctx, &stop, &mut rows).await;
        out.add_store_bytes(rows);
        if let Ok(notes) = &measured {
            out.environment_mut().skipped.extend(notes.iter().cloned());
        }
        out.write()?;
        measured?;
    }
    if !stop.is_cancelled() {
        let mut rows = Vec::new();
        let measured = phase::direct_redis::run(&ctx, &stop, &mut rows).await;
        out.add_redis_direct(rows);
        out.write()?;
        measured?;
    }
    if !stop.is_cancelled() {
        for t in &plan.targets {
            let m = foreign::measure(plan, t, &stop, |line| ctx.progress.note(line))
                .await
                .with_context(|| format!("--target {}", t.name))?;
            out.add_unit(&t.name, m.rows);
            out.add_revocation(m.revocation);
            if let Some((before, after)) = m.store_memory {
                out.note_target_memory(&t.name, before, after);
            }
            out.write()?;
            if stop.is_cancelled() {
                break;
            }
        }
    }
    // Last: the prediction reads every file the phases above wrote.
    match &plan.validation {
        Ok(v) if !stop.is_cancelled() => {
            let mut rows = Vec::new();
            let measured = phase::validation::run(&ctx, v, &stop, &mut rows).await;
            out.add_validation(rows);
            out.write()?;
            measured?;
        }
        Ok(_) => {}
        Err(why) => {
            ctx.progress.note(why);
            out.environment_mut().skipped.push(why.clone());
        }
    }
    ctx.progress.clock.close();
    let timed = ctx.progress.clock.finished();
    ctx.progress.note(&format!("phase timings (wall clock):\n{}", schedule::table(plan, &timed)));
    out.set_phases(schedule::rows(plan, &timed));
    let verdict = out.finish(crate::reliability::lost::lost_in_results(&plan.out)?)?;
    if !verdict.not_equivalent.is_empty() {
        bail!("schemes are not equivalent: /api/me differs for {}", verdict.not_equivalent.join(", "));
    }
    if verdict.lost > 0 {
        bail!(
            "{} measured requests are missing from the run files (see {}, {})",
            verdict.lost,
            file::LOST,
            file::RELIABILITY
        );
    }
    ctx.progress.finish();
    let rendered = authbench_report::render(&plan.out).context("render the report")?;
    eprintln!("authbench compare: {} plots, report at {}", rendered.plots.len(), rendered.markdown.display());
    Ok(())
}
