//! eddy's I/O driver: the reactor between the OS poller and the tasks that
//! wait for sockets.
//!
//! It turns epoll (Linux) and kqueue (macOS, BSDs) events, through mio's
//! portable API, into readiness bits on `ScheduledIo`s from the
//! `eddy-registration` crate, and wakes the tasks parked on them.
//!
//! # The rules
//!
//! The finding numbers are those of `docs/RELIABILITY.md`, which tells the
//! bug behind each rule in full; the readiness word's and the waiters'
//! rules are `eddy_registration`'s.
//!
//! 1. **A turn releases before it polls, and only then.** Nothing is
//!    released between a poll and the dispatch of its events, so every
//!    token of the batch still names a live `ScheduledIo`; after shutdown
//!    a turn refuses to poll at all.
//! 2. **After each poll, one `Acquire` read-modify-write before any token
//!    becomes a pointer** (`acquire_allocations`). It takes every
//!    allocation made on another thread (18; a load could read an older
//!    count, 19) and every deregistration, each of which ends with a
//!    `Release` read-modify-write of the same counter, so the turn after
//!    the sixteenth's unpark releases what woke it (72).
//! 3. **Every event of a poll is delivered, even if a waker panics**
//!    (`Dispatch`'s drop delivers the rest; edge-triggered polling never
//!    reports them again), and the first panic goes on.
//! 4. **A token is only ever the address of a `ScheduledIo` this driver
//!    allocated.** Registering runs the source's own `register`, so it is
//!    `unsafe` with mio's sources' behaviour as its contract (22); a
//!    refused registration takes its allocation back, unless shutdown
//!    already took it.
//! 5. **Deregistration: refuse another driver's resource, leave the OS
//!    poller, always queue, unpark at the sixteenth, shut the resource down
//!    last.** Another driver's resource is `NotFound` before anything is
//!    touched (17); an OS error does not skip the queueing; the shutdown
//!    wakes every waiter and empties the slots (27); a waker's panic there
//!    is swallowed while a panic unwinds (32).
//! 6. **An unpark is never lost to `EINTR`**: `Handle::unpark` writes
//!    again (54).
//! 7. **Shutdown: empty the set under its lock, wake outside it, drop the
//!    poller last.** Every registration's waiters are woken even if one
//!    panics; later turns and registrations fail with the shutdown error.
//! 8. **A wait no event can end is refused, not parked**: a direction the
//!    source was not registered for (34), `try_io` across both directions
//!    (33), an events buffer larger than one poll can fill (31).
//! 9. **A `Registration` dropped without `deregister` keeps its
//!    `ScheduledIo` until shutdown** (its source may still be open) but
//!    drops its wakers, so no waker-task-socket cycle outlives it.
//!
//! # How data flows
//!
//! In the life of one TCP connection this crate is the middle layer: the
//! runtime's socket types register here when they are created, wait here
//! for readiness before each `read` or `write`, and deregister here when
//! they are dropped; the runtime's loop calls [`Driver::turn`] whenever it
//! has no task left to run. (The repository's `docs/ARCHITECTURE.md`
//! follows one connection of the echo example through all three crates.)
//!
//! ```text
//!  socket type (eddy::net)             runtime thread
//!   | Registration::new                  | Driver::turn(timeout)
//!   v                                    v
//!  Handle::add_source ----------> mio::Registry / mio::Poll (epoll, kqueue)
//!   | allocate from the set              | events: (token, readiness)
//!   | register(fd, Token(address))       v
//!   v                            token -> &ScheduledIo: set_readiness, wake
//!  Registration::poll_read_into /                        |
//!   poll_io ------ poll_readiness ----> ScheduledIo <----'
//!   | on drop
//!   v
//!  Registration::deregister -> Handle::deregister_source:
//!   epoll_ctl(DEL), queue for release --> freed at the start of a later turn
//! ```
//!
//! * [`Driver`] is owned by the runtime thread. It holds the `mio::Poll`,
//!   a reused events buffer and a turn counter.
//! * [`Handle`] is cheap to clone, `Send + Sync`, and holds what sockets
//!   need: the mio registry, the registration set with its lock, and a
//!   `mio::Waker` to unpark the driver from other threads.
//! * [`Registration`] is what a socket type holds: its `ScheduledIo` and a
//!   `Handle`, with the poll helpers that retry on `WouldBlock`. Its
//!   `close_write` is the one readiness not from an event: the socket
//!   type's own write shutdown, which a Unix socket never reports.
//! * [`TurnStats`] tells the runtime what a turn did.
//!
//! # A turn, step by step
//!
//! 1. **Release.** If the registration set says deregistrations are pending
//!    (a lock-free counter check), lock it and release them: their list
//!    nodes are unlinked and the set's strong references dropped. This is
//!    the only point in a turn where a `ScheduledIo` can be freed.
//! 2. **Poll.** Block in `epoll_wait`/`kevent` for at most the timeout. A
//!    signal (`EINTR`) ends the turn with zero events; the runtime's loop
//!    turns again. Then one `Acquire` read-modify-write of the set's
//!    allocation counter, so that a `ScheduledIo` allocated on another
//!    thread is seen initialised before its token is used (the kernel
//!    orders `epoll_ctl` before `epoll_wait`, but Rust's memory model does
//!    not count that; a plain load could read an older count and
//!    synchronise with nothing).
//! 3. **Dispatch.** For each event: the waker's token only records that the
//!    driver was unparked. Any other token is turned back into the
//!    `&ScheduledIo` it was made from; its readiness is OR-ed in with
//!    `Tick::Set` (which bumps the readiness tick, see below) and the
//!    waiters interested in those bits are woken. A waker that panics does
//!    not cost the rest of the batch their wake-ups (edge-triggered polling
//!    would never report those events again): the `Dispatch` in
//!    `dispatch.rs` delivers them as the panic unwinds, and the panic goes
//!    on to the caller.
//! 4. **Report.** Return [`TurnStats`]: events dispatched, registrations
//!    released, whether the waker fired.
//!
//! # Why the token is an address
//!
//! The OS gives back, with each event, the 64-bit token it was registered
//! with. Using the `ScheduledIo`'s address as that token means dispatch is a
//! pointer cast: no slab, no hash map, no lock on the hot path, and no
//! generation counter to detect reuse. The price is a lifetime argument
//! instead of a lookup, and it is made in one place (the `SAFETY` comment in
//! `Dispatch::deliver`, `dispatch.rs`):
//!
//! * the registration set holds a strong reference to every `ScheduledIo`
//!   from allocation until `release`;
//! * a source is removed from the OS poller (`deregister_source`, or its fd
//!   closing) before its `ScheduledIo` is queued for release;
//! * `release` runs only at the start of a turn, before the poll, so no
//!   event returned by a poll can name something released since.
//!
//! Addresses are never 0, so `Token(0)` is reserved for the driver's
//! `mio::Waker`.
//!
//! # Implementation
//!
//! **Registration.** `add_source` allocates under the set's lock, releases
//! the lock, then makes the `epoll_ctl`/`kevent` call, so the system call
//! never runs with the lock held. If mio refuses the source, the allocation
//! is removed again under the lock, unless shutdown ran in between: then
//! the set has already handed the entry to `shutdown`'s vector and removing
//! it would unlink a node from a list that no longer holds it. It is
//! `unsafe` because it runs the source's own `register` with the driver's
//! registry, and every token that comes back is dereferenced: the source
//! must register only itself, under the token given, and leave nothing
//! registered when it fails, as mio's own sources do.
//!
//! **Deregistration and the unpark hand-off.** `deregister_source` refuses a
//! `ScheduledIo` another driver allocated (`NotFound`, before anything is
//! touched). For its own, it asks mio to forget the source, then always
//! queues the `ScheduledIo` for release, shuts it down (so a later wait on
//! it is an error, not a wait for an event that cannot come; the wake
//! empties its waker slots) and returns the OS result last; an early return
//! on an OS error (for an fd already closed, say) would leak the
//! `ScheduledIo` until shutdown. Releasing costs a lock, so the driver only
//! does it when the counter says work is pending, and the set asks to be
//! woken once `NOTIFY_AFTER` (16) deregistrations pile up: otherwise a
//! driver blocked for a long time would hold on to an unbounded amount of
//! memory for sockets that are long gone. The unpark goes through the
//! kernel, which orders nothing in Rust's memory model, so each
//! deregistration ends with a `Release` read-modify-write that the turn's
//! `acquire_allocations` takes: a driver woken by it sees the entries it
//! was woken for (finding 72); the loom tests in `synced_set.rs` check that
//! hand-off. [`Handle::unpark`] makes the same write before every wake, so
//! whatever a thread stored before unparking the driver is seen after the
//! turn that polled the unpark (finding 80: the runtime's remote queue).
//! `loom_kernel.rs`, under `--cfg loom` only, gives the models of the
//! crates above that unpark and poll with the kernel a `Relaxed` counter.
//!
//! **Ticks.** Readiness has a race: a task sees "readable", reads until
//! `WouldBlock`, and clears readiness, while a new event for fresh data
//! arrives between the read and the clear. Each `Tick::Set` bumps the
//! `ScheduledIo`'s tick and each `ReadyEvent` carries the tick it was
//! observed at; a clear with an older tick (`clear_would_block` here,
//! `clear_readiness` after a short read) is ignored, so the new readiness
//! survives and the task reads again.
//!
//! **Short reads.** [`Registration::poll_read_into`] clears read readiness
//! when a TCP read returns fewer bytes than asked for: the socket is
//! drained, and with edge-triggered polling the next data brings a new
//! event (eddy's Unix streams do without it: the kernel ends their reads
//! early at a message carrying descriptors). A TCP read also stops short
//! at the urgent mark of out-of-band data; while the source's readiness
//! word holds `PRIORITY` (reported on Linux to sources registered for it,
//! as eddy's TCP streams are), a short read keeps readiness until
//! `WouldBlock`. This saves the `read` that would only return `WouldBlock`, so an
//! echo round trip costs one `read`, one `write` and at most one
//! `epoll_wait` (see `SYSCALLS.md`). A zero-byte read is end-of-stream and
//! keeps its readiness. Writes go through [`Registration::poll_io`], which
//! clears write readiness only on `WouldBlock`: a socket whose send buffer
//! never fills keeps `WRITABLE` from its first event on, and its writes
//! never wait for the driver.
//!
//! **Shutdown.** [`Driver::shutdown`] (idempotent, also run on drop) takes
//! every registration out of the set under the lock, after releasing what
//! was pending, then, with the lock released, sets each one's shutdown bit
//! and wakes all its waiters (every one, even if a waker panics; the first
//! panic goes on afterwards, unless the driver shuts down while a panic
//! unwinds, from a `Drop`: a second one leaving `drop` would abort the
//! process, so it is dropped, as is one from a deregistration then); their
//! polls return
//! `eddy_registration::shutdown_error()`. The `mio::Poll` is the driver's
//! last field, so it is dropped only after all of that. Later turns return
//! the shutdown error without polling (events could otherwise name
//! `ScheduledIo`s the set no longer owns), and later `add_source` calls fail
//! with it. Handles stay valid: they own a clone of the registry and the
//! waker.
//!
//! **Dropping a registration.** Deregistering takes the source, and is
//! `unsafe`: given the wrong source, the real one would stay in the OS
//! poller after its `ScheduledIo` is released, and its next event would
//! name freed memory. A `Registration` dropped without `deregister` clears
//! its wakers (so a waker that owns the task that owns the socket cannot
//! keep itself alive through the driver) but stays registered until
//! shutdown, since its source may still be open; see [`Registration`].
//!
//! **Portability.** Only mio's portable API is used; priority interest maps
//! to `mio::Interest::PRIORITY` on Linux/Android and to readable elsewhere
//! (and under Miri, whose epoll refuses `EPOLLPRI`).

mod dispatch;
mod driver;
mod handle;
mod loom;
#[cfg(loom)]
#[doc(hidden)]
pub mod loom_kernel;
mod mio_interest;
mod ready_from_mio;
mod registration;
mod synced_set;
mod trace;
mod turn_stats;

pub use driver::Driver;
pub use handle::Handle;
pub use registration::Registration;
pub use turn_stats::TurnStats;
