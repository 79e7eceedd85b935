//! eddy: a small, fast, single-threaded async runtime you can read end to end.
//!
//! ```
//! eddy::run(async {
//!     let task = eddy::spawn(async { "hello from a task" });
//!     eddy::time::sleep(std::time::Duration::from_millis(1)).await;
//!     println!("{}", task.await.unwrap());
//! });
//! ```
//!
//! # What is in the box
//!
//! * [`Runtime`], [`Builder`], [`Handle`], [`run`]: start a runtime and reach it.
//! * [`spawn`] (no `Send` bound), [`task::spawn_blocking`], [`task::yield_now`],
//!   [`task::JoinHandle`].
//! * [`net`]: TCP, UDP, Unix sockets (each `AsFd`, for socket options eddy
//!   does not wrap), and [`net::lookup_host`] for names whose DNS lookup may
//!   be slow; [`io`]: `futures-io` traits, `copy`, and (Unix)
//!   `io::unix::AsyncFd`, readiness for any non-blocking descriptor.
//! * [`time`]: `sleep`, `timeout`, `interval`.
//! * `signal` (Unix): `ctrl_c` and any other signal as a stream.
//! * [`Metrics`]: what the runtime is doing, from any thread.
//!
//! Cargo features, both off by default: `macros` adds `#[eddy::main]` and
//! `#[eddy::test]`; `trace` emits a `tracing` journal of every driver turn,
//! event, wake, poll, registration and shutdown step (targets `eddy::*`).
//!
//! # How data flows
//!
//! This crate is the top of three. Below it, `eddy-io-driver` turns epoll
//! (or kqueue) events into readiness, and `eddy-registration` keeps that
//! readiness, one `ScheduledIo` per socket. Everything here runs on the
//! thread that called [`Runtime::block_on`] (or [`run`]):
//!
//! ```text
//!  Core::block_on(main future)
//!   loop {
//!     poll the main future, if its MainWaker fired; if that poll used up
//!       event_interval, poll one queued task too (Core::poll_one_task)
//!     Core::tick:
//!       poll up to event_interval tasks from the run queue
//!         a task reads a socket: IoSource -> Registration -> ScheduledIo
//!           ready:   the syscall runs
//!           not yet: the task's waker is stored in the ScheduledIo; Pending
//!       adopt the remote queue (tasks woken or spawned on other threads)
//!       Core::turn, unless work waits, no yield_now wake is deferred and
//!       fewer than event_interval polls ran since the last turn:
//!         Driver::turn(timeout): epoll_wait, then for each event
//!           ScheduledIo: set readiness, wake --> task pushed on the run queue
//!         fire due timers; wake what yield_now deferred
//!   }
//! ```
//!
//! One TCP read, end to end: the task calls `read`; the socket spends one
//! unit of the task's budget and asks its `Registration` for read
//! readiness; if the readiness word has none, the task's waker is stored in
//! the `ScheduledIo` and the read returns `Pending`; the task's poll ends,
//! and the runtime, out of ready tasks, blocks in the driver (until an
//! event, a cross-thread wake or the next timer deadline); epoll reports
//! the socket; the driver sets the readiness bits and wakes the stored
//! waker; the task is queued, polled again, and this time the `read`
//! syscall returns data. A read shorter than the buffer clears the
//! readiness at once, so the next read waits for the driver instead of
//! making a syscall that could only say `WouldBlock`.
//!
//! `docs/ARCHITECTURE.md`, at the root of the repository, follows one
//! connection of the echo example through all three crates, file by file
//! and function by function, down to the close and the shutdown.
//!
//! # Implementation
//!
//! **The loop.** The executor lives on one thread. Its `Core` (in the
//! private `runtime` module) holds a run queue of ready tasks, a slab of
//! every live task, the timers and the driver. One *tick* of its loop polls
//! up to `event_interval` (61 by default) ready tasks, adopts tasks woken
//! from other threads, and then turns the driver, unless work is left and
//! the interval is not used up (nor a `yield_now` wake deferred): without
//! blocking if work is left or a wake deferred, or blocking until the next
//! timer deadline (or a socket event, or a cross-thread wake) if there is
//! none. Turning at least every
//! `event_interval` polls (the main future's count too) is what keeps a busy
//! run queue from starving sockets and timers; a round whose interval the
//! main future's own poll used up still polls one task, so a main future
//! that keeps waking itself cannot starve the tasks either. Timers live in a
//! hierarchical wheel (6 levels of 64 slots, 1 ms resolution): insert and
//! cancel are O(1), and a timer never fires early.
//!
//! **Tasks and wakers.** A task is a single `Arc` holding its state word,
//! its future and its join slot; its waker *is* that `Arc`, so a wake
//! needs no lookup. Waking on the runtime thread pushes the task on the
//! local queue with no lock; waking from another thread pushes it on a
//! mutex-protected remote queue and unparks the driver through
//! `mio::Waker`, but only when that queue was empty, so a burst of remote
//! wakes costs one unpark and none is lost. A `NOTIFIED` bit makes a task
//! queue at most once however often it is woken; the runtime clears it
//! *before* polling, so a wake that arrives during the poll queues the task
//! again instead of being lost.
//!
//! **Fairness.** Each poll gets a budget (128 by default) of socket
//! operations (and completed sleeps); an operation attempted with the
//! budget spent re-queues the task and returns `Pending`, so a socket that
//! is always ready cannot monopolise the thread. The budget is a
//! thread-local, lifted when the thread leaves the runtime so that polls
//! made later outside it are not starved (or, for a runtime dropped inside
//! another runtime's task, handed back to that task as it was).
//!
//! **Sockets.** Every socket type wraps an `IoSource`: the non-blocking mio
//! socket plus its `Registration` with the driver. TCP listeners bind with a
//! backlog of 1024 (a connect burst overflows std's 128), and `accept`
//! pauses briefly after running out of descriptors instead of spinning on a
//! listener that stays readable. Dropping a socket removes it from epoll
//! *before* closing the fd (a duplicated fd would otherwise keep reporting
//! events for freed state) and queues its registration; the driver frees it
//! at the start of a later turn. A TCP stream known to linger (`SO_LINGER`
//! set through `set_linger`, or found by `from_std` or on its listener),
//! whose `close` would wait on the runtime's thread for the peer, has
//! lingering turned off as it is dropped: the kernel still sends what is
//! unsent, after `close` has returned.
//!
//! **Signals** (Unix). The handler only raises its signal's delivery
//! counter and writes a byte to one pipe per process. Each runtime with
//! listeners registers one copy of the pipe's read end, whose waker wakes
//! all of that runtime's listeners; each compares its signal's counter with
//! the count it last reported, and whoever drains bytes from the pipe wakes
//! every runtime's listeners, since the drain may have taken another
//! runtime's edge. The `signal` module draws the path.
//!
//! **Shutdown** drains before it tears down: dropping the [`Runtime`]
//! refuses new spawns, drops every task's future on this thread (so their
//! sockets deregister and their timers cancel), drains the remote queue,
//! shuts the driver down (every registration gets its shutdown bit and its
//! waiters are woken), and only then drops the `mio::Poll`. Sockets that
//! escaped the runtime fail from then on with an error that
//! [`is_shutdown_error`] recognises.

