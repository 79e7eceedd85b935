//! Byte-stream helpers: the ecosystem's I/O traits and [`copy`](fn@copy).
//!
//! eddy's streams implement `futures-io`'s [`AsyncRead`] and
//! [`AsyncWrite`], the runtime-agnostic traits that `futures-util`,
//! `futures-lite` and many protocol crates build on.

mod copy;
pub(crate) mod util;

pub use copy::copy;
pub use futures_io::{AsyncRead, AsyncWrite};
