//! Time: [`sleep`](fn@sleep), [`timeout`](fn@timeout), [`interval`](fn@interval)
//! and the runtime's timer store.
//!
//! The API is tokio's `tokio::time`, minus the test clock: [`sleep`](fn@sleep) /
//! [`sleep_until`] give a [`Sleep`] future, [`timeout`](fn@timeout) / [`timeout_at`]
//! race a future against a deadline and fail with [`Elapsed`], and
//! [`interval`](fn@interval) / [`interval_at`] give an [`Interval`] whose
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
//!    |  later polls: Timers::wakes_same_task(key, waker), and only if not,
//!    |  Timers::replace_waker(key, waker.clone())
//!    v
//!  runtime loop: run queue empty -> park for next_deadline() - now
//!    |  (the driver turn returns early on I/O or a remote wake)
//!    v
//!  after every driver turn: Timers::needs_drain(now), a comparison; only
//!    |  if so drain_expired(now): takes every entry due by now's
//!    |  millisecond, then the runtime wakes them in order
//!    v
//!  the task runs again -> Sleep::poll sees now >= deadline -> Ready(())
//!
//!  Drop of a pending Sleep -> Timers::cancel(key): the entry is freed.
//! ```
//!
//! # Implementation
//!
//! `Timers` (in `timers.rs`) is a hierarchical timing wheel counting
//! milliseconds ("ticks") from the runtime's start. Entries live in a
//! `Slab`; a `TimerKey` is `(slab index, seq)`, where `seq` is an insertion
//! counter never reused, so a key whose timer already fired or was
//! cancelled names nothing: cancelling it, updating its waker or
//! rescheduling it is a harmless miss, never a hit on a newer timer that
//! reused the slot. Every lookup is one slab index.
//!
//! The wheel (`wheel/slots.rs`) has six levels of 64 slots; level `L`
//! resolves tick bits `6L..6L+6`, so it spans `64^(L+1)` ms and the whole
//! wheel about 2.2 years; later deadlines wait in an overflow list that is
//! sorted into the wheel when the next 2.2-year epoch begins. Each slot is
//! a doubly linked list threaded through slab indices (`wheel/list.rs`: no
//! pointers, no `unsafe`), and a `u64` per level marks the busy slots.
//! A deadline rounds *up* to a tick (`Timers` keeps the last tick it worked
//! out, so deadlines within that same millisecond cost two `Instant`
//! comparisons instead of a subtraction) and goes to the highest level
//! where its tick differs from the wheel's elapsed tick; insert, cancel, reschedule
//! and waker updates are O(1). `next_deadline` is the first busy slot of the
//! lowest busy level (six `trailing_zeros` at most): for level 0 that is
//! when its timers are due, above it is when the slot must move down, an
//! early wake-up that fires nothing; its instant is kept until the slot
//! lists or the elapsed tick change, so the runtime's two questions a turn
//! (before parking, and `needs_drain` after) scan the levels at most once.
//! A reschedule to a later deadline leaves the entry where it is, without
//! even computing its new tick: its slot comes up early for it, and the
//! drain works the tick out then and places it again instead of firing
//! it. `drain_expired(now)` walks busy slots
//! up to `now`'s tick (rounded *down*): a level-0 slot fires whole, sorted
//! by `(deadline, seq)` so order stays exact within a millisecond (a
//! linear counting sort for big slots, `wheel/due_order.rs`); a
//! higher slot cascades, each entry landing on a lower level. So a timer
//! fires at most one millisecond after its deadline, never before it, in
//! deadline-then-insertion order. Deadlines already past go to the current
//! slot and fire at the next drain.
//!
//! Why not the B-tree eddy used first: its O(log n) insert was most of the
//! cost of a sleep (about 800 instructions of 1,900); the wheel's is a few
//! dozen. What the wheel costs in exchange: one millisecond of resolution
//! (the driver's park timeout is in milliseconds anyway), a wake-up per
//! cascade for a timer set far ahead, and a slab that cannot shrink while
//! keys point into it: it is freed when the last timer goes, so a burst of
//! a million timers holds its memory only while some timer is pending. A
//! randomized test (`wheel/model_test.rs`) drives the wheel and a plain
//! ordered map with the same operations and checks they agree.
//!
//! A [`Sleep`] is plain data: a deadline plus `Option<(runtime, key)>`,
//! where `runtime` is a `Weak` pointer to the shared state of the runtime
//! holding the entry. It registers lazily on its first pending poll, so
//! building one never needs a runtime, and completing one never does either
//! (the clock is checked first). Knowing its runtime is what lets a `Sleep`
//! that moved to another runtime (or outlived its own) re-register where it
//! is polled instead of updating a key that means nothing there and
//! hanging. `Drop` never panics. On the entry's own runtime thread it
//! cancels at once; anywhere else (another thread, another runtime, this
//! thread outside `block_on`) it queues the key on the runtime's shared
//! state, and the runtime cancels it at its next turn (or as `block_on`
//! starts, whichever comes first), before firing anything. A sleep that
//! moves cancels its old entry the same way, and `reset` off the runtime
//! (or inside the runtime's borrow of its timers, from a global allocator
//! or a panic hook) queues a request that takes the entry out and wakes its
//! task (unparking the runtime), whose next poll waits for the new
//! deadline. Before that queue, such entries stayed until their deadline:
//! a leak, for a sleep of an hour dropped by an embedding program between
//! `block_on`s, and a reset to an earlier deadline from another thread
//! still woke the task at the old one.
//!
//! [`Timeout`] is a struct of the inner future (pinned structurally, by hand)
//! and a `Sleep` (`Unpin`); it polls the future first so a ready result
//! always wins. [`Interval`] is a `Sleep` whose deadline is moved forward by
//! one period (or per [`MissedTickBehavior`]) each time it completes.
//!
//! # What the runtime context provides
//!
//! `crate::runtime::context` (the runtime core) gives this module five
//! functions:
//!
//! ```text
//! /// Runs `f` with this thread's runtime timers; panics with
//! /// "eddy::time used outside an eddy runtime: ..." when none runs here.
//! pub(crate) fn with_timers<R>(f: impl FnOnce(&mut Timers) -> R) -> R;
//! /// A weak pointer to the runtime running here, stored beside a key.
//! pub(crate) fn current_runtime() -> Option<Weak<Shared>>;
//! /// Cancels `key` if `runtime` runs here and its timers are free.
//! pub(crate) fn cancel_timer_here(runtime: &Weak<Shared>, key: TimerKey) -> Option<Option<Waker>>;
//! /// Whether the runtime `runtime` points to is the one running here.
//! pub(crate) fn runs(runtime: &Weak<Shared>) -> bool;
//! /// Like `with_timers`, but `None` instead of a panic when no runtime runs
//! /// here, its timers are already borrowed, or the thread-local is being
//! /// destroyed. Used by `Sleep::reset`, which must not panic (`Drop` goes
//! /// through `cancel_timer_here`).
//! pub(crate) fn try_with_timers<R>(f: impl FnOnce(&mut Timers) -> R) -> Option<R>;
//! ```
//!
//! and `Shared::queue_timer_request(request)`, which queues a
//! `TimerRequest` (`timer_request.rs`) from anywhere for the runtime's next
//! turn.

mod elapsed;
mod interval;
mod missed_tick_behavior;
mod sleep;
mod timeout;
pub(crate) mod timer_key;
pub(crate) mod timer_request;
pub(crate) mod timers;
mod wheel;

pub use elapsed::Elapsed;
pub use interval::{Interval, interval, interval_at};
pub use missed_tick_behavior::MissedTickBehavior;
pub use sleep::{Sleep, sleep, sleep_until};
pub use std::time::{Duration, Instant};
pub use timeout::{Timeout, timeout, timeout_at};
