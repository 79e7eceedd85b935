//! [`Elapsed`]: the error a [`Timeout`](super::Timeout) returns when its
//! deadline passes before the inner future completes.

use std::error::Error;
use std::fmt;
use std::io;

/// The deadline of a [`timeout`](fn@super::timeout) passed before its future
/// completed. The future has been dropped (cancelled) by then.
///
/// Converts into an [`io::Error`] of kind [`io::ErrorKind::TimedOut`], so
/// `timeout(d, stream.read(buf)).await??` works in functions returning
/// `io::Result`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(
    /// Private so only this crate can say a deadline passed.
    (),
);

impl Elapsed {
    /// The one way to build it: only a `Timeout` whose deadline passed does.
    pub(crate) fn new() -> Elapsed {
        Elapsed(())
    }
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl Error for Elapsed {}

impl From<Elapsed> for io::Error {
    fn from(elapsed: Elapsed) -> io::Error {
        io::Error::new(io::ErrorKind::TimedOut, elapsed)
    }
}
