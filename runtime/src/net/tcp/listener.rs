//! `TcpListener`: accepting connections.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::os::fd::AsFd;
use std::task::{Context, Poll};

use eddy_registration::Interest;

use super::TcpStream;
use crate::net::IoSource;
use crate::net::accept_backoff::AcceptBackoff;
use crate::net::addr::{first_addr, resolve};
use crate::net::as_fd::impl_as_fd;
use crate::net::try_from_std::impl_try_from_std;

/// A TCP socket listening for connections.
///
/// An echo server, one task per connection:
///
/// ```
/// # eddy::run(async {
/// let listener = eddy::net::TcpListener::bind("127.0.0.1:0").await?;
/// # let addr = listener.local_addr()?;
/// # let client = eddy::spawn(async move {
/// #     let mut stream = eddy::net::TcpStream::connect(addr).await?;
/// #     stream.write_all(b"ping").await?;
/// #     let mut reply = [0; 4];
/// #     stream.read_exact(&mut reply).await?;
/// #     Ok::<_, std::io::Error>(reply)
/// # });
/// loop {
///     let (mut stream, _peer) = listener.accept().await?;
///     eddy::spawn(async move {
///         let mut buf = [0; 4096];
///         while let Ok(n @ 1..) = stream.read(&mut buf).await {
///             if stream.write_all(&buf[..n]).await.is_err() {
///                 break;
///             }
///         }
///     });
/// #   break;
/// }
/// # assert_eq!(&client.await.unwrap()?, b"ping");
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct TcpListener {
    /// The registered mio listener.
    source: IoSource<mio::net::TcpListener>,
    /// Skips per-connection accept errors, pauses after running out of
    /// descriptors.
    backoff: AcceptBackoff,
    /// Whether the listener's `SO_LINGER` makes closing wait (read once,
    /// when it was made): accepted streams inherit the option, so their
    /// `Drop` must turn it off too (see `TcpStream`'s).
    lingers: bool,
}

