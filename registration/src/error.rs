//! [`ShutdownError`]: the one error this crate produces.
//!
//! Registering a resource, or waiting on one, after the runtime began
//! shutting down cannot succeed: the driver that would deliver events is
//! gone. (Waiting on a resource after its own deregistration fails the same
//! way, for the same reason: no event can reach it.) Callers get an
//! `io::Error` (so it flows through `?` in I/O code) whose inner error is
//! this type, so tests and callers can tell it apart from an OS error with
//! [`is_shutdown_error`] instead of matching text.

use std::error::Error;
use std::fmt;
use std::io;

/// The runtime is shutting down or has shut down, or the resource waited
/// on was deregistered: either way no event can reach it any more.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ShutdownError;

impl fmt::Display for ShutdownError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the eddy runtime is shutting down or has shut down")
    }
}

impl Error for ShutdownError {}

/// An `io::Error` (kind `Other`) wrapping [`ShutdownError`].
pub fn shutdown_error() -> io::Error {
    io::Error::other(ShutdownError)
}

/// Whether `err` was made by [`shutdown_error`].
pub fn is_shutdown_error(err: &io::Error) -> bool {
    err.get_ref()
        .is_some_and(|inner| inner.is::<ShutdownError>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shutdown_error_is_recognised_and_says_the_runtime_is_shutting_down() {
        let err = shutdown_error();
        assert!(is_shutdown_error(&err));
        assert_eq!(err.kind(), io::ErrorKind::Other);
        assert!(err.to_string().contains("shutting down"), "{err}");
    }

    #[test]
    fn other_errors_are_not_shutdown_errors() {
        assert!(!is_shutdown_error(&io::Error::other("shutting down")));
        assert!(!is_shutdown_error(&io::Error::from(
            io::ErrorKind::WouldBlock
        )));
    }
}
