//! Counters that let users and tests see inside a running runtime.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crate::blocking::Pool;

/// A snapshot of a runtime's counters, from [`Handle::metrics`](crate::Handle::metrics).
///
/// Counters (`tasks_spawned`, `polls`, ...) only grow; gauges
/// (`tasks_alive`, `registrations_live`, ...) go up and down. After a
/// runtime is dropped, its handle's snapshot shows zero live tasks,
/// registrations and timers: the tests use that to prove shutdown leaks
/// nothing.
///
/// What counts: tasks are what [`spawn`](crate::spawn) and
/// [`Handle::spawn`](crate::Handle::spawn) make; the `block_on` future is
/// not one, and neither is a [`spawn_blocking`](crate::task::spawn_blocking)
/// job (see `blocking_threads`). A timer counts from its first pending
/// poll, not from when it is built, until it fires or is dropped.
///
/// ```
/// use std::future::{Future, poll_fn};
/// use std::pin::Pin;
/// use std::task::Poll;
///
/// eddy::run(async {
///     let handle = eddy::Handle::current();
///     let task = eddy::spawn(std::future::pending::<()>());
///     let job = eddy::task::spawn_blocking(|| 6 * 7);
///     assert_eq!(handle.metrics().tasks_alive, 1); // not `job`, not this future
///     assert_eq!(job.await.unwrap(), 42);
///
///     let mut sleep = eddy::time::sleep(std::time::Duration::from_secs(60));
///     assert_eq!(handle.metrics().timers_live, 0); // built, never polled
///     poll_fn(|cx| {
///         assert!(Pin::new(&mut sleep).poll(cx).is_pending());
///         Poll::Ready(())
///     })
///     .await;
///     assert_eq!(handle.metrics().timers_live, 1);
///     drop(sleep);
///     assert_eq!(handle.metrics().timers_live, 0);
///     task.abort();
/// });
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Metrics {
    /// Tasks spawned since the runtime started (local and remote).
    pub tasks_spawned: u64,
    /// Tasks spawned and not yet finished.
    pub tasks_alive: usize,
    /// Task polls since the runtime started (the `block_on` future's own
    /// polls are not counted). The loop adds up a round of task polls once
    /// the round ends, so a task reading it sees the count as of the end of
    /// the previous round, without its own poll or those of the tasks
    /// polled before it in the same round. (The one task polled right after
    /// a `block_on` poll that used up the event interval is counted just
    /// before it runs, and sees its own poll.)
    pub polls: u64,
    /// I/O driver turns (each one an `epoll_wait`/`kevent` call).
    pub driver_turns: u64,
    /// I/O readiness events delivered to registrations.
    pub io_events: u64,
    /// Sockets (and other sources) registered with the driver now,
    /// including those waiting to be released.
    pub registrations_live: usize,
    /// Deregistered sources the driver will release on its next turn.
    pub registrations_pending_release: usize,
    /// Pending sleeps, timeouts and intervals: each counts from its first
    /// pending poll until it fires or is dropped (an
    /// [`Interval`](crate::time::Interval) whose `tick` completed counts
    /// again once the next `tick` is polled). Read from another thread or
    /// outside `block_on`: as of the start of the runtime's last driver
    /// turn (so exact while it is parked), or of the end of `block_on`.
    pub timers_live: usize,
    /// Tasks woken or spawned through the remote queue: from other
    /// threads, and from the runtime's own thread while it is outside
    /// `block_on` (through a [`Handle`](crate::Handle) or a waker).
    pub remote_wakes: u64,
    /// Threads in the blocking pool now, busy or idle: a thread stays for
    /// [`Builder::thread_keep_alive`](crate::Builder::thread_keep_alive)
    /// (10 s by default) after its last job.
    pub blocking_threads: usize,
    /// Of `blocking_threads`, those waiting for a job: none while every
    /// thread is busy, the sign that more jobs will queue.
    pub blocking_idle_threads: usize,
    /// Blocking jobs not yet taken by a thread: they wait while every
    /// thread is busy at the [limit](crate::Builder::max_blocking_threads)
    /// (and for the moment a thread takes to start or wake). A queued job
    /// that was aborted still counts until a thread takes it off the queue
    /// and drops it unrun.
    pub blocking_queue_depth: usize,
}

/// The runtime's live counters.
///
/// Every field but `remote_wakes` has a single writer, the runtime thread,
/// which updates it with a relaxed load and store (`bump`): a plain `mov`
/// on x86, no locked read-modify-write on the hot path. Other threads only
/// read. `remote_wakes` is bumped by the waking threads themselves.
#[derive(Debug, Default)]
pub(crate) struct MetricsCell {
    /// See [`Metrics::tasks_spawned`].
    tasks_spawned: AtomicU64,
    /// See [`Metrics::tasks_alive`].
    tasks_alive: AtomicUsize,
    /// See [`Metrics::polls`].
    polls: AtomicU64,
    /// See [`Metrics::driver_turns`].
    driver_turns: AtomicU64,
    /// See [`Metrics::io_events`].
    io_events: AtomicU64,
    /// See [`Metrics::timers_live`].
    timers_live: AtomicUsize,
    /// See [`Metrics::remote_wakes`].
    remote_wakes: AtomicU64,
}

/// Adds `n` to a counter that only the calling thread writes.
fn bump(counter: &AtomicU64, n: u64) {
    counter.store(counter.load(Ordering::Relaxed) + n, Ordering::Relaxed);
}

impl MetricsCell {
    /// A task was adopted (spawned locally or arrived from another thread).
    pub(crate) fn task_spawned(&self) {
        bump(&self.tasks_spawned, 1);
        let alive = self.tasks_alive.load(Ordering::Relaxed);
        self.tasks_alive.store(alive + 1, Ordering::Relaxed);
    }

    /// A task left the slab.
    pub(crate) fn task_finished(&self) {
        let alive = self.tasks_alive.load(Ordering::Relaxed);
        self.tasks_alive
            .store(alive.saturating_sub(1), Ordering::Relaxed);
    }

    pub(crate) fn polled(&self, polls: u64) {
        bump(&self.polls, polls);
    }

    pub(crate) fn turned(&self, events: usize) {
        bump(&self.driver_turns, 1);
        bump(&self.io_events, events as u64);
    }

    pub(crate) fn set_timers_live(&self, timers: usize) {
        self.timers_live.store(timers, Ordering::Relaxed);
    }

    pub(crate) fn count_remote_wake(&self) {
        self.remote_wakes.fetch_add(1, Ordering::Relaxed);
    }

    /// Reads everything, taking the gauges owned by other parts (driver,
    /// blocking pool) from them directly.
    pub(crate) fn snapshot(&self, driver: &eddy_io_driver::Handle, blocking: &Pool) -> Metrics {
        let relaxed = Ordering::Relaxed;
        let (blocking_threads, blocking_idle_threads, blocking_queue_depth) = blocking.gauges();
        Metrics {
            tasks_spawned: self.tasks_spawned.load(relaxed),
            tasks_alive: self.tasks_alive.load(relaxed),
            polls: self.polls.load(relaxed),
            driver_turns: self.driver_turns.load(relaxed),
            io_events: self.io_events.load(relaxed),
            registrations_live: driver.num_registered(),
            registrations_pending_release: driver.num_pending_release(),
            timers_live: self.timers_live.load(relaxed),
            remote_wakes: self.remote_wakes.load(relaxed),
            blocking_threads,
            blocking_idle_threads,
            blocking_queue_depth,
        }
    }
}
