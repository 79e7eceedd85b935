//! Tasks: spawning, waking, joining.
//!
//! A task is one `Arc` allocation (`cell::TaskCell`) holding a small
//! `Header` (state word, slab key, owning runtime), the future, and the
//! `JoinSlot` its outcome is left in. The runtime keeps every live task in
//! a slab (so shutdown can find and drop them all) and queues `Arc`s of the
//! ready ones. A waker is that same `Arc`, built by `futures-task`, so waking
//! costs one state update and one queue push: no lookup, no extra allocation.
//!
//! # The rules
//!
//! The finding numbers are those of `docs/RELIABILITY.md`, which tells the
//! bug behind each rule in full. The loop's side is in `runtime/core.rs`
//! and `runtime/shared.rs`.
//!
//! 1. **The future belongs to its runtime's thread.** Only `Runnable::run`
//!    and `Runnable::cancel` touch it, on the thread that runs the task's
//!    runtime, one call at a time, never re-entered: `block_on` inside a
//!    runtime panics, and shutdown needs the `Runtime` by value (15). The
//!    one exception: a `Send` future that no runtime has seen is cancelled
//!    on the thread that built it (`Handle::spawn` refused by a closed
//!    runtime). Wakers, `abort` and the `JoinHandle`, on any thread, touch
//!    only the header and the join slot.
//! 2. **The runtime drops every future, in place, exactly once**: at
//!    completion, at abort, or at shutdown, before it lets go of the task.
//!    `None` is written even when the future's `Drop` panics, and that
//!    panic is the task's outcome (14). So the last `Arc`, released on any
//!    thread, drops `None`: sound for a `!Send` future.
//! 3. **The state word (`State`) orders every transition.** A wake sets
//!    `NOTIFIED` and queues the task only if it was clear and the task not
//!    complete, so a task sits in at most one queue entry. The runtime
//!    clears `NOTIFIED` just *before* polling, so a wake during the poll
//!    queues it again. A wake is always a read-modify-write, so one that
//!    finds `NOTIFIED` set synchronises with the run that clears it and
//!    that run's poll sees what the waker published (71).
//! 4. **`COMPLETE` is set once, before the outcome is stored, and never
//!    cleared**; wakes and aborts of a complete task do nothing, and a
//!    stale queue entry of one runs as `AlreadyComplete`, which removes no
//!    slab key (the key may be another task's by then).
//!    `JoinHandle::is_finished` therefore reads the slot, not the state
//!    word (6).
//! 5. **An abort is `CANCELLED`, then a wake.** The run reads `CANCELLED`
//!    in the same read-modify-write that clears `NOTIFIED`, and drops the
//!    future instead of polling it; an abort during a poll stops the task
//!    at its next run, unless that poll finishes it, and then the handle
//!    gets the output.
//! 6. **Exactly one outcome per task.** Only the caller that sets
//!    `COMPLETE` stores one, and the handle takes it once; a panic in
//!    `poll`, in the future's `Drop`, in the value's `Drop` or in a
//!    payload's `Drop` ends in that one outcome or goes quietly, never
//!    into the loop (14).
//! 7. **An output is dropped on the thread that completed the task or the
//!    one that dropped the handle**, never by whoever releases the last
//!    `Arc`: once the handle is gone an outcome is dropped as it arrives,
//!    and an unread one goes with the handle, quietly (12, 14).
//!    `JoinHandle<T>` is `Send` only when `T` is, and always `Unpin` (3).
//! 8. **No caller code runs under the join slot's mutex or a borrow of the
//!    core.** Wakers are cloned, woken and dropped outside them, so a
//!    waker that re-enters the runtime neither deadlocks nor panics
//!    "already borrowed" (15).
//! 9. **A wake goes to the local queue only on the thread running the
//!    task's runtime**; anywhere else, or if that queue is borrowed, to the
//!    remote queue, which unparks the runtime on its empty-to-non-empty
//!    edge. A closed runtime refuses it, and the `Arc` is dropped: its
//!    future is already gone (rule 2).
//! 10. **A finished task leaves the slab before any panic goes on.** The
//!     panic of the handle's waker comes back from the run, and the loop
//!     removes the task first, then re-raises it (6); at shutdown every
//!     task is still cancelled, and the panic is re-raised at the end
//!     unless the thread is already unwinding (12).
//! 11. **Shutdown refuses, then drops.** From its first step spawns on the
//!     runtime's thread are cancelled at once; it drops every slab task's
//!     future on that thread, inside the runtime, until the slab stays
//!     empty (a `Drop` may wake or spawn), and only then closes the remote
//!     queue and cancels what it held (`runtime/core/shutdown.rs`).
//! 12. **`yield_now` resumes the task after a driver turn**, not at once:
//!     a task yielding in a loop cannot starve sockets or timers.

mod cell;
mod header;
mod join_error;
mod join_handle;
mod join_slot;
#[cfg(all(test, loom))]
mod loom_tests;
mod runnable;
mod spawn;
mod state;
mod uninit_task;
mod yield_now;

pub(crate) use cell::TaskCell;
pub(crate) use header::Header;
pub use join_error::JoinError;
pub use join_handle::JoinHandle;
pub(crate) use join_handle::JoinTarget;
pub(crate) use join_slot::JoinSlot;
pub(crate) use runnable::{RunOutcome, Runnable};
pub use spawn::{spawn, spawn_blocking};
pub(crate) use state::State;
pub(crate) use uninit_task::UninitTask;
pub use yield_now::yield_now;
