//! [`connected`]: the wait for a non-blocking connect to finish, shared by
//! TCP and Unix streams.

use std::io;
use std::os::fd::AsFd;

use eddy_registration::Interest;

use super::IoSource;
use crate::sys;

/// Waits for a non-blocking connect started on this socket to finish:
/// it has when the socket turns writable and `SO_ERROR` holds no error,
/// and `peer` (the socket's `peer_addr`) confirms it. Writable with no
/// error can also be a spurious event while the connect is still under
/// way (`peer` says `NotConnected`): then it waits for the next event,
/// as mio says to (failing there failed connects still under way,
/// finding 53), unless the socket is closed for writing, which no later
/// event would change (net rule 6).
pub(crate) async fn connected<E: mio::event::Source + AsFd>(
    source: &IoSource<E>,
    peer: impl Fn(&E) -> io::Result<()>,
) -> io::Result<()> {
    loop {
        let event = source.registration().readiness(Interest::WRITABLE).await?;
        if let Some(error) = sys::take_error(source.fd())? {
            return Err(error);
        }
        match peer(source) {
            Ok(()) => return Ok(()),
            Err(error)
                if error.kind() == io::ErrorKind::NotConnected
                    && !event.ready.is_write_closed() =>
            {
                source.registration().clear_readiness(event);
            }
            Err(error) if error.kind() == io::ErrorKind::NotConnected => {
                return Err(io::Error::new(
                    io::ErrorKind::ConnectionRefused,
                    "connection failed",
                ));
            }
            Err(error) => return Err(error),
        }
    }
}
