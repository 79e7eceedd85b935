//! Copying a reader into a writer.

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::Poll;

use futures_io::{AsyncRead, AsyncWrite};

/// The copy buffer's first size: what an idle copy holds, so what a proxy
/// pays per direction of every connection that is mostly waiting (a
/// 16 KiB start held twice tokio's memory per proxied connection; finding
/// 45).
const START_SIZE: usize = 8 * 1024;

/// What the buffer grows to once a read fills it: a bulk transfer then
/// costs few syscalls per byte.
const BULK_SIZE: usize = 16 * 1024;

/// Copies everything `reader` yields into `writer` until end-of-stream,
/// then flushes `writer`. Returns the number of bytes copied.
///
/// Works with any `futures-io` reader and writer, eddy's or not. The writer
/// is not closed: call `close` (or `shutdown`) yourself to pass the EOF on.
/// For both directions of a proxy, copy each half of an `into_split` in its
/// own future and shut the write half down after its copy
/// (`examples/proxy.rs`, `forward`); eddy has no `copy_bidirectional`.
/// Whenever the reader has nothing for now, what was written since the
/// last flush is flushed, so a buffering writer (a `BufWriter`, a TLS or
/// framing layer) cannot sit on a request whose sender is waiting for the
/// reply.
///
/// A read, write or flush that fails with `Interrupted` is retried, as
/// std's `io::copy` retries it: the error means nothing was moved and the
/// call is to be made again, never that the copy failed.
///
/// Not cancel safe: dropped before it completes, it may have read bytes
/// that it had not yet written, and they are lost with it.
///
/// ```
/// # eddy::run(async {
/// let listener = eddy::net::TcpListener::bind("127.0.0.1:0").await?;
/// # let mut client = eddy::net::TcpStream::connect(listener.local_addr()?).await?;
/// # client.write_all(b"ping").await?;
/// # client.shutdown(std::net::Shutdown::Write)?;
/// let (stream, _) = listener.accept().await?;
/// let (mut reader, mut writer) = stream.into_split();
/// let copied = eddy::io::copy(&mut reader, &mut writer).await?; // an echo
/// assert_eq!(copied, 4); // the client's "ping", then its end of stream
/// # let mut reply = [0; 4];
/// # client.read_exact(&mut reply).await?;
/// # assert_eq!(&reply, b"ping");
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub async fn copy<R, W>(reader: &mut R, writer: &mut W) -> io::Result<u64>
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    let mut buf = vec![0u8; START_SIZE];
    let mut copied = 0u64;
    // Bytes written since the last flush, flushed while the reader waits:
    // otherwise request/response traffic through a buffering writer
    // deadlocked (finding 7; tokio's copy had the same bug until it
    // flushed on a pending read).
    let mut unflushed = false;
    loop {
        let n = poll_fn(|cx| {
            let read = retry_interrupted(|| Pin::new(&mut *reader).poll_read(cx, &mut buf));
            if read.is_pending() && unflushed {
                match retry_interrupted(|| Pin::new(&mut *writer).poll_flush(cx)) {
                    Poll::Ready(Ok(())) => unflushed = false,
                    Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                    // Woken again when the flush can go on or the reader
                    // has data, whichever comes first.
                    Poll::Pending => {}
                }
            }
            read
        })
        .await?;
        if n == 0 {
            poll_fn(|cx| retry_interrupted(|| Pin::new(&mut *writer).poll_flush(cx))).await?;
            return Ok(copied);
        }
        let mut pending = &buf[..n];
        while !pending.is_empty() {
            let written =
                poll_fn(|cx| retry_interrupted(|| Pin::new(&mut *writer).poll_write(cx, pending)))
                    .await?;
            if written == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            pending = &pending[written..];
        }
        unflushed = true;
        copied += n as u64;
        // A full read: more is likely waiting, so read more at a time. The
        // bytes read are all written by now; growing moves none.
        if n == buf.len() && n < BULK_SIZE {
            grow(&mut buf);
        }
    }
}

/// Whether `error` asks for the call to be made again.
fn is_interrupted(error: &io::Error) -> bool {
    error.kind() == io::ErrorKind::Interrupted
}

/// Polls `poll` again for as long as it fails with `Interrupted`: ending
/// the copy there dropped proxied connections (finding 51).
fn retry_interrupted<T>(mut poll: impl FnMut() -> Poll<io::Result<T>>) -> Poll<io::Result<T>> {
    loop {
        match poll() {
            Poll::Ready(Err(error)) if is_interrupted(&error) => {}
            polled => return polled,
        }
    }
}

/// Grows the copy buffer to [`BULK_SIZE`]. Out of line: inlined into the
/// copy loop it cost every small copy 16 instructions (callgrind).
#[cold]
#[inline(never)]
fn grow(buf: &mut Vec<u8>) {
    buf.resize(BULK_SIZE, 0);
}