impl TcpListener {
    /// Binds to `addr` (with `SO_REUSEADDR`, as servers expect) and listens
    /// with a backlog of 1024, trying each resolved address until one works.
    /// Port 0 asks the OS for a free port (see
    /// [`local_addr`](TcpListener::local_addr)).
    ///
    /// ```
    /// # eddy::run(async {
    /// let listener = eddy::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let addr = listener.local_addr()?;
    /// assert!(addr.ip().is_loopback());
    /// assert_ne!(addr.port(), 0); // the port the OS picked
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        TcpListener::bind_resolved(resolve(addr)?)
    }

    /// The rest of `bind`, which never waits: outside the generic `bind`,
    /// so it is compiled once, in eddy, rather than into every caller's
    /// `bind` future.
    fn bind_resolved(addrs: Vec<SocketAddr>) -> io::Result<TcpListener> {
        first_addr(addrs, |addr| TcpListener::from_mio(listen(addr)?))
    }

    /// Wraps a std listener (it is switched to non-blocking mode).
    ///
    /// Fails with `InvalidInput` if the socket is not a stream socket on
    /// which `listen(2)` was called. Fails outside a runtime, and the socket, which it has taken, is
    /// closed then.
    ///
    /// ```
    /// # eddy::run(async {
    /// let std_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// let listener = eddy::net::TcpListener::from_std(std_listener)?;
    /// let client = eddy::net::TcpStream::connect(listener.local_addr()?).await?;
    /// let (_stream, peer) = listener.accept().await?;
    /// assert_eq!(peer, client.local_addr()?);
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        crate::net::from_std_checks::check_listening_socket(&listener)?;
        listener.set_nonblocking(true)?;
        TcpListener::from_mio(mio::net::TcpListener::from_std(listener))
    }

    fn from_mio(listener: mio::net::TcpListener) -> io::Result<TcpListener> {
        let lingers = crate::sys::linger_blocks_close(listener.as_fd());
        Ok(TcpListener {
            source: IoSource::new(listener, Interest::READABLE)?,
            backoff: AcceptBackoff::default(),
            lingers,
        })
    }

    /// Deregisters the listener and returns it as a std listener, still in
    /// non-blocking mode.
    ///
    /// It also works once the runtime has shut down: it is how a socket
    /// leaves a runtime that is gone, for std or another runtime.
    pub fn into_std(self) -> io::Result<std::net::TcpListener> {
        Ok(self.source.into_inner()?.into())
    }

    /// Accepts the next connection.
    ///
    /// Errors about one failed connection (the peer reset it before it was
    /// accepted) are skipped. When the process is out of descriptors
    /// (`EMFILE`, `ENFILE`) or memory, the error is returned and the next
    /// call waits a moment first, so a plain `loop { accept }` neither spins
    /// nor dies and picks up again once descriptors free up. (The wait is an
    /// eddy timer: an `accept` polled off the runtime's thread, by another
    /// executor, skips it and returns the error again at once.)
    ///
    /// Any number of tasks may wait in `accept` on one listener (through an
    /// `Rc` or `Arc`); each connection goes to one of them.
    ///
    /// The stream joins the listener's runtime, wherever `accept` is
    /// polled: that runtime's driver reports its readiness.
    ///
    /// Cancel safe: dropped before it completes, it has accepted nothing;
    /// the connection waits in the backlog for the next `accept`.
    ///
    /// ```
    /// # eddy::run(async {
    /// let listener = eddy::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let mut client = eddy::net::TcpStream::connect(listener.local_addr()?).await?;
    /// let (mut stream, peer) = listener.accept().await?;
    /// assert_eq!(peer, client.local_addr()?);
    ///
    /// client.write_all(b"ping").await?;
    /// let mut buf = [0; 4];
    /// stream.read_exact(&mut buf).await?;
    /// assert_eq!(&buf, b"ping");
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (stream, peer) = self
            .backoff
            .accept(&self.source, |listener| listener.accept())
            .await?;
        let handle = self.source.registration().handle();
        Ok((
            TcpStream::from_accepted(stream, handle, self.lingers)?,
            peer,
        ))
    }

    /// Polls for the next connection (see [`accept`](TcpListener::accept)
    /// for the error handling; the backoff applies to `accept` only). Like
    /// every `poll_*` function it remembers only the latest caller's waker:
    /// tasks sharing a listener should use `accept`.
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        let accepted = self
            .backoff
            .poll_accept(cx, &self.source, |listener| listener.accept());
        let (stream, peer) = std::task::ready!(accepted)?;
        let handle = self.source.registration().handle();
        Poll::Ready(TcpStream::from_accepted(stream, handle, self.lingers).map(|s| (s, peer)))
    }

    /// The address the listener is bound to: with port 0 in
    /// [`bind`](TcpListener::bind), where to connect.
    ///
    /// ```
    /// # eddy::run(async {
    /// let listener = eddy::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let addr = listener.local_addr()?;
    /// let stream = eddy::net::TcpStream::connect(addr).await?;
    /// assert_eq!(stream.peer_addr()?, addr);
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.source.local_addr()
    }

    /// The IP time-to-live of accepted connections.
    pub fn ttl(&self) -> io::Result<u32> {
        self.source.ttl()
    }

    /// Sets the IP time-to-live of accepted connections.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.source.set_ttl(ttl)
    }
}

impl_as_fd!(TcpListener);
impl_try_from_std!(TcpListener, std::net::TcpListener);

/// How many connections the kernel may queue before `accept` takes them
/// (capped by `net.core.somaxconn`). std's `bind` asks for 128, which a
/// burst of connects made before the accept loop runs (a load test's
/// start) overflows: the kernel then resets the extra connections.
const BACKLOG: i32 = 1024;

/// A non-blocking listening socket with [`BACKLOG`] and `SO_REUSEADDR`
/// (which std's `bind` sets on Unix, so a restarted server can bind while
/// old connections sit in `TIME_WAIT`). Calling `listen` a second time is
/// how a socket's backlog is changed; nothing can connect in between that
/// the first backlog would not hold.
fn listen(addr: SocketAddr) -> io::Result<mio::net::TcpListener> {
    let listener = std::net::TcpListener::bind(addr)?;
    // Miri emulates one `listen` per socket and refuses the second: under
    // it the backlog stays std's 128, which no test fills (`scripts/miri`).
    if !cfg!(miri) {
        crate::sys::listen(listener.as_fd(), BACKLOG)?;
    }
    listener.set_nonblocking(true)?;
    Ok(mio::net::TcpListener::from_std(listener))
}
