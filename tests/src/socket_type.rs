//! What kind of socket a descriptor is, asked of the kernel.

use std::io;
use std::os::fd::{AsFd, AsRawFd};

/// The `SO_TYPE` of the socket behind `socket`'s descriptor
/// (`libc::SOCK_STREAM`, `libc::SOCK_DGRAM`, ...): proof that what an
/// `AsFd` impl lends is the socket itself.
///
/// # Panics
///
/// Panics if `getsockopt` fails (the descriptor is not a socket).
pub fn socket_type(socket: &impl AsFd) -> libc::c_int {
    let mut kind: libc::c_int = 0;
    let mut len = size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into `kind`, which is
    // exactly that large, and updates `len`.
    let rc = unsafe {
        libc::getsockopt(
            socket.as_fd().as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_TYPE,
            (&raw mut kind).cast(),
            &mut len,
        )
    };
    assert_eq!(rc, 0, "getsockopt(SO_TYPE): {}", io::Error::last_os_error());
    kind
}
