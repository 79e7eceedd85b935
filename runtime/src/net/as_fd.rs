//! [`impl_as_fd!`]: `AsFd` and `AsRawFd` for every socket type.

/// Implements `AsFd` and `AsRawFd` for a socket type through its
/// `IoSource` (the field `source`).
///
/// They are how a user reaches what eddy does not wrap: socket options
/// such as `SO_KEEPALIVE` or `TCP_QUICKACK` (for example through
/// `socket2::SockRef::from(&stream)`), `getsockopt` for diagnostics, or an
/// `fstat`. The descriptor is only lent: closing it, or making it
/// blocking, would break the socket the caller borrowed it from, as with
/// any `AsFd` type. A macro because each is a foreign trait implemented
/// on a public type, one line per type instead of ten.
///
/// Through `IoSource::fd` as a method call, so that it also reaches a source
/// kept in a `ManuallyDrop` (`TcpStream`'s) through its `Deref`.
macro_rules! impl_as_fd {
    ($socket:ty) => {
        impl std::os::fd::AsFd for $socket {
            fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
                self.source.fd()
            }
        }

        impl std::os::fd::AsRawFd for $socket {
            fn as_raw_fd(&self) -> std::os::fd::RawFd {
                std::os::fd::AsRawFd::as_raw_fd(&self.source.fd())
            }
        }
    };
}
pub(crate) use impl_as_fd;
