//! The waker a connection's futures are polled with in place: self-wakes noted, not rescheduled
//! (see [`Quiet`]). Used by [`crate::client`]'s `drive`.

use std::cell::Cell;
use std::sync::Arc;
use std::task::{Wake, Waker};

use futures::task::AtomicWaker;

/// The waker [`drive`] polls hyper's futures with. In a closed loop, most wake-ups of a virtual
/// user's task come from its own polling: hyper's dispatcher and its `SendRequest` talk over
/// channels, and each hand-over wakes the other side — which is this same task. Through tokio's
/// waker each such wake-up costs a reschedule and a spurious full poll of the task (measured:
/// about one per request, ~0.3 µs of user CPU). This waker notes a wake-up raised *on this thread
/// while this client polls* (it re-polls at once) and forwards every other one (socket readiness,
/// the timer, any other thread) to the task, so no wake-up is ever lost. Hand-written because no
/// crate offers "coalesce self-wakes" for futures polled in place.
pub struct Quiet {
    pub state: Arc<QuietState>,
    pub waker: Waker,
}

#[derive(Default)]
pub struct QuietState {
    pub task: AtomicWaker,
}

thread_local! {
    /// The [`QuietState`] this thread is polling under right now (null: none), and whether it
    /// was woken meanwhile.
    static POLLING: Cell<*const QuietState> = const { Cell::new(std::ptr::null()) };
    static WOKEN: Cell<bool> = const { Cell::new(false) };
}

impl Wake for QuietState {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if POLLING.get() == Arc::as_ptr(self) {
            WOKEN.set(true);
        } else {
            self.task.wake();
        }
    }
}

impl Quiet {
    pub fn new() -> Quiet {
        let state = Arc::new(QuietState::default());
        Quiet { waker: Waker::from(state.clone()), state }
    }

    /// Run `f` with this client's self-wakes noted rather than forwarded; returns `f`'s result
    /// and whether anything woke it meanwhile.
    pub fn round<T>(&self, f: impl FnOnce() -> T) -> (T, bool) {
        // Restores the thread's previous state even if `f` panics (tokio keeps running other
        // tasks on this thread; a stale pointer here could swallow another client's wake-ups).
        struct Restore(*const QuietState, bool);
        impl Drop for Restore {
            fn drop(&mut self) {
                POLLING.set(self.0);
                WOKEN.set(self.1);
            }
        }
        let restore = Restore(POLLING.replace(Arc::as_ptr(&self.state)), WOKEN.replace(false));
        let out = f();
        let woken = WOKEN.get();
        drop(restore);
        (out, woken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    /// A task waker that counts its wake-ups.
    #[derive(Default)]
    struct Count(AtomicU64);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn quiet_with_task() -> (Quiet, Arc<Count>) {
        let quiet = Quiet::new();
        let count = Arc::new(Count::default());
        quiet.state.task.register(&Waker::from(count.clone()));
        (quiet, count)
    }

    #[test]
    fn a_wake_raised_while_polling_on_this_thread_is_noted_not_forwarded() {
        let (quiet, task) = quiet_with_task();
        let ((), woken) = quiet.round(|| quiet.waker.wake_by_ref());
        assert!(woken);
        assert_eq!(task.0.load(Ordering::SeqCst), 0);
        // And the next round starts clean.
        let ((), woken) = quiet.round(|| ());
        assert!(!woken);
    }

    #[test]
    fn wakes_outside_a_round_or_from_another_thread_reach_the_task() {
        let (quiet, task) = quiet_with_task();
        quiet.waker.wake_by_ref();
        assert_eq!(task.0.load(Ordering::SeqCst), 1);

        quiet.state.task.register(&Waker::from(task.clone()));
        let waker = quiet.waker.clone();
        let ((), woken) = quiet.round(|| std::thread::spawn(move || waker.wake()).join().unwrap());
        assert!(!woken, "another thread's wake is not this round's");
        assert_eq!(task.0.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn another_clients_wake_during_a_round_is_forwarded() {
        let (a, _) = quiet_with_task();
        let (b, b_task) = quiet_with_task();
        let ((), woken) = a.round(|| b.waker.wake_by_ref());
        assert!(!woken);
        assert_eq!(b_task.0.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_panicking_round_leaves_the_thread_clean() {
        let (quiet, task) = quiet_with_task();
        let caught =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| quiet.round(|| panic!("boom"))));
        assert!(caught.is_err());
        assert!(POLLING.get().is_null());
        quiet.waker.wake_by_ref();
        assert_eq!(task.0.load(Ordering::SeqCst), 1, "wakes are forwarded again after the panic");
    }
}
