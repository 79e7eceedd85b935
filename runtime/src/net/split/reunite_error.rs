//! [`ReuniteError`]: two owned halves of different streams.

use std::fmt;

use super::{OwnedReadHalf, OwnedWriteHalf, SplitStream};

/// The error `reunite` returns when the halves came from different
/// streams; it hands both back.
pub struct ReuniteError<S: SplitStream>(
    /// The read half passed to `reunite`, handed back so it is not lost.
    pub OwnedReadHalf<S>,
    /// The write half passed to `reunite`, handed back: dropping it here
    /// would shut down its stream's write side.
    pub OwnedWriteHalf<S>,
);

impl<S: SplitStream> fmt::Debug for ReuniteError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReuniteError(..)")
    }
}

impl<S: SplitStream> fmt::Display for ReuniteError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to reunite halves that are not from the same stream")
    }
}

impl<S: SplitStream> std::error::Error for ReuniteError<S> {}
