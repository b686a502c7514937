//! How a virtual user is paced and stopped: [`Pace`] (closed or open), the [`Retire`] signal the
//! ramp and the end of the run send, and an open-model user's place in the schedule.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::ramp::Ramp;

/// How the ramp tells a closed-model user to stop: a flag read between requests (one atomic load;
/// the token's own check takes a lock, on every request of a closed loop) and the token that cuts
/// a think-time sleep short. Retired, a user logs out; told to quit (the run is over), it only
/// finishes the request it has in flight. The open model's pool quits the same way.
#[derive(Clone, Default)]
pub struct Retire {
    flag: Arc<AtomicBool>,
    quit: Arc<AtomicBool>,
    pub(crate) token: CancellationToken,
}

impl Retire {
    pub fn retire(&self) {
        self.flag.store(true, Ordering::Release);
        self.token.cancel();
    }

    /// Stop after the request in flight, without logging out.
    pub fn quit(&self) {
        self.quit.store(true, Ordering::Release);
        self.retire();
    }

    pub(crate) fn quitting(&self) -> bool {
        self.quit.load(Ordering::Acquire)
    }

    pub fn is_retired(&self) -> bool {
        self.flag.load(Ordering::Acquire)
    }
}

/// How the next request is paced.
pub enum Pace {
    /// Closed model: until `retire` fires; then log out (unless told to quit).
    Closed { retire: Retire },
    /// Open model: this user takes arrivals `first, first + stride, ...` of `rate` from `t0`,
    /// until the schedule ends or `stop` fires.
    Open { rate: Arc<Ramp>, t0: Instant, first: u64, stride: u64, stop: Retire },
}

/// Open model: where this user is in its share of the schedule.
pub(crate) struct Arrivals {
    pub rate: Arc<Ramp>,
    pub t0: Instant,
    /// The next arrival not yet sent.
    pub next: u64,
    pub stride: u64,
}

impl Arrivals {
    /// Arrivals of this user due by `until` and never sent, and when the oldest was due.
    pub fn unsent(&self, until: Instant) -> (u64, Option<Instant>) {
        let upto = until.saturating_duration_since(self.t0).min(self.rate.total());
        let due = if upto.is_zero() { 0 } else { self.rate.integral(upto).floor() as u64 + 1 };
        if due <= self.next {
            return (0, None);
        }
        let n = (due - self.next).div_ceil(self.stride);
        (n, self.rate.time_of(self.next as f64).map(|at| self.t0 + at))
    }
}
