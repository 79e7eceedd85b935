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
//! operation that finds the budget spent goes ahead without it if its
//! socket direction, or the operation itself (a sleep, an `accept`), found
//! it spent in an earlier poll: one that
//! comes after a future spending the whole budget at every poll (the other
//! direction of a flooded proxy joined in one task) would otherwise starve
//! for as long as it lasts.

use std::cell::Cell;
use std::sync::atomic::{AtomicU32, Ordering};
use std::task::{Context, Poll};

thread_local! {
    /// This thread's budget and poll count, in one thread-local so that a
    /// task poll's reset finds both with one address.
    static COOP: Coop = const {
        Coop {
            budget: Cell::new(UNLIMITED),
            poll: Cell::new(1),
        }
    };
}

/// A thread's cooperative-scheduling state.
struct Coop {
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
    budget: Cell<u64>,
    /// Which poll this thread runs: a number that changes at every
    /// [`reset`], so a [`Refused`] mark tells a refusal made earlier in the
    /// running poll from one made in an earlier poll. Wraps after 2^32
    /// polls; see `refuse`.
    poll: Cell<u32>,
}

/// The budget outside any runtime: never spent in a thread's lifetime.
const UNLIMITED: u64 = u64::MAX;

/// Gives the next task poll a fresh budget, and starts a new poll for the
/// [`Refused`] marks: an operation refused before it goes ahead at its
/// next refusal (see `refuse`).
#[inline]
pub(crate) fn reset(budget: u64) {
    COOP.with(|c| {
        c.budget.set(budget);
        c.poll.set(c.poll.get().wrapping_add(1));
    });
}

/// The budget left in the current poll, and which poll it is, for a
/// runtime entered inside another's poll to give back when it leaves (see
/// `context::enter` and [`restore`]).
pub(crate) fn current() -> Saved {
    Saved {
        budget: COOP.with(|c| c.budget.get()),
        poll: COOP.with(|c| c.poll.get()),
    }
}

/// Gives a task, back from a runtime entered inside its poll, the budget
/// and the poll count [`current`] saved. The count too: the inner
/// runtime's polls advanced it, and left so, the rest of the task's poll
/// counted as a later one, so every mark made before (a `select` of many
/// sockets racing) let one operation through again at each runtime
/// dropped in a loop, and the loop never yielded (RELIABILITY finding 62).
pub(crate) fn restore(saved: Saved) {
    COOP.with(|c| {
        c.budget.set(saved.budget);
        c.poll.set(saved.poll);
    });
}

/// What [`current`] saves and [`restore`] gives back.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Saved {
    /// The budget left.
    budget: u64,
    /// The poll count (see `Coop::poll`).
    poll: u32,
}

/// Lifts the budget when a runtime stops running on this thread. Without
/// it, the budget the last poll left behind (perhaps zero) would starve
/// polls made later outside any runtime, which nothing ever resets.
pub(crate) fn lift() {
    COOP.with(|c| c.budget.set(UNLIMITED));
}

/// Whether the running poll has a unit of budget left: for `Timeout`,
/// which must tell an inner future that used up the budget from a budget
/// spent before it.
#[inline]
pub(crate) fn has_budget() -> bool {
    COOP.with(|c| c.budget.get()) != 0
}

