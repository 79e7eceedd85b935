//! `UnixDatagram`: datagrams between Unix-domain sockets.

use std::io;
use std::net::Shutdown;
use std::os::unix::net::SocketAddr;
use std::path::Path;

use eddy_registration::{Direction, Interest};

use crate::net::IoSource;
use crate::net::as_fd::impl_as_fd;
use crate::net::datagram_io::impl_datagram_io;
use crate::net::try_from_std::impl_try_from_std;

/// A Unix-domain datagram socket.
///
/// As with UDP, every receive takes exactly one datagram and truncates it
/// to the buffer; unlike UDP, delivery is reliable and ordered, and a send
/// waits (instead of dropping) while the receiver's queue is full. All
/// methods take `&self`.
///
/// The examples of `send`, `recv` and the readiness methods call two
/// connected sockets (a [`pair`](UnixDatagram::pair)) `socket` and `peer`.
///
/// ```
/// # eddy::run(async {
/// let (a, b) = eddy::net::UnixDatagram::pair()?;
/// a.send(b"ping").await?;
/// let mut buf = [0; 16];
/// let len = b.recv(&mut buf).await?;
/// assert_eq!(&buf[..len], b"ping");
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct UnixDatagram {
    /// The registered mio socket.
    source: IoSource<mio::net::UnixDatagram>,
}

impl UnixDatagram {
    /// Creates a socket bound to a new socket file at `path` (`AddrInUse`
    /// if it exists). Dropping the socket does not remove the file.
    ///
    /// Fails outside a runtime.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixDatagram> {
        let path = path.as_ref();
        let socket = mio::net::UnixDatagram::bind(path)?;
        // `bind` created the socket file; if registering fails (no runtime
        // here), remove it again, or every retry would fail with AddrInUse.
        UnixDatagram::from_mio(socket).inspect_err(|_| {
            let _ = std::fs::remove_file(path);
        })
    }

    /// Creates a socket bound to no path: it can send, and receive replies
    /// only on a connection set up with [`connect`](UnixDatagram::connect)
    /// (a peer cannot address it otherwise).
    ///
    /// Fails outside a runtime.
    pub fn unbound() -> io::Result<UnixDatagram> {
        UnixDatagram::from_mio(mio::net::UnixDatagram::unbound()?)
    }

    /// Creates a connected pair of unnamed sockets.
    ///
    /// Fails outside a runtime.
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = mio::net::UnixDatagram::pair()?;
        Ok((UnixDatagram::from_mio(a)?, UnixDatagram::from_mio(b)?))
    }

    /// Wraps a std socket (it is switched to non-blocking mode).
    ///
    /// Fails with `InvalidInput` if it is a stream socket, and outside a
    /// runtime; the socket, which it has taken, is closed then.
    pub fn from_std(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        crate::net::from_std_checks::check_datagram_socket(&socket)?;
        socket.set_nonblocking(true)?;
        UnixDatagram::from_mio(mio::net::UnixDatagram::from_std(socket))
    }

    fn from_mio(socket: mio::net::UnixDatagram) -> io::Result<UnixDatagram> {
        Ok(UnixDatagram {
            source: IoSource::new(socket, Interest::READABLE.add(Interest::WRITABLE))?,
        })
    }

    /// Deregisters the socket and returns it as a std socket, still in
    /// non-blocking mode.
    ///
    /// It also works once the runtime has shut down: it is how a socket
    /// leaves a runtime that is gone, for std or another runtime.
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixDatagram> {
        Ok(self.source.into_inner()?.into())
    }

    /// Sets the default peer to the socket at `path`:
    /// [`send`](UnixDatagram::send) goes there, and only its datagrams are
    /// received.
    pub fn connect(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let path = path.as_ref();
        crate::net::connect_retrying_interrupted(|| self.source.connect(path))
    }

    /// Sends `buf` as one datagram to the socket at `path`.
    ///
    /// Cancel safe: dropped before it completes, it has sent nothing.
    pub async fn send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        let path = path.as_ref();
        self.source
            .async_io(Direction::Write, |socket| socket.send_to(buf, path))
            .await
    }

    /// Receives one datagram into `buf`, returning its length (truncated to
    /// `buf.len()`) and the sender's address (unnamed if it is not bound).
    ///
    /// Cancel safe: dropped before it completes, it has received nothing;
    /// the datagram waits for the next receive.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.source
            .async_io(Direction::Read, |socket| socket.recv_from(buf))
            .await
    }

    /// Sends to the socket at `path` now if this socket is known to be
    /// writable, else `WouldBlock`.
    pub fn try_send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        self.source.try_io(Interest::WRITABLE, || {
            self.source.send_to(buf, path.as_ref())
        })
    }

    /// Receives now if a datagram is known to be queued, else `WouldBlock`.
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.source
            .try_io(Interest::READABLE, || self.source.recv_from(buf))
    }

    /// Shuts down receiving, sending, or both. After `Shutdown::Write`
    /// sends fail with `BrokenPipe`, a send already waiting included.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.source.shutdown(how)?;
        if how != Shutdown::Read {
            // The kernel sends no event for it: without this, a send waiting
            // on the peer's full queue stayed parked.
            self.source.mark_write_shut_down();
        }
        Ok(())
    }

    /// The local address (unnamed unless bound to a path).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.source.local_addr()
    }

    /// The connected peer's address (`NotConnected` before
    /// [`connect`](UnixDatagram::connect)).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.source.peer_addr()
    }
}

impl_datagram_io!(
    UnixDatagram,
    setup = "# let (socket, peer) = eddy::net::UnixDatagram::pair()?;"
);

impl_as_fd!(UnixDatagram);
impl_try_from_std!(UnixDatagram, std::os::unix::net::UnixDatagram);
