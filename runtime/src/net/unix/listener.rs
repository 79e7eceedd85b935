//! `UnixListener`: accepting Unix-domain stream connections.

use std::io;
use std::os::unix::net::SocketAddr;
use std::path::Path;
use std::task::{Context, Poll};

use eddy_registration::Interest;

use super::UnixStream;
use crate::net::IoSource;
use crate::net::accept_backoff::AcceptBackoff;
use crate::net::as_fd::impl_as_fd;
use crate::net::try_from_std::impl_try_from_std;

/// A Unix-domain socket listening for connections.
///
/// Binding creates the socket file; dropping the listener does not remove
/// it (as with std), so remove the path yourself when done.
///
/// ```
/// # eddy::run(async {
/// let path = std::env::temp_dir().join(format!("eddy-doc-{}.sock", std::process::id()));
/// # let _ = std::fs::remove_file(&path);
/// let listener = eddy::net::UnixListener::bind(&path)?;
/// # let client = eddy::spawn({
/// #     let path = path.clone();
/// #     async move {
/// #         let mut stream = eddy::net::UnixStream::connect(path).await?;
/// #         stream.write_all(b"ping").await?;
/// #         let mut reply = [0; 4];
/// #         stream.read_exact(&mut reply).await?;
/// #         Ok::<_, std::io::Error>(reply)
/// #     }
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
/// std::fs::remove_file(&path)?;
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
pub struct UnixListener {
    /// The registered mio listener.
    source: IoSource<mio::net::UnixListener>,
    /// Skips per-connection accept errors, pauses after running out of
    /// descriptors.
    backoff: AcceptBackoff,
}

impl UnixListener {
    /// Creates a socket file at `path` and listens on it. Fails with
    /// `AddrInUse` if the file exists.
    ///
    /// Fails outside a runtime.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        let path = path.as_ref();
        let socket = mio::net::UnixListener::bind(path)?;
        // `bind` created the socket file; if registering fails (no runtime
        // here), remove it again, or every retry would fail with AddrInUse.
        UnixListener::from_mio(socket).inspect_err(|_| {
            let _ = std::fs::remove_file(path);
        })
    }

    /// Wraps a std listener (it is switched to non-blocking mode).
    ///
    /// Fails with `InvalidInput` if the socket is not a stream socket on
    /// which `listen(2)` was called. Fails outside a runtime, and the socket, which it has taken, is
    /// closed then.
    pub fn from_std(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        crate::net::from_std_checks::check_listening_socket(&listener)?;
        listener.set_nonblocking(true)?;
        UnixListener::from_mio(mio::net::UnixListener::from_std(listener))
    }

    fn from_mio(listener: mio::net::UnixListener) -> io::Result<UnixListener> {
        Ok(UnixListener {
            source: IoSource::new(listener, Interest::READABLE)?,
            backoff: AcceptBackoff::default(),
        })
    }

    /// Deregisters the listener and returns it as a std listener, still in
    /// non-blocking mode.
    ///
    /// It also works once the runtime has shut down: it is how a socket
    /// leaves a runtime that is gone, for std or another runtime.
    pub fn into_std(self) -> io::Result<std::os::unix::net::UnixListener> {
        Ok(self.source.into_inner()?.into())
    }

    /// Accepts the next connection. The peer's address is usually unnamed:
    /// a connecting socket rarely binds a path.
    ///
    /// Errors are handled as by
    /// [`TcpListener::accept`](crate::net::TcpListener::accept): errors
    /// about one connection are skipped; when out of descriptors or memory
    /// the error is returned and the next call waits a moment first. The
    /// stream joins the listener's runtime, as there.
    ///
    /// Cancel safe: dropped before it completes, it has accepted nothing;
    /// the connection waits in the backlog for the next `accept`.
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let (stream, peer) = self
            .backoff
            .accept(&self.source, |listener| listener.accept())
            .await?;
        let handle = self.source.registration().handle();
        Ok((UnixStream::from_accepted(stream, handle)?, peer))
    }

    /// Polls for the next connection (see [`accept`](UnixListener::accept)
    /// for the error handling; the backoff applies to `accept` only).
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        let accepted = self
            .backoff
            .poll_accept(cx, &self.source, |listener| listener.accept());
        let (stream, peer) = std::task::ready!(accepted)?;
        let handle = self.source.registration().handle();
        Poll::Ready(UnixStream::from_accepted(stream, handle).map(|s| (s, peer)))
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.source.local_addr()
    }

    /// Takes the pending socket error (`SO_ERROR`), if any.
    pub fn take_error(&self) -> io::Result<Option<io::Error>> {
        self.source.take_error()
    }
}

impl_as_fd!(UnixListener);
impl_try_from_std!(UnixListener, std::os::unix::net::UnixListener);
