//! `TcpStream`: a connected TCP socket.

use std::io;
use std::mem::ManuallyDrop;
use std::net::{SocketAddr, ToSocketAddrs};
use std::os::fd::AsFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use eddy_io_driver::Handle;
use eddy_registration::{Direction, Interest};

use super::split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
use crate::net::IoSource;
use crate::net::addr::{each_addr, resolve};
use crate::net::as_fd::impl_as_fd;
use crate::net::split::{SplitStream, impl_futures_io, impl_stream_io};
use crate::net::try_from_std::impl_try_from_std;

/// What a TCP stream registers for. `PRIORITY` makes Linux report urgent
/// (`MSG_OOB`) data, which ends a read short with more bytes queued behind
/// it; `Registration::poll_read_into` then keeps readiness after the short
/// read instead of waiting for an event that would never come (net rule
/// 2; finding 6). Elsewhere it maps to readable and changes nothing.
const STREAM_INTEREST: Interest = Interest::READABLE
    .add(Interest::WRITABLE)
    .add(Interest::PRIORITY);

/// A TCP connection.
///
/// Read and write with the inherent async methods, or through the
/// `futures-io` traits ([`AsyncRead`](futures_io::AsyncRead),
/// [`AsyncWrite`](futures_io::AsyncWrite)) so `futures-util` and
/// `futures-lite` combinators work unchanged.
///
/// `AsyncWrite::poll_close` (`close().await`) shuts down the write side.
/// On a connection that is already gone (the peer reset it) there is
/// nothing left to close, and it returns `Ok(())` where tokio's
/// `shutdown().await` returns `NotConnected`; call
/// [`shutdown`](TcpStream::shutdown) to see that error. Flushing does
/// nothing: writes go straight to the kernel.
///
/// The examples of the I/O methods call the two ends of a connection
/// `stream` and `peer`.
///
/// A client of an echo server at `addr`:
///
/// ```
/// # eddy::run(async {
/// # let listener = eddy::net::TcpListener::bind("127.0.0.1:0").await?;
/// # let addr = listener.local_addr()?;
/// # eddy::spawn(async move {
/// #     let (stream, _) = listener.accept().await?;
/// #     let (mut reader, mut writer) = stream.into_split();
/// #     eddy::io::copy(&mut reader, &mut writer).await
/// # });
/// let mut stream = eddy::net::TcpStream::connect(addr).await?;
/// stream.write_all(b"ping").await?;
/// let mut reply = [0; 4];
/// stream.read_exact(&mut reply).await?;
/// assert_eq!(&reply, b"ping");
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct TcpStream {
    /// The registered mio stream. Dropped by `TcpStream`'s own `Drop`,
    /// never by drop glue: every future that holds a stream (each
    /// connection task of a server) has its drop glue copied into the
    /// program several times over, and with the source's deregistration,
    /// close and `Arc`s inlined there each copy was 470 bytes; now it is a
    /// call to `TcpStream::drop`, which is compiled once, in eddy.
    source: ManuallyDrop<IoSource<mio::net::TcpStream>>,
    /// Whether `SO_LINGER` is on with a non-zero interval, as far as eddy
    /// has seen it set, so that `Drop` turns it off before the close (see
    /// there). A flag, not a syscall at every drop: that would cost every
    /// connection a server closes one more syscall, for an option few set.
    lingers: AtomicBool,
}

