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
//! # Implementation
//!
//! A signal handler may only do async-signal-safe work: atomic loads and
//! stores and `write(2)`; no locks, no allocation. So the handler does two
//! things (`pipe.rs`): it adds one to its signal's delivery counter and
//! writes one byte to a pipe made once per process. The counter carries
//! the news; the byte only wakes runtimes up. A listener remembers the
//! count it last reported, so listeners never steal deliveries from each
//! other: the byte was written after the count was raised, so whoever is
//! woken for it finds the count raised.
//!
//! Waking is the hard part. Every copy of the read end is the same pipe,
//! and epoll reports an edge only if the pipe is still readable when
//! `epoll_wait` collects it: a byte drained by one runtime while another
//! runtime's thread was busy never reaches the other. So whoever reads
//! bytes out of the pipe wakes every listener of every runtime
//! (`every_hub.rs`), as tokio's signal driver broadcasts after draining.
//! Within one runtime the driver's event already woke every listener that
//! was waiting, and each of them looks at its counter after the first one
//! drained. A listener parks its waker *before* it reads its counter, so a
//! drain on another thread either finds the waker or happened early enough
//! for the read to see the new count.
//!
//! The price of one pipe for all signals: every delivery of any signal
//! wakes every listener of every runtime once (twice when its runtime's
//! driver reported the byte and another runtime's drain then wakes it
//! again), and those whose signal did not come go back to waiting. tokio
//! wakes only the signal's own listeners. For a server with a `ctrl_c()` in
//! each of 10,000 connections that also listens for a signal that comes
//! often (SIGCHLD from many children), that is 10,000 polls per delivery.
//! Waking only the listeners whose counter moved was tried and undone:
//! those woken return at once without draining, so nobody drained the pipe;
//! once it was full the handler's write failed, no runtime saw an edge, and
//! the next Ctrl-C was lost. Waking everyone means every runtime with a
//! waiting listener drains the pipe at each byte.
//!
//! Each runtime shares one copy of the read end among all its listeners
//! (`hub.rs`), registered with its driver, and a listener costs no
//! descriptor: thousands of connections may each wait for Ctrl-C. One
//! reader slot holds one waker, so the hub puts a fan-out waker there
//! (`listeners.rs`) that wakes every listener of the runtime; each looks
//! at its own counter and the ones whose signal did not arrive wait again.
//!
//! The pipe's write end stays open for the life of the process. A handler
//! on another thread may have loaded its fd number a moment before any
//! close, and would write into whatever file reused it; a pipe that is
//! never closed needs no wait for handlers to finish, and it is two
//! descriptors per process.
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
mod every_hub;
mod hub;
mod hub_slot;
mod install;
mod listeners;
mod pipe;
pub mod unix;

pub use ctrl_c::ctrl_c;
pub(crate) use hub_slot::HubSlot;
