//! What every group of `micro.rs` shares: the clock a benchmark is timed by ([`Clock`], the
//! process CPU clock or the wall clock), the criterion instance over it ([`Bench`]), and the
//! credential lifetimes and user count of every bench.

use std::time::Duration;

use criterion::Criterion;
use criterion::measurement::{Measurement, ValueFormatter, WallTime};

pub const TTL: Duration = Duration::from_secs(15 * 60);
pub const REFRESH_TTL: Duration = Duration::from_secs(7 * 24 * 3600);
/// Users in the directory of every bench; the benches use `user1`.
pub const USERS: u64 = 1_000;

/// A criterion [`Measurement`] over one of two `clock_gettime` clocks, reported as a duration.
#[derive(Clone, Copy)]
pub enum Clock {
    /// CPU time of every thread of this process.
    ProcessCpu,
    /// `CLOCK_MONOTONIC`, what criterion's `WallTime` measures.
    Wall,
}

impl Clock {
    pub fn name(self) -> &'static str {
        match self {
            Clock::ProcessCpu => "process CPU time (CLOCK_PROCESS_CPUTIME_ID)",
            Clock::Wall => "wall time (CLOCK_MONOTONIC)",
        }
    }

    #[allow(unsafe_code)]
    fn now(self) -> Duration {
        let id = match self {
            Clock::ProcessCpu => libc::CLOCK_PROCESS_CPUTIME_ID,
            Clock::Wall => libc::CLOCK_MONOTONIC,
        };
        let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: `ts` is a valid, writable timespec; both clock ids exist on every Linux.
        let rc = unsafe { libc::clock_gettime(id, &mut ts) };
        assert_eq!(rc, 0, "clock_gettime({id})");
        Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
    }
}

/// Criterion's own duration formatter (ns / µs / ms), borrowed from its `WallTime`.
static DURATION_FORMAT: WallTime = WallTime;

impl Measurement for Clock {
    type Intermediate = Duration;
    type Value = Duration;

    fn start(&self) -> Duration {
        self.now()
    }
    fn end(&self, started: Duration) -> Duration {
        self.now().saturating_sub(started)
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        DURATION_FORMAT.formatter()
    }
}

pub type Bench = Criterion<Clock>;
