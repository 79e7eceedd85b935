//! Dropping a value whose panic has nowhere to go.

use std::panic::{AssertUnwindSafe, catch_unwind};

/// Drops `value`, catching a panic in its `Drop`: for values nobody will
/// read (an output whose handle is gone, the second panic of a task that
/// already has one to report), where a panic unwinding out would leave a
/// finished task in the slab and end `block_on`, or fail whoever dropped a
/// `JoinHandle`.
///
/// The caught panic's payload is dropped under `catch_unwind` too: a
/// payload is any type (`panic_any`), and one whose own `Drop` panics got
/// out when the payload was simply let go. A payload that panics when
/// dropped a second time is leaked, for there is no way left to drop it
/// that cannot unwind.
pub(crate) fn drop_quietly<T>(value: T) {
    let Err(payload) = catch_unwind(AssertUnwindSafe(move || drop(value))) else {
        return;
    };
    if let Err(second) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        std::mem::forget(second);
    }
}
