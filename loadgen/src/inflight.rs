//! Requests in flight right now. Each virtual user has one [`Slot`] (it sends one request at a
//! time) holding the send instant of its request in flight, or nothing; the collector scans all
//! slots to count requests in flight and the age of the oldest one. On the hot path a request
//! costs two relaxed stores to its user's own cache line: no lock, no allocation.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

/// One virtual user's request in flight: nanoseconds from the registry's epoch to its send, plus
/// one (0: nothing in flight). Aligned so no two users' slots share a cache line.
#[derive(Debug, Default)]
#[repr(align(64))]
pub struct Slot(AtomicU64);

impl Slot {
    /// A request was sent at `at`.
    pub fn begin(&self, epoch: Instant, at: Instant) {
        let ns = u64::try_from(at.saturating_duration_since(epoch).as_nanos()).unwrap_or(u64::MAX - 1);
        self.0.store(ns + 1, Ordering::Relaxed);
    }

    /// It finished.
    pub fn end(&self) {
        self.0.store(0, Ordering::Relaxed);
    }

    /// The send instant of the request in flight, if any.
    pub fn sent_at(&self, epoch: Instant) -> Option<Instant> {
        match self.0.load(Ordering::Relaxed) {
            0 => None,
            v => Some(epoch + Duration::from_nanos(v - 1)),
        }
    }
}

/// What is in flight at one instant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub count: u64,
    /// Send instant of the oldest request in flight.
    pub oldest: Option<Instant>,
}

impl Snapshot {
    /// Age of the oldest request in flight at `now`.
    pub fn oldest_age(&self, now: Instant) -> Option<Duration> {
        self.oldest.map(|t| now.saturating_duration_since(t))
    }
}

/// Every live virtual user's slot.
pub struct InFlight {
    epoch: Instant,
    slots: Mutex<Vec<Arc<Slot>>>,
}

impl Default for InFlight {
    fn default() -> Self {
        InFlight::new()
    }
}

impl InFlight {
    pub fn new() -> InFlight {
        InFlight { epoch: Instant::now(), slots: Mutex::new(Vec::new()) }
    }

    pub fn epoch(&self) -> Instant {
        self.epoch
    }

    /// A new user's slot (taken once per user, not per request).
    pub fn slot(&self) -> Arc<Slot> {
        let slot = Arc::new(Slot::default());
        self.lock().push(slot.clone());
        slot
    }

    /// Count what is in flight; forget the slots of users that are gone.
    pub fn snapshot(&self) -> Snapshot {
        let mut slots = self.lock();
        slots.retain(|s| Arc::strong_count(s) > 1);
        slots.iter().filter_map(|s| s.sent_at(self.epoch)).fold(Snapshot::default(), |acc, t| Snapshot {
            count: acc.count + 1,
            oldest: Some(acc.oldest.map_or(t, |o| o.min(t))),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Arc<Slot>>> {
        self.slots.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_requests_in_flight_and_the_oldest() {
        let reg = InFlight::new();
        let (a, b, c) = (reg.slot(), reg.slot(), reg.slot());
        assert_eq!(reg.snapshot(), Snapshot::default());
        let t = reg.epoch() + Duration::from_millis(5);
        a.begin(reg.epoch(), t + Duration::from_millis(3));
        b.begin(reg.epoch(), t);
        let s = reg.snapshot();
        assert_eq!((s.count, s.oldest), (2, Some(t)));
        assert_eq!(s.oldest_age(t + Duration::from_secs(2)), Some(Duration::from_secs(2)));
        b.end();
        c.begin(reg.epoch(), reg.epoch());
        assert_eq!(reg.snapshot().count, 2);
        drop(c);
        assert_eq!(reg.snapshot().count, 1, "a gone user's slot is forgotten");
        assert_eq!(reg.lock().len(), 2);
    }
}
