//! Cooperative scheduling: a per-poll budget of I/O operations.
//!
//! A task whose socket is always ready would otherwise loop inside one poll
//! forever (`read` never returns `WouldBlock`) and starve every other task.
//! The runtime gives each poll a budget; every socket operation spends one
//! unit, and an operation attempted with the budget spent returns `Pending`
//! after re-queueing the task at the back of the run queue. Two such tasks
//! therefore interleave round-robin instead of one running to completion.

use std::cell::Cell;
use std::task::{Context, Poll};

thread_local! {
    /// Operations left in the current poll. Outside a runtime nothing
    /// resets it, so it starts at `u32::MAX`, and `poll_proceed` refills
    /// it there when it runs out: unlimited.
    static BUDGET: Cell<u32> = const { Cell::new(u32::MAX) };
}

/// Gives the next poll a fresh budget (or a task back the budget it had).
pub(crate) fn reset(budget: u32) {
    BUDGET.with(|b| b.set(budget));
}

/// The budget left in the current poll, for a runtime entered inside
/// another's poll to give back when it leaves (see `context::enter`).
pub(crate) fn current() -> u32 {
    BUDGET.with(Cell::get)
}

/// Lifts the budget when a runtime stops running on this thread. Without
/// it, the budget the last poll left behind (perhaps zero) would starve
/// polls made later outside any runtime, which nothing ever resets.
pub(crate) fn lift() {
    BUDGET.with(|b| b.set(u32::MAX));
}

/// Spends one unit, or re-queues the task and returns `Pending` when the
/// budget is used up. Inlined: it runs before every I/O call.
#[inline]
pub(crate) fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    BUDGET.with(|b| match b.get() {
        0 if crate::runtime::context::is_inside_runtime() => {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
        // Outside a runtime the budget is meant to be unlimited, but
        // "unlimited" is `u32::MAX` units that nothing resets there: a
        // thread polling eddy sockets or sleeps with another executor
        // spent them after four billion operations, and from then on every
        // operation returned `Pending` and woke itself, a busy loop that
        // never made progress. Here, the budget is only ever spent.
        0 => {
            b.set(u32::MAX);
            Poll::Ready(())
        }
        left => {
            b.set(left - 1);
            Poll::Ready(())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Waker;

    /// Polls made on a thread that never ran a runtime, as a foreign
    /// executor polling a `Send` socket or an expired `Sleep` makes them.
    fn poll_outside_a_runtime(polls: u64) -> u64 {
        std::thread::spawn(move || {
            let mut cx = Context::from_waker(Waker::noop());
            (0..polls)
                .filter(|_| poll_proceed(&mut cx).is_pending())
                .count() as u64
        })
        .join()
        .unwrap()
    }

    #[test]
    fn a_spent_budget_outside_a_runtime_refuses_nothing() {
        // Where the test below gets after four billion polls.
        let refused = std::thread::spawn(|| {
            reset(0);
            let mut cx = Context::from_waker(Waker::noop());
            (0..3)
                .filter(|_| poll_proceed(&mut cx).is_pending())
                .count()
        })
        .join()
        .unwrap();
        assert_eq!(refused, 0);
    }

    #[test]
    #[cfg_attr(
        any(debug_assertions, miri),
        ignore = "four billion polls: run with --release (a few seconds)"
    )]
    fn four_billion_operations_outside_a_runtime_are_never_refused() {
        // Past the "effectively unlimited" budget such a thread starts with.
        let refused = poll_outside_a_runtime(u64::from(u32::MAX) + 10);
        assert_eq!(refused, 0, "polls outside a runtime were refused");
    }
}
