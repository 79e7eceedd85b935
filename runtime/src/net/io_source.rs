//! A mio source plus its driver registration: the building block of every
//! eddy socket type.

use std::future::Future;
use std::io;
use std::ops::Deref;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::task::{Context, Poll};

use eddy_io_driver::{Handle, Registration};
use eddy_registration::{Direction, Interest};

use crate::coop::{self, Refused};
use crate::runtime::context;
use crate::sys;

/// Owns a non-blocking mio socket and its registration, and turns "try the
/// syscall, wait for readiness on `WouldBlock`" into `poll_*` functions.
///
/// Every I/O operation that completes spends one unit of the task's
/// cooperative budget, so a socket that is always ready cannot starve
/// other tasks; one that finds the socket not ready spends nothing (see
/// `coop::poll_spending_if_ready`).
// `pub` (in a private module) only because the sealed `SplitStream` trait
// hands it out; nothing outside the crate can name it.
#[allow(unreachable_pub)]
#[derive(Debug)]
pub struct IoSource<E: mio::event::Source> {
    /// The socket; `None` once [`take`](IoSource::take) has taken it out.
    io: Option<E>,
    /// `io`'s descriptor, read once: mio's `as_fd` is an out-of-line call,
    /// and every read and write needs the descriptor.
    fd: RawFd,
    /// Where the driver records this socket's readiness.
    registration: Registration,
    /// Per direction (read, write): the last poll in which an operation
    /// found the task's budget spent, so that the next one to find it
    /// spent in a later poll goes ahead (`coop::refuse`).
    refused: [Refused; 2],
}

impl<E: mio::event::Source> IoSource<E> {
    /// Registers `io` with the runtime running on this thread.
    pub(crate) fn new(io: E, interest: Interest) -> io::Result<IoSource<E>>
    where
        E: AsFd,
    {
        IoSource::with_handle(io, interest, &context::io_handle()?)
    }

    /// Registers `io` with a specific driver (an accepted socket joins its
    /// listener's driver without a thread-local lookup).
    pub(crate) fn with_handle(io: E, interest: Interest, handle: &Handle) -> io::Result<IoSource<E>>
    where
        E: AsFd,
    {
        sys::prevent_sigpipe(io.as_fd())?;
        // SAFETY: every `E` eddy wraps this way is one of mio's sockets,
        // which registers only its own fd, under the token it is given.
        unsafe { IoSource::register(io, interest, handle) }
    }

    /// Registers `io`, which need not be a socket, with the runtime running
    /// on this thread: [`with_handle`](IoSource::with_handle) without
    /// `sys::prevent_sigpipe` (a socket option, refused by a pipe), for
    /// `io::unix::AsyncFd`.
    ///
    /// # Safety
    ///
    /// As for [`register`](IoSource::register).
    #[cfg(unix)]
    pub(crate) unsafe fn new_unchecked(io: E, interest: Interest) -> io::Result<IoSource<E>>
    where
        E: AsFd,
    {
        let handle = context::io_handle()?;
        // SAFETY: forwarded from this function's contract.
        unsafe { IoSource::register(io, interest, &handle) }
    }

    /// Registers `io` with `handle`'s driver: the step both constructors
    /// share. Inlined, as it was written out in `with_handle` before: every
    /// accepted connection comes through it.
    ///
    /// # Safety
    ///
    /// `io` must register as `Registration::new` requires: only itself,
    /// under the token it is given, nothing left behind when it fails, no
    /// registry kept.
    #[inline(always)]
    unsafe fn register(mut io: E, interest: Interest, handle: &Handle) -> io::Result<IoSource<E>>
    where
        E: AsFd,
    {
        let fd = io.as_fd().as_raw_fd();
        // SAFETY: forwarded from this function's contract.
        let registration = unsafe { Registration::new(&mut io, interest, handle) }?;
        Ok(IoSource {
            fd,
            io: Some(io),
            registration,
            refused: [Refused::new(), Refused::new()],
        })
    }

    pub(crate) fn registration(&self) -> &Registration {
        &self.registration
    }

    /// When an operation in `direction` last found the budget spent (see
    /// `coop::refuse`).
    fn refused(&self, direction: Direction) -> &Refused {
        match direction {
            Direction::Read => &self.refused[0],
            Direction::Write => &self.refused[1],
        }
    }

