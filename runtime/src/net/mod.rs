//! Networking: TCP, UDP and Unix-domain sockets driven by the runtime.
//!
//! Every socket type is a thin shell around `IoSource`: a non-blocking
//! `mio` socket plus its registration with the runtime's I/O driver. An
//! operation first reads the socket's readiness word (no syscall): only
//! when the driver has reported the direction ready does it make the
//! syscall, and on `WouldBlock` it clears that readiness and parks the
//! task's waker in the socket's `ScheduledIo` until the driver sees the
//! next event (a waker also parks at once when the word says not ready).
//! Sockets must be
//! created inside a runtime (they register with the one running on this
//! thread); once that runtime shuts down, every operation on them fails
//! with an error that [`crate::is_shutdown_error`] recognises. Readiness
//! comes only from the driver of the runtime a socket registered with,
//! which turns while that runtime runs (inside its `block_on`): a socket
//! handed to a task of another runtime waits, data or not, while its own
//! runtime sits idle. To move a socket to another runtime for good, pass
//! it through `into_std` and `from_std`.
//!
//! Addresses are anything `std::net::ToSocketAddrs` takes. Host names in
//! `connect`, `bind` and `send_to` are resolved on the runtime's thread, as
//! `std` resolves them: instant for IP literals and `/etc/hosts` names, but
//! a slow DNS server would stall every task; [`lookup_host`](fn@lookup_host) resolves a
//! name on the blocking pool instead.
//!
//! Every socket type converts from its std counterpart with `from_std` or
//! `TryFrom` (as tokio's and smol's do), and back with `into_std`.
//!
//! Every socket type implements `AsFd` and `AsRawFd`, for the socket
//! options eddy does not wrap (`socket2::SockRef::from(&stream)` takes any
//! `AsFd`). The byte streams (`TcpStream`, `UnixStream` and their owned and
//! borrowed halves) implement `futures-io`'s `AsyncRead` and `AsyncWrite`,
//! so `futures-lite`'s and `futures-util`'s extension traits and buffered
//! readers work on them; reading and writing take `&mut`, so two tasks
//! share a stream through `into_split`, not through `&TcpStream`.

mod accept_backoff;
mod addr;
mod as_fd;
mod connect;
mod datagram_io;
mod from_std_checks;
mod io_source;
mod lookup_host;
pub mod split;
pub mod tcp;
mod try_from_std;
mod udp;
#[cfg(unix)]
pub mod unix;

pub(crate) use io_source::IoSource;
pub use lookup_host::lookup_host;
pub use tcp::{TcpListener, TcpStream};
pub use udp::UdpSocket;
#[cfg(unix)]
pub use unix::{UnixDatagram, UnixListener, UnixStream};

/// Runs `connect` again for as long as it fails with `Interrupted`, so
/// that `EINTR` never reaches the caller (as no other socket call lets
/// it). A stream's `connect` makes its socket too, and mio closes the
/// socket at the error, so the retry starts over with a new one; a
/// datagram socket's `connect` just sets its peer again.
pub(crate) fn connect_retrying_interrupted<S>(
    mut connect: impl FnMut() -> std::io::Result<S>,
) -> std::io::Result<S> {
    loop {
        match connect() {
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            result => return result,
        }
    }
}
