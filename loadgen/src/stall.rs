//! Stalls: stretches in which requests were outstanding and the target answered nothing.
//!
//! The collector looks every [`WATCH_PERIOD`] at when the target last answered, when a request last
//! failed without an answer (timeout, refused, closed) and what is in flight. A silence with
//! requests waiting or failing is a candidate; one of [`MIN_STALL`] or more is a [`Stall`], named in
//! the summary. The run's verdict ([`Verdict`]): the target stopped answering if a silence lasted
//! longer than `--timeout`, or if it was still silent at the end after [`SILENT_AT_END`] or more.
//! A shorter pause shows as latency (the requests it held finish late) and, from one second on,
//! as a stall.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::inflight::Snapshot;

/// How often the collector checks for a silence.
pub const WATCH_PERIOD: Duration = Duration::from_millis(100);
/// A silence this long with requests outstanding is a stall.
pub const MIN_STALL: Duration = Duration::from_secs(1);
/// Silent this long at the end of the run with requests outstanding: stopped for good.
pub const SILENT_AT_END: Duration = Duration::from_secs(2);

/// One stall, as `summary.json` lists it. Times are seconds since the load started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stall {
    /// When the target stopped answering (its last answer, or the first request left waiting).
    pub from_s: f64,
    /// When it answered again, or the end of the run.
    pub to_s: f64,
    pub duration_s: f64,
    /// Most requests in flight during the stall.
    pub max_in_flight: u64,
    /// Still silent when the run ended.
    pub until_end: bool,
}

/// Why the run says the target stopped answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// It no longer accepts connections, or its process is gone.
    Gone,
    /// It answered nothing for longer than `--timeout` while requests were outstanding.
    SilentLongerThanTimeout,
    /// It answered nothing in the run's last seconds (2 s or more) while requests were outstanding.
    SilentAtEnd,
}

impl Cause {
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::Gone => "gone",
            Cause::SilentLongerThanTimeout => "silent_longer_than_timeout",
            Cause::SilentAtEnd => "silent_at_end",
        }
    }
}

/// "The target stopped answering": when, for how long, how many requests it left waiting.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoppedAnswering {
    pub cause: Cause,
    /// Seconds since the load started.
    pub at_s: f64,
    /// How long it answered nothing (to the end of the run if it never answered again).
    pub for_s: f64,
    /// Requests in flight and never answered: the run's unfinished requests if it was still
    /// silent at the end, else the most in flight during the stall.
    pub requests_waiting: u64,
}

impl std::fmt::Display for StoppedAnswering {
    /// "the target stopped answering at 1.5 s: ..." without the leading clause.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let how = match self.cause {
            Cause::Gone => "it no longer accepts connections",
            Cause::SilentLongerThanTimeout => "no answer for longer than --timeout",
            Cause::SilentAtEnd => "no answer until the end of the run",
        };
        write!(
            f,
            "at {:.1} s ({how}; silent for {:.1} s; {} request(s) left waiting)",
            self.at_s, self.for_s, self.requests_waiting
        )
    }
}

#[derive(Debug, Clone, Copy)]
struct Candidate {
    start: Instant,
    max_in_flight: u64,
}

/// The silence tracker the collector feeds.
#[derive(Debug)]
pub struct StallWatch {
    t0: Instant,
    timeout: Duration,
    last_answer: Option<Instant>,
    last_tick: Instant,
    current: Option<Candidate>,
    stalls: Vec<Stall>,
    /// The first silence longer than the timeout (its stall), if any.
    over_timeout: Option<Stall>,
}

impl StallWatch {
    /// A watch over a load that started at `t0` with request timeout `timeout`.
    pub fn new(t0: Instant, timeout: Duration) -> StallWatch {
        StallWatch {
            t0,
            timeout,
            last_answer: None,
            last_tick: t0,
            current: None,
            stalls: Vec::new(),
            over_timeout: None,
        }
    }

    /// One look at `now`: the latest answer and unanswered failure so far, and what is in flight.
    pub fn observe(
        &mut self,
        now: Instant,
        last_answer: Option<Instant>,
        last_unanswered: Option<Instant>,
        in_flight: Snapshot,
    ) {
        if last_answer > self.last_answer {
            self.last_answer = last_answer;
            if let (Some(c), Some(answer)) = (self.current.take(), last_answer) {
                self.close(c, answer.max(c.start), false);
            }
        }
        let silent_since = self.last_answer.unwrap_or(self.t0).max(self.t0);
        let failing = last_unanswered.is_some_and(|f| f > silent_since && f > self.last_tick);
        if in_flight.count > 0 || failing {
            let c = self.current.get_or_insert_with(|| Candidate {
                // Waiting since the oldest request in flight was sent, or failing since the last
                // look; never before the last answer.
                start: in_flight.oldest.unwrap_or(self.last_tick).max(silent_since).min(now),
                max_in_flight: 0,
            });
            c.max_in_flight = c.max_in_flight.max(in_flight.count);
        } else if let Some(c) = self.current.take() {
            // Nothing waits or fails any more (the load ramped down): the silence ends unanswered.
            self.close(c, self.last_tick.max(c.start), false);
        }
        self.last_tick = now;
    }

    fn close(&mut self, c: Candidate, end: Instant, until_end: bool) {
        let length = end.saturating_duration_since(c.start);
        let stall = Stall {
            from_s: self.secs(c.start),
            to_s: self.secs(end),
            duration_s: length.as_secs_f64(),
            max_in_flight: c.max_in_flight,
            until_end,
        };
        if length > self.timeout && self.over_timeout.is_none() {
            self.over_timeout = Some(stall.clone());
        }
        if length >= MIN_STALL {
            self.stalls.push(stall);
        }
    }

