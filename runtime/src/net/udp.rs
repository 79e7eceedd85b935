//! `UdpSocket`: datagrams over IP.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};

use eddy_registration::{Direction, Interest};

use crate::net::IoSource;
use crate::net::addr::{first_addr, resolve};
use crate::net::as_fd::impl_as_fd;
use crate::net::datagram_io::impl_datagram_io;
use crate::net::try_from_std::impl_try_from_std;

/// A UDP socket.
///
/// Unlike a stream, every receive takes exactly one datagram: if `buf` is
/// shorter than the datagram, the rest of that datagram is discarded (the
/// OS truncates it) and the next receive gets the next datagram. All
/// methods take `&self`, so one socket can be shared between tasks (for
/// example in an `Rc`) that send and receive at the same time.
///
/// The examples of `send`, `recv` and the readiness methods call two
/// sockets connected to each other `socket` and `peer`.
///
/// An echo server:
///
/// ```
/// # eddy::run(async {
/// let socket = eddy::net::UdpSocket::bind("127.0.0.1:0").await?;
/// # let client = eddy::net::UdpSocket::bind("127.0.0.1:0").await?;
/// # client.send_to(b"ping", socket.local_addr()?).await?;
/// let mut buf = [0; 1500];
/// loop {
///     let (len, peer) = socket.recv_from(&mut buf).await?;
///     socket.send_to(&buf[..len], peer).await?;
/// #   break;
/// }
/// # let (len, _) = client.recv_from(&mut buf).await?;
/// # assert_eq!(&buf[..len], b"ping");
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct UdpSocket {
    /// The registered mio socket.
    source: IoSource<mio::net::UdpSocket>,
}

impl UdpSocket {
    /// Binds to `addr`, trying each resolved address until one works.
    /// Port 0 asks the OS for a free port (see
    /// [`local_addr`](UdpSocket::local_addr)).
    ///
    /// ```
    /// # eddy::run(async {
    /// let socket = eddy::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// let addr = socket.local_addr()?;
    /// assert!(addr.ip().is_loopback());
    /// assert_ne!(addr.port(), 0); // the port the OS picked
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<UdpSocket> {
        first_addr(resolve(addr)?, |addr| {
            UdpSocket::from_mio(mio::net::UdpSocket::bind(addr)?)
        })
    }

