//! One progress bar over the whole experiment: scheme, repeat, phase and an ETA from the plan —
//! or, when there is no terminal to draw it on (stderr redirected to a file or a pipe, or
//! `--no-progress`), one line per phase, so a person reading the log still sees where the run is.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use authbench_servers::SchemeKind;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::schedule::{Phase, PhaseClock};

pub struct Progress {
    bar: Option<ProgressBar>,
    /// Every phase entered, timed (`phases.csv`).
    pub clock: PhaseClock,
    started: Instant,
    last: Arc<Mutex<String>>,
}

/// Whether to draw a bar: asked for (no `--no-progress`) and stderr is a terminal. indicatif
/// hides a bar on anything else, which left a redirected log silent for a whole run.
pub fn draws_bar(asked: bool, stderr_is_terminal: bool) -> bool {
    asked && stderr_is_terminal
}

impl Progress {
    /// A bar of `planned_seconds` that advances with the clock when `bar` is asked for and stderr
    /// is a terminal; otherwise each phase is logged on a line of its own.
    pub fn new(planned_seconds: f64, bar: bool) -> Progress {
        let bar = draws_bar(bar, std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(
                Some(planned_seconds.ceil() as u64),
                ProgressDrawTarget::stderr(),
            );
            bar.set_style(
                ProgressStyle::with_template("{elapsed_precise} [{wide_bar}] {percent:>3}% ETA {eta} {msg}")
                    .expect("valid template")
                    .progress_chars("=> "),
            );
            bar.enable_steady_tick(Duration::from_millis(250));
            bar
        });
        Progress { bar, clock: Default::default(), started: Instant::now(), last: Arc::default() }
    }

    /// Enter `phase` of `scheme`'s `repeat` (0: after the repeats); `detail` names the step within
    /// it (`16000 req/s`, `100000 sessions`). The bar's position follows elapsed time.
    pub fn enter(&self, scheme: SchemeKind, repeat: u32, phase: Phase, detail: Option<&str>) {
        self.enter_as(scheme.as_str(), repeat, phase, detail);
    }

    /// [`Self::enter`] for a phase that belongs to no one scheme (Redis driven directly, the
    /// validation run): `who` names it on the line and in `phases.csv` (`run`, `redis`).
    pub fn enter_as(&self, scheme: &str, repeat: u32, phase: Phase, detail: Option<&str>) {
        self.clock.enter(scheme, repeat, phase);
        let what = match detail {
            Some(d) => format!("{} {d}", phase.label()),
            None => phase.label().to_owned(),
        };
        let msg =
            if repeat == 0 { format!("{scheme}: {what}") } else { format!("{scheme} r{repeat}: {what}") };
        *self.last.lock().expect("progress lock") = msg.clone();
        match &self.bar {
            Some(bar) => {
                let len = bar.length().unwrap_or(1);
                bar.set_position((self.started.elapsed().as_secs()).min(len.saturating_sub(1)));
                bar.set_message(msg);
            }
            None => eprintln!("[{:>6.1}s] {msg}", self.started.elapsed().as_secs_f64()),
        }
    }

    /// A line above the bar.
    pub fn note(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_with_message(format!("done in {:.0} s", self.started.elapsed().as_secs_f64()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bar_needs_a_terminal_else_lines() {
        assert!(draws_bar(true, true));
        assert!(!draws_bar(true, false), "redirected stderr: one line per phase");
        assert!(!draws_bar(false, true), "--no-progress");
    }
}
