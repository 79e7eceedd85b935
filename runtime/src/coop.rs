//! Cooperative scheduling: a per-poll budget of I/O operations.
//!
//! A task whose socket is always ready never sees `WouldBlock`, so left
//! alone it would loop inside one poll for ever and starve every other
//! task, timer and socket on its thread. The budget bounds the work of one
//! poll: each poll of a task (or of `block_on`'s future) may complete a
//! fixed number of operations ([`Builder::budget`], 128 by default) and
//! must then yield. Two tasks on always-ready sockets therefore take turns
//! instead of one running to completion.
//!
//! # The rules
//!
//! The finding numbers are those of `docs/RELIABILITY.md`, which tells the
//! bug behind each rule in full.
//!
//! 1. **A completed operation spends one unit; a waiting one spends
//!    nothing.** Every socket operation (a read, write, `accept`,
//!    `recv_from`, `readable`, `poll_read_ready`, ...), every `Sleep` and
//!    every signal listener's `recv` spends one unit when it completes,
//!    never before: a `Pending` that waits spends nothing (56, 57, 58, 66,
//!    74).
//! 2. **At zero, an operation yields.** With the budget spent, an
//!    operation wakes its task, which goes to the back of the run queue,
//!    and returns `Pending` without being tried, unless a mark lets it
//!    through (rules 3 to 5).
//! 3. **One pass per socket direction per poll.** The thread counts task
//!    polls ([`reset`] advances the count), and each socket direction
//!    keeps a *mark* ([`Refused`]): the count of the last poll in which an
//!    operation on it found the budget spent. With the budget spent, an
//!    operation whose direction's mark is from an *earlier* poll goes
//!    ahead without a unit; refused or let through, it sets the mark to
//!    the running poll, so the next one in this poll is refused (61, 62,
//!    63, 64). A mark carries its thread's tag: one that another thread's
//!    runtime made on a shared socket counts as the running poll's (69).
//! 4. **An operation future also keeps a mark of its own.** An operation
//!    that is a future of its own (what `IoSource::async_io` and
//!    `IoSource::ready` build: `accept`, `recv_from`, `send_to`, `peek`,
//!    `readable`, `writable`, ...) goes ahead if either its own mark or its
//!    direction's is from an earlier poll; on its own mark it leaves the
//!    direction's pass to another operation (65). A stateless `poll_*`
//!    call has only its direction's mark (see rule 10).
//! 5. **A `Sleep` spends a unit only once its deadline has passed**, and
//!    keeps a mark of its own: refused, it completes when polled again in
//!    a later poll, budget or not, without a unit (60). A signal listener
//!    does the same with a delivery it finds (`signal/unix/signal.rs`;
//!    74).
//! 6. **A [`Timeout`](crate::time::Timeout) checks its deadline
//!    unbudgeted only if its inner future spent the poll's last unit**;
//!    otherwise it spends as a `Sleep` does, with the `Sleep`'s mark (60,
//!    68; `time/timeout.rs`, through [`has_budget`]).
//! 7. **An operation on an empty buffer is an operation.** A read or peek
//!    into nothing answers `Ok(0)` at once, without a syscall, and a write
//!    of nothing answers `Ok(0)` instead of waiting for room; each spends a
//!    unit and follows rules 2 to 4 like any other; so do `read_exact`
//!    into nothing and `write_all` of nothing, which make that read or
//!    write (59, 67, 76).
//! 8. **A runtime entered inside a task's poll hands the budget back.**
//!    Entering saves the task's budget and poll count ([`current`]);
//!    leaving restores both ([`restore`]) (62).
//! 9. **Outside any runtime the budget is unlimited.** Leaving the
//!    outermost runtime lifts it to `u64::MAX` ([`lift`]): operations still
//!    spend it, but no thread lives long enough to use it up (21).
//! 10. **The bound.** A task poll completes at most the budget, plus one
//!     operation per socket direction whose mark was from an earlier poll,
//!     plus one per operation future, `Sleep` or signal listener that
//!     found the budget spent in an earlier poll and is polled again, plus
//!     one `Timeout`'s deadline; a loop still yields whenever the budget runs out, since
//!     a future rebuilt at each round starts with no mark (62, 65, 68).
//!     And an operation refused once goes ahead at the next poll of its
//!     task that finds the budget spent, with one exception: a stateless
//!     `poll_*` call behind another future of its task that takes its
//!     direction's pass first at every poll (65). [`Builder::budget`]
//!     documents this bound and the exception.
//!
//! [`Builder::budget`]: crate::Builder::budget

