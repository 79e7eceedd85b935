//! Copying a reader into a writer.

use std::future::poll_fn;
use std::io;
use std::pin::Pin;

use futures_io::{AsyncRead, AsyncWrite};

/// The copy buffer: large enough that a bulk transfer costs few syscalls,
/// small enough to keep per-connection memory modest.
const BUF_SIZE: usize = 16 * 1024;

/// Copies everything `reader` yields into `writer` until end-of-stream,
/// then flushes `writer`. Returns the number of bytes copied.
///
/// Works with any `futures-io` reader and writer, eddy's or not. The writer
/// is not closed: call `close` (or `shutdown`) yourself to pass the EOF on.
///
/// ```no_run
/// # eddy::run(async {
/// let listener = eddy::net::TcpListener::bind("127.0.0.1:7878").await?;
/// let (stream, _) = listener.accept().await?;
/// let (mut reader, mut writer) = stream.into_split();
/// eddy::io::copy(&mut reader, &mut writer).await?; // an echo
/// # Ok::<(), std::io::Error>(())
/// # });
/// ```
pub async fn copy<R, W>(reader: &mut R, writer: &mut W) -> io::Result<u64>
where
    R: AsyncRead + Unpin + ?Sized,
    W: AsyncWrite + Unpin + ?Sized,
{
    let mut buf = vec![0u8; BUF_SIZE];
    let mut copied = 0u64;
    loop {
        let n = poll_fn(|cx| Pin::new(&mut *reader).poll_read(cx, &mut buf)).await?;
        if n == 0 {
            poll_fn(|cx| Pin::new(&mut *writer).poll_flush(cx)).await?;
            return Ok(copied);
        }
        let mut pending = &buf[..n];
        while !pending.is_empty() {
            let written = poll_fn(|cx| Pin::new(&mut *writer).poll_write(cx, pending)).await?;
            if written == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            pending = &pending[written..];
        }
        copied += n as u64;
    }
}
