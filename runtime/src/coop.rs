//! Cooperative scheduling: a per-poll budget of I/O operations.
//!
//! A task whose socket is always ready would otherwise loop inside one poll
//! forever (`read` never returns `WouldBlock`) and starve every other task.
//! The runtime gives each poll a budget; every socket operation that
//! completes spends one unit, and an operation attempted with the budget
//! spent returns `Pending` after re-queueing the task at the back of the
//! run queue. Two such tasks therefore interleave round-robin instead of
//! one running to completion. An operation that finds its socket not ready
//! spends nothing: a future polling more idle sockets than the budget
//! holds (a `select_all` over reads) would otherwise run out on the idle
//! ones before it reached a ready one, on every poll, and spin. And an
//! operation refused once for want of budget goes ahead the next time it
//! finds the budget spent: one that comes after a future spending the
//! whole budget at every poll (the other direction of a flooded proxy
//! joined in one task) would otherwise starve for as long as it lasts.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

thread_local! {
    /// Operations left in the current poll. Outside a runtime nothing
    /// resets it, so it starts at [`UNLIMITED`].
    ///
    /// A `u64`, although a runtime's budget is a `u32`: outside a runtime
    /// every socket operation still spends one unit and nothing ever gives
    /// it back, so the lifted budget must outlast the thread. As a `u32`
    /// it ran out after 2^32 operations (a plain thread driving eddy
    /// sockets for hours; half a minute of `poll_read` calls in release),
    /// and from then on every read, write and accept on that thread
    /// returned `Pending` after waking itself: a spin that never did any
    /// I/O again. 2^64 operations take centuries; the decrement costs the
    /// same on a 64-bit target.
    static BUDGET: Cell<u64> = const { Cell::new(UNLIMITED) };
}

/// The budget outside any runtime: never spent in a thread's lifetime.
const UNLIMITED: u64 = u64::MAX;

/// Gives the next poll a fresh budget (or a task back the budget it had).
pub(crate) fn reset(budget: u64) {
    BUDGET.with(|b| b.set(budget));
}

/// The budget left in the current poll, for a runtime entered inside
/// another's poll to give back when it leaves (see `context::enter`).
pub(crate) fn current() -> u64 {
    BUDGET.with(Cell::get)
}

/// Lifts the budget when a runtime stops running on this thread. Without
/// it, the budget the last poll left behind (perhaps zero) would starve
/// polls made later outside any runtime, which nothing ever resets.
pub(crate) fn lift() {
    BUDGET.with(|b| b.set(UNLIMITED));
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

/// Polls `op` if the budget has a unit left, spending it only if `op` is
/// `Ready`; with the budget used up, re-queues the task and returns
/// `Pending` without polling `op`, unless the same operation already
/// yielded that way once (`yielded`, see [`refuse`]): then it polls `op`
/// all the same, without a unit to spend. For readiness polls and stream
/// reads and writes, whose `Pending` did nothing: spent there too, a future that
/// polls more sockets than the budget holds ran out before it reached the
/// later ones, every poll, and spun without ever seeing one of them ready
/// (RELIABILITY findings 56 and 57). (A `Sleep` spends only once its
/// deadline has passed, and `IoSource::async_io` spends once per
/// operation, before its first wait, so neither spins.)
#[inline]
pub(crate) fn poll_spending_if_ready<T>(
    cx: &mut Context<'_>,
    yielded: &AtomicBool,
    op: impl FnOnce(&mut Context<'_>) -> Poll<T>,
) -> Poll<T> {
    if BUDGET.with(Cell::get) == 0 && refuse(cx, yielded) {
        return Poll::Pending;
    }
    let polled = op(cx);
    if polled.is_ready() {
        BUDGET.with(|b| b.set(b.get().saturating_sub(1)));
    }
    polled
}

/// Spends one unit, as [`poll_proceed`], but with the budget used up lets
/// an operation that already yielded once for it go ahead (see
/// [`refuse`]): `IoSource::async_io`'s check before each wait.
#[inline]
pub(crate) fn poll_proceed_unless_yielded(cx: &mut Context<'_>, yielded: &AtomicBool) -> Poll<()> {
    BUDGET.with(|b| match b.get() {
        0 if refuse(cx, yielded) => Poll::Pending,
        0 => Poll::Ready(()),
        left => {
            b.set(left - 1);
            Poll::Ready(())
        }
    })
}

/// With the budget used up, whether to refuse an operation: yes (the task
/// is re-queued, and `yielded` remembers it) unless `yielded` says this
/// operation was refused before; then it goes ahead once, without a unit.
///
/// Without it, an operation that came after a future spending the whole
/// budget at every poll (two directions of a proxy joined in one task,
/// one of them flooded; a `select` whose first branch never runs dry)
/// found the budget spent at every poll and starved for as long as the
/// other went on (RELIABILITY finding 61). Each operation let through
/// here follows a yield of its own, so a loop of operations on one socket
/// still yields whenever the budget runs out. Per socket and direction
/// (`IoSource`), not per task: a refusal the task's other futures never
/// see again would otherwise let them through too. Out of line and cold:
/// only a poll that ran out of budget gets here.
#[cold]
#[inline(never)]
fn refuse(cx: &mut Context<'_>, yielded: &AtomicBool) -> bool {
    if yielded.swap(false, Ordering::Relaxed) {
        return false;
    }
    yielded.store(true, Ordering::Relaxed);
    cx.waker().wake_by_ref();
    true
}

/// The answer to an operation on an empty buffer (a read into nothing, a
/// write of nothing, a peek into nothing): `Ok(0)` at once, without a
/// syscall, but still one operation: it spends a unit, or with the budget
/// used up re-queues the task and returns `Pending`. Returning `Ok(0)`
/// without the budget let a loop of such calls run for ever without
/// yielding (RELIABILITY finding 59). Out of line and cold: only a caller
/// with nothing to move gets here, off every socket's hot path.
#[cold]
#[inline(never)]
pub(crate) fn poll_nothing(cx: &mut Context<'_>) -> Poll<std::io::Result<usize>> {
    poll_proceed(cx).map(|()| Ok(0))
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn outside_a_runtime_the_budget_outlasts_billions_of_operations() {
        // A plain thread driving eddy sockets spends a unit per operation
        // and nothing gives it back. 2^32 of them (hours of traffic) used
        // up a `u32` budget, and every operation after it was `Pending`
        // forever (shown over a Unix stream pair in 33 s of a release
        // build: docs/RELIABILITY.md, finding 21).
        lift();
        let spent: u64 = 1 << 32;
        let left = current().checked_sub(spent);
        assert!(
            left.is_some_and(|left| left > spent),
            "2^32 operations outside a runtime use up the budget"
        );
        reset(left.unwrap_or(0));
        let mut cx = Context::from_waker(std::task::Waker::noop());
        assert!(poll_proceed(&mut cx).is_ready());
        lift();
    }
}
