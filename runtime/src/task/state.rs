//! The task's atomic state word.
//!
//! ```text
//!  bit:  | 2         | 1        | 0        |
//!        | CANCELLED | COMPLETE | NOTIFIED |
//! ```
//!
//! * `NOTIFIED`: the task sits in a run queue (local or remote). A wake sets
//!   it and queues the task only if it was clear, so a task woken a thousand
//!   times before it runs is queued once. The runtime clears it just before
//!   polling, so a wake that arrives *during* the poll queues the task again
//!   (clearing it after the poll would lose that wake-up).
//! * `COMPLETE`: the future is gone (finished, panicked, aborted or dropped at
//!   shutdown), and the outcome is stored in the join slot right after the
//!   bit is set (so `is_finished` reads the slot). Once set it is never
//!   cleared, and wakes are ignored from then on.
//! * `CANCELLED`: `JoinHandle::abort` asked for the task to stop. The runtime
//!   checks it before every poll and drops the future instead of polling it.

use crate::loom::sync::atomic::{AtomicUsize, Ordering};

const NOTIFIED: usize = 0b001;
const COMPLETE: usize = 0b010;
const CANCELLED: usize = 0b100;

/// The packed state of one task, shared by the runtime, wakers and the
/// join handle (which may live on other threads).
#[derive(Debug)]
pub(crate) struct State {
    /// `NOTIFIED | COMPLETE | CANCELLED`, see the module docs.
    word: AtomicUsize,
}

impl State {
    /// A state for a task that is about to be queued for its first poll.
    pub(crate) fn new_notified() -> State {
        State {
            word: AtomicUsize::new(NOTIFIED),
        }
    }

    /// Marks the task as queued. Returns `true` when the caller must push it
    /// on a run queue: it was neither queued already nor complete.
    #[inline]
    pub(crate) fn transition_to_notified(&self) -> bool {
        // Always a read-modify-write, never a plain load first: a load may
        // read a `NOTIFIED` the runtime already cleared for its poll, and
        // that poll need not see what the waker published (finding 71).
        let previous = self.word.fetch_or(NOTIFIED, Ordering::AcqRel);
        previous & (NOTIFIED | COMPLETE) == 0
    }

    /// Called by the runtime right before it polls the task. Returns the
    /// state seen, so the caller can check `is_cancelled`.
    #[inline]
    pub(crate) fn transition_to_running(&self) -> Snapshot {
        Snapshot(self.word.fetch_and(!NOTIFIED, Ordering::AcqRel))
    }

    /// Records that the future is gone. Returns `false` if it already was.
    pub(crate) fn transition_to_complete(&self) -> bool {
        self.word.fetch_or(COMPLETE, Ordering::AcqRel) & COMPLETE == 0
    }

    /// Asks the task to stop. Returns `true` when the caller should wake it
    /// so the runtime notices (it was neither complete nor cancelled yet).
    pub(crate) fn request_cancel(&self) -> bool {
        let previous = self.word.fetch_or(CANCELLED, Ordering::AcqRel);
        previous & (COMPLETE | CANCELLED) == 0
    }

    /// Whether the future is gone.
    pub(crate) fn is_complete(&self) -> bool {
        self.word.load(Ordering::Acquire) & COMPLETE != 0
    }
}

/// One reading of the state word.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Snapshot(
    /// The word as loaded (or as an update left it): a copy, so its
    /// questions all answer about the same moment.
    usize,
);

impl Snapshot {
    /// Whether `abort` was called.
    pub(crate) fn is_cancelled(self) -> bool {
        self.0 & CANCELLED != 0
    }

    /// Whether the future is already gone.
    pub(crate) fn is_complete(self) -> bool {
        self.0 & COMPLETE != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_is_queued_once_however_often_it_is_woken() {
        let state = State::new_notified();
        assert!(!state.transition_to_notified());
        state.transition_to_running();
        assert!(state.transition_to_notified());
        assert!(!state.transition_to_notified());
    }

    #[test]
    fn a_complete_task_is_never_queued_again() {
        let state = State::new_notified();
        state.transition_to_running();
        assert!(state.transition_to_complete());
        assert!(!state.transition_to_complete());
        assert!(!state.transition_to_notified());
        assert!(!state.request_cancel());
    }

    #[test]
    fn cancel_is_seen_by_the_next_run() {
        let state = State::new_notified();
        state.transition_to_running();
        assert!(state.request_cancel());
        assert!(!state.request_cancel());
        assert!(state.transition_to_notified());
        assert!(state.transition_to_running().is_cancelled());
    }
}
