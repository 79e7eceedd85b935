//! Signals: [`ctrl_c`](fn@ctrl_c) and, for any signal, the [`unix::signal`] stream.
//!
//! The API is tokio's `tokio::signal`: [`ctrl_c`](fn@ctrl_c) completes on the next
//! SIGINT after it is first polled; [`unix::signal`] returns a
//! [`Signal`](unix::Signal) whose [`recv`](unix::Signal::recv) completes once
//! per burst of deliveries of one [`SignalKind`](unix::SignalKind).
//!
//! # How a delivery flows
//!
//! ```text
//!  kill(pid, SIGUSR1)
//!    |  the kernel interrupts some thread and runs signal-hook-registry's
//!    |  handler, which calls ours: pipe::deliver(SIGUSR1)
//!    v
//!  deliver: DELIVERIES[SIGUSR1] += 1, then write(one byte) to the
//!    |  process's signal pipe (non-blocking; a full pipe is fine)
//!    v
//!  every runtime with listeners has registered its own copy of the
//!    |  pipe's read end (a dup), so each runtime's epoll reports the byte
//!    v
//!  driver turn: the copy's reader slot holds the runtime's `Listeners`,
//!    |  a waker that wakes every listener of that runtime
//!    v
//!  Signal::poll_recv: the SIGUSR1 count differs from the one it last
//!    saw -> Ready(Some(())); otherwise drain the pipe (and, if that took
//!    bytes, wake every runtime's listeners) and wait again
//! ```
//!
//! # The state
//!
//! ```text
//!  process  DELIVERIES[signum]  counter per signal number (pipe.rs)
//!           WRITE_FD, READ_END  the one pipe: the handler's write end,
//!                               and the read end each hub duplicates
//!           INSTALLED           which numbers have our handler (install.rs)
//!           HUBS                every live hub's Listeners (every_hub.rs)
//!  runtime  HubSlot             Weak<Hub> in its Core (hub_slot.rs)
//!  hub      Hub                 a copy of the read end registered with the
//!                               runtime's driver, and its Listeners: one
//!                               waker slot per listener (hub.rs)
//!  listener Signal              signum, the count it last reported, its
//!                               hub and slot, `ended`, a coop mark
//! ```
//!
//! # The rules
//!
//! The finding numbers are those of `docs/RELIABILITY.md`, which tells the
//! bug behind each rule in full.
//!
//! 1. **The handler counts, then writes one byte, and does nothing
//!    else.** Atomics and one non-blocking `write(2)`: no lock,
//!    allocation or panic, and `errno` is left as it was (25). The count
//!    comes first, so whoever the byte wakes finds it raised; a full pipe
//!    is ignored, for it already holds a byte whose edge is pending.
//!    "First" in Rust's memory model too, which does not count the
//!    kernel's `write(2)` and `read(2)` as synchronisation: a `Release`
//!    fence between the count and the write, and an `Acquire` fence after
//!    a drain that took bytes, before any counter is read again; a plain
//!    load after the drain could read the old count and return `Pending`
//!    with the pipe empty (81; the second loom model in
//!    `listeners_loom_tests.rs`).
//! 2. **The counter is the news, the byte only a wake-up.** A listener
//!    compares its signal's counter with the count it last reported, so
//!    listeners never take deliveries from each other, a listener costs
//!    no descriptor, and deliveries between two polls coalesce into one
//!    `recv`, as the kernel's pending signals do (8).
//! 3. **The write end is published once, last, and never closed.** A
//!    handler on another thread may have loaded its number just before a
//!    close and would write into whatever file reused it; a pipe that
//!    lives as long as the process needs no wait for handlers in flight
//!    (7, 8).
//! 4. **A runtime has at most one hub, and only its thread touches its
//!    `HubSlot`**, with no foreign code under the `RefCell` borrow (10).
//!    The hub lives while a listener holds it, on any thread; the last
//!    listener's drop takes it out of `HUBS`, then deregisters its copy
//!    from the driver before the copy closes (every copy shares the read
//!    end's open file description, which `READ_END` keeps open, so a copy
//!    closed without `EPOLL_CTL_DEL` would stay in epoll under a freed
//!    token). The next listener makes a new hub; a new registration of a
//!    readable pipe gets an edge at once (10).
//! 5. **One waker in the pipe's reader slot wakes every listener of the
//!    runtime** (`Listeners`): the slot holds one waker, so a second
//!    listener would have replaced the first's. Wakers are taken under
//!    its lock and woken, and dropped, after it; one that panics costs
//!    the others nothing, and its panic goes on after all are woken (8,
//!    10).
//! 6. **A listener parks its waker before it reads its counter.** A drain
//!    on another thread then either finds the waker or happened early
//!    enough for the read to see the new count (10; the loom model in
//!    `listeners_loom_tests.rs`).
//! 7. **Whoever reads bytes out of the pipe wakes every listener of every
//!    runtime** (`every_hub::wake_all`), since epoll reports an edge only
//!    if the pipe is still readable when `epoll_wait` collects it: a byte
//!    drained first by another runtime, or by a listener polled off its
//!    runtime's thread, never reaches the busy runtime's epoll. A drain
//!    that read no byte wakes nobody, and a panic of a woken waker stops
//!    there instead of failing the drainer's task (10).
//! 8. **The readiness is cleared only after a read found the pipe empty,
//!    and with the tick of the event that was drained**: a byte written
//!    after that read is a new edge, and an edge the driver reported in
//!    between has a newer tick, which the clear leaves alone.
//! 9. **A listener returns `Pending` only with the hub's waker in the
//!    reader slot** (`poll_drain` returned `Pending`), so the next byte's
//!    edge, another runtime's drain, or the runtime's shutdown wakes it.
//! 10. **Shutdown ends the stream for good.** The drain's error (the
//!     driver shut down) sets `ended`, and a delivery counted later does
//!     not revive it; `ctrl_c` turns that end into the shutdown error.
//! 11. **A delivery spends a unit of cooperative budget.** With the budget
//!     spent the task yields and the delivery stays for its next poll,
//!     which takes it budget or not, as an expired `Sleep` does
//!     (`crate::coop`, rule 5) (74).
//! 12. **The handler is installed last, once per signal number, and for
//!     good.** A `signal()` that fails leaves the disposition as it was
//!     (7); each number is registered once, since every registration adds
//!     an action to run per delivery; SIGKILL, SIGSTOP and the fault
//!     signals (SIGILL, SIGFPE, SIGSEGV, SIGBUS) are refused. From then on
//!     the default action (for SIGINT, ending the process) no longer runs,
//!     even with no listener left, as in tokio.
//! 13. **No lock here is taken by the handler, and none runs foreign code
//!     except `Listeners::park`'s clone of a waker** (left as it is, as
//!     `ScheduledIo` does, 15), so a poisoned lock still guards good data.
//!
//! # Costs
//!
//! One pipe for all signals: every delivery of any signal wakes every
//! listener of every runtime once (twice when its runtime's driver
//! reported the byte and another runtime's drain then wakes it again), and
//! those whose signal did not come wait again; tokio wakes only the
//! signal's own listeners. With a `ctrl_c()` in each of 10,000 connections
//! and a signal that comes often (SIGCHLD from many children), that is
//! 10,000 polls per delivery. Waking only the listeners whose counter
//! moved was tried and undone: they return without draining, so nobody
//! drained the pipe; once it was full no runtime saw an edge, and the next
//! Ctrl-C was lost.

mod ctrl_c;
mod every_hub;
mod hub;
mod hub_slot;
mod install;
mod listeners;
mod pipe;
pub mod unix;

pub use ctrl_c::ctrl_c;
pub(crate) use hub_slot::HubSlot;
