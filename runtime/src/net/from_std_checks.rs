//! What `from_std` checks of the socket it is handed (net rule 12). The
//! kernel answers an operation on a socket of the wrong type or state at
//! once, but eddy waits for readiness before it asks, and readiness that
//! such a socket never reports made the operation wait forever where
//! std's fails (findings 5, 36).

use std::io;
use std::os::fd::AsFd;

/// Refuses a socket that is not a listening stream socket. `accept(2)` on
/// a datagram socket fails with `EOPNOTSUPP` forever, which the accept
/// loop would take for a per-connection error and retry at full speed. On
/// a stream socket that is not listening (connected, or never `listen`ed)
/// it fails with `EINVAL`, but only once the socket turns readable, which
/// a connected stream whose peer is silent never does: the `accept` waited
/// forever where std's fails at once.
pub(crate) fn check_listening_socket(socket: &impl AsFd) -> io::Result<()> {
    if !crate::sys::is_stream_socket(socket.as_fd())? {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a listener needs a stream socket (SOCK_STREAM)",
        ));
    }
    if !crate::sys::is_listening(socket.as_fd())? {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a listener needs a listening socket (listen(2) was not called on it)",
        ));
    }
    Ok(())
}

/// Refuses a listening socket handed to a stream's `from_std`: `recv(2)`
/// and `send(2)` on it fail at once (`ENOTCONN`, `EPIPE`), but only once
/// it turns readable or writable, which a listening socket does only when
/// a client connects: a read or write waited for that, with no client
/// forever, where std's fails at once.
pub(crate) fn check_not_listening(socket: &impl AsFd) -> io::Result<()> {
    if crate::sys::is_listening(socket.as_fd())? {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a stream needs a connected socket, not a listening one",
        ));
    }
    Ok(())
}

/// Refuses a stream socket handed to a datagram socket's `from_std`: a
/// listening one turns readable only when a client connects, so a
/// `recv_from` waited for that, with no client forever, and a connected
/// one would carry a byte stream cut into arbitrary "datagrams".
pub(crate) fn check_datagram_socket(socket: &impl AsFd) -> io::Result<()> {
    if crate::sys::is_stream_socket(socket.as_fd())? {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a datagram socket needs a datagram socket (SOCK_DGRAM), not a stream one",
        ));
    }
    Ok(())
}
