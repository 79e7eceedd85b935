//! [`lookup_host`]: name resolution that does not stall the runtime.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::vec;

use crate::runtime::context;

/// Resolves `host` (`"example.com:80"`, `("example.com", 80)` with an owned
/// name, or an address) to its socket addresses on the blocking pool, so
/// that a slow DNS server holds up no other task.
///
/// `TcpStream::connect`, `TcpListener::bind` and `UdpSocket::send_to` also
/// take host names, but resolve them on the runtime's own thread, as
/// `std` does: fine for IP literals and `/etc/hosts` names, not for a name
/// whose lookup may take seconds. Resolve such a name here first and pass
/// the addresses on.
///
/// # Errors
///
/// The resolver's error (no such host, no port in `"example.com"`), an
/// error when called outside an eddy runtime, or one when the blocking
/// pool could not run the lookup (the runtime is shutting down, or no
/// thread could start).
///
/// ```
/// # eddy::run(async {
/// # let listener = eddy::net::TcpListener::bind("127.0.0.1:0").await?;
/// # let port = listener.local_addr()?.port();
/// let addrs: Vec<_> = eddy::net::lookup_host(("localhost", port)).await?.collect();
/// assert!(addrs.iter().all(|addr| addr.ip().is_loopback()));
/// // Tries each address until one accepts.
/// let stream = eddy::net::TcpStream::connect(&addrs[..]).await?;
/// # assert_eq!(stream.peer_addr()?, listener.local_addr()?);
/// # Ok::<(), std::io::Error>(())
/// # }).unwrap();
/// ```
pub async fn lookup_host(
    host: impl ToSocketAddrs + Send + 'static,
) -> io::Result<vec::IntoIter<SocketAddr>> {
    if !context::is_inside_runtime() {
        // Not `outside_runtime_error`, which speaks of creating an I/O
        // object: a lookup creates none.
        return Err(io::Error::other(
            "eddy::net::lookup_host must be called inside an eddy runtime \
             (in `block_on` or a task): its lookup runs on the runtime's blocking pool",
        ));
    }
    let lookup = crate::task::spawn_blocking(move || {
        host.to_socket_addrs()
            .map(|addrs| addrs.collect::<Vec<_>>())
    });
    match lookup.await {
        Ok(resolved) => Ok(resolved?.into_iter()),
        Err(join_error) => Err(io::Error::other(format!(
            "eddy::net::lookup_host: the lookup did not run to the end: {join_error}"
        ))),
    }
}
