//! Byte-stream helpers: the ecosystem's I/O traits and [`copy`](fn@copy);
//! on Unix, [`unix::AsyncFd`] for any non-blocking file descriptor.
//!
//! eddy's streams implement `futures-io`'s [`AsyncRead`] and
//! [`AsyncWrite`], the runtime-agnostic traits that `futures-util`,
//! `futures-lite` and many protocol crates build on. eddy has no buffered
//! reader or extension traits of its own: those crates' work on eddy's
//! streams unchanged. Reading lines with `futures-lite`'s `BufReader`:
//!
//! ```
//! use futures_lite::io::{AsyncBufReadExt, BufReader};
//! use futures_lite::StreamExt;
//! # eddy::run(async {
//! # let listener = eddy::net::TcpListener::bind("127.0.0.1:0").await?;
//! # let mut peer = eddy::net::TcpStream::connect(listener.local_addr()?).await?;
//! # peer.write_all(b"hello\nworld\n").await?;
//! # drop(peer);
//! let (stream, _) = listener.accept().await?;
//! let mut lines = BufReader::new(stream).lines();
//! let mut received = Vec::new();
//! while let Some(line) = lines.next().await {
//!     received.push(line?);
//! }
//! assert_eq!(received, ["hello", "world"]);
//! # Ok::<(), std::io::Error>(())
//! # }).unwrap();
//! ```

mod copy;
#[cfg(unix)]
pub mod unix;
pub(crate) mod util;

pub use copy::copy;
pub use futures_io::{AsyncRead, AsyncWrite};
