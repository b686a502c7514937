//! `authbench load` as a command: validate, start a runtime, stop on Ctrl-C, print, pick the exit
//! code. Everything it calls is library API; this is only the process-level glue.

use std::io::Write;

use tokio_util::sync::CancellationToken;

use crate::config::LoadArgs;
use crate::output::write_text_summary;
use crate::summary::EXIT_INTERRUPTED;

/// Run `authbench load` and return the process exit code: 0 ok, 2 bad input or unreachable
/// target, 1 target lost or output error, 99 thresholds violated, 130 interrupted.
pub fn run_command(args: LoadArgs) -> i32 {
    let config = match args.into_config() {
        Ok(c) => c,
        Err(e) => return fail(&e.to_string(), e.exit_code()),
    };
    // Orchestration only (controller, collector, signals); virtual users run on `workers`.
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("cannot start the runtime: {e}"), 1),
    };
    runtime.block_on(async {
        let stop = CancellationToken::new();
        let on_signal = stop.clone();
        tokio::spawn(async move {
            authbench_servers::serve::shutdown_signal().await;
            eprintln!("authbench load: stopping (Ctrl-C again to quit without writing the summary)");
            on_signal.cancel();
            authbench_servers::serve::shutdown_signal().await;
            std::process::exit(EXIT_INTERRUPTED);
        });
        match crate::load::run(config, stop).await {
            Ok(summary) => {
                let mut out = std::io::stdout().lock();
                let _ = write_text_summary(&mut out, &summary);
                let _ = out.flush();
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
                if summary.target_lost {
                    eprintln!("authbench: error: the target stopped answering during the run");
                }
                summary.exit_code()
            }
            Err(e) => fail(&e.to_string(), e.exit_code()),
        }
    })
}

fn fail(message: &str, code: i32) -> i32 {
    eprintln!("authbench: error: {message}");
    code
}