use std::cell::Cell;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::task::{Context, Poll};

thread_local! {
    /// This thread's budget and poll count, in one thread-local so that a
    /// task poll's reset finds both with one address.
    static COOP: Coop = const {
        Coop {
            budget: Cell::new(UNLIMITED),
            poll: Cell::new(1),
            tag: Cell::new(0),
        }
    };
}

/// A thread's cooperative-scheduling state.
struct Coop {
    /// Operations left in the current poll (rules 1 and 2). Outside a
    /// runtime nothing resets it, so it starts at [`UNLIMITED`].
    ///
    /// A `u64`, although a runtime's budget is a `u32`, because outside a
    /// runtime every operation still spends a unit and nothing gives it
    /// back (rule 9): a `u32` ran out after 2^32 operations, and every
    /// operation on that thread spun on `Pending` from then on (finding
    /// 21). 2^64 operations take centuries, and the decrement costs the
    /// same on a 64-bit target.
    budget: Cell<u64>,
    /// Which poll this thread runs: a count that [`reset`] advances, so a
    /// [`Refused`] mark tells a refusal made earlier in the running poll
    /// from one made in an earlier poll (rule 3). Wraps after 2^32 polls;
    /// see [`refuse`].
    poll: Cell<u32>,
    /// This thread's tag ([`tag_thread`]; 0 until a runtime first runs
    /// here), which every mark it makes carries beside the count, so that a
    /// mark another thread made never passes for one of this thread's
    /// (finding 69). Apart from `poll` so that [`reset`], once per task
    /// poll, still adds 1 to a `u32`: a 64-bit add of 2^32 is one
    /// instruction more.
    tag: Cell<u32>,
}

/// The budget outside any runtime: never spent in a thread's lifetime
/// (rule 9).
const UNLIMITED: u64 = u64::MAX;

/// The next thread's tag (`Coop::tag`).
static NEXT_TAG: AtomicU32 = AtomicU32::new(1);

/// Starts a task poll: a fresh budget, and a new poll count, so that every
/// [`Refused`] mark made so far is from an earlier poll (rules 2 and 3).
#[inline]
pub(crate) fn reset(budget: u64) {
    COOP.with(|c| {
        c.budget.set(budget);
        c.poll.set(c.poll.get().wrapping_add(1));
    });
}

/// Gives this thread its tag, the first time a runtime runs on it
/// (`context::enter`): the high half of every mark it makes (rule 3).
/// The tags come from a global counter; after 2^32 threads two may share
/// one, and marks between those two count as before finding 69.
#[cold]
pub(crate) fn tag_thread() {
    COOP.with(|c| {
        if c.tag.get() == 0 {
            let mut tag = NEXT_TAG.fetch_add(1, Ordering::Relaxed);
            if tag == 0 {
                tag = NEXT_TAG.fetch_add(1, Ordering::Relaxed);
            }
            c.tag.set(tag);
        }
    });
}

/// The running poll, as a mark holds it ([`Refused`]).
#[inline]
fn now() -> u64 {
    COOP.with(|c| (u64::from(c.tag.get()) << 32) | u64::from(c.poll.get()))
}

