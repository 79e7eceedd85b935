//! [`catch_quietly`] and [`drop_quietly`]: panics that have nowhere to go.

use std::panic::{AssertUnwindSafe, catch_unwind};

/// Runs `f` and swallows its panic, payload included: for calls whose
/// panic nobody can receive (a wake made while another panic unwinds,
/// where a second unwind would abort the process; a wake on behalf of an
/// unrelated caller; a panic after the batch's first).
///
/// The payload is dropped through [`drop_quietly`], not simply let go: a
/// payload is any type (`panic_any`), and one whose own `Drop` panicked
/// got out of the `catch_unwind` that was meant to stop it.
pub fn catch_quietly(f: impl FnOnce()) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(f)) {
        drop_quietly(payload);
    }
}

/// Drops `value`, catching a panic in its `Drop`, and that panic's payload
/// the same way: for values nobody will read (an output whose handle is
/// gone, the second panic of a task that already has one to report, a
/// payload already caught). A payload that panics when dropped a second
/// time is leaked, for there is no way left to drop it that cannot unwind.
pub fn drop_quietly<T>(value: T) {
    let Err(payload) = catch_unwind(AssertUnwindSafe(move || drop(value))) else {
        return;
    };
    if let Err(second) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        std::mem::forget(second);
    }
}
