//! Unix-domain sockets: listeners, streams, stream halves and datagrams.
//!
//! They mirror the TCP and UDP types, with filesystem paths (or no name at
//! all, for `pair` and `unbound`) instead of IP addresses. Addresses are
//! `std::os::unix::net::SocketAddr`.

mod datagram;
mod listener;
mod split;
mod stream;

pub use datagram::UnixDatagram;
pub use listener::UnixListener;
pub use split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, WriteHalf};
pub use stream::UnixStream;
