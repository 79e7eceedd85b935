//! Time: [`sleep`], [`timeout`], [`interval`] and the runtime's timer store.
//!
//! The API is tokio's `tokio::time`, minus the test clock: [`sleep`] /
//! [`sleep_until`] give a [`Sleep`] future, [`timeout`] / [`timeout_at`]
//! race a future against a deadline and fail with [`Elapsed`], and
//! [`interval`] / [`interval_at`] give an [`Interval`] whose
//! [`tick`](Interval::tick) completes once per period, with a
//! [`MissedTickBehavior`] for catching up. [`Instant`] and [`Duration`] are
//! the std types, re-exported.
//!
//! # How a timer flows
//!
//! ```text
//!  Sleep::poll (deadline not reached)
//!    |  first time: Timers::insert(deadline, waker) -> TimerKey, remembered
//!    |  together with the id of the runtime running this thread;
//!    |  later polls: Timers::update_waker(key, waker) (no clone if same task)
//!    v
//!  runtime loop: run queue empty -> park for next_deadline() - now
//!    |  (the driver turn returns early on I/O or a remote wake)
//!    v
//!  after every driver turn: Timers::drain_expired(Instant::now()), then wake
//!    |  pops every entry with deadline <= now, then wakes them in order
//!    v
//!  the task runs again -> Sleep::poll sees now >= deadline -> Ready(())
//!
//!  Drop of a pending Sleep -> Timers::cancel(key): the entry is freed.
//! ```
//!
//! # Implementation
//!
//! `Timers` (in `timers.rs`) is a `BTreeMap` keyed by
//! `TimerKey` = `(deadline, seq)`, the value being
//! the waker. The ordered key gives everything the runtime asks for in
//! O(log n): insert, cancel (a remove, which frees the slot), the next
//! deadline (the first key), and firing (pop the first key while it is due).
//! The sequence number makes keys unique and never reused, so a key whose
//! timer already fired names nothing: cancelling it, updating its waker or
//! rescheduling it is a harmless miss, never a hit on a newer timer. A
//! hierarchical wheel would make insert O(1), but costs a cascade on every
//! tick, rounds deadlines to slots, and holds its memory when idle; the
//! B-tree is exact, frees what it does not use, and a million entries cost
//! about 20 comparisons per operation.
//!
//! A [`Sleep`] is plain data: a deadline plus `Option<(runtime id, key)>`.
//! It registers lazily on its first pending poll, so building one never
//! needs a runtime, and completing one never does either (the clock is
//! checked first). Storing the runtime id is what lets a `Sleep` that moved
//! to another runtime (or outlived its own) re-register where it is polled
//! instead of updating a key that means nothing there and hanging. `Drop`
//! cancels only in the runtime that holds the entry, and never panics: an
//! entry elsewhere fires once, harmlessly, or dies with its runtime.
//!
//! [`Timeout`] is a struct of the inner future (pinned structurally, by hand)
//! and a `Sleep` (`Unpin`); it polls the future first so a ready result
//! always wins. [`Interval`] is a `Sleep` whose deadline is moved forward by
//! one period (or per [`MissedTickBehavior`]) each time it completes.
//!
//! # What the runtime context provides
//!
//! `crate::runtime::context` (the runtime core) gives this module three
//! functions:
//!
//! ```text
//! /// Runs `f` with this thread's runtime timers; panics with
//! /// "eddy::time used outside an eddy runtime: ..." when none runs here.
//! pub(crate) fn with_timers<R>(f: impl FnOnce(&mut Timers) -> R) -> R;
//! /// The id of the runtime running on this thread, unique per process.
//! pub(crate) fn current_runtime_id() -> Option<u64>;
//! /// Like `with_timers`, but `None` instead of a panic when no runtime runs
//! /// here, its timers are already borrowed or torn down (shutdown), or the
//! /// thread-local is being destroyed. Used from `Drop`, which must not panic.
//! pub(crate) fn try_with_timers<R>(f: impl FnOnce(&mut Timers) -> R) -> Option<R>;
//! ```

mod elapsed;
mod interval;
mod missed_tick_behavior;
mod sleep;
mod timeout;
pub(crate) mod timer_key;
pub(crate) mod timers;

pub use elapsed::Elapsed;
pub use interval::{Interval, interval, interval_at};
pub use missed_tick_behavior::MissedTickBehavior;
pub use sleep::{Sleep, sleep, sleep_until};
pub use std::time::{Duration, Instant};
pub use timeout::{Timeout, timeout, timeout_at};
