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
//! # The rules
//!
//! The state: each runtime's `Core` owns one `Timers` store (below), on
//! its thread only, for its whole life; its `Shared` holds a queue of
//! `TimerRequest`s that any thread may push; a [`Sleep`] holds its
//! deadline, `Option<(runtime, key)>` naming its entry, and a coop mark.
//! The finding numbers are those of `docs/RELIABILITY.md`, which tells
//! the bug behind each rule in full.
//!
//! 1. **A key names one timer, for good.** A `TimerKey` is a slab index
//!    and a sequence number that the store never reuses (a reschedule
//!    takes a new one), so a key whose timer fired, was cancelled or
//!    moved is a harmless miss for `cancel`, `replace_waker` and
//!    `reschedule`, never a hit on a newer timer in the reused slot (16).
//! 2. **A key is used only in the runtime that issued it.** A `Sleep`
//!    keeps its key beside a `Weak` pointer to that runtime's `Shared`,
//!    and every use first asks whether that runtime runs here
//!    (`context::runs`; an address comparison, sound because the `Weak`
//!    keeps the address taken). Polled anywhere else, a sleep cancels its
//!    old entry (rule 3) and registers afresh where it is polled (16).
//! 3. **Only the runtime's own thread, inside `block_on` or its shutdown,
//!    touches the store; everywhere else queues a request.** A sleep
//!    dropped (or moved) elsewhere queues `Cancel`, one reset elsewhere
//!    queues `Wake` (the entry is taken out and its task woken, and the
//!    task's next poll registers the new deadline). Elsewhere includes
//!    this thread between two `block_on` calls, another runtime, and code
//!    run inside the store's own borrow: a global allocator, a panic hook
//!    (16, 28).
//! 4. **Every request unparks the runtime, which applies the whole queue
//!    before it fires anything**: after each driver turn with a timer
//!    pending, and as `block_on` starts, since a future ready at its first
//!    poll never reaches a turn (16, 70).
//! 5. **No foreign code runs inside the store's borrow.** A waker is
//!    cloned before `insert` or `replace_waker` takes it, and every waker
//!    the store hands back (replaced, cancelled, fired) is dropped or woken
//!    after the borrow ends: a waker's clone, drop or wake may poll, reset
//!    or drop a sleep (15). A global allocator and a panic hook cannot be
//!    kept out, hence `try_with_timers` and rule 3 (28).
//! 6. **Due timers are taken out first, then woken one at a time in a
//!    panic batch**, like the requests' waker drops: a waker that panics
//!    loses no other timer's wake or cancel, and the first panic goes on
//!    once every one is handled (4).
//! 7. **Never early, at most a millisecond late, in deadline-then-insertion
//!    order.** A deadline rounds up to a tick and the present down; the
//!    runtime parks no later than `Timers::next_deadline`, which is never
//!    after the earliest due instant; and a `Sleep` reads the clock itself
//!    before it completes, so an early wake only registers it again.
//! 8. **A completed `Sleep` holds no entry, a pending one at most one.**
//!    Completing cancels an entry the drain has not reached yet, and
//!    registering first cancels whatever is left of the old one.
//! 9. **Completing spends a unit of the coop budget**; refused, a `Sleep`
//!    keeps a mark and completes at its task's next poll, and a
//!    [`Timeout`] checks its deadline unbudgeted only if its inner future
//!    spent the poll's last unit (`coop.rs`, rules 5 and 6; 60, 68).
//! 10. **Shutdown frees every entry, one waker at a time.** Tasks are
//!     dropped first, inside the runtime, so their sleeps cancel at once;
//!     then the request queue closes (a later request is refused: the
//!     store goes with the runtime) and the store's last wakers are dropped
//!     each in the shutdown's panic batch (20). A `Sleep` that outlives its
//!     runtime holds only the `Weak`: dropped, it queues nothing; polled in
//!     another runtime, it registers there.
//! 11. **`timers_live` counts the store as it is whenever the runtime
//!     parks**: published at the start of every driver turn, again after
//!     each turn with a timer pending, and as `block_on` returns; a sleep
//!     dropped elsewhere while it parks ends the park (rule 4) (26, 70).
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
//! A [`Sleep`] is plain data: a deadline plus `Option<(runtime, key)>`
//! (rule 2). It registers lazily on its first pending poll, so building
//! one never needs a runtime, and completing one never does either (the
//! clock is checked first). `Drop` never panics. On the entry's own
//! runtime thread it cancels at once; anywhere else it queues the key
//! (rules 3 and 4). A sleep that moves cancels its old entry the same way,
//! and `reset` off the runtime (or inside the store's borrow) queues a
//! request that takes the entry out and wakes its task, whose next poll
//! waits for the new deadline.
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
