//! [`OwnedReadHalf`]: the read half `into_split` gives away.

use std::io;
use std::sync::Arc;

use super::{OwnedWriteHalf, ReuniteError, SplitStream};

/// The owned read half from `into_split`.
#[derive(Debug)]
pub struct OwnedReadHalf<S> {
    /// The stream, shared with the write half.
    pub(crate) stream: Arc<S>,
}

impl<S: SplitStream> OwnedReadHalf<S> {
    /// Reads now if the stream is known to be readable, else
    /// `WouldBlock`: with [`readable`](OwnedReadHalf::readable), a read
    /// loop that needs no `&mut`.
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.stream.try_read_priv(buf)
    }

    /// Waits until the stream is readable (or closed, or in error). It may
    /// also complete with nothing to read, when `try_read` then returns
    /// `WouldBlock`: see the stream's `readable`.
    pub async fn readable(&self) -> io::Result<()> {
        self.stream.readable().await
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> io::Result<S::Addr> {
        self.stream.peer_addr()
    }

    /// The local address.
    pub fn local_addr(&self) -> io::Result<S::Addr> {
        self.stream.local_addr()
    }

    /// Puts the halves back together, if they came from the same stream.
    ///
    /// ```
    /// # eddy::run(async {
    /// # let listener = eddy::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let stream = eddy::net::TcpStream::connect(listener.local_addr()?).await?;
    /// # let (mut peer, _) = listener.accept().await?;
    /// let (reader, writer) = stream.into_split();
    /// let mut stream = reader.reunite(writer).expect("halves of one stream");
    /// stream.write_all(b"whole again").await?; // the write side is still open
    /// # let mut buf = [0; 11];
    /// # peer.read_exact(&mut buf).await?;
    /// # assert_eq!(&buf, b"whole again");
    /// # Ok::<(), std::io::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn reunite(self, mut other: OwnedWriteHalf<S>) -> Result<S, ReuniteError<S>> {
        if !Arc::ptr_eq(&self.stream, &other.stream) {
            return Err(ReuniteError(self, other));
        }
        other.shutdown_on_drop = false;
        let stream = other.stream.clone();
        drop(other);
        drop(self);
        Ok(Arc::try_unwrap(stream).expect("both halves were just dropped"))
    }
}
