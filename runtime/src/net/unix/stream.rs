//! `UnixStream`: a connected Unix-domain stream socket.

use std::io;
use std::os::unix::net::SocketAddr;
use std::path::Path;

use eddy_io_driver::Handle;
use eddy_registration::Interest;

use super::split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
use crate::net::IoSource;
use crate::net::as_fd::impl_as_fd;
use crate::net::split::{SplitStream, impl_futures_io, impl_stream_io};
use crate::net::try_from_std::impl_try_from_std;

/// A Unix-domain stream connection.
///
/// Read and write with the inherent async methods, or through the
/// `futures-io` traits ([`AsyncRead`](futures_io::AsyncRead),
/// [`AsyncWrite`](futures_io::AsyncWrite)).
///
/// `AsyncWrite::poll_close` (`close().await`) shuts down the write side.
/// Linux shuts a Unix stream down without error even once the peer has
/// closed it; macOS and the BSDs say `NotConnected` there, and
/// `poll_close` returns `Ok(())` instead (nothing is left to close), where
/// tokio's `shutdown().await` returns the error; call
/// [`shutdown`](UnixStream::shutdown) to see it.
///
/// The examples of the I/O methods call the two ends of a connection
/// `stream` and `peer` (made with [`pair`](UnixStream::pair)).
///
/// A client of an echo server listening at `path`:
///
/// ```
/// # eddy::run(async {
/// # let path = std::env::temp_dir().join(format!("eddy-doc-stream-{}.sock", std::process::id()));
/// # let _ = std::fs::remove_file(&path);
/// # let listener = eddy::net::UnixListener::bind(&path)?;
/// # eddy::spawn(async move {
/// #     let (stream, _) = listener.accept().await?;
/// #     let (mut reader, mut writer) = stream.into_split();
/// #     eddy::io::copy(&mut reader, &mut writer).await
/// # });
/// let mut stream = eddy::net::UnixStream::connect(&path).await?;
/// stream.write_all(b"ping").await?;
/// let mut reply = [0; 4];
/// stream.read_exact(&mut reply).await?;
/// assert_eq!(&reply, b"ping");
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct UnixStream {
    /// The registered mio stream.
    source: IoSource<mio::net::UnixStream>,
}

impl UnixStream {
    /// Connects to the socket at `path`.
    ///
    /// Linux connects Unix sockets at once or not at all: when the
    /// listener's backlog is full the error is `WouldBlock`, which here
    /// means "try again later", not "wait".
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let stream = UnixStream::from_mio(crate::net::connect_retrying_interrupted(|| {
            mio::net::UnixStream::connect(path.as_ref())
        })?)?;
        // Linux connects a Unix socket at once (or refuses); other
        // platforms may finish the connect later, as TCP does.
        crate::net::connect::connected(&stream.source, |socket| socket.peer_addr().map(drop))
            .await?;
        Ok(stream)
    }

    /// Creates a connected pair of unnamed sockets.
    ///
    /// Fails outside a runtime.
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = mio::net::UnixStream::pair()?;
        Ok((UnixStream::from_mio(a)?, UnixStream::from_mio(b)?))
    }

    fn from_mio(stream: mio::net::UnixStream) -> io::Result<UnixStream> {
        Ok(UnixStream {
            source: IoSource::new(stream, Interest::READABLE.add(Interest::WRITABLE))?,
        })
    }

    pub(crate) fn from_accepted(
        stream: mio::net::UnixStream,
        handle: &Handle,
    ) -> io::Result<UnixStream> {
        Ok(UnixStream {
            source: IoSource::with_handle(
                stream,
                Interest::READABLE.add(Interest::WRITABLE),
                handle,
            )?,
        })
    }

    /// Wraps a connected std stream (switched to non-blocking mode).
    ///
    /// Fails with `InvalidInput` if the socket is listening. Fails outside
    /// a runtime, and the socket, which it has taken, is closed then.
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        crate::net::from_std_checks::check_not_listening(&stream)?;
        stream.set_nonblocking(true)?;
        UnixStream::from_mio(mio::net::UnixStream::from_std(stream))
    }

    /// Deregisters the stream and returns it as a std stream, still in
    /// non-blocking mode.
    ///
    /// It also works once the runtime has shut down: it is how a socket
    /// leaves a runtime that is gone, for std or another runtime.
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixStream> {
        Ok(self.source.into_inner()?.into())
    }

    /// Splits the stream into halves that borrow it, for use in one task.
    ///
    /// With `futures-util`'s or `futures-lite`'s `AsyncReadExt` in scope,
    /// `stream.split()` on an owned stream finds their `split`, which takes
    /// the stream by value, before this one: write
    /// `UnixStream::split(&mut stream)`.
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        super::split::split(self)
    }

    /// Splits the stream into owned halves that can move to different
    /// tasks. Dropping the write half shuts down the write side.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        super::split::into_split(self)
    }

    /// The local address (unnamed unless this side was bound to a path).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.source.local_addr()
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.source.peer_addr()
    }
}

impl SplitStream for UnixStream {
    type Socket = mio::net::UnixStream;
    type Addr = SocketAddr;

    fn source(&self) -> &IoSource<mio::net::UnixStream> {
        &self.source
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        UnixStream::local_addr(self)
    }

    fn peer_addr(&self) -> io::Result<SocketAddr> {
        UnixStream::peer_addr(self)
    }

    /// Without the short-read rule of TCP streams: a Unix-stream read that
    /// stops at a message carrying descriptors says nothing about what is
    /// queued behind it (see `IoSource::poll_read_stream_to_would_block`).
    /// It costs one `recv` that says `WouldBlock` per burst of reads.
    fn poll_read_priv(
        &self,
        cx: &mut std::task::Context<'_>,
        buf: &mut [u8],
    ) -> std::task::Poll<io::Result<usize>> {
        self.source.poll_read_stream_to_would_block(cx, buf)
    }
}

impl_futures_io!(UnixStream);
impl_stream_io!(
    UnixStream,
    setup = "# let (mut stream, mut peer) = eddy::net::UnixStream::pair()?;"
);

impl_as_fd!(UnixStream);
impl_try_from_std!(UnixStream, std::os::unix::net::UnixStream);
