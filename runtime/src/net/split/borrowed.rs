//! The halves `split` lends: both borrow the stream.

/// The read half of a borrowed `split`.
#[derive(Debug)]
pub struct ReadHalf<'a, S> {
    /// The stream both halves borrow.
    pub(crate) stream: &'a S,
}

/// The write half of a borrowed `split`. Dropping it shuts nothing down
/// (the stream stays whole); its `poll_close` (`close` in the
/// `futures-io` extension traits) shuts down the stream's write side.
#[derive(Debug)]
pub struct WriteHalf<'a, S> {
    /// The stream both halves borrow.
    pub(crate) stream: &'a S,
}

pub(crate) fn split<S>(stream: &mut S) -> (ReadHalf<'_, S>, WriteHalf<'_, S>) {
    (ReadHalf { stream }, WriteHalf { stream })
}
