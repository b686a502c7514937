//! The live progress line (indicatif, on stderr): stage, active/target users, rps, p99, errors,
//! elapsed/total. Hidden when disabled or when stderr is not a terminal.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::error::Result;
use crate::record::Endpoint;
use crate::row::Row;
use crate::sink::{Second, Sink};

pub struct Progress {
    bar: ProgressBar,
    stages: usize,
    open: bool,
    /// The load's planned length.
    total: Duration,
    /// The endpoint whose p99 is shown: `/api/me`, or `/healthz` without credentials.
    main: Endpoint,
}

impl Progress {
    pub fn new(enabled: bool, total: Duration, stages: usize, open: bool, main: Endpoint) -> Progress {
        let target = if enabled { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() };
        let bar = ProgressBar::with_draw_target(Some(total.as_secs().max(1)), target);
        bar.set_style(
            ProgressStyle::with_template("{bar:20.cyan/blue} {msg}")
                .expect("static template")
                .progress_chars("=> "),
        );
        Progress { bar, stages, open, total, main }
    }

    /// Show one second's row.
    fn update(&self, row: &Row) {
        let (total, main) = (self.total, self.main);
        let rps: f64 = row.endpoints.iter().map(|e| e.rps).sum();
        let errors: u64 = row.errors.iter().sum();
        let p99 = row.endpoints[main as usize]
            .latency
            .as_ref()
            .map_or("-".to_owned(), |l| format!("{:.2}ms", l.p99 as f64 / 1000.0));
        let load = if self.open {
            format!("vus {} · target {:.0}/s", row.active_vus, row.target)
        } else {
            format!("vus {}/{:.0}", row.active_vus, row.target)
        };
        self.bar.set_position(row.t_s as u64);
        self.bar.set_message(format!(
            "stage {}/{} · {load} · {rps:.0} req/s · {} p99 {p99} · errors {errors}{} · {:.0}s/{}s",
            row.stage,
            self.stages,
            main.as_str(),
            if row.stalled {
                " · NO ANSWER"
            } else if row.gen_saturated {
                " · GENERATOR SATURATED"
            } else {
                ""
            },
            row.t_s,
            total.as_secs()
        ));
    }
}

impl Sink for Progress {
    fn second(&mut self, second: &Second<'_>) -> Result<()> {
        self.update(second.row);
        Ok(())
    }

    fn load_ended(&mut self) {
        self.bar.finish_and_clear();
    }
}