/// Whether a mark `at` is from an earlier poll of this thread than `now`,
/// the running one (rule 3): made by this thread (the same tag), and not
/// in the running poll. A mark another thread made (another tag) counts
/// as the running poll's: counted as earlier, two threads looping on one
/// shared socket each let one more operation through at every mark the
/// other had made in between, and a loop with a budget of 8 made hundreds
/// of operations in one poll (finding 69).
#[inline]
fn is_earlier(at: u64, now: u64) -> bool {
    at != 0 && at != now && at >> 32 == now >> 32
}

/// The budget left in the current poll and the poll count, saved by
/// `context::enter` for a runtime entered inside another's poll to give
/// back with [`restore`] when it leaves (rule 8).
pub(crate) fn current() -> Saved {
    Saved {
        budget: COOP.with(|c| c.budget.get()),
        poll: COOP.with(|c| c.poll.get()),
    }
}

/// Gives a task, back from a runtime entered inside its poll, the budget
/// and the poll count [`current`] saved (rule 8). The count too: left as
/// the inner runtime's polls advanced it, every mark made earlier in the
/// task's poll looked older, and a loop that dropped a runtime at each
/// round got a pass at each and never yielded (finding 62).
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

/// Lifts the budget when a runtime stops running on this thread (rule 9).
/// Without it, the budget the last poll left behind (perhaps zero) would
/// starve polls made later outside any runtime, which nothing resets.
pub(crate) fn lift() {
    COOP.with(|c| c.budget.set(UNLIMITED));
}

/// Whether the running poll has a unit of budget left: for `Timeout`, which
/// asks before and after polling its inner future to tell an inner future
/// that spent the last unit from a budget spent before it (rule 6).
#[inline]
pub(crate) fn has_budget() -> bool {
    COOP.with(|c| c.budget.get()) != 0
}

/// Every socket operation's budget check (rules 1 to 4): polls `op` and
/// spends a unit only if it is `Ready`. With the budget spent, it asks
/// [`refuse`] (given `refused`, the socket direction's mark) or, for an
/// operation future, [`refuse_own`] (given `own` too) whether to go
/// ahead; refused, it returns `Pending` without polling `op`, and let
/// through, it polls `op` without a unit to spend.
///
/// Spent only on `Ready` because a unit spent on a `Pending` ran a future
/// watching more idle sockets than the budget out of budget before it
/// reached a ready one, at every poll (findings 56 and 57), and one spent
/// before a wait let the operation complete later without a unit
/// (finding 66).
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

/// A mark (rules 3 to 5): the poll, as [`now`] gives it, of the last poll
/// in which an operation
/// on one socket in one direction, or one operation future, found the
/// budget spent (refused, or let through without a unit), or in which one
/// `Sleep` was refused; 0 if none. A `Sleep`'s mark goes back to 0 once it
/// completes.
///
/// Atomic because a socket is `Sync`: tasks on two threads (two runtimes)
/// may share one. A mark is only compared with the running thread's poll
/// and publishes nothing else, so `Relaxed` is enough. A mark another
/// thread wrote carries that thread's tag and counts as the running
/// poll's ([`is_earlier`]): it may refuse an operation once more, never
/// let one through, so rule 10's bound holds on every thread.
#[derive(Debug)]
pub(crate) struct Refused(AtomicU64);

impl Refused {
    /// No operation has found the budget spent.
    pub(crate) const fn new() -> Refused {
        Refused(AtomicU64::new(0))
    }
}

