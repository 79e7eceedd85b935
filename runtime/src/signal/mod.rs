//! Signals: [`ctrl_c`] and, for any signal, the [`unix::signal`] stream.
//!
//! The API is tokio's `tokio::signal`: [`ctrl_c`] completes on the next
//! SIGINT after it is first polled; [`unix::signal`] returns a
//! [`Signal`](unix::Signal) whose [`recv`](unix::Signal::recv) completes once
//! per burst of deliveries of one [`SignalKind`](unix::SignalKind).
//!
//! # How a delivery flows
//!
//! ```text
//!  kill(pid, SIGUSR1)
//!    |  the kernel interrupts some thread and runs signal-hook-registry's
//!    |  handler, which calls ours: slots::deliver(SIGUSR1)
//!    v
//!  deliver: for every occupied slot of SIGUSR1, write(fd, 1 byte)
//!    |  (non-blocking; a full pipe already means "wake up")
//!    v
//!  each listener's own pipe becomes readable; its read end is registered
//!    |  with the driver of the runtime that created the listener
//!    v
//!  driver turn: epoll reports the pipe, the driver wakes the task in recv
//!    |
//!    v
//!  Signal::poll_recv drains the pipe -> Ready(Some(()))
//! ```
//!
//! # Implementation
//!
//! A signal handler may only do async-signal-safe work: atomic loads and
//! stores and `write(2)`; no locks, no allocation. So everything the
//! handler needs is in a static table (`slots.rs`) of raw write-ends, 64
//! per signal number, each an `AtomicI32` that is `-1` when free. Every
//! listener owns a fresh non-blocking pipe: it publishes the write end in a
//! free slot of its signal and registers the read end with its runtime's
//! driver. One pipe per listener means no listener can steal another's
//! delivery, listeners on different runtimes never share a driver, and
//! there is no global pipe whose readiness several runtimes would race to
//! drain.
//!
//! Closing a pipe while a handler on another thread is about to write to it
//! would let the handler write into whatever file next reuses that fd
//! number. A listener's drop therefore empties its slot first and then
//! waits out the handlers that may have read it (`reader_gate.rs`) before
//! it closes anything. Handlers count themselves in one of two
//! generations; the drop flips the generation and waits only for the old
//! one to drain, so handlers that start later (steady signal traffic) do
//! not hold the drop up.
//!
//! The process-level handler for a signal number is installed through
//! `signal-hook-registry` the first time anyone listens for it
//! (`install.rs`) and stays installed for the life of the process, like
//! tokio's: from then on the signal's default action (for SIGINT,
//! terminating the process) no longer runs, even when no listener is left.
//! Deliveries that arrive while a signal has no listener are dropped.
//!
//! Several deliveries between two polls coalesce into one `recv`: the kernel
//! coalesces pending signals anyway, so counting them would promise more
//! than the OS does.

mod ctrl_c;
mod install;
mod reader_gate;
mod slots;
pub mod unix;

pub use ctrl_c::ctrl_c;
