//! `authbench load` as a command: validate, start a runtime, stop on Ctrl-C, print, pick the exit
//! code. Everything it calls is library API; the process glue is `authbench_util::process`.

use std::io::Write;

use crate::args::LoadArgs;
use crate::output::{write_summary_json, write_text_summary};
use crate::summary::Summary;
use authbench_util::process::{Interrupt, Threads, cancel_on, fail, runtime};

/// Run `authbench load` and return the process exit code: 0 ok, 2 bad input or unreachable
/// target, 1 target lost or output error, 99 thresholds violated, 130 interrupted.
pub fn run_command(args: LoadArgs) -> i32 {
    let sampling = args.server_pid.is_some() || args.redis_url.is_some();
    let config = match args.into_config() {
        Ok(c) => c,
        Err(e) => return fail(&e.to_string(), e.exit_code()),
    };
    if let Some(a) = config.agent.as_ref().filter(|a| sampling && !a.agent.samples()) {
        eprintln!(
            "authbench load: agent {}/{} does not sample --server-pid/--redis-url: agent 1 does, so nothing is counted twice",
            a.agent.index, a.agent.count
        );
    }
    let (summary_export, json) = (config.summary_export.clone(), config.json);
    // Orchestration only (controller, collector, signals); virtual users run on `workers`.
    let runtime = match runtime(Threads::Current) {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let stop = cancel_on(
        &runtime,
        Interrupt::CtrlCOrTerm,
        "authbench load: stopping (Ctrl-C again to quit without writing the summary)",
    );
    runtime.block_on(async {
        match crate::load::run(config, stop).await {
            Ok(summary) => {
                if let Some(code) = export(&summary, summary_export.as_deref(), json) {
                    return code;
                }
                if let Some(rule) = &summary.aborted_by_threshold {
                    eprintln!("authbench: stopped early (--abort-on-fail): threshold broken: {rule}");
                }
                let failed: Vec<_> = summary.failed_thresholds().collect();
                if !failed.is_empty() {
                    for v in &failed {
                        eprintln!(
                            "authbench: threshold violated: {} (actual {})",
                            v.threshold,
                            v.actual.map_or("no data".to_owned(), |a| format!("{a:.3}"))
                        );
                    }
                }
                match &summary.stopped_answering {
                    Some(stop) => eprintln!("authbench: error: the target stopped answering {stop}"),
                    None if summary.target_lost => {
                        eprintln!("authbench: error: the target stopped answering during the run")
                    }
                    None => {}
                }
                summary.exit_code()
            }
            Err(e) => fail(&e.to_string(), e.exit_code()),
        }
    })
}

/// Print the summary — human on stdout, or with `--json` JSON on stdout and human on stderr — and
/// write `--summary-export`. Returns an exit code only when writing the export failed.
fn export(summary: &Summary, file: Option<&std::path::Path>, json: bool) -> Option<i32> {
    if json {
        let _ = write_text_summary(&mut std::io::stderr().lock(), summary);
        let mut out = std::io::stdout().lock();
        let _ = write_summary_json(&mut out, summary);
        let _ = out.flush();
    } else {
        let mut out = std::io::stdout().lock();
        let _ = write_text_summary(&mut out, summary);
        let _ = out.flush();
    }
    let file = file?;
    let written = std::fs::File::create(file).and_then(|f| {
        let mut w = std::io::BufWriter::new(f);
        write_summary_json(&mut w, summary)?;
        w.flush()
    });
    written.err().map(|e| fail(&format!("--summary-export {}: {e}", file.display()), 1))
}

/// Run `authbench merge` and return the exit code: 0 ok, 2 bad input, 1 output error, 99 a
/// threshold violated by the merged result.
pub fn run_merge_command(args: crate::merge::MergeArgs) -> i32 {
    match crate::merge::merge(&args.out, &args.dirs) {
        Ok(summary) => {
            let _ = write_text_summary(&mut std::io::stdout().lock(), &summary);
            eprintln!("authbench merge: wrote {}", args.out.display());
            for v in summary.failed_thresholds() {
                eprintln!(
                    "authbench: threshold violated: {} (actual {})",
                    v.threshold,
                    v.actual.map_or("no data".to_owned(), |a| format!("{a:.3}"))
                );
            }
            summary.exit_code()
        }
        Err(e) => fail(&e.to_string(), e.exit_code()),
    }
}
