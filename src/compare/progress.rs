//! One progress bar over the whole experiment: scheme, repeat, phase and an ETA from the plan.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use authbench_servers::SchemeKind;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub struct Progress {
    bar: Option<ProgressBar>,
    /// Every phase entered, timed (`phases.csv`).
    pub clock: super::phases::PhaseClock,
    started: Instant,
    last: Arc<Mutex<String>>,
}

impl Progress {
    /// A bar of `planned_seconds` that advances with the clock; hidden when `visible` is false
    /// (phases are then logged one line each).
    pub fn new(planned_seconds: f64, visible: bool) -> Progress {
        let bar = visible.then(|| {
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

    /// Enter a phase; the position follows elapsed time (capped below the end until finish).
    pub fn phase(&self, scheme: SchemeKind, repeat: u32, phase: &str) {
        self.clock.enter(scheme.as_str(), repeat, phase);
        let msg =
            if repeat == 0 { format!("{scheme}: {phase}") } else { format!("{scheme} r{repeat}: {phase}") };
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
