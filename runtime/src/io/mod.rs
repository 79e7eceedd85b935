//! Byte-stream helpers: the ecosystem's I/O traits and [`copy`](fn@copy);
//! on Unix, [`unix::AsyncFd`] for any non-blocking file descriptor.
//!
//! eddy's streams implement `futures-io`'s [`AsyncRead`] and
//! [`AsyncWrite`], the runtime-agnostic traits that `futures-util`,
//! `futures-lite` and many protocol crates build on.

mod copy;
#[cfg(unix)]
pub mod unix;
pub(crate) mod util;

pub use copy::copy;
pub use futures_io::{AsyncRead, AsyncWrite};
