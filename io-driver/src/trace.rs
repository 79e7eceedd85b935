//! The driver's journal: `tracing` events behind the `trace` feature.
//!
//! Each function is one kind of event, under the `eddy::driver` and
//! `eddy::registration` targets. Without the feature they are empty and
//! inline away, so call sites need no `cfg`.

use std::time::Duration;

use eddy_registration::{Interest, Ready};

/// A turn is about to wait for events for at most `timeout`.
#[inline(always)]
pub(crate) fn polling(timeout: Option<Duration>) {
    #[cfg(feature = "trace")]
    tracing::trace!(
        target: "eddy::driver",
        timeout_ms = timeout.map(|t| t.as_millis() as u64),
        "poll"
    );
    let _ = timeout;
}

/// One event: the token it carried and the readiness it became.
#[inline(always)]
pub(crate) fn event(token: usize, ready: Ready) {
    #[cfg(feature = "trace")]
    tracing::trace!(target: "eddy::driver", token = format_args!("{token:#x}"), ?ready, "event");
    let _ = (token, ready);
}

/// A source was registered under `token`.
#[inline(always)]
pub(crate) fn registered(token: usize, interest: Interest) {
    #[cfg(feature = "trace")]
    tracing::trace!(target: "eddy::registration", token = format_args!("{token:#x}"), ?interest, "registered");
    let _ = (token, interest);
}

/// The source under `token` was deregistered and queued for release.
#[inline(always)]
pub(crate) fn deregistered(token: usize) {
    #[cfg(feature = "trace")]
    tracing::trace!(target: "eddy::registration", token = format_args!("{token:#x}"), "deregistered, pending release");
    let _ = token;
}

/// A turn released `count` pending registrations.
#[inline(always)]
pub(crate) fn released(count: usize) {
    #[cfg(feature = "trace")]
    if count > 0 {
        tracing::trace!(target: "eddy::registration", count, "released");
    }
    let _ = count;
}

/// Shutdown drained `count` live registrations.
#[inline(always)]
pub(crate) fn drained(count: usize) {
    #[cfg(feature = "trace")]
    tracing::debug!(target: "eddy::driver", count, "shutdown: registrations drained");
    let _ = count;
}