impl TcpStream {
    /// Connects to `addr`, trying each resolved address until one accepts.
    /// A host name is resolved on the runtime's thread; see
    /// [`lookup_host`](fn@crate::net::lookup_host) for names that may be slow.
    ///
    /// ```
    /// # eddy::run(async {
    /// let listener = eddy::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let stream = eddy::net::TcpStream::connect(listener.local_addr()?).await?;
    /// assert_eq!(stream.peer_addr()?, listener.local_addr()?);
    /// let (_accepted, peer) = listener.accept().await?;
    /// assert_eq!(peer, stream.local_addr()?);
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        let addrs = resolve(addr)?;
        each_addr(addrs, TcpStream::connect_addr).await
    }

    async fn connect_addr(addr: SocketAddr) -> io::Result<TcpStream> {
        let stream =
            crate::net::connect_retrying_interrupted(|| mio::net::TcpStream::connect(addr))?;
        let stream = TcpStream {
            source: ManuallyDrop::new(IoSource::new(stream, STREAM_INTEREST)?),
            lingers: AtomicBool::new(false),
        };
        crate::net::connect::connected(&stream.source, |socket| socket.peer_addr().map(drop))
            .await?;
        Ok(stream)
    }

    /// Registers a stream `accept` returned; `lingers` is its listener's
    /// flag, since an accepted socket inherits the listener's `SO_LINGER`.
    pub(crate) fn from_accepted(
        stream: mio::net::TcpStream,
        handle: &Handle,
        lingers: bool,
    ) -> io::Result<TcpStream> {
        Ok(TcpStream {
            source: ManuallyDrop::new(IoSource::with_handle(stream, STREAM_INTEREST, handle)?),
            lingers: AtomicBool::new(lingers),
        })
    }

    /// Wraps a connected std stream (switched to non-blocking mode).
    ///
    /// Fails with `InvalidInput` if the socket is listening. Fails outside
    /// a runtime, and the socket, which it has taken, is closed then.
    ///
    /// ```
    /// # eddy::run(async {
    /// # let listener = eddy::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let addr = listener.local_addr()?;
    /// # eddy::spawn(async move {
    /// #     let (stream, _) = listener.accept().await?;
    /// #     let (mut reader, mut writer) = stream.into_split();
    /// #     eddy::io::copy(&mut reader, &mut writer).await
    /// # });
    /// // Made elsewhere (here a blocking connect, instant over loopback).
    /// let std_stream = std::net::TcpStream::connect(addr)?;
    /// let mut stream = eddy::net::TcpStream::from_std(std_stream)?;
    /// stream.write_all(b"ping").await?;
    /// let mut reply = [0; 4];
    /// stream.read_exact(&mut reply).await?;
    /// assert_eq!(&reply, b"ping");
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        crate::net::from_std_checks::check_not_listening(&stream)?;
        stream.set_nonblocking(true)?;
        let lingers = crate::sys::linger_blocks_close(stream.as_fd());
        Ok(TcpStream {
            source: ManuallyDrop::new(IoSource::new(
                mio::net::TcpStream::from_std(stream),
                STREAM_INTEREST,
            )?),
            lingers: AtomicBool::new(lingers),
        })
    }

    /// Deregisters the stream and returns it as a std stream, still in
    /// non-blocking mode.
    ///
    /// It also works once the runtime has shut down: it is how a socket
    /// leaves a runtime that is gone, for std or another runtime.
    ///
    /// ```
    /// use std::io::Write;
    /// # eddy::run(async {
    /// # let listener = eddy::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let stream = eddy::net::TcpStream::connect(listener.local_addr()?).await?;
    /// let mut std_stream = stream.into_std()?;
    /// // Off to a thread that does blocking I/O.
    /// let writer = std::thread::spawn(move || {
    ///     std_stream.set_nonblocking(false)?;
    ///     std_stream.write_all(b"ping")
    /// });
    /// # let (mut peer, _) = listener.accept().await?;
    /// # let mut buf = [0; 4];
    /// # peer.read_exact(&mut buf).await?;
    /// # assert_eq!(&buf, b"ping");
    /// writer.join().unwrap()?;
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn into_std(mut self) -> io::Result<std::net::TcpStream> {
        // The socket leaves with its `SO_LINGER` as set: `Drop` must not
        // turn it off (nor touch the descriptor after `take`).
        *self.lingers.get_mut() = false;
        // `take`, not `into_inner`: `TcpStream` has a `Drop`, so its source
        // cannot be moved out; the drop then finds the socket gone.
        // SAFETY: `self` is consumed here, and with `lingers` cleared its
        // `Drop` does not borrow the descriptor.
        let (stream, deregistered) =
            unsafe { self.source.take() }.expect("a stream has its socket");
        deregistered?;
        Ok(stream.into())
    }

    /// Reads into `buf` without removing the bytes from the socket: the
    /// next `read` or `peek` gets them again. Returns 0 at end of stream,
    /// and at once for an empty `buf` (as `read` does; waiting for data it
    /// could not hold would change nothing).
    ///
    /// It returns as soon as any byte is queued, with what is queued, and
    /// again at once the next time while those bytes stay unread: peeking
    /// in a loop until enough bytes have arrived spins (within the task's
    /// budget, so other tasks still run); read them instead.
    ///
    /// Cancel safe: it never takes bytes from the socket, completed or not.
    ///
    /// ```
    /// # eddy::run(async {
    /// # let listener = eddy::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let mut peer = eddy::net::TcpStream::connect(listener.local_addr()?).await?;
    /// # let (mut stream, _) = listener.accept().await?;
    /// peer.write_all(b"GET /").await?;
    /// let mut buf = [0; 5];
    /// let n = stream.peek(&mut buf).await?;
    /// assert_eq!(&buf[..n], b"GET /");
    /// // The bytes are still there for the read.
    /// stream.read_exact(&mut buf).await?;
    /// assert_eq!(&buf, b"GET /");
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            // At once, but spending the budget as any peek does.
            return self.source.nothing(Direction::Read).await;
        }
        self.source
            .async_io(Direction::Read, |stream| stream.peek(buf))
            .await
    }

    /// Splits the stream into halves that borrow it, for use in one task.
    ///
    /// With `futures-util`'s or `futures-lite`'s `AsyncReadExt` in scope,
    /// `stream.split()` on an owned stream finds their `split`, which takes
    /// the stream by value, before this one: write
    /// `TcpStream::split(&mut stream)`.
    ///
    /// An echo of one connection, copying its read half into its write
    /// half:
    ///
    /// ```
    /// # eddy::run(async {
    /// # let listener = eddy::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let mut client = eddy::net::TcpStream::connect(listener.local_addr()?).await?;
    /// # client.write_all(b"ping").await?;
    /// # client.shutdown(std::net::Shutdown::Write)?;
    /// let (mut stream, _) = listener.accept().await?;
    /// let (mut reader, mut writer) = stream.split();
    /// let copied = eddy::io::copy(&mut reader, &mut writer).await?;
    /// assert_eq!(copied, 4); // "ping", until the client shut its side down
    /// # let mut reply = [0; 4];
    /// # client.read_exact(&mut reply).await?;
    /// # assert_eq!(&reply, b"ping");
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        super::split::split(self)
    }

    /// Splits the stream into owned halves that can move to different
    /// tasks. Dropping the write half shuts down the write side.
    ///
    /// ```
    /// # eddy::run(async {
    /// # let listener = eddy::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let addr = listener.local_addr()?;
    /// # eddy::spawn(async move {
    /// #     let (stream, _) = listener.accept().await?;
    /// #     let (mut reader, mut writer) = stream.into_split();
    /// #     eddy::io::copy(&mut reader, &mut writer).await
    /// # });
    /// let stream = eddy::net::TcpStream::connect(addr).await?;
    /// let (mut reader, mut writer) = stream.into_split();
    /// let sender = eddy::spawn(async move {
    ///     writer.write_all(b"ping").await
    ///     // `writer` is dropped here: the server reads end-of-stream.
    /// });
    /// let mut reply = [0; 4];
    /// reader.read_exact(&mut reply).await?;
    /// assert_eq!(&reply, b"ping");
    /// sender.await.unwrap()?;
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        super::split::into_split(self)
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.source.local_addr()
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.source.peer_addr()
    }

    /// Sets `TCP_NODELAY` (disables Nagle's algorithm): small writes go
    /// out at once instead of waiting for the peer's acknowledgement of
    /// the previous ones.
    ///
    /// ```
    /// # eddy::run(async {
    /// # let listener = eddy::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let stream = eddy::net::TcpStream::connect(listener.local_addr()?).await?;
    /// stream.set_nodelay(true)?;
    /// assert!(stream.nodelay()?);
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.source.set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.source.nodelay()
    }

    /// Sets `SO_LINGER`. `Some(Duration::ZERO)` makes close send a reset.
    ///
    /// A non-zero interval makes a blocking `close(2)` wait (up to the
    /// interval) until the peer has acknowledged every byte still unsent;
    /// Linux waits even for a non-blocking socket, which would stall every
    /// task of the runtime. So eddy turns lingering off as it drops the
    /// stream, and the close returns at once. The peer still gets every
    /// byte and then the end of the stream: the kernel sends them after
    /// `close` returns, as for any close (the interval only ever made the
    /// closing thread wait, and a drop has no way to report how the wait
    /// ended). The option stays set on a stream that leaves through
    /// [`into_std`](TcpStream::into_std). The interval counts whole
    /// seconds; a fraction rounds up.
    ///
    /// ```
    /// use std::io::ErrorKind;
    /// use std::time::Duration;
    /// # eddy::run(async {
    /// # let listener = eddy::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let stream = eddy::net::TcpStream::connect(listener.local_addr()?).await?;
    /// # let (mut peer, _) = listener.accept().await?;
    /// // Abort the connection: the close sends a reset, not an orderly end.
    /// stream.set_linger(Some(Duration::ZERO))?;
    /// drop(stream);
    /// let error = peer.read(&mut [0; 16]).await.unwrap_err();
    /// assert_eq!(error.kind(), ErrorKind::ConnectionReset);
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// eddy knows a stream lingers from this method, from
    /// [`from_std`](TcpStream::from_std) (which reads the option once), and
    /// from the listener an accepted stream came from (read once when the
    /// listener was made). Set `SO_LINGER` any other way (through
    /// [`AsFd`] and `socket2`, say) and dropping the stream waits in
    /// `close` on the runtime's thread: set it here instead.
    pub fn set_linger(&self, linger: Option<Duration>) -> io::Result<()> {
        crate::sys::set_linger(self.source.as_fd(), linger)?;
        let waits = linger.is_some_and(|interval| !interval.is_zero());
        // Relaxed: the flag is read only by `Drop`, and whoever drops the
        // stream owns it, so any thread's store happened before.
        self.lingers.store(waits, Ordering::Relaxed);
        Ok(())
    }

    /// The IP time-to-live.
    pub fn ttl(&self) -> io::Result<u32> {
        self.source.ttl()
    }

    /// Sets the IP time-to-live.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.source.set_ttl(ttl)
    }
}

