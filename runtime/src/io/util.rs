//! The futures behind `read_exact` and `write_all`, written once for every
//! stream type (TCP, Unix, and their halves).
//!
//! They are hand-written rather than `async fn` loops around `poll_fn`:
//! `write_all` is on every echo round trip, and the two layers of
//! generated state machine cost about 40 instructions there (callgrind).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

/// Reads until `buf` is full; `UnexpectedEof` if the stream ends first.
pub(crate) fn read_exact<P>(buf: &mut [u8], poll_read: P) -> ReadExact<'_, P>
where
    P: FnMut(&mut Context<'_>, &mut [u8]) -> Poll<io::Result<usize>>,
{
    ReadExact { buf, poll_read }
}

/// Writes all of `buf`; `WriteZero` if the stream accepts nothing.
pub(crate) fn write_all<P>(buf: &[u8], poll_write: P) -> WriteAll<'_, P>
where
    P: FnMut(&mut Context<'_>, &[u8]) -> Poll<io::Result<usize>>,
{
    WriteAll { buf, poll_write }
}

/// The future of `read_exact`.
#[derive(Debug)]
pub(crate) struct ReadExact<'a, P> {
    /// The part of the caller's buffer still to fill.
    buf: &'a mut [u8],
    /// The stream's `poll_read`.
    poll_read: P,
}

impl<P> Future for ReadExact<'_, P>
where
    P: FnMut(&mut Context<'_>, &mut [u8]) -> Poll<io::Result<usize>> + Unpin,
{
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        // The stream is polled even for an empty buffer: its read of
        // nothing spends the budget, so a loop of these yields (finding 76).
        loop {
            match ready!((this.poll_read)(cx, this.buf))? {
                0 if this.buf.is_empty() => return Poll::Ready(Ok(())),
                0 => return Poll::Ready(Err(io::ErrorKind::UnexpectedEof.into())),
                n => this.buf = &mut std::mem::take(&mut this.buf)[n..],
            }
            if this.buf.is_empty() {
                return Poll::Ready(Ok(()));
            }
        }
    }
}

/// The future of `write_all`.
#[derive(Debug)]
pub(crate) struct WriteAll<'a, P> {
    /// The part of the caller's bytes not written yet.
    buf: &'a [u8],
    /// The stream's `poll_write`.
    poll_write: P,
}

impl<P> Future for WriteAll<'_, P>
where
    P: FnMut(&mut Context<'_>, &[u8]) -> Poll<io::Result<usize>> + Unpin,
{
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        // Polled even for nothing to write, as `ReadExact` (finding 76).
        loop {
            match ready!((this.poll_write)(cx, this.buf))? {
                0 if this.buf.is_empty() => return Poll::Ready(Ok(())),
                0 => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                n => this.buf = &this.buf[n..],
            }
            if this.buf.is_empty() {
                return Poll::Ready(Ok(()));
            }
        }
    }
}