    fn secs(&self, t: Instant) -> f64 {
        t.saturating_duration_since(self.t0).as_secs_f64()
    }

    /// Close the books at the load's `end`: every stall, and whether the target stopped answering
    /// by silence (`unfinished`: requests left waiting at the end).
    pub fn finish(mut self, end: Instant, unfinished: u64) -> (Vec<Stall>, Option<StoppedAnswering>) {
        if let Some(c) = self.current.take() {
            self.close(c, end.max(c.start), true);
        }
        let at_end = self.stalls.last().filter(|s| s.until_end).cloned();
        let stopped = match (&self.over_timeout, &at_end) {
            (Some(s), _) => Some(StoppedAnswering {
                cause: Cause::SilentLongerThanTimeout,
                at_s: s.from_s,
                for_s: s.duration_s,
                requests_waiting: if s.until_end { unfinished.max(s.max_in_flight) } else { s.max_in_flight },
            }),
            (None, Some(s)) if s.duration_s >= SILENT_AT_END.as_secs_f64() => Some(StoppedAnswering {
                cause: Cause::SilentAtEnd,
                at_s: s.from_s,
                for_s: s.duration_s,
                requests_waiting: unfinished.max(s.max_in_flight),
            }),
            _ => None,
        };
        (self.stalls, stopped)
    }

    /// The stall still open at `end`, or the last answer: when a target that is gone went away.
    pub fn gone_since(&self, end: Instant) -> f64 {
        self.current
            .map_or_else(|| self.secs(self.last_answer.unwrap_or(end).max(self.t0)), |c| self.secs(c.start))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn waiting(count: u64, since: Instant) -> Snapshot {
        Snapshot { count, oldest: Some(since) }
    }

    /// Answers every tick until `freeze_at`, then silence with `n` in flight until `thaw_at`.
    fn run(
        timeout: Duration,
        freeze_at: u64,
        thaw_at: Option<u64>,
        end: u64,
    ) -> (Vec<Stall>, Option<StoppedAnswering>) {
        let t0 = Instant::now();
        let mut w = StallWatch::new(t0, timeout);
        let mut answer = None;
        for tick in (100..=end).step_by(100) {
            let now = t0 + ms(tick);
            let frozen = tick > freeze_at && thaw_at.is_none_or(|t| tick <= t);
            if !frozen {
                answer = Some(now - ms(1));
            }
            w.observe(now, answer, None, waiting(10, if frozen { t0 + ms(freeze_at) } else { now - ms(1) }));
        }
        w.finish(t0 + ms(end), if thaw_at.is_none() { 10 } else { 0 })
    }

    #[test]
    fn a_short_pause_is_no_stall_a_longer_one_is_named() {
        let (stalls, stopped) = run(ms(10_000), 1000, Some(1500), 6000);
        assert!(stalls.is_empty() && stopped.is_none(), "{stalls:?}");
        let (stalls, stopped) = run(ms(10_000), 1500, Some(3000), 6000);
        assert_eq!(stalls.len(), 1, "{stalls:?}");
        let s = &stalls[0];
        assert!((s.from_s - 1.5).abs() < 0.01 && (s.duration_s - 1.5).abs() < 0.15, "{s:?}");
        assert_eq!((s.max_in_flight, s.until_end), (10, false));
        assert!(stopped.is_none(), "shorter than the timeout: a stall, not a stop");
    }

    #[test]
    fn silence_longer_than_the_timeout_is_a_stop_even_if_it_recovers() {
        let (stalls, stopped) = run(ms(2000), 1500, Some(4000), 6000);
        let stopped = stopped.expect("stopped answering");
        assert_eq!(stopped.cause, Cause::SilentLongerThanTimeout);
        assert!((stopped.at_s - 1.5).abs() < 0.01 && stopped.for_s > 2.0, "{stopped:?}");
        assert_eq!(stalls.len(), 1);
    }

    #[test]
    fn silence_at_the_end_is_a_stop_after_two_seconds() {
        let (stalls, stopped) = run(ms(10_000), 3000, None, 6000);
        let stopped = stopped.expect("stopped answering");
        assert_eq!((stopped.cause, stopped.requests_waiting), (Cause::SilentAtEnd, 10));
        assert!((stopped.for_s - 3.0).abs() < 0.01, "{stopped:?}");
        assert!(stalls[0].until_end);
        let (stalls, stopped) = run(ms(10_000), 4500, None, 6000);
        assert!(stopped.is_none(), "1.5 s of silence at the end is a stall only");
        assert_eq!(stalls.len(), 1);
    }

    #[test]
    fn idle_silence_is_no_stall_and_failures_count_as_waiting() {
        let t0 = Instant::now();
        let mut w = StallWatch::new(t0, ms(10_000));
        // Nothing in flight and nothing failing for 3 s: idle, not a stall.
        for tick in (100..=3000).step_by(100) {
            w.observe(t0 + ms(tick), Some(t0 + ms(50)), None, Snapshot::default());
        }
        // Then refused connects, one per tick, for 2.5 s.
        for tick in (3100..=5500).step_by(100) {
            w.observe(t0 + ms(tick), Some(t0 + ms(50)), Some(t0 + ms(tick - 5)), Snapshot::default());
        }
        let gone = w.gone_since(t0 + ms(5500));
        let (stalls, stopped) = w.finish(t0 + ms(5500), 0);
        assert_eq!(stalls.len(), 1, "{stalls:?}");
        assert!((stalls[0].from_s - 3.0).abs() < 0.01, "from the first failure: {stalls:?}");
        assert!((gone - 3.0).abs() < 0.01);
        assert_eq!(stopped.unwrap().cause, Cause::SilentAtEnd);
    }
}
