//! [`EddyIo`]: hyper's `Read` and `Write` over any `futures-io` stream.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_io::{AsyncRead, AsyncWrite};
use hyper::rt::{Read, ReadBufCursor, Write};

/// The most bytes one read asks the stream for.
///
/// Each read first zeroes the bytes it hands to the stream (see
/// [`EddyIo`]). hyper's read buffer grows up to ~400 KiB on busy
/// connections; zeroing all of its spare room on every read, for requests
/// of a few hundred bytes, would cost more than the read. 16 KiB still
/// takes a whole typical request, or a good slice of a body, per syscall.
const MAX_READ: usize = 16 * 1024;

/// A stream that hyper can serve: wraps an eddy socket (anything that
/// implements `futures-io`'s `AsyncRead` and `AsyncWrite`, such as
/// [`eddy::net::TcpStream`] or [`eddy::net::UnixStream`]) and implements
/// hyper's own [`Read`] and [`Write`] traits, which hyper uses instead of
/// tokio's or futures-io's so it depends on neither.
///
/// Writes pass straight through. Reads differ in one way: hyper hands over
/// a buffer that may be uninitialized (a `ReadBufCursor`), while a
/// `futures-io` read wants initialized bytes (`&mut [u8]`). The adapter
/// zero-fills at most 16 KiB (`MAX_READ`) of it through hyper's safe
/// `initialize_unfilled_to`, reads into them, and tells hyper how many it
/// filled. Zeroing costs a `memset` per read; eddy's sockets offer no read
/// into uninitialized memory that would avoid it.
///
/// ```no_run
/// use eddy_hyper_example::EddyIo;
///
/// # eddy::run(async {
/// let listener = eddy::net::TcpListener::bind("127.0.0.1:3000").await?;
/// let (stream, _peer) = listener.accept().await?;
/// let io = EddyIo::new(stream); // ready for hyper's serve_connection
/// # Ok::<(), std::io::Error>(())
/// # });
/// ```
#[derive(Debug)]
pub struct EddyIo<T> {
    /// The wrapped stream, which does the actual reads and writes.
    inner: T,
}

impl<T> EddyIo<T> {
    /// Wraps `inner` for hyper.
    pub fn new(inner: T) -> EddyIo<T> {
        EddyIo { inner }
    }

    /// The wrapped stream.
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// Unwraps the stream.
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T: AsyncRead + Unpin> Read for EddyIo<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let len = buf.remaining().min(MAX_READ);
        let dst = buf.initialize_unfilled_to(len);
        let n = ready!(Pin::new(&mut self.get_mut().inner).poll_read(cx, dst))?;
        // A reader claiming more bytes than it was given is broken; trusting
        // it would tell hyper that bytes past the zeroed ones were written.
        if n > len {
            return Poll::Ready(Err(io::Error::other(
                "the stream reported reading more bytes than the buffer holds",
            )));
        }
        // SAFETY: `advance(n)` requires `n` more bytes of the unfilled part
        // to be initialized. `initialize_unfilled_to(len)` initialized its
        // first `len` bytes, and `n <= len` was checked just above.
        unsafe { buf.advance(n) };
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin> Write for EddyIo<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_close(cx)
    }

    /// Yes: eddy's sockets write a response's head and body with one
    /// `writev`, so hyper need not copy them into one buffer first.
    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }
}
