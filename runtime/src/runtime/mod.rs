//! The runtime: its owner type, handle, builder, and the loop behind them.
//!
//! A [`Runtime`] owns a `Core` (`core.rs`: run queue, task slab, timers,
//! deferred wakers, the I/O driver) that only its thread touches, and
//! shares a `Shared` (`shared.rs`: remote queue, timer requests, driver
//! handle, metrics, blocking pool) with [`Handle`]s, wakers and pool
//! threads. `block_on` runs the loop: poll the main future when it was
//! woken, then a round (`Core::tick`) of queued tasks, then a driver turn.
//!
//! # The rules
//!
//! The finding numbers are those of `docs/RELIABILITY.md`, which tells the
//! bug behind each rule in full. The task's side (state word, join slot)
//! is in `task/mod.rs`, the budget's in `coop.rs`, the timers' in
//! `time/mod.rs`.
//!
//! 1. **One thread owns the core.** `Runtime` is neither `Send` nor
//!    `Sync`, so `Core`'s fields (`Cell`s and `RefCell`s behind `&Core`)
//!    are touched only on the thread that built it; other threads reach
//!    only `Shared`, which is `Sync`. Soundness rests on it: the core
//!    polls `!Send` futures (15).
//! 2. **No borrow of the core spans user code.** Every `RefCell` borrow
//!    ends before a waker is cloned, woken or dropped, and before a task
//!    runs (15, 20). What user code can still meet borrowed
//!    is reached with `try_borrow_mut` and has a way round: a wake that
//!    finds the run queue borrowed goes to the remote queue, a sleep that
//!    finds the timers borrowed queues a timer request (16, 28).
//! 3. **The context is a stack of guards.** `context::enter` points the
//!    thread-local `CURRENT` at the core for the length of `block_on` or
//!    of shutdown; its guard, a local of that frame, puts back what was
//!    there (nothing, or the runtime whose task drops this one). `enter`
//!    is `unsafe`: a forgotten guard leaves a dangling pointer (15).
//!    `block_on` inside any runtime panics before it changes anything
//!    (12). Leaving gives the outer task its cooperative budget back, or
//!    lifts it outside every runtime (12, 21; coop rules 8 and 9).
//! 4. **A wake goes local only on its runtime's running thread.** While
//!    this thread runs the task's runtime (`block_on` or shutdown), a wake
//!    pushes on the local run queue, with no lock; from anywhere else
//!    (another thread, another runtime's context on this thread, this
//!    thread between two `block_on` calls) it pushes on the remote queue.
//!    A push unparks the driver when it finds the queue empty, and the
//!    loop takes the whole queue under the same lock, so no wake is lost
//!    (4; loom, `remote_queue.rs`); the unpark carries the push to the
//!    turn it ends, which the kernel's wake alone does not (80). A closed queue refuses the push, and
//!    the task, cancelled already, is dropped where it was woken.
//! 5. **The main future's waker is a flag.** A wake sets `notified` (and
//!    unparks from another thread); the loop swaps it off before each
//!    poll, so a wake during the poll brings another (4).
//! 6. **A round polls at most `event_interval`, then the driver turns.**
//!    `tick` polls queued tasks in wake order until `polls_since_turn`
//!    reaches the interval; the main future's polls count toward it too,
//!    so a main future that keeps waking itself cannot hold the driver
//!    back (4), and the count saturates (38). A round whose interval the
//!    main future's poll used up still polls one task (`poll_one_task`),
//!    or an interval of 1 starved every task (9). Then remote tasks are
//!    adopted, and the driver turns unless work is waiting, no deferred
//!    wake (`yield_now`) is pending and the interval is not used up. The
//!    turn waits only when neither work nor a deferred wake is pending,
//!    and then until the next timer.
//! 7. **Every task poll is counted,** toward the interval and in
//!    [`Metrics::polls`](crate::Metrics::polls), once per round, even a
//!    round that a waker's panic ends (79).
//! 8. **A turn publishes, polls, fires, then wakes the deferred.** The
//!    timer count is published before the wait, so a reader elsewhere
//!    sees it while the runtime parks (26); after the poll, queued timer
//!    requests are applied before any timer fires (16, 70), then due
//!    timers fire, then the deferred wakers run. Each batch wakes every
//!    waker even if one panics, and resumes the first panic after (4,
//!    20).
//! 9. **`block_on` begins with the timer requests and ends with a
//!    round.** Requests queued between two calls are applied before the
//!    first poll (16). A future ready at its first poll still gives the
//!    rest one round, a `tick` that turns the driver without waiting,
//!    unless nothing is spawned or queued (35). The timer count is
//!    published as the call ends, returning or unwinding, after the
//!    future's drop (78).
//! 10. **A task runs on the runtime thread, one at a time, never
//!     re-entered.** Finished, it leaves the slab (counted in
//!     `tasks_alive`); the panic of a waker its completion woke is resumed
//!     once the slab and the counts are updated (14, 79).
//! 11. **Shutdown runs once, in order**, from `Runtime`'s drop, inside the
//!     context (`core/shutdown.rs`): spawns are refused from its start;
//!     every task's future is dropped on this thread until the slab stays
//!     empty; tasks other threads queued and the runtime never adopted are
//!     cancelled; the blocking pool closes, then the remote queue (75);
//!     timers' and deferred wakers are dropped one at a time with no
//!     borrow held (15, 20); the driver shuts down. A panic on the way is
//!     resumed after every step, and dropped if the thread is already
//!     unwinding (12).
//! 12. **Metrics have one writer.** The runtime thread writes every
//!     counter but `remote_wakes` with relaxed stores; `Handle::metrics`
//!     on that thread inside the runtime publishes the timer count first,
//!     so it is exact but for `polls` (added at the end of a round);
//!     elsewhere it reads the count as of the last turn's start or the
//!     last `block_on`'s end (26, 78).

mod builder;
mod config;
pub(crate) mod context;
mod core;
mod handle;
mod main_waker;
mod remote_queue;
#[allow(clippy::module_inception)]
mod runtime;
mod shared;

pub use builder::Builder;
pub(crate) use config::Config;
pub(crate) use core::Core;
pub use handle::Handle;
pub(crate) use main_waker::MainWaker;
pub(crate) use remote_queue::RemoteQueue;
pub use runtime::Runtime;
pub(crate) use shared::Shared;