    /// Waits for `direction` readiness and runs `f`, retrying after
    /// `WouldBlock` or `Interrupted`.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        f: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        let refused = self.refused(direction);
        coop::poll_spending_if_ready(cx, refused, None, |cx| {
            self.registration.poll_io(cx, direction, f)
        })
    }

    /// Waits for `direction` readiness and runs `f` on the socket, retrying
    /// after `WouldBlock` and `Interrupted`: the shape of every `&self`
    /// operation (`accept`, `recv_from`, `send_to`, `peek`, ...).
    ///
    /// It waits in the socket's list of waiters, not in its single reader
    /// or writer slot the `poll_*` functions use: several tasks may share a
    /// listener or a UDP socket and wait in `accept` or `recv` at once, and
    /// each must be woken. With the slot, the second task's waker would
    /// replace the first's, and the first would sleep through every event.
    pub(crate) async fn async_io<R>(
        &self,
        direction: Direction,
        mut f: impl FnMut(&E) -> io::Result<R>,
    ) -> io::Result<R> {
        let interest = direction.interest();
        let refused = self.refused(direction);
        // This operation's own refusals, besides its socket direction's
        // (see `coop::refuse_own`).
        let mut own = Refused::new();
        loop {
            // The unit is spent when the readiness is there, not before the
            // wait: operations that waited together completed in one poll
            // past the budget (finding 66).
            let mut readiness = std::pin::pin!(self.registration.readiness(interest));
            let event = std::future::poll_fn(|cx| {
                coop::poll_spending_if_ready(cx, refused, Some(&mut own), |cx| {
                    readiness.as_mut().poll(cx)
                })
            })
            .await?;
            match f(self.io()) {
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    self.registration.clear_would_block(event);
                }
                // `EINTR` did nothing: the readiness stands, and the next
                // pass tries again (net rule 3; finding 52).
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                result => return result,
            }
        }
    }

    /// Reads from a byte stream into `buf`, clearing readiness after a short
    /// read (see `Registration::poll_read_into`).
    pub(crate) fn poll_read_stream(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>>
    where
        E: AsFd,
    {
        if buf.is_empty() {
            // Like std: reading into nothing reads nothing, at once, instead
            // of waiting for readiness that would change nothing (spending
            // the budget all the same).
            return coop::poll_nothing(cx, self.refused(Direction::Read), None);
        }
        let fd = self.fd();
        let refused = self.refused(Direction::Read);
        coop::poll_spending_if_ready(cx, refused, None, |cx| {
            self.registration
                .poll_read_into(cx, buf, |buf| sys::recv(fd, buf))
        })
    }

    /// Reads from a byte stream into `buf`, clearing readiness only after
    /// `WouldBlock`, never after a short read: for Unix streams, whose
    /// reads the kernel ends early, with no event for the data behind, at
    /// a message that carries descriptors (`SCM_RIGHTS`) or, with
    /// `SO_PASSCRED`, at a change of writer (net rule 2; finding 6).
    pub(crate) fn poll_read_stream_to_would_block(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>>
    where
        E: AsFd,
    {
        if buf.is_empty() {
            return coop::poll_nothing(cx, self.refused(Direction::Read), None);
        }
        let fd = self.fd();
        self.poll_io(cx, Direction::Read, || sys::recv(fd, buf))
    }

    /// `poll_close` of a byte stream: shuts down the write side. A socket
    /// that is already disconnected has nothing left to close, so
    /// `NotConnected` counts as success.
    pub(crate) fn poll_shutdown_write(&self) -> Poll<io::Result<()>>
    where
        E: AsFd,
    {
        match self.shutdown_write() {
            Err(error) if error.kind() == io::ErrorKind::NotConnected => Poll::Ready(Ok(())),
            result => Poll::Ready(result),
        }
    }

    /// Shuts down the write side of a byte stream, reporting every error.
    pub(crate) fn shutdown_write(&self) -> io::Result<()>
    where
        E: AsFd,
    {
        sys::shutdown_write(self.fd())?;
        self.mark_write_shut_down();
        Ok(())
    }

    /// Records that eddy shut the write side down, so that writes, waiting
    /// or later, fail at once instead of waiting for readiness (see
    /// `Registration::close_write`); call it only after the `shutdown(2)`
    /// (net rule 8).
    ///
    /// While the thread unwinds, a parked write's waker that panics is
    /// swallowed, as a deregistration's is: passed on, it aborted the
    /// process (finding 73). Otherwise it goes on to the caller once every
    /// waiter is woken.
    pub(crate) fn mark_write_shut_down(&self) {
        if std::thread::panicking() {
            eddy_registration::catch_quietly(|| self.registration.close_write());
        } else {
            self.registration.close_write();
        }
    }

    /// Writes `buf` to a byte stream (`send` without `SIGPIPE`).
    ///
    /// Like std, a write of nothing writes nothing, at once, even into a
    /// full send buffer, where waiting for room could wait forever
    /// (finding 37). The check is on the waiting path only, where the
    /// socket is not writable (a writable socket's `send` already returns
    /// 0), and inside the budgeted operation, so it spends a unit and takes
    /// its direction's pass like any write: checked outside, after a
    /// `Pending`, it starved behind a future spending the whole budget
    /// (finding 67).
    pub(crate) fn poll_write_stream(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>>
    where
        E: AsFd,
    {
        let fd = self.fd();
        let refused = self.refused(Direction::Write);
        coop::poll_spending_if_ready(cx, refused, None, |cx| {
            let polled = self
                .registration
                .poll_io(cx, Direction::Write, || sys::send(fd, buf));
            match polled {
                Poll::Pending if buf.is_empty() => Poll::Ready(Ok(0)),
                polled => polled,
            }
        })
    }

    /// Writes `bufs` to a byte stream with one `sendmsg` (without
    /// `SIGPIPE`). Nothing to write is 0 at once, as in
    /// [`poll_write_stream`](IoSource::poll_write_stream).
    pub(crate) fn poll_write_vectored_stream(
        &self,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>>
    where
        E: AsFd,
    {
        let fd = self.fd();
        let refused = self.refused(Direction::Write);
        coop::poll_spending_if_ready(cx, refused, None, |cx| {
            let polled = self
                .registration
                .poll_io(cx, Direction::Write, || sys::send_vectored(fd, bufs));
            match polled {
                Poll::Pending if bufs.iter().all(|buf| buf.is_empty()) => Poll::Ready(Ok(0)),
                polled => polled,
            }
        })
    }

    /// A read or peek of nothing, as a future of its own (`TcpStream::peek`
    /// into an empty buffer): `Ok(0)` at once, spending a unit; with the
    /// budget used up, it yields, and goes ahead on a pass as `async_io`
    /// does (`coop::poll_nothing`).
    pub(crate) async fn nothing(&self, direction: Direction) -> io::Result<usize> {
        let refused = self.refused(direction);
        let mut own = Refused::new();
        std::future::poll_fn(|cx| coop::poll_nothing(cx, refused, Some(&mut own))).await
    }

    /// Reads from a byte stream into `buf` now if it is known to be
    /// readable, else `WouldBlock` (the streams' `try_read`).
    pub(crate) fn try_read_stream(&self, buf: &mut [u8]) -> io::Result<usize>
    where
        E: AsFd,
    {
        let fd = self.fd();
        self.try_io(Interest::READABLE, || sys::recv(fd, buf))
    }

    /// Writes `buf` to a byte stream now if it is known to be writable,
    /// else `WouldBlock` (the streams' `try_write`; `send` without
    /// `SIGPIPE`).
    pub(crate) fn try_write_stream(&self, buf: &[u8]) -> io::Result<usize>
    where
        E: AsFd,
    {
        let fd = self.fd();
        self.try_io(Interest::WRITABLE, || sys::send(fd, buf))
    }

    /// Runs `f` now if `interest` is ready, else `WouldBlock` (`try_*`).
    pub(crate) fn try_io<R>(
        &self,
        interest: Interest,
        f: impl FnMut() -> io::Result<R>,
    ) -> io::Result<R> {
        self.registration.try_io(interest, f)
    }

    /// Waits until any readiness in `interest` is set: the body of every
    /// public `readable` and `writable`. Completing spends a unit of the
    /// task's budget, and with the budget used up it re-queues the task
    /// instead of completing, as `poll_ready` does: without it a loop of
    /// `readable` and `try_read` on a descriptor that never runs dry never
    /// yielded (finding 58). Waiting spends nothing.
    pub(crate) async fn ready(&self, interest: Interest) -> io::Result<()> {
        let mut readiness = std::pin::pin!(self.registration.readiness(interest));
        let refused = self.refused(if interest.is_readable() {
            Direction::Read
        } else {
            Direction::Write
        });
        // This wait's own refusals, besides its socket direction's (see
        // `coop::refuse_own`).
        let mut own = Refused::new();
        std::future::poll_fn(|cx| {
            coop::poll_spending_if_ready(cx, refused, Some(&mut own), |cx| {
                readiness.as_mut().poll(cx)
            })
        })
        .await
        .map(drop)
    }

    /// Polls for readiness in `direction`, spending a unit of the task's
    /// budget when it is `Ready` (a `Pending` spends nothing): the body of
    /// every public `poll_read_ready`, `poll_recv_ready` and their write
    /// twins.
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
    ) -> Poll<io::Result<()>> {
        coop::poll_spending_if_ready(cx, self.refused(direction), None, |cx| {
            let ready = match direction {
                Direction::Read => self.registration.poll_read_ready(cx),
                Direction::Write => self.registration.poll_write_ready(cx),
            };
            ready.map_ok(drop)
        })
    }

    /// Waits for `direction` readiness and runs `f`, retrying after
    /// `WouldBlock` and `Interrupted`, as [`poll_io`](IoSource::poll_io)
    /// does, but refusing with `InvalidInput` a direction the source was
    /// not registered for (as [`poll_ready`](IoSource::poll_ready)): the
    /// body of `AsyncFd::poll_read_with` and `poll_write_with`. One
    /// budgeted operation around the wait and `f`, so a poll that finds the
    /// readiness stale spends nothing (finding 77).
    #[cfg(unix)]
    pub(crate) fn poll_ready_io<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        mut f: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        coop::poll_spending_if_ready(cx, self.refused(direction), None, |cx| {
            loop {
                let polled = match direction {
                    Direction::Read => self.registration.poll_read_ready(cx),
                    Direction::Write => self.registration.poll_write_ready(cx),
                };
                let event = std::task::ready!(polled)?;
                match f() {
                    Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                        self.registration.clear_would_block(event);
                    }
                    // `EINTR` did nothing: the readiness stands (finding 52).
                    Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                    result => return Poll::Ready(result),
                }
            }
        })
    }

    /// The socket's descriptor, borrowed for as long as `self` is.
    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        // SAFETY: `fd` belongs to `io`, which `self` owns and which stays
        // open while `self` is borrowed: only `take` takes it out, and its
        // contract forbids borrowing the descriptor after it.
        unsafe { BorrowedFd::borrow_raw(self.fd) }
    }

    fn io(&self) -> &E {
        self.io
            .as_ref()
            .expect("an IoSource's socket is taken only as its owner is consumed or dropped")
    }

    /// Deregisters and hands back the socket (for `into_std`).
    pub(crate) fn into_inner(mut self) -> io::Result<E> {
        // SAFETY: `self` is consumed here; nothing borrows its descriptor
        // after `take`.
        let (io, deregistered) = unsafe { self.take() }.expect("socket present until taken");
        deregistered?;
        Ok(io)
    }

    /// Takes the socket out of the driver and out of `self`, with the
    /// result of deregistering it (it has left the driver either way);
    /// `None` once taken. For `into_inner`, `Drop`, and an owner with a
    /// `Drop` of its own, whose source cannot be moved out
    /// (`TcpStream::into_std`).
    ///
    /// Deregistering explicitly, before the descriptor closes, matters:
    /// if the user duplicated the descriptor (`try_clone` before
    /// `from_std`, say), epoll keeps reporting it after the close, with a
    /// token whose `ScheduledIo` may already have been released.
    ///
    /// # Safety
    ///
    /// After it, nothing may call a method of `self` that borrows the
    /// descriptor (every read, write, `as_fd`, `shutdown`, ...; only
    /// `take` again and dropping are allowed): `self` still caches the
    /// descriptor's number, and once the socket taken out closes, that
    /// number may name another file. Callers take the socket only as
    /// `self`'s owner is consumed or dropped.
    pub(crate) unsafe fn take(&mut self) -> Option<(E, io::Result<()>)> {
        let mut io = self.io.take()?;
        // SAFETY: `io` is the socket `registration` was created with.
        let deregistered = unsafe { self.registration.deregister(&mut io) };
        Some((io, deregistered))
    }
}

impl<E: mio::event::Source> AsFd for IoSource<E> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd()
    }
}

impl<E: mio::event::Source> AsRawFd for IoSource<E> {
    fn as_raw_fd(&self) -> RawFd {
        self.fd
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
        // A failed deregistration has nowhere to go: the registration is
        // released either way.
        // SAFETY: `self` is being dropped; nothing borrows its descriptor
        // after this.
        drop(unsafe { self.take() });
    }
}
