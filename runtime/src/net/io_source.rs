//! A mio source plus its driver registration: the building block of every
//! eddy socket type.

use std::io;
use std::ops::Deref;
use std::task::{Context, Poll, ready};

use eddy_io_driver::{Handle, Registration};
use eddy_registration::{Direction, Interest};

use crate::coop;
use crate::runtime::context;

/// Owns a non-blocking mio socket and its registration, and turns "try the
/// syscall, wait for readiness on `WouldBlock`" into `poll_*` functions.
///
/// Every I/O attempt first spends one unit of the task's cooperative
/// budget, so a socket that is always ready cannot starve other tasks.
#[derive(Debug)]
pub(crate) struct IoSource<E: mio::event::Source> {
    /// The socket; `None` only while `into_inner` takes it out.
    io: Option<E>,
    /// Where the driver records this socket's readiness.
    registration: Registration,
}

impl<E: mio::event::Source> IoSource<E> {
    /// Registers `io` with the runtime running on this thread.
    pub(crate) fn new(io: E, interest: Interest) -> io::Result<IoSource<E>> {
        IoSource::with_handle(io, interest, &context::io_handle()?)
    }

    /// Registers `io` with a specific driver (an accepted socket joins its
    /// listener's driver without a thread-local lookup).
    pub(crate) fn with_handle(
        mut io: E,
        interest: Interest,
        handle: &Handle,
    ) -> io::Result<IoSource<E>> {
        let registration = Registration::new(&mut io, interest, handle)?;
        Ok(IoSource {
            io: Some(io),
            registration,
        })
    }

    pub(crate) fn registration(&self) -> &Registration {
        &self.registration
    }

    /// Waits for `direction` readiness and runs `f`, retrying after
    /// `WouldBlock`.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        f: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        ready!(coop::poll_proceed(cx));
        self.registration.poll_io(cx, direction, f)
    }

    /// `poll_io` as a future, handing `f` the socket: the shape of every
    /// datagram operation (`recv_from`, `send_to`, ...).
    pub(crate) async fn async_io<R>(
        &self,
        direction: Direction,
        mut f: impl FnMut(&E) -> io::Result<R>,
    ) -> io::Result<R> {
        std::future::poll_fn(|cx| self.poll_io(cx, direction, || f(self.io()))).await
    }

    /// Reads from a byte stream into `buf`, clearing readiness after a short
    /// read (see `Registration::poll_read_into`).
    pub(crate) fn poll_read_stream(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>>
    where
        for<'a> &'a E: io::Read,
    {
        ready!(coop::poll_proceed(cx));
        let io = self.io();
        self.registration
            .poll_read_into(cx, buf, |buf| io::Read::read(&mut &*io, buf))
    }

    /// Writes `buf` to a byte stream.
    pub(crate) fn poll_write_stream(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>>
    where
        for<'a> &'a E: io::Write,
    {
        let io = self.io();
        self.poll_io(cx, Direction::Write, || io::Write::write(&mut &*io, buf))
    }

    /// Writes `bufs` to a byte stream with one `writev`.
    pub(crate) fn poll_write_vectored_stream(
        &self,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>>
    where
        for<'a> &'a E: io::Write,
    {
        let io = self.io();
        self.poll_io(cx, Direction::Write, || {
            io::Write::write_vectored(&mut &*io, bufs)
        })
    }

    /// Runs `f` now if `interest` is ready, else `WouldBlock` (`try_*`).
    pub(crate) fn try_io<R>(
        &self,
        interest: Interest,
        f: impl FnOnce() -> io::Result<R>,
    ) -> io::Result<R> {
        self.registration.try_io(interest, f)
    }

    /// Waits until any readiness in `interest` is set.
    pub(crate) async fn ready(&self, interest: Interest) -> io::Result<()> {
        self.registration.readiness(interest).await.map(drop)
    }

    fn io(&self) -> &E {
        self.io
            .as_ref()
            .expect("an IoSource's socket is only taken by into_inner, which consumes it")
    }

    /// Deregisters and hands back the socket (for `into_std`).
    pub(crate) fn into_inner(mut self) -> io::Result<E> {
        let mut io = self.io.take().expect("socket present until into_inner");
        self.registration.deregister(&mut io)?;
        Ok(io)
    }
}

impl<E: mio::event::Source> Deref for IoSource<E> {
    type Target = E;

    fn deref(&self) -> &E {
        self.io()
    }
}

impl<E: mio::event::Source> Drop for IoSource<E> {
    fn drop(&mut self) {
        if let Some(mut io) = self.io.take() {
            // Deregister explicitly before the fd closes. Relying on close
            // alone is not enough: if the user duplicated the fd (for
            // example `try_clone` before `from_std`), epoll keeps reporting
            // it after close, with a token whose `ScheduledIo` may already
            // have been released. The error, if any, has nowhere to go: the
            // registration is released either way.
            let _ = self.registration.deregister(&mut io);
        }
    }
}
