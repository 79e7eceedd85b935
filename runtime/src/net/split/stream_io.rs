//! The methods and trait impls every whole stream type gets from its
//! [`SplitStream`](super::SplitStream) impl, as macros: `impl_futures_io!`
//! and `impl_stream_io!`.

/// Implements `futures-io`'s `AsyncRead` and `AsyncWrite` for a stream type
/// through its [`SplitStream`](super::SplitStream) impl. A macro only
/// because the traits are foreign: one blanket impl over every
/// `SplitStream` is not allowed.
macro_rules! impl_futures_io {
    ($stream:ty) => {
        impl futures_io::AsyncRead for $stream {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                $crate::net::split::SplitStream::poll_read_priv(&*self, cx, buf)
            }
        }

        impl futures_io::AsyncWrite for $stream {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                $crate::net::split::SplitStream::poll_write_priv(&*self, cx, buf)
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                $crate::net::split::SplitStream::poll_write_vectored_priv(&*self, cx, bufs)
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                // Writes go straight to the kernel: there is nothing to flush.
                std::task::Poll::Ready(Ok(()))
            }

            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                $crate::net::split::SplitStream::poll_shutdown_write(&*self)
            }
        }
    };
}
pub(crate) use impl_futures_io;

/// The byte-stream methods every whole stream type has (`read`,
/// `read_exact`, `write`, `write_all`, `try_read`, `try_write`, `readable`,
/// `writable`, `poll_read_ready`, `poll_write_ready`, `shutdown`,
/// `take_error`), written once through its
/// [`SplitStream`](super::SplitStream) impl and its `IoSource`. A macro because they are inherent methods of each
/// public type, where users look for them. `read` and friends return their
/// `poll_fn` or a hand-written future rather than being `async fn`s: they
/// are on every echo round trip, and the generated state machines cost ~40
/// instructions there (callgrind).
///
/// `setup` is the hidden first lines of every method's doc example: they
/// make `stream` and `peer`, the two connected ends of a stream of this
/// type (`let mut`), inside an `eddy::run` whose block returns
/// `io::Result<()>`. So each example runs, for each type, over a real
/// socket.
macro_rules! impl_stream_io {
    ($stream:ty, setup = $setup:literal) => {
        impl $stream {
            /// Reads now if the socket is known to be readable, else
            /// `WouldBlock`: it never waits. Known means the driver has
            /// reported the socket readable since the last `WouldBlock`
            /// (see [`readable`](Self::readable) for the loop).
            ///
            /// ```
            /// use std::io::ErrorKind;
            /// # eddy::run(async {
            #[doc = $setup]
            /// let mut buf = [0; 4];
            /// // Nothing was sent: no waiting, just `WouldBlock`.
            /// let error = stream.try_read(&mut buf).unwrap_err();
            /// assert_eq!(error.kind(), ErrorKind::WouldBlock);
            ///
            /// peer.write_all(b"ping").await?;
            /// stream.readable().await?;
            /// let n = stream.try_read(&mut buf)?;
            /// assert_eq!(&buf[..n], b"ping");
            /// # Ok::<(), std::io::Error>(())
            /// # }).unwrap();
            /// ```
            pub fn try_read(&self, buf: &mut [u8]) -> std::io::Result<usize> {
                self.source.try_read_stream(buf)
            }

            /// Writes now if the socket is known to be writable, else
            /// `WouldBlock` (see [`writable`](Self::writable) for the
            /// loop).
            ///
            /// ```
            /// # eddy::run(async {
            #[doc = $setup]
            /// stream.writable().await?;
            /// let n = stream.try_write(b"ping")?;
            /// let mut buf = [0; 4];
            /// peer.read_exact(&mut buf[..n]).await?;
            /// assert_eq!(&buf[..n], &b"ping"[..n]);
            /// # Ok::<(), std::io::Error>(())
            /// # }).unwrap();
            /// ```
            pub fn try_write(&self, buf: &[u8]) -> std::io::Result<usize> {
                self.source.try_write_stream(buf)
            }

            /// Waits until the socket is readable (or closed, or in error).
            ///
            /// It may also complete with nothing to read: readiness is kept
            /// after a read that filled its buffer, and a poller may report
            /// an event that is not there. A `try_read` then returns
            /// `WouldBlock` (and clears the readiness): loop back to
            /// `readable`.
            ///
            /// Cancel safe: dropped before it completes, it leaves no wake
            /// behind; the next wait is woken by the next bytes.
            ///
            /// ```
            /// use std::io::ErrorKind;
            /// # eddy::run(async {
            #[doc = $setup]
            /// # peer.write_all(b"ping").await?;
            /// let mut buf = [0; 1024];
            /// let n = loop {
            ///     stream.readable().await?;
            ///     match stream.try_read(&mut buf) {
            ///         Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
            ///         read => break read?,
            ///     }
            /// };
            /// assert_eq!(&buf[..n], b"ping");
            /// # Ok::<(), std::io::Error>(())
            /// # }).unwrap();
            /// ```
            pub async fn readable(&self) -> std::io::Result<()> {
                self.source
                    .ready(eddy_registration::Interest::READABLE)
                    .await
            }

            /// Waits until the socket is writable (or closed, or in error).
            /// Like `readable`, it may complete when a `try_write` would
            /// still return `WouldBlock`.
            ///
            /// Cancel safe: dropped before it completes, it leaves no wake
            /// behind.
            ///
            /// ```
            /// use std::io::ErrorKind;
            /// # eddy::run(async {
            #[doc = $setup]
            /// let mut unsent: &[u8] = b"ping";
            /// while !unsent.is_empty() {
            ///     stream.writable().await?;
            ///     match stream.try_write(unsent) {
            ///         Ok(n) => unsent = &unsent[n..],
            ///         Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            ///         Err(e) => return Err(e),
            ///     }
            /// }
            /// let mut buf = [0; 4];
            /// peer.read_exact(&mut buf).await?;
            /// assert_eq!(&buf, b"ping");
            /// # Ok::<(), std::io::Error>(())
            /// # }).unwrap();
            /// ```
            pub async fn writable(&self) -> std::io::Result<()> {
                self.source
                    .ready(eddy_registration::Interest::WRITABLE)
                    .await
            }

            /// Polls for read readiness (readable, closed or in error): the
            /// poll form of `readable`, for a hand-written future or
            /// `AsyncRead` that reads with `try_read` (tokio's
            /// `poll_read_ready`, smol's `poll_readable`). `Ready` spends
            /// one unit of the task's budget, as a read does, so such a
            /// loop over a socket that stays ready still lets others run.
            ///
            /// The stream keeps one waker for this direction, shared with
            /// `read` and `AsyncRead`: only the task that polled last is
            /// woken. Tasks that wait together use `readable`.
            pub fn poll_read_ready(
                &self,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                self.source
                    .poll_ready(cx, eddy_registration::Direction::Read)
            }

            /// Polls for write readiness (writable, closed or in error):
            /// the poll form of `writable`, for a hand-written future or
            /// `AsyncWrite` that writes with `try_write` (tokio's
            /// `poll_write_ready`, smol's `poll_writable`). Budget and
            /// waker as for [`poll_read_ready`](Self::poll_read_ready).
            pub fn poll_write_ready(
                &self,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                self.source
                    .poll_ready(cx, eddy_registration::Direction::Write)
            }

            /// Shuts down the read side, the write side, or both. After
            /// `Shutdown::Write` the peer reads end-of-stream once it has
            /// read everything sent before, and writes fail with
            /// `BrokenPipe`.
            ///
            /// ```
            /// use std::net::Shutdown;
            /// # eddy::run(async {
            #[doc = $setup]
            /// stream.write_all(b"last words").await?;
            /// stream.shutdown(Shutdown::Write)?;
            /// let mut buf = [0; 10];
            /// peer.read_exact(&mut buf).await?;
            /// assert_eq!(peer.read(&mut buf).await?, 0); // end of stream
            /// # Ok::<(), std::io::Error>(())
            /// # }).unwrap();
            /// ```
            pub fn shutdown(&self, how: std::net::Shutdown) -> std::io::Result<()> {
                self.source.shutdown(how)?;
                if how != std::net::Shutdown::Read {
                    self.source.mark_write_shut_down();
                }
                Ok(())
            }

            /// Takes the pending socket error (`SO_ERROR`), if any.
            ///
            /// ```
            /// # eddy::run(async {
            #[doc = $setup]
            /// assert!(stream.take_error()?.is_none());
            /// # Ok::<(), std::io::Error>(())
            /// # }).unwrap();
            /// ```
            pub fn take_error(&self) -> std::io::Result<Option<std::io::Error>> {
                self.source.take_error()
            }

            /// Reads some bytes into `buf`; `Ok(0)` means the peer closed its
            /// side (or `buf` is empty).
            ///
            /// Cancel safe: dropped before it completes, it has read nothing.
            ///
            /// ```
            /// # eddy::run(async {
            #[doc = $setup]
            /// peer.write_all(b"hello").await?;
            /// drop(peer);
            /// let mut buf = [0; 1024];
            /// let mut received = Vec::new();
            /// loop {
            ///     match stream.read(&mut buf).await? {
            ///         0 => break, // the peer closed its side
            ///         n => received.extend_from_slice(&buf[..n]),
            ///     }
            /// }
            /// assert_eq!(received, b"hello");
            /// # Ok::<(), std::io::Error>(())
            /// # }).unwrap();
            /// ```
            pub fn read(
                &mut self,
                buf: &mut [u8],
            ) -> impl std::future::Future<Output = std::io::Result<usize>> {
                std::future::poll_fn(move |cx| {
                    $crate::net::split::SplitStream::poll_read_priv(&*self, cx, buf)
                })
            }

            /// Reads exactly `buf.len()` bytes, or fails with `UnexpectedEof`.
            ///
            /// Not cancel safe: dropped before it completes, it may have read
            /// some bytes into `buf`, and how many is lost with it.
            ///
            /// ```
            /// use std::io::ErrorKind;
            /// # eddy::run(async {
            #[doc = $setup]
            /// peer.write_all(b"abcdef").await?;
            /// drop(peer);
            /// let mut header = [0; 4];
            /// stream.read_exact(&mut header).await?;
            /// assert_eq!(&header, b"abcd");
            /// // Two bytes are left, and the peer has closed: not enough.
            /// let error = stream.read_exact(&mut header).await.unwrap_err();
            /// assert_eq!(error.kind(), ErrorKind::UnexpectedEof);
            /// # Ok::<(), std::io::Error>(())
            /// # }).unwrap();
            /// ```
            pub fn read_exact(
                &mut self,
                buf: &mut [u8],
            ) -> impl std::future::Future<Output = std::io::Result<()>> {
                $crate::io::util::read_exact(buf, move |cx, buf| {
                    $crate::net::split::SplitStream::poll_read_priv(&*self, cx, buf)
                })
            }

            /// Writes some bytes of `buf`, returning how many.
            ///
            /// Cancel safe: dropped before it completes, it has written
            /// nothing.
            ///
            /// ```
            /// # eddy::run(async {
            #[doc = $setup]
            /// let n = stream.write(b"ping").await?; // 1 to 4 bytes
            /// let mut buf = [0; 4];
            /// peer.read_exact(&mut buf[..n]).await?;
            /// assert_eq!(&buf[..n], &b"ping"[..n]);
            /// # Ok::<(), std::io::Error>(())
            /// # }).unwrap();
            /// ```
            pub fn write(
                &mut self,
                buf: &[u8],
            ) -> impl std::future::Future<Output = std::io::Result<usize>> {
                std::future::poll_fn(move |cx| {
                    $crate::net::split::SplitStream::poll_write_priv(&*self, cx, buf)
                })
            }

            /// Writes all of `buf`.
            ///
            /// Not cancel safe: dropped before it completes, it may have
            /// written a prefix of `buf`, and how long a prefix is lost with
            /// it.
            ///
            /// ```
            /// # eddy::run(async {
            #[doc = $setup]
            /// stream.write_all(b"ping").await?;
            /// let mut buf = [0; 4];
            /// peer.read_exact(&mut buf).await?;
            /// assert_eq!(&buf, b"ping");
            /// # Ok::<(), std::io::Error>(())
            /// # }).unwrap();
            /// ```
            pub fn write_all(
                &mut self,
                buf: &[u8],
            ) -> impl std::future::Future<Output = std::io::Result<()>> {
                $crate::io::util::write_all(buf, move |cx, buf| {
                    $crate::net::split::SplitStream::poll_write_priv(&*self, cx, buf)
                })
            }
        }
    };
}
pub(crate) use impl_stream_io;
