//! The loops behind `read_exact` and `write_all`, written once for every
//! stream type (TCP, Unix, and their halves).

use std::future::poll_fn;
use std::io;
use std::task::{Context, Poll};

/// Reads until `buf` is full; `UnexpectedEof` if the stream ends first.
pub(crate) async fn read_exact(
    mut buf: &mut [u8],
    mut poll_read: impl FnMut(&mut Context<'_>, &mut [u8]) -> Poll<io::Result<usize>>,
) -> io::Result<()> {
    while !buf.is_empty() {
        match poll_fn(|cx| poll_read(cx, buf)).await? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => buf = &mut buf[n..],
        }
    }
    Ok(())
}

/// Writes all of `buf`; `WriteZero` if the stream stops taking bytes.
pub(crate) async fn write_all(
    mut buf: &[u8],
    mut poll_write: impl FnMut(&mut Context<'_>, &[u8]) -> Poll<io::Result<usize>>,
) -> io::Result<()> {
    while !buf.is_empty() {
        match poll_fn(|cx| poll_write(cx, buf)).await? {
            0 => return Err(io::ErrorKind::WriteZero.into()),
            n => buf = &buf[n..],
        }
    }
    Ok(())
}