/// Polls `op` if the budget has a unit left, spending it only if `op` is
/// `Ready`; with the budget used up, re-queues the task and returns
/// `Pending` without polling `op`, unless an operation on the same socket
/// and direction found the budget spent in an earlier poll (`refused`,
/// see [`refuse`]), or `own`, the mark of an operation that is a future of
/// its own (`IoSource::ready`, `IoSource::async_io`'s wait), says it was
/// refused in an earlier poll (see [`refuse_own`]): then it polls `op`
/// all the same, without a unit to spend. For readiness polls and waits
/// and stream reads and writes, whose `Pending` did nothing: spent there
/// too, a future that polls more sockets than the budget holds ran out
/// before it reached the later ones, every poll, and spun without ever
/// seeing one of them ready (RELIABILITY findings 56 and 57). Spent
/// before `op`'s wait rather than when it is `Ready` (as `async_io` once
/// did), an operation that waited completed in a later poll without a
/// unit, and a task's operations that waited together completed in one
/// poll past the budget (RELIABILITY finding 66). (A `Sleep` spends only
/// once its deadline has passed, so it does not spin either.)
#[inline]
pub(crate) fn poll_spending_if_ready<T>(
    cx: &mut Context<'_>,
    refused: &Refused,
    own: Option<&mut Refused>,
    op: impl FnOnce(&mut Context<'_>) -> Poll<T>,
) -> Poll<T> {
    if COOP.with(|c| c.budget.get()) == 0 {
        let refuse = match own {
            Some(own) => refuse_own(cx, refused, own),
            None => refuse(cx, refused),
        };
        if refuse {
            return Poll::Pending;
        }
    }
    let polled = op(cx);
    if polled.is_ready() {
        COOP.with(|c| c.budget.set(c.budget.get().saturating_sub(1)));
    }
    polled
}

/// The last poll in which an operation on one socket in one direction
/// found the budget spent (refused, or let through without a unit), or in
/// which one `Sleep` was refused and has not completed since: 0 if none.
/// Atomic because a socket is shared across threads; only its own
/// runtime's polls read and write it.
#[derive(Debug)]
pub(crate) struct Refused(AtomicU32);

impl Refused {
    /// No operation has found the budget spent.
    pub(crate) const fn new() -> Refused {
        Refused(AtomicU32::new(0))
    }
}

/// An expired `Sleep`'s check: ready without spending a unit if `refused`
/// says this sleep was refused in an earlier poll (it completes at the
/// next poll, budget or not: RELIABILITY finding 60); otherwise spends one
/// unit, or with the budget used up marks `refused`
/// and returns `Pending` (see [`refuse`]).
#[inline]
pub(crate) fn poll_proceed_once_refused(cx: &mut Context<'_>, refused: &mut Refused) -> Poll<()> {
    let at = std::mem::take(refused.0.get_mut());
    if at != 0 && at != COOP.with(|c| c.poll.get()) {
        return Poll::Ready(());
    }
    COOP.with(|c| match c.budget.get() {
        0 => {
            *refused.0.get_mut() = COOP.with(|c| c.poll.get());
            cx.waker().wake_by_ref();
            Poll::Pending
        }
        left => {
            c.budget.set(left - 1);
            Poll::Ready(())
        }
    })
}

/// With the budget used up, whether to refuse an operation: yes (the task
/// is re-queued) unless `refused` says an operation on this socket and
/// direction found the budget spent in an earlier poll; then it goes ahead
/// once, without a unit. Either way `refused` now holds the running poll,
/// so the next operation to find the budget spent in this poll is refused
/// and the first in a later one goes ahead.
///
/// Without it, an operation that came after a future spending the whole
/// budget at every poll (two directions of a proxy joined in one task,
/// one of them flooded; a `select` whose first branch never runs dry)
/// found the budget spent at every poll and starved for as long as the
/// other went on (RELIABILITY finding 61). Per socket and direction
/// (`IoSource`) or per `Sleep`, not per task: a refusal the task's other
/// futures never see again would otherwise let them through too.
///
/// Only a refusal made in an earlier poll counts. One made in the same
/// poll did not end it (a `select` or `join` went on to its other
/// branches), and counting it let a loop racing many always-ready
/// sockets or sleeps, first ready wins, run 2^n operations between two
/// yields: each round marked every one before the first marked one and
/// let that one through, a binary counter counting down (RELIABILITY
/// finding 62). So a poll lets through at most one operation per socket
/// direction, and a loop still yields whenever the budget runs out.
///
/// Letting an operation through marks the poll too, rather than clearing
/// the mark. Cleared, a socket two tasks share lost one task's mark to the
/// other: a task forwarding a flooded stream to a shared UDP socket, its
/// budget spent, sent on the mark another task's send had left, joined
/// after a read loop, and the joined send found no mark at its next poll,
/// was refused again, and starved (RELIABILITY finding 64). Kept, each
/// task's poll finds the other's mark from an earlier poll.
/// (The count is a `u32`. As a `u16` it wrapped every 65,536 polls, and a
/// task polled once per wrap, behind 65,535 others that stayed ready,
/// found its own mark from the poll before looking current at every poll:
/// the operation was refused at each and starved, finding 61 again
/// (RELIABILITY finding 63). A wrap now takes 2^32 polls, and a task
/// polled once per wrap would need as many tasks ahead of it. When a
/// socket moves to another thread's runtime, or a wrap comes, a stale
/// mark may look current, or a mark made at count 0 like none: the
/// operation is refused once more and goes ahead at the next poll.)
///
/// Out of line and cold: only a poll that ran out of budget gets here.
#[cold]
#[inline(never)]
fn refuse(cx: &mut Context<'_>, refused: &Refused) -> bool {
    let now = COOP.with(|c| c.poll.get());
    let at = refused.0.swap(now, Ordering::Relaxed);
    if at != 0 && at != now {
        return false;
    }
    cx.waker().wake_by_ref();
    true
}

/// [`refuse`] for an operation that is a future of its own (`async_io`'s
/// `accept`, `recv_from`, `send_to`; `readable`, `writable`), which keeps
/// its own mark in `own` besides its socket direction's in `refused`: it
/// goes ahead if either is from an earlier poll. Refused, it marks both.
///
/// The socket direction's mark alone lets one operation through per poll,
/// and the first to ask takes it. Two futures of one task on one socket
/// direction (a loop of sends on a UDP socket, and a control message
/// joined after it on the same socket): the loop, polled first, spent the
/// budget, took the pass, and its next send was refused and marked the
/// running poll, so the joined send found that mark and was refused, at
/// every poll: it starved for as long as the loop went on (RELIABILITY
/// finding 65). Its own mark, from its refusal in the poll before, now
/// lets it through whoever took the socket's pass. A poll still lets
/// through at most one operation per socket direction, plus one per
/// operation refused in an earlier poll and polled again in this one:
/// an operation recreated at each round of a loop starts with no mark of
/// its own, so 62's loop still yields whenever the budget runs out.
///
/// Going ahead on its own mark leaves the socket's alone: a later
/// operation in this poll (one recreated at each round of a `select`
/// loop, whose own mark is always new) may still take that pass.
#[cold]
#[inline(never)]
fn refuse_own(cx: &mut Context<'_>, refused: &Refused, own: &mut Refused) -> bool {
    let now = COOP.with(|c| c.poll.get());
    let own_at = std::mem::replace(own.0.get_mut(), now);
    if own_at != 0 && own_at != now {
        return false;
    }
    refuse(cx, refused)
}

/// The answer to an operation on an empty buffer (a read into nothing, a
/// write of nothing, a peek into nothing): `Ok(0)` at once, without a
/// syscall, but still one operation: it spends a unit, or with the budget
/// used up re-queues the task and returns `Pending`. Returning `Ok(0)`
/// without the budget let a loop of such calls run for ever without
/// yielding (RELIABILITY finding 59). Out of line and cold: only a caller
/// with nothing to move gets here, off every socket's hot path.
///
/// With the budget used up it goes ahead on its socket direction's mark
/// (`refused`) or its own (`own`, for a future of its own: a peek), as
/// every other operation does. With no pass (it once checked the budget
/// only), a read of nothing joined after a future that spends the whole
/// budget at every poll was refused at every poll and starved for as long
/// as that future went on (RELIABILITY finding 67).
#[cold]
#[inline(never)]
pub(crate) fn poll_nothing(
    cx: &mut Context<'_>,
    refused: &Refused,
    own: Option<&mut Refused>,
) -> Poll<std::io::Result<usize>> {
    poll_spending_if_ready(cx, refused, own, |_| Poll::Ready(Ok(0)))
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
        let left = current().budget.checked_sub(spent);
        assert!(
            left.is_some_and(|left| left > spent),
            "2^32 operations outside a runtime use up the budget"
        );
        reset(left.unwrap_or(0));
        let mut cx = Context::from_waker(std::task::Waker::noop());
        assert!(poll_nothing(&mut cx, &Refused::new(), None).is_ready());
        lift();
    }

    #[test]
    fn an_operation_refused_as_the_poll_count_wraps_still_goes_ahead_at_a_later_poll() {
        // The count wraps after 2^32 task polls on a thread: four and a
        // half minutes of the second soak review's loop racing always-ready
        // sockets and sleeps among 3,000 yielding tasks (it went on at the
        // same pace through the wrap). An operation refused in the poll
        // before the wrap, or in the wrap's, must still go ahead at its
        // task's next poll, or the one after when its mark is the count 0
        // (which reads as no mark, as `refuse` says), never starve.
        let mut cx = Context::from_waker(std::task::Waker::noop());
        for first in [u32::MAX - 1, u32::MAX, 0, 1] {
            // The next `reset` makes `first` the running poll.
            restore(Saved {
                budget: 0,
                poll: first.wrapping_sub(1),
            });
            let socket = Refused::new();
            let mut own = Refused::new();
            let mut sleep = Refused::new();
            let (mut read, mut wait, mut slept) = (None, None, None);
            for poll in 1..=4 {
                // Every poll finds the budget spent: a loop before these
                // operations in the task spends it.
                reset(0);
                let ready = |polled: Poll<()>| polled.is_ready().then_some(poll);
                if read.is_none() {
                    read = ready(poll_spending_if_ready(&mut cx, &socket, None, |_| {
                        Poll::Ready(())
                    }));
                }
                if wait.is_none() {
                    let idle = Refused::new();
                    wait = ready(poll_spending_if_ready(
                        &mut cx,
                        &idle,
                        Some(&mut own),
                        |_| Poll::Ready(()),
                    ));
                }
                if slept.is_none() {
                    slept = ready(poll_proceed_once_refused(&mut cx, &mut sleep));
                }
            }
            let most = if first == 0 { 3 } else { 2 };
            for (what, done) in [("read", read), ("wait", wait), ("sleep", slept)] {
                assert!(
                    done.is_some_and(|poll| poll <= most),
                    "a {what} first refused at poll count {first} completed at poll {done:?}, \
                     not by poll {most}"
                );
            }
        }
        lift();
    }
}

#[cfg(all(test, not(loom)))]
#[path = "coop_model_tests.rs"]
mod model_tests;
