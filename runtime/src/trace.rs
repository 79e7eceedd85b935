//! The runtime's journal: `tracing` events behind the `trace` feature.
//!
//! Each function is one kind of event. Without the feature they are empty
//! and inline away, so call sites need no `cfg`. With it, events go to
//! whatever `tracing` subscriber the program installed, under the `eddy`
//! target: `RUST_LOG=eddy=trace` with `tracing-subscriber` shows them.

use eddy_io_driver::TurnStats;
use std::time::Duration;

/// A task got slab slot `key` and was queued for its first poll.
#[inline(always)]
pub(crate) fn task_spawned(key: usize) {
    #[cfg(feature = "trace")]
    tracing::trace!(target: "eddy::task", key, "spawned");
    let _ = key;
}

/// The task in slot `key()` (`None`: not adopted yet) was woken, from the
/// runtime's own thread or from another one. The key is read only with the
/// feature: it is an atomic load on the wake path, which the compiler may
/// not drop on its own.
#[inline(always)]
pub(crate) fn task_woken(key: impl FnOnce() -> Option<usize>, remote: bool) {
    #[cfg(feature = "trace")]
    tracing::trace!(target: "eddy::task", key = ?key(), remote, "woken");
    #[cfg(not(feature = "trace"))]
    let _ = (key, remote);
}

/// The task in slot `key()` is about to be polled (the key is read only
/// with the feature, as for [`task_woken`]).
#[inline(always)]
pub(crate) fn task_polled(key: impl FnOnce() -> Option<usize>) {
    #[cfg(feature = "trace")]
    tracing::trace!(target: "eddy::task", key = ?key(), "poll");
    #[cfg(not(feature = "trace"))]
    let _ = key;
}

/// The task in slot `key` finished (or was aborted) and left the slab.
#[inline(always)]
pub(crate) fn task_finished(key: usize) {
    #[cfg(feature = "trace")]
    tracing::trace!(target: "eddy::task", key, "finished");
    let _ = key;
}

/// One driver turn returned.
#[inline(always)]
pub(crate) fn driver_turned(timeout: Option<Duration>, stats: &TurnStats) {
    #[cfg(feature = "trace")]
    tracing::trace!(
        target: "eddy::driver",
        timeout_ms = timeout.map(|t| t.as_millis() as u64),
        events = stats.events,
        released = stats.released,
        unparked = stats.unparked,
        "turn"
    );
    let _ = (timeout, stats);
}

/// Timers whose deadline passed were woken.
#[inline(always)]
pub(crate) fn timers_fired(count: usize) {
    #[cfg(feature = "trace")]
    if count > 0 {
        tracing::trace!(target: "eddy::time", count, "timers fired");
    }
    let _ = count;
}

/// A step of runtime shutdown started.
#[inline(always)]
pub(crate) fn shutdown_step(step: &'static str) {
    #[cfg(feature = "trace")]
    tracing::debug!(target: "eddy::runtime", step, "shutdown");
    let _ = step;
}