    /// Wraps a std socket (it is switched to non-blocking mode).
    ///
    /// Fails with `InvalidInput` if it is a stream socket (a TCP socket
    /// passed off as a `std::net::UdpSocket`), and outside a runtime.
    ///
    /// ```
    /// # eddy::run(async {
    /// let std_socket = std::net::UdpSocket::bind("127.0.0.1:0")?;
    /// let socket = eddy::net::UdpSocket::from_std(std_socket)?;
    /// # let peer = eddy::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// socket.send_to(b"ping", peer.local_addr()?).await?;
    /// # let mut buf = [0; 16];
    /// # let (len, from) = peer.recv_from(&mut buf).await?;
    /// # assert_eq!((&buf[..len], from), (&b"ping"[..], socket.local_addr()?));
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        crate::net::from_std_checks::check_datagram_socket(&socket)?;
        socket.set_nonblocking(true)?;
        UdpSocket::from_mio(mio::net::UdpSocket::from_std(socket))
    }

    fn from_mio(socket: mio::net::UdpSocket) -> io::Result<UdpSocket> {
        Ok(UdpSocket {
            source: IoSource::new(socket, Interest::READABLE.add(Interest::WRITABLE))?,
        })
    }

    /// Deregisters the socket and returns it as a std socket, still in
    /// non-blocking mode.
    pub fn into_std(self) -> io::Result<std::net::UdpSocket> {
        Ok(self.source.into_inner()?.into())
    }

    /// Sets the default peer, trying each resolved address until one
    /// works: [`send`](UdpSocket::send) goes there, and the OS drops
    /// datagrams from anyone else.
    ///
    /// ```
    /// # eddy::run(async {
    /// let socket = eddy::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// let server = eddy::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// socket.connect(server.local_addr()?).await?;
    /// assert_eq!(socket.peer_addr()?, server.local_addr()?);
    ///
    /// socket.send(b"ping").await?; // no address needed
    /// let mut buf = [0; 16];
    /// let (len, from) = server.recv_from(&mut buf).await?;
    /// server.send_to(&buf[..len], from).await?;
    /// let len = socket.recv(&mut buf).await?;
    /// assert_eq!(&buf[..len], b"ping");
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn connect(&self, addr: impl ToSocketAddrs) -> io::Result<()> {
        first_addr(resolve(addr)?, |addr| {
            crate::net::connect_retrying_interrupted(|| self.source.connect(addr))
        })
    }

    /// Sends `buf` as one datagram to `target` (the first address it
    /// resolves to).
    ///
    /// ```
    /// # eddy::run(async {
    /// let socket = eddy::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// let peer = eddy::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// let sent = socket.send_to(b"ping", peer.local_addr()?).await?;
    /// assert_eq!(sent, 4);
    /// let mut buf = [0; 16];
    /// let (len, from) = peer.recv_from(&mut buf).await?;
    /// assert_eq!(&buf[..len], b"ping");
    /// assert_eq!(from, socket.local_addr()?);
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn send_to(&self, buf: &[u8], target: impl ToSocketAddrs) -> io::Result<usize> {
        let target = resolve(target)?[0];
        self.source
            .async_io(Direction::Write, |socket| socket.send_to(buf, target))
            .await
    }

    /// Receives one datagram into `buf`, returning its length (truncated to
    /// `buf.len()`) and the sender's address.
    ///
    /// Cancel safe: dropped before it completes, it has received nothing;
    /// the datagram waits for the next receive.
    ///
    /// ```
    /// # eddy::run(async {
    /// let socket = eddy::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// let peer = eddy::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// peer.send_to(b"too long", socket.local_addr()?).await?;
    /// peer.send_to(b"next", socket.local_addr()?).await?;
    /// let mut buf = [0; 3];
    /// let (len, from) = socket.recv_from(&mut buf).await?;
    /// assert_eq!((&buf[..len], from), (&b"too"[..], peer.local_addr()?));
    /// // The rest of that datagram is gone: the next receive gets the next.
    /// let (len, _) = socket.recv_from(&mut buf).await?;
    /// assert_eq!(&buf[..len], b"nex");
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.source
            .async_io(Direction::Read, |socket| socket.recv_from(buf))
            .await
    }

    /// Like [`recv_from`](UdpSocket::recv_from), but the datagram stays
    /// queued: the next receive returns it again.
    ///
    /// Cancel safe: it never takes a datagram off the queue.
    ///
    /// ```
    /// # eddy::run(async {
    /// let socket = eddy::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// let peer = eddy::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// peer.send_to(b"ping", socket.local_addr()?).await?;
    /// let mut buf = [0; 16];
    /// let (len, from) = socket.peek_from(&mut buf).await?;
    /// assert_eq!((&buf[..len], from), (&b"ping"[..], peer.local_addr()?));
    /// // Still queued: the receive gets the same datagram.
    /// let (len, _) = socket.recv_from(&mut buf).await?;
    /// assert_eq!(&buf[..len], b"ping");
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn peek_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.source
            .async_io(Direction::Read, |socket| socket.peek_from(buf))
            .await
    }

    /// Like [`recv`](UdpSocket::recv), from the connected peer, but the
    /// datagram stays queued: the next receive returns it again (tokio's
    /// and smol's `peek`).
    ///
    /// Cancel safe: it never takes a datagram off the queue.
    ///
    /// ```
    /// # eddy::run(async {
    /// # let socket = eddy::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// # let peer = eddy::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// socket.connect(peer.local_addr()?).await?;
    /// peer.send_to(b"ping", socket.local_addr()?).await?;
    /// let mut buf = [0; 16];
    /// let len = socket.peek(&mut buf).await?;
    /// assert_eq!(&buf[..len], b"ping");
    /// let len = socket.recv(&mut buf).await?; // the same datagram
    /// assert_eq!(&buf[..len], b"ping");
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn peek(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.source
            .async_io(Direction::Read, |socket| socket.peek(buf))
            .await
    }

    /// Sends to `target` now if the socket is known to be writable, else
    /// `WouldBlock`.
    pub fn try_send_to(&self, buf: &[u8], target: SocketAddr) -> io::Result<usize> {
        self.source
            .try_io(Interest::WRITABLE, || self.source.send_to(buf, target))
    }

    /// Receives now if a datagram is known to be queued, else `WouldBlock`.
    pub fn try_recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.source
            .try_io(Interest::READABLE, || self.source.recv_from(buf))
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.source.local_addr()
    }

    /// The connected peer's address (`NotConnected` before
    /// [`connect`](UdpSocket::connect)).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.source.peer_addr()
    }

    /// Sets `SO_BROADCAST`, which allows sending to a broadcast address.
    ///
    /// ```
    /// # eddy::run(async {
    /// let socket = eddy::net::UdpSocket::bind("127.0.0.1:0").await?;
    /// socket.set_broadcast(true)?;
    /// assert!(socket.broadcast()?);
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.source.set_broadcast(on)
    }

    /// Whether `SO_BROADCAST` is set.
    pub fn broadcast(&self) -> io::Result<bool> {
        self.source.broadcast()
    }

    /// Sets the IP time-to-live of sent datagrams.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.source.set_ttl(ttl)
    }

    /// The IP time-to-live of sent datagrams.
    pub fn ttl(&self) -> io::Result<u32> {
        self.source.ttl()
    }

    /// Sets whether multicast datagrams this socket sends loop back to the
    /// local host (IPv4).
    pub fn set_multicast_loop_v4(&self, on: bool) -> io::Result<()> {
        self.source.set_multicast_loop_v4(on)
    }

    /// Whether multicast datagrams loop back to the local host (IPv4).
    pub fn multicast_loop_v4(&self) -> io::Result<bool> {
        self.source.multicast_loop_v4()
    }

    /// Sets the time-to-live of multicast datagrams (IPv4).
    pub fn set_multicast_ttl_v4(&self, ttl: u32) -> io::Result<()> {
        self.source.set_multicast_ttl_v4(ttl)
    }

    /// The time-to-live of multicast datagrams (IPv4).
    pub fn multicast_ttl_v4(&self) -> io::Result<u32> {
        self.source.multicast_ttl_v4()
    }

    /// Joins the IPv4 multicast group `multiaddr` on the interface with
    /// address `interface` (`Ipv4Addr::UNSPECIFIED`: the OS picks one).
    pub fn join_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.source.join_multicast_v4(&multiaddr, &interface)
    }

    /// Leaves an IPv4 multicast group joined with
    /// [`join_multicast_v4`](UdpSocket::join_multicast_v4).
    pub fn leave_multicast_v4(&self, multiaddr: Ipv4Addr, interface: Ipv4Addr) -> io::Result<()> {
        self.source.leave_multicast_v4(&multiaddr, &interface)
    }

    /// Joins the IPv6 multicast group `multiaddr` on the interface with
    /// index `interface` (0: the OS picks one).
    pub fn join_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.source.join_multicast_v6(multiaddr, interface)
    }

    /// Leaves an IPv6 multicast group joined with
    /// [`join_multicast_v6`](UdpSocket::join_multicast_v6).
    pub fn leave_multicast_v6(&self, multiaddr: &Ipv6Addr, interface: u32) -> io::Result<()> {
        self.source.leave_multicast_v6(multiaddr, interface)
    }
}

impl_datagram_io!(
    UdpSocket,
    setup = "# let socket = eddy::net::UdpSocket::bind(\"127.0.0.1:0\").await?;\n\
             # let peer = eddy::net::UdpSocket::bind(\"127.0.0.1:0\").await?;\n\
             # socket.connect(peer.local_addr()?).await?;\n\
             # peer.connect(socket.local_addr()?).await?;"
);

impl_as_fd!(UdpSocket);
impl_try_from_std!(UdpSocket, std::net::UdpSocket);