/// An expired `Sleep`'s budget check (rule 5; `Timeout`'s too when
/// budgeted, rule 6): `Ready` without a unit if `refused`, the sleep's own
/// mark, is from an earlier poll; otherwise it spends a unit, or with the
/// budget spent marks the running poll, wakes the task and returns
/// `Pending`. The mark is taken either way, so a completed sleep keeps
/// none. Without it, a sleep raced after a future that spends the whole
/// budget at every poll never fired (finding 60).
#[inline]
pub(crate) fn poll_proceed_once_refused(cx: &mut Context<'_>, refused: &mut Refused) -> Poll<()> {
    let at = std::mem::take(refused.0.get_mut());
    let now = now();
    if is_earlier(at, now) {
        return Poll::Ready(());
    }
    COOP.with(|c| match c.budget.get() {
        0 => {
            *refused.0.get_mut() = now;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
        left => {
            c.budget.set(left - 1);
            Poll::Ready(())
        }
    })
}

/// With the budget spent, whether to refuse an operation on the socket
/// direction `refused` marks (rule 3): no if the mark is from an earlier
/// poll (the operation goes ahead once, without a unit), otherwise yes,
/// after waking the task. Either way the mark now holds the running poll.
///
/// The pass keeps an operation joined after a future that spends the
/// whole budget at every poll from starving (finding 61). The mark is per
/// socket direction, not per task: a task's mark would let its other
/// futures through on one's refusal. Each subtle line prevents one bug:
/// - only a mark from an earlier poll counts: one from this poll let a
///   `select` loop over n always-ready sockets run 2^n operations between
///   two yields (finding 62);
/// - going ahead sets the mark instead of clearing it: cleared, another
///   task's operation on a shared socket used up the mark, and the joined
///   operation starved (finding 64);
/// - the count is a `u32`: as a `u16` it wrapped every 65,536 polls, and a
///   task polled once per wrap found its own mark looking current at every
///   poll and starved (finding 63).
///
/// When the count wraps, or a socket moves to another thread's runtime, a
/// stale mark may look current: the operation is then refused once more
/// and goes ahead at the next poll.
///
/// Out of line and cold: only a poll that ran out of budget gets here.
#[cold]
#[inline(never)]
fn refuse(cx: &mut Context<'_>, refused: &Refused) -> bool {
    let now = now();
    let at = refused.0.swap(now, Ordering::Relaxed);
    if is_earlier(at, now) {
        return false;
    }
    cx.waker().wake_by_ref();
    true
}

/// [`refuse`] for an operation future (rule 4), which keeps its own mark
/// in `own` besides its socket direction's in `refused`: it goes ahead if
/// either is from an earlier poll, and marks the running poll in `own`
/// either way (and in `refused` unless its own mark let it through).
///
/// With the direction's mark alone, the first operation to find the
/// budget spent takes the poll's one pass, and a send joined after a loop
/// of sends on the same socket starved (finding 65). Going ahead on its own
/// mark leaves the direction's alone, so a later operation in this poll (one
/// rebuilt at each round of a `select` loop, whose own mark is always new)
/// may still take that pass.
#[cold]
#[inline(never)]
fn refuse_own(cx: &mut Context<'_>, refused: &Refused, own: &mut Refused) -> bool {
    let now = now();
    let own_at = std::mem::replace(own.0.get_mut(), now);
    if is_earlier(own_at, now) {
        return false;
    }
    refuse(cx, refused)
}

/// The answer to a read or peek into an empty buffer (rule 7): `Ok(0)` at
/// once, without a syscall, but budgeted like any operation: it spends a
/// unit, or with the budget spent goes ahead on its direction's mark
/// (`refused`) or its own (`own`, for a peek, a future of its own), or
/// yields. (A write of nothing answers `Ok(0)` inside its own budgeted
/// write instead: see `IoSource::poll_write_stream`.) Unbudgeted, a loop
/// of them never yielded (finding 59); budgeted without a mark, one joined
/// after a future spending the whole budget starved (finding 67).
///
/// Out of line and cold: only a caller with nothing to move gets here, off
/// every socket's hot path.
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
        // task's next poll, never starve.
        let mut cx = Context::from_waker(std::task::Waker::noop());
        tag_thread();
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
            for (what, done) in [("read", read), ("wait", wait), ("sleep", slept)] {
                assert!(
                    done.is_some_and(|poll| poll <= 2),
                    "a {what} first refused at poll count {first} completed at poll {done:?}, \
                     not by poll 2"
                );
            }
        }
        lift();
    }
}

#[cfg(all(test, not(loom)))]
#[path = "coop_model_tests.rs"]
mod model_tests;
