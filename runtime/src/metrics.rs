//! Counters that let users and tests see inside a running runtime.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

/// A snapshot of a runtime's counters, from [`Handle::metrics`](crate::Handle::metrics).
///
/// Counters (`*_spawned`, `polls`, ...) only grow; gauges (`*_alive`,
/// `*_live`, ...) go up and down. After a runtime is dropped, its handle's
/// snapshot shows zero live tasks, registrations and timers: the tests use
/// that to prove shutdown leaks nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Metrics {
    /// Tasks spawned since the runtime started (local and remote).
    pub tasks_spawned: u64,
    /// Tasks spawned and not yet finished.
    pub tasks_alive: usize,
    /// Task polls since the runtime started.
    pub polls: u64,
    /// I/O driver turns (each one an `epoll_wait`/`kevent` call).
    pub driver_turns: u64,
    /// I/O readiness events delivered to registrations.
    pub io_events: u64,
    /// Sockets (and other sources) registered with the driver now.
    pub registrations_live: usize,
    /// Deregistered sources the driver will release on its next turn.
    pub registrations_pending_release: usize,
    /// Pending sleeps, timeouts and intervals.
    pub timers_live: usize,
    /// Tasks woken or spawned from other threads (through the remote queue).
    pub remote_wakes: u64,
    /// Threads in the blocking pool now.
    pub blocking_threads: usize,
}

/// The runtime thread's counters, bumped without atomics.
#[derive(Debug, Default)]
pub(crate) struct LocalCounters {
    /// See [`Metrics::tasks_spawned`].
    pub(crate) spawned: Cell<u64>,
    /// See [`Metrics::polls`].
    pub(crate) polls: Cell<u64>,
    /// See [`Metrics::driver_turns`].
    pub(crate) turns: Cell<u64>,
    /// See [`Metrics::io_events`].
    pub(crate) io_events: Cell<u64>,
}

/// Where the runtime publishes its counters for other threads. Written with
/// plain `Relaxed` stores once per tick (no read-modify-write on the hot
/// path); only `remote_wakes` is bumped by other threads.
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
    /// See [`Metrics::registrations_live`].
    registrations_live: AtomicUsize,
    /// See [`Metrics::registrations_pending_release`].
    registrations_pending_release: AtomicUsize,
    /// See [`Metrics::timers_live`].
    timers_live: AtomicUsize,
    /// See [`Metrics::remote_wakes`].
    remote_wakes: AtomicU64,
}

impl MetricsCell {
    pub(crate) fn publish(
        &self,
        local: &LocalCounters,
        tasks_alive: usize,
        timers_live: usize,
        registrations_live: usize,
        registrations_pending_release: usize,
    ) {
        let relaxed = Ordering::Relaxed;
        self.tasks_spawned.store(local.spawned.get(), relaxed);
        self.polls.store(local.polls.get(), relaxed);
        self.driver_turns.store(local.turns.get(), relaxed);
        self.io_events.store(local.io_events.get(), relaxed);
        self.tasks_alive.store(tasks_alive, relaxed);
        self.timers_live.store(timers_live, relaxed);
        self.registrations_live.store(registrations_live, relaxed);
        self.registrations_pending_release
            .store(registrations_pending_release, relaxed);
    }

    pub(crate) fn count_remote_wake(&self) {
        self.remote_wakes.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self, blocking_threads: usize) -> Metrics {
        let relaxed = Ordering::Relaxed;
        Metrics {
            tasks_spawned: self.tasks_spawned.load(relaxed),
            tasks_alive: self.tasks_alive.load(relaxed),
            polls: self.polls.load(relaxed),
            driver_turns: self.driver_turns.load(relaxed),
            io_events: self.io_events.load(relaxed),
            registrations_live: self.registrations_live.load(relaxed),
            registrations_pending_release: self.registrations_pending_release.load(relaxed),
            timers_live: self.timers_live.load(relaxed),
            remote_wakes: self.remote_wakes.load(relaxed),
            blocking_threads,
        }
    }
}