mod blocking;
mod coop;
pub mod io;
mod loom;
mod metrics;
pub mod net;
mod runtime;
#[cfg(unix)]
pub mod signal;
mod sys;
pub mod task;
#[cfg(test)]
mod test_rng;
pub mod time;
mod trace;

#[cfg(feature = "macros")]
pub use eddy_macros::{main, test};
pub use metrics::Metrics;
pub use runtime::{Builder, Handle, Runtime};
pub use task::spawn;

use std::future::Future;

/// Runs `future` on a new runtime with default settings and returns its
/// output: the one-line entry point for a program.
///
/// # Panics
///
/// Panics if the runtime cannot be created (the OS refused an epoll
/// instance: out of file descriptors) or when called inside a runtime.
///
/// ```
/// use std::time::Duration;
///
/// fn main() -> std::io::Result<()> {
///     let answer = eddy::run(async {
///         let task = eddy::spawn(async { 6 * 7 });
///         eddy::time::sleep(Duration::from_millis(1)).await;
///         Ok::<_, std::io::Error>(task.await.unwrap())
///     })?;
///     assert_eq!(answer, 42);
///     Ok(())
/// }
/// ```
pub fn run<F: Future>(future: F) -> F::Output {
    Runtime::new()
        .unwrap_or_else(|e| panic!("eddy::run: could not create the runtime: {e}"))
        .block_on(future)
}

/// Whether `error` means "the runtime this socket belonged to has shut
/// down", as opposed to an error from the OS or the peer. Library code can
/// use it to stop quietly instead of reporting a failure.
///
/// ```
/// let rt = eddy::Runtime::new()?;
/// let socket = rt.block_on(eddy::net::UdpSocket::bind("127.0.0.1:0"))?;
/// let addr = socket.local_addr()?;
/// drop(rt); // the socket outlives its runtime
///
/// let other = eddy::Runtime::new()?;
/// let error = other.block_on(socket.send_to(b"ping", addr)).unwrap_err();
/// assert!(eddy::is_shutdown_error(&error));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn is_shutdown_error(error: &std::io::Error) -> bool {
    eddy_registration::is_shutdown_error(error)
}
