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

/// The future passed to `block_on` (not a task, so it has no key) was
/// woken, from the runtime's own thread or from another one.
#[inline(always)]
pub(crate) fn main_woken(remote: bool) {
    #[cfg(feature = "trace")]
    tracing::trace!(target: "eddy::task", task = "block_on", remote, "woken");
    let _ = remote;
}

/// The future passed to `block_on` is about to be polled.
#[inline(always)]
pub(crate) fn main_polled() {
    #[cfg(feature = "trace")]
    tracing::trace!(target: "eddy::task", task = "block_on", "poll");
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

#[cfg(all(test, feature = "trace"))]
mod tests {
    use std::fmt;
    use std::sync::{Arc, Mutex};

    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Metadata, Subscriber};

    /// Keeps every event's fields as `name=value` text, one string per
    /// event, so a test can look for the lines it expects.
    #[derive(Clone, Default)]
    struct Journal(Arc<Mutex<Vec<String>>>);

    struct Line(String);

    impl Visit for Line {
        fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
            self.0.push_str(&format!(" {}={:?}", field.name(), value));
        }
    }

    impl Subscriber for Journal {
        fn enabled(&self, _: &Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, _: &Attributes<'_>) -> Id {
            Id::from_u64(1)
        }
        fn record(&self, _: &Id, _: &Record<'_>) {}
        fn record_follows_from(&self, _: &Id, _: &Id) {}
        fn event(&self, event: &Event<'_>) {
            let mut line = Line(String::new());
            event.record(&mut line);
            self.0.lock().unwrap().push(line.0);
        }
        fn enter(&self, _: &Id) {}
        fn exit(&self, _: &Id) {}
    }

    /// The `block_on` future is not a task, but the journal promises every
    /// wake and poll: a main future that yields once shows two polls and
    /// the local wake between them.
    #[test]
    fn journal_shows_the_block_on_futures_wakes_and_polls() {
        let journal = Journal::default();
        tracing::subscriber::with_default(journal.clone(), || {
            let rt = crate::Runtime::new().unwrap();
            rt.block_on(crate::task::yield_now());
        });
        let lines = journal.0.lock().unwrap();
        let count = |wanted: &str| lines.iter().filter(|line| *line == wanted).count();
        let poll = " message=poll task=\"block_on\"";
        let woken = " message=woken task=\"block_on\" remote=false";
        assert_eq!(count(poll), 2, "{lines:#?}");
        assert_eq!(count(woken), 1, "{lines:#?}");
    }
}
