//! The read and write halves of a stream, written once for TCP and Unix
//! streams.
//!
//! A stream socket is full duplex: one task may read while another writes.
//! [`TcpStream::split`](crate::net::TcpStream::split) lends both halves for
//! use inside one task (for example to race a read against a write);
//! [`TcpStream::into_split`](crate::net::TcpStream::into_split) gives owned
//! halves that can move to different tasks, and
//! [`OwnedReadHalf::reunite`] puts them back together. `UnixStream` has the
//! same pair of methods.
//!
//! The halves are generic over the stream, and usually named through the
//! aliases in [`net::tcp`](crate::net::tcp) and
//! [`net::unix`](crate::net::unix) (`tcp::OwnedReadHalf` is
//! `OwnedReadHalf<TcpStream>`), which also add what only one stream has
//! (TCP's `peek`). Only eddy's streams can be split: the trait the halves
//! require is sealed.
//!
//! # Implementation
//!
//! Both halves reach the same socket and registration, shared by reference
//! or by `Arc`; readiness for reading and writing is tracked separately in
//! the socket's `ScheduledIo`, so neither half steals the other's
//! wake-ups. The owned write half shuts the write side down when dropped,
//! except inside `reunite`.

mod borrowed;
mod half_io;
mod owned_read_half;
mod owned_write_half;
mod reunite_error;
mod split_stream;
mod stream_io;

pub(crate) use borrowed::split;
pub use borrowed::{ReadHalf, WriteHalf};
pub use owned_read_half::OwnedReadHalf;
pub use owned_write_half::OwnedWriteHalf;
pub(crate) use owned_write_half::into_split;
pub use reunite_error::ReuniteError;
pub(crate) use split_stream::SplitStream;
pub(crate) use stream_io::{impl_futures_io, impl_stream_io};
