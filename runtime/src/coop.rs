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
    /// resets it, so it starts effectively unlimited.
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
        0 => {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
        left => {
            b.set(left - 1);
            Poll::Ready(())
        }
    })
}
