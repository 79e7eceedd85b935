//! [`impl_datagram_io!`]: the methods every datagram socket has.

/// The connected-peer and readiness methods of a datagram socket type
/// (`send`, `recv`, `try_send`, `try_recv`, `readable`, `writable`,
/// `poll_recv_ready`, `poll_send_ready`, `take_error`), written once for
/// `UdpSocket` and `UnixDatagram` through their `IoSource`. A macro
/// because they are inherent methods of each public type, where users look
/// for them; what differs between the two (addresses, `send_to`,
/// `recv_from`) stays in each type's file.
///
/// Receives go through `async_io`, which clears readiness only on
/// `WouldBlock`, not through the streams' short-read rule: a datagram
/// shorter than the buffer says nothing about whether more are queued, so
/// clearing readiness after it would strand them until the next one
/// arrives.
///
/// `setup` is the hidden first lines of every method's doc example: they
/// make `socket` and `peer`, two sockets of this type connected to each
/// other, inside an `eddy::run` whose block returns `io::Result<()>`.
macro_rules! impl_datagram_io {
    ($socket:ty, setup = $setup:literal) => {
        impl $socket {
            /// Sends `buf` as one datagram to the connected peer, returning
            /// how many bytes were sent.
            ///
            /// Cancel safe: dropped before it completes, it has sent
            /// nothing.
            ///
            /// ```
            /// # eddy::run(async {
            #[doc = $setup]
            /// socket.send(b"ping").await?;
            /// let mut buf = [0; 16];
            /// let len = peer.recv(&mut buf).await?;
            /// assert_eq!(&buf[..len], b"ping");
            /// # Ok::<(), std::io::Error>(())
            /// # }).unwrap();
            /// ```
            pub async fn send(&self, buf: &[u8]) -> std::io::Result<usize> {
                self.source
                    .async_io(eddy_registration::Direction::Write, |socket| {
                        socket.send(buf)
                    })
                    .await
            }

            /// Receives one datagram from the connected peer into `buf`,
            /// returning its length (at most `buf.len()`: a longer datagram
            /// is truncated).
            ///
            /// Cancel safe: dropped before it completes, it has received
            /// nothing; the datagram waits for the next receive.
            ///
            /// ```
            /// # eddy::run(async {
            #[doc = $setup]
            /// peer.send(b"one").await?;
            /// peer.send(b"two").await?;
            /// let mut buf = [0; 16];
            /// let len = socket.recv(&mut buf).await?;
            /// assert_eq!(&buf[..len], b"one"); // one datagram per receive
            /// let len = socket.recv(&mut buf).await?;
            /// assert_eq!(&buf[..len], b"two");
            /// # Ok::<(), std::io::Error>(())
            /// # }).unwrap();
            /// ```
            pub async fn recv(&self, buf: &mut [u8]) -> std::io::Result<usize> {
                self.source
                    .async_io(eddy_registration::Direction::Read, |socket| {
                        socket.recv(buf)
                    })
                    .await
            }

            /// Sends to the connected peer now if the socket is known to be
            /// writable, else `WouldBlock`.
            ///
            /// ```
            /// use std::io::ErrorKind;
            /// # eddy::run(async {
            #[doc = $setup]
            /// let sent = loop {
            ///     socket.writable().await?;
            ///     match socket.try_send(b"ping") {
            ///         Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
            ///         sent => break sent?,
            ///     }
            /// };
            /// assert_eq!(sent, 4);
            /// let mut buf = [0; 16];
            /// let len = peer.recv(&mut buf).await?;
            /// assert_eq!(&buf[..len], b"ping");
            /// # Ok::<(), std::io::Error>(())
            /// # }).unwrap();
            /// ```
            pub fn try_send(&self, buf: &[u8]) -> std::io::Result<usize> {
                self.source
                    .try_io(eddy_registration::Interest::WRITABLE, || {
                        self.source.send(buf)
                    })
            }

            /// Receives from the connected peer now if a datagram is known
            /// to be queued, else `WouldBlock`.
            ///
            /// ```
            /// use std::io::ErrorKind;
            /// # eddy::run(async {
            #[doc = $setup]
            /// let mut buf = [0; 16];
            /// // Nothing sent yet: no waiting, just `WouldBlock`.
            /// let error = socket.try_recv(&mut buf).unwrap_err();
            /// assert_eq!(error.kind(), ErrorKind::WouldBlock);
            ///
            /// peer.send(b"ping").await?;
            /// let len = loop {
            ///     socket.readable().await?;
            ///     match socket.try_recv(&mut buf) {
            ///         Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
            ///         received => break received?,
            ///     }
            /// };
            /// assert_eq!(&buf[..len], b"ping");
            /// # Ok::<(), std::io::Error>(())
            /// # }).unwrap();
            /// ```
            pub fn try_recv(&self, buf: &mut [u8]) -> std::io::Result<usize> {
                self.source
                    .try_io(eddy_registration::Interest::READABLE, || {
                        self.source.recv(buf)
                    })
            }

            /// Waits until a datagram may be queued (or the socket is in
            /// error).
            ///
            /// It may complete with nothing queued; a `try_recv` then
            /// returns `WouldBlock`: loop back (see
            /// [`try_recv`](Self::try_recv)).
            pub async fn readable(&self) -> std::io::Result<()> {
                self.source
                    .ready(eddy_registration::Interest::READABLE)
                    .await
            }

            /// Waits until the socket can send (or is in error).
            pub async fn writable(&self) -> std::io::Result<()> {
                self.source
                    .ready(eddy_registration::Interest::WRITABLE)
                    .await
            }

            /// Polls for receive readiness (a datagram may be queued, or
            /// the socket is in error): the poll form of `readable`, for a
            /// hand-written future that receives with `try_recv` or
            /// `try_recv_from` (tokio's `poll_recv_ready`, smol's
            /// `poll_readable`). `Ready` spends one unit of the task's
            /// budget, as a receive does.
            ///
            /// The socket keeps one waker for this direction: only the
            /// task that polled last is woken. Tasks that wait together
            /// use `readable`.
            pub fn poll_recv_ready(
                &self,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                self.source
                    .poll_ready(cx, eddy_registration::Direction::Read)
            }

            /// Polls for send readiness (the socket can send, or is in
            /// error): the poll form of `writable`, for a hand-written
            /// future that sends with `try_send` or `try_send_to` (tokio's
            /// `poll_send_ready`, smol's `poll_writable`). Budget and waker
            /// as for `poll_recv_ready`.
            pub fn poll_send_ready(
                &self,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                self.source
                    .poll_ready(cx, eddy_registration::Direction::Write)
            }

            /// Takes the pending socket error (`SO_ERROR`), if any: for
            /// example "connection refused" after a datagram was sent to a
            /// peer nobody listens at.
            pub fn take_error(&self) -> std::io::Result<Option<std::io::Error>> {
                self.source.take_error()
            }
        }
    };
}
pub(crate) use impl_datagram_io;
