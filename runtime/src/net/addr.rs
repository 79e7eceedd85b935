//! Resolving the addresses a `bind` or `connect` is given.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

/// Resolves `addr` to its socket addresses, failing with a clear error when
/// it names none. IP literals resolve without a lookup; host names go
/// through the system resolver (`getaddrinfo`), which may block briefly.
pub(crate) fn resolve(addr: impl ToSocketAddrs) -> io::Result<Vec<SocketAddr>> {
    let addrs: Vec<SocketAddr> = addr.to_socket_addrs()?.collect();
    if addrs.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the address resolved to no socket address",
        ));
    }
    Ok(addrs)
}

/// Tries `f` on each address in turn and returns the first success, or the
/// last error. For a step that waits (a TCP connect); see [`first_addr`]
/// for one that does not.
pub(crate) async fn each_addr<T, F, Fut>(addrs: Vec<SocketAddr>, mut f: F) -> io::Result<T>
where
    F: FnMut(SocketAddr) -> Fut,
    Fut: std::future::Future<Output = io::Result<T>>,
{
    let mut last_error = None;
    for addr in addrs {
        match f(addr).await {
            Ok(value) => return Ok(value),
            Err(error) => last_error = Some(error),
        }
    }
    Err(last_error.expect("resolve never returns an empty list"))
}

/// [`each_addr`] for a step that never waits (binding a socket, setting a
/// UDP socket's peer): a plain loop, without a future for the caller to
/// compile around it.
pub(crate) fn first_addr<T>(
    addrs: Vec<SocketAddr>,
    mut f: impl FnMut(SocketAddr) -> io::Result<T>,
) -> io::Result<T> {
    let mut last_error = None;
    for addr in addrs {
        match f(addr) {
            Ok(value) => return Ok(value),
            Err(error) => last_error = Some(error),
        }
    }
    Err(last_error.expect("resolve never returns an empty list"))
}
