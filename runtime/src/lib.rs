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
//! * [`time`]: `sleep`, `timeout`, `interval`.
//! * [`Metrics`]: what the runtime is doing, from any thread.
//!
//! # Implementation
//!
//! Three crates, each a layer:
//!
//! * `eddy-registration` keeps one `ScheduledIo` per socket: a readiness
//!   word and the wakers of the tasks waiting on it, plus the set of all of
//!   them.
//! * `eddy-io-driver` is the reactor: one `turn` asks epoll (or kqueue)
//!   through `mio` which sockets are ready, finds each one's `ScheduledIo`
//!   from the event's token (the `ScheduledIo`'s address), records the
//!   readiness and wakes the waiters.
//! * this crate is the executor and everything users touch.
//!
//! The executor lives on one thread. Its [`Core`](runtime) holds a run
//! queue of ready tasks, a slab of every live task, the timers and the
//! driver. One *tick* of its loop polls up to `event_interval` ready tasks,
//! adopts tasks woken from other threads, and then turns the driver:
//! without blocking if work is left, or blocking until the next timer
//! deadline (or a socket event, or a cross-thread wake) if there is none.
//! After each turn it fires due timers and wakes tasks that yielded.
//!
//! A task is a single `Arc` holding its future; its waker *is* that `Arc`.
//! Waking on the runtime thread pushes the task on the local queue with no
//! lock; waking from another thread pushes it on a mutex-protected remote
//! queue and unparks the driver through `mio::Waker`. A state bit makes a
//! task queue at most once however often it is woken.
//!
//! A socket read goes: the task calls `read`; the socket asks its
//! `Registration` for read readiness; if the readiness word has none, the
//! task's waker is stored in the `ScheduledIo` and the read returns
//! `Pending`; the task's poll ends, and the runtime, out of ready tasks,
//! blocks in the driver; epoll reports the socket; the driver sets the
//! readiness bits and wakes the stored waker; the task is queued, polled
//! again, and this time the `read` syscall returns data.
//!
//! `docs/ARCHITECTURE.md` follows one connection through all of this, file
//! by file.

mod blocking;
mod coop;
pub mod io;
mod loom;
mod metrics;
pub mod net;
mod runtime;
#[cfg(unix)]
pub mod signal;
pub mod task;
pub mod time;
mod trace;

pub use metrics::Metrics;
pub use runtime::{Builder, Handle, Runtime};
pub use task::spawn;
#[cfg(feature = "macros")]
pub use eddy_macros::{main, test};

use std::future::Future;

/// Runs `future` on a new runtime with default settings and returns its
/// output: the one-line entry point for a program.
///
/// # Panics
///
/// Panics if the runtime cannot be created (the OS refused an epoll
/// instance: out of file descriptors) or when called inside a runtime.
pub fn run<F: Future>(future: F) -> F::Output {
    Runtime::new()
        .unwrap_or_else(|e| panic!("eddy::run: could not create the runtime: {e}"))
        .block_on(future)
}

/// Whether `error` means "the runtime this socket belonged to has shut
/// down", as opposed to an error from the OS or the peer. Library code can
/// use it to stop quietly instead of reporting a failure.
pub fn is_shutdown_error(error: &std::io::Error) -> bool {
    eddy_registration::is_shutdown_error(error)
}
