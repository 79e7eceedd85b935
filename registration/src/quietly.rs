//! [`catch_quietly`] and [`drop_quietly`]: panics that have nowhere to go.

use std::any::Any;
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
        drop_payload_quietly(payload);
    }
}

/// Drops `value`, catching a panic in its `Drop`, and that panic's payload
/// the same way: for values nobody will read (an output whose handle is
/// gone, the second panic of a task that already has one to report, a
/// payload already caught).
///
/// A payload's drop may panic in turn, with a payload of its own: the chain
/// is dropped to its end, which is almost always one step (a `&str` or
/// `String` message). Only past `MAX_PANIC_CHAIN` (8) links is the last
/// payload leaked: a type whose every drop panics anew would otherwise keep
/// this loop going forever.
pub fn drop_quietly<T>(value: T) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(move || drop(value))) {
        drop_payload_quietly(payload);
    }
}

/// The rest of [`drop_quietly`], once `value`'s drop has panicked: drops
/// the payload chain. Not generic, so the loop is compiled once rather than
/// into every caller's copy of `drop_quietly` (600 bytes each);
/// `inline(never)` because the compiler otherwise copies it there anyway.
#[inline(never)]
fn drop_payload_quietly(mut payload: Box<dyn Any + Send>) {
    for _ in 0..MAX_PANIC_CHAIN {
        match catch_unwind(AssertUnwindSafe(move || drop(payload))) {
            Ok(()) => return,
            Err(next) => payload = next,
        }
    }
    std::mem::forget(payload);
}

/// How many payloads in a row whose drop panics [`drop_quietly`] drops
/// before it leaks the next one instead.
const MAX_PANIC_CHAIN: usize = 8;
