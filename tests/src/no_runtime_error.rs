//! The error a socket constructor returns outside any runtime.

use std::io;

/// Asserts that `result` (from creating a socket called `what` on a thread
/// with no runtime) is the clear "must be created inside an eddy runtime"
/// `io::Error` rather than a success; the caller reaching this at all shows
/// it did not panic.
///
/// # Panics
///
/// Panics if `result` is `Ok` or another error.
pub fn assert_no_runtime_error<T>(result: io::Result<T>, what: &str) {
    match result {
        Ok(_) => panic!("{what} succeeded outside a runtime"),
        Err(error) => assert!(
            error.to_string().contains("inside an eddy runtime"),
            "{what}: unexpected error: {error}"
        ),
    }
}