impl Drop for TcpStream {
    fn drop(&mut self) {
        // The source, dropped at the end, deregisters and closes.
        if *self.lingers.get_mut() {
            // Lingering, Linux's close(2) blocked the runtime's thread until
            // the peer read, up to the interval (net rule 11; finding 11).
            // Should this fail, the close waits, as a std stream's would.
            let _ = crate::sys::set_linger(self.source.as_fd(), None);
        }
        // SAFETY: the one place `source` is dropped (see the field), and
        // `self` is never used again.
        unsafe { ManuallyDrop::drop(&mut self.source) };
    }
}

impl SplitStream for TcpStream {
    type Socket = mio::net::TcpStream;
    type Addr = SocketAddr;

    fn source(&self) -> &IoSource<mio::net::TcpStream> {
        &self.source
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        TcpStream::local_addr(self)
    }

    fn peer_addr(&self) -> io::Result<SocketAddr> {
        TcpStream::peer_addr(self)
    }
}

impl_futures_io!(TcpStream);
impl_stream_io!(
    TcpStream,
    setup = "# let listener = eddy::net::TcpListener::bind(\"127.0.0.1:0\").await?;\n\
             # let mut stream = eddy::net::TcpStream::connect(listener.local_addr()?).await?;\n\
             # let (mut peer, _) = listener.accept().await?;"
);

impl_as_fd!(TcpStream);
impl_try_from_std!(TcpStream, std::net::TcpStream);
