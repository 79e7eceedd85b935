//! Registering the tests' sockets without an `unsafe` block at every call.

use std::io;
use std::sync::Arc;

use eddy_io_driver::{Handle, Registration};
use eddy_registration::{Interest, ScheduledIo};

/// One of mio's sockets: its `register` registers only its own fd, under
/// the token it is given, and leaves nothing behind when it fails, which
/// is the contract of `Handle::add_source` and `Registration::new`.
pub(crate) trait MioSocket: mio::event::Source {}

impl MioSocket for mio::net::TcpStream {}
impl MioSocket for mio::net::TcpListener {}
impl MioSocket for mio::net::UdpSocket {}
impl MioSocket for mio::net::UnixStream {}

/// `Registration::new` for a mio socket.
pub(crate) fn register(
    socket: &mut impl MioSocket,
    interest: Interest,
    handle: &Handle,
) -> io::Result<Registration> {
    // SAFETY: a mio socket keeps the contract (see `MioSocket`).
    unsafe { Registration::new(socket, interest, handle) }
}

/// `Handle::add_source` for a mio socket.
pub(crate) fn add_source(
    handle: &Handle,
    socket: &mut impl MioSocket,
    interest: Interest,
) -> io::Result<Arc<ScheduledIo>> {
    // SAFETY: a mio socket keeps the contract (see `MioSocket`).
    unsafe { handle.add_source(socket, interest) }
}
