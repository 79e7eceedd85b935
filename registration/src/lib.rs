//! The registration set and per-resource readiness behind eddy's I/O driver.
//!
//! Every socket, pipe or other I/O resource the runtime watches gets one
//! [`ScheduledIo`]: the readiness the driver last saw for it and the wakers
//! of the tasks waiting on it. The [`RegistrationSet`] (with its lock-held
//! half, [`Synced`]) owns all of them and decides when each may be freed.
//! The crate knows nothing about mio: the driver (`eddy-io-driver`) turns
//! mio events into [`Ready`] bits and hands them in.
//!
//! # The rules
//!
//! The finding numbers are those of `docs/RELIABILITY.md`, which tells the
//! bug behind each rule in full.
//!
//! 1. **One word decides a poll.** Each [`ScheduledIo`]'s readiness word
//!    holds its ready bits, a tick and a shutdown bit. Only
//!    [`ScheduledIo::set_readiness`] (a compare-and-swap loop) changes the
//!    bits and the tick; only [`ScheduledIo::shutdown`] sets the shutdown
//!    bit (`fetch_or`), and nothing clears it. A poll of a ready resource
//!    is one load.
//! 2. **Every event moves the tick; a clear names the tick it saw.** A
//!    driver event, and the owner's own write shutdown (`close_write`, from
//!    any thread; 13), are [`Tick::Set`]. A clear is [`Tick::Clear`] with
//!    the tick of the [`ReadyEvent`] it acted on, refused unless the whole
//!    stored tick still equals it (comparing 8 bits, as tokio once did,
//!    lets a clear 256 events stale erase fresh readiness).
//! 3. **A clear removes only what a syscall disproved.** After
//!    `WouldBlock` everything the event reported goes, closed bits too
//!    (a read-shut datagram socket spun on `READ_CLOSED`; 6); after a
//!    short read the closed bits stay, since no event brings them again.
//! 4. **A waiter stores its waker, then looks again, under the waiters
//!    lock; a wake sets readiness, then takes that lock.** So one of the
//!    two always sees the other (`poll_readiness`, [`Readiness`]). A wake
//!    never decides from a plain load that nobody waits: it always takes
//!    the lock (the shape of 71).
//! 5. **Wakers are taken out under the lock and woken, or dropped, after
//!    it.** A woken task may run inline, take the same lock or drop the
//!    resource; a waker's drop may re-enter (15). Only a waker's `clone`
//!    runs under the lock, as in tokio (15, left as is).
//! 6. **A wake takes only the linked waiters it chose when it began**
//!    (`WaiterState::chosen`), so tasks that wait again at once cannot
//!    make it loop (23). It works in batches of 32, lock released between.
//! 7. **A waiter node is linked exactly while its [`Readiness`] future is
//!    `Waiting` and not `notified`.** Only `wake` (which sets `notified`)
//!    and the future's drop unlink it, both under the lock, and its state
//!    is touched only under that lock.
//! 8. **Every matching waiter is woken, even if a waker panics.** The first
//!    panic goes on afterwards; one that would leave a `Drop` during an
//!    unwind is swallowed, payload and all ([`FirstPanic`],
//!    `WakeOnDrop`, [`catch_quietly`]; 4, 6, 14, 32).
//! 9. **Shutdown is final and empties the slots.** The shutdown bit, then
//!    a wake of everything: every waiter wakes to see it, every later
//!    poll returns at once, and no stored waker keeps its task alive
//!    (27).
//! 10. **A `ScheduledIo`'s address lives while an event can name it.** The
//!     set holds a strong reference from `allocate` until `release`;
//!     `deregister` only queues (after the owner left the OS poller), and
//!     the owner releases only at the start of a turn, before polling (see
//!     [`ptr_expose`]; 22). A resource or [`Synced`] of another set is
//!     refused (17).
//! 11. **The pending count is written under the lock and read without it
//!     as a hint.** `deregister` asks for an unpark exactly when the queue
//!     reaches [`NOTIFY_AFTER`]; the owner must give the driver a
//!     happens-before edge to that `deregister` (the unpark's system call
//!     gives none), or the release after it may read an older count and
//!     no later deregistration asks again (72).
//! 12. **After the set's shutdown nothing changes it.** `allocate` fails,
//!     `deregister` and `release` do nothing, and every entry went back to
//!     the owner to shut down.
//!
//! # How data flows
//!
//! In the life of one TCP connection this crate is the bottom layer: the
//! socket's `ScheduledIo` is allocated when the connection is accepted, its
//! readiness word is set by every driver event and read by every `read` and
//! `write`, and it is queued for release when the socket is dropped. (The
//! repository's `docs/ARCHITECTURE.md` follows one connection of the echo
//! example through all three crates, file by file.)
//!
//! ```text
//!  mio event (token) --driver--> ptr_expose::from_exposed(token) -> &ScheduledIo
//!      set_readiness(Tick::Set, |r| r | ready); wake(ready)
//!                                   |
//!                                   v
//!  task: poll_readiness / readiness(interest) -> ReadyEvent { tick, ready }
//!        try the I/O; on WouldBlock: clear_would_block(event); after a
//!        TCP short read: clear_readiness(event), which keeps the closed
//!        bits; the tick refuses either if an event came in meanwhile;
//!        then wait again
//! ```
//!
//! # The life of a registration
//!
//! 1. **Allocate.** `RegistrationSet::allocate` creates an
//!    `Arc<ScheduledIo>`, links it into the registration list (the list keeps
//!    one strong reference) and returns another to the caller, which
//!    registers the fd with mio under [`ScheduledIo::token`], the exposed
//!    address.
//! 2. **Registered.** Driver events find it by token; tasks wait on it.
//! 3. **Deregister.** When the resource is dropped its owner removes the fd
//!    from mio, then calls `RegistrationSet::deregister`, which only pushes
//!    a clone of its `Arc` onto the `pending_release` queue. Once
//!    [`NOTIFY_AFTER`] entries are queued it asks the caller to unpark the
//!    driver. eddy's driver then calls `ScheduledIo::shutdown` on it: no
//!    event can reach it any more, so a later wait must not wait.
//! 4. **Pending release.** The entry is still linked, so its address stays
//!    valid.
//! 5. **Released.** At the start of a later turn, before polling, the driver
//!    sees `needs_release()` and calls `release`, which unlinks every queued
//!    entry and drops the list's references; the memory is freed when the
//!    last `Arc` goes.
//! 6. **Or drained at shutdown.** `RegistrationSet::shutdown` marks the set
//!    shut down, forgets the queue, and hands every still-linked entry back
//!    to the driver, which calls `ScheduledIo::shutdown` on each so waiting
//!    tasks wake up and see `is_shutdown`. Later `allocate` calls fail with
//!    [`shutdown_error`]; later `deregister` calls do nothing.
//!
//! # Why release is deferred
//!
//! A single `mio::Poll::poll` returns a batch of events. While the driver
//! dispatches that batch, a socket may be dropped and deregistered (by
//! another thread, or by a woken task under an executor that polls on
//! wake); an event for the same token can still be waiting later in the
//! batch. If
//! `deregister` freed the `ScheduledIo` at once, the driver would then turn
//! that token into a reference to freed (or reused) memory. Deferring the
//! unlink to the *next* turn, after the fd left mio, guarantees no event can
//! name the address any more (see [`ptr_expose`]).
//!
//! # Implementation
//!
//! **Readiness word.** Everything a poll needs to decide lives in one
//! `AtomicUsize` in each `ScheduledIo`: the ready bits, a tick and a shutdown
//! bit (the table is in `scheduled_io.rs`). A poll of a ready resource is one
//! load; the driver updates it with a compare-and-swap loop. The tick counts
//! driver events for the resource (and the owner's own write shutdown,
//! which `Registration::close_write` records as an event from whatever
//! thread shuts down). A task that found readiness stale hands
//! back the `ReadyEvent` it acted on, and `clear_would_block` (or, after a
//! short read, `clear_readiness`) clears only if the tick is unchanged, so
//! an event that arrived between the task's snapshot and its clear is never
//! erased. The *whole* stored tick is compared (up to
//! 32 bits): tokio once compared 8 bits, so after 256 events a stale clear
//! matched again and erased fresh readiness, hanging the task. After a short
//! read `clear_readiness` keeps `READ_CLOSED` and `WRITE_CLOSED`, because no
//! later event would set them again and the next read must see the EOF;
//! after `WouldBlock`, `clear_would_block` clears them too, since the
//! syscall has just shown they promise nothing (a datagram socket with its
//! read side shut down reports read-closed while `recv` says `EAGAIN`).
//!
//! **Wakers.** Each `ScheduledIo` keeps, behind a mutex, one reader waker,
//! one writer waker (for `poll_readiness`, the common one-task-per-direction
//! case) and an intrusive list of [`Readiness`] futures (any number of tasks,
//! each with its own interest). Pollers store their waker under the lock and
//! then *re-check* readiness under the same lock; `wake` takes the lock after
//! setting readiness, so one of the two always sees the other and no wake-up
//! is lost. `wake` takes the matching wakers out, drops the lock, and only
//! then wakes them: a woken task may run inline, take the same lock, or drop
//! the resource. With no [`Readiness`] future linked (one task per socket,
//! the common case) that is at most the reader and the writer, woken
//! directly; otherwise wakers are collected in fixed batches of 32, and a
//! large waiter list is handled batch by batch, each wake taking only the
//! waiters it marked when it began (a woken task that waits again at once
//! is left for the next wake, or the batches would never end). A waker is
//! foreign code and may panic: every other matching waiter is still
//! woken, and the first panic goes on afterwards ([`FirstPanic`] for
//! batches, and a drop guard that wakes the writer if the reader's wake
//! unwinds). A panic with nowhere to go is swallowed by [`catch_quietly`],
//! payload and all.
//!
//! **Intrusive lists.** Both the registration list and the waiters lists
//! are intrusive lists (`linked_list.rs`) whose nodes embed their own
//! links, so linking never allocates and unlinking by address is O(1). The
//! registration list owns `Arc`s (turned into raw pointers while linked);
//! the waiters list holds plain addresses of nodes pinned inside futures,
//! which unlink themselves on drop.
//!
//! **Split state.** [`RegistrationSet`] holds the pending-release counter,
//! padded to its own cache line so the driver can check it every turn
//! without the lock, and the set's id, stamped on every `ScheduledIo` it
//! allocates so that a resource from another set is refused. [`Synced`]
//! holds the list, the queue and the shutdown flag; its owner keeps it in a
//! mutex and every mutating call takes `&mut Synced`.
//!
//! **Where things live.** `ready.rs` / `interest.rs`: the bit sets;
//! `direction.rs`, `tick.rs`, `ready_event.rs`: the small types around them.
//! `scheduled_io.rs`: the readiness word and `wake`; `readiness.rs`,
//! `waiter.rs`, `waiters.rs`, `wake_list.rs`: the waiting machinery;
//! `first_panic.rs`, `wake_on_drop.rs`: waking everyone despite a panic;
//! `quietly.rs`: panics with nowhere to go.
//! `registration_set.rs` / `synced.rs`: the registration lifecycle.
//! `linked_list.rs`: the intrusive list. `ptr_expose.rs`: address tokens.
//! `loom.rs`: the std/loom switch; `loom_model.rs`: the model helper the
//! loom tests of all three crates share. `error.rs`: [`ShutdownError`].
//!
//! **Loom.** All synchronisation primitives come from the `loom` shim module;
//! under `--cfg loom` they are loom's, and the `loom_tests` module explores
//! the races that matter: deregister against release, set against clear,
//! poll (and a `Readiness` future's poll and drop) against wake, shutdown
//! against poll.

mod direction;
pub mod error;
mod first_panic;
mod interest;
mod linked_list;
mod loom;
#[cfg(loom)]
#[doc(hidden)]
pub mod loom_model;
pub mod ptr_expose;
mod quietly;
mod readiness;
mod ready;
mod ready_event;
mod registration_set;
mod scheduled_io;
mod synced;
mod tick;
mod waiter;
mod waiters;
mod wake_list;
mod wake_on_drop;

#[cfg(all(test, loom))]
mod loom_tests;
#[cfg(all(test, not(loom)))]
mod tests;

pub use direction::Direction;
pub use error::{ShutdownError, is_shutdown_error, shutdown_error};
pub use first_panic::FirstPanic;
pub use interest::Interest;
pub use quietly::{catch_quietly, drop_quietly};
pub use readiness::Readiness;
pub use ready::Ready;
pub use ready_event::ReadyEvent;
pub use registration_set::{NOTIFY_AFTER, RegistrationSet};
pub use scheduled_io::ScheduledIo;
pub use synced::Synced;
pub use tick::Tick;
