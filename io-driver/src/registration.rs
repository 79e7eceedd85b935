//! [`Registration`]: what a socket type holds to wait for readiness.

use std::fmt;
use std::io;
use std::task::{Context, Poll, ready};

use eddy_registration::{
    Direction, Interest, Ready, ReadyEvent, ScheduledIo, Tick, shutdown_error,
};

use crate::handle::Handle;
use crate::loom::Arc;
use crate::mio_interest::reported;

/// One source's registration with the driver: the `ScheduledIo` its
/// readiness lands in, and the handle needed to deregister it.
///
/// # Dropping
///
/// Call [`deregister`](Registration::deregister) before dropping, with the
/// source: that removes it from the OS poller and lets the driver release
/// the `ScheduledIo` on its next turn. A `Registration` dropped without it
/// only drops its stored wakers; its `ScheduledIo` stays registered until
/// the driver shuts down. Releasing it instead would be unsound: the source
/// may still be open (or its fd duplicated), and its next event would carry
/// the address of a freed `ScheduledIo`. Keeping it costs about a hundred
/// bytes per forgotten registration; eddy's sockets always deregister.
pub struct Registration {
    /// Used to deregister, and to wake the driver when a release is due.
    handle: Handle,
    /// Where the driver delivers this source's readiness and where tasks
    /// park their wakers.
    shared: Arc<ScheduledIo>,
    /// The readiness an event can bring this source (`mio_interest::reported`):
    /// a wait that would park for none of it is refused, since nothing
    /// but an error could end it.
    reported: Ready,
    /// Set by `deregister`, so `Drop` does not hand the `ScheduledIo` to the
    /// set a second time: the set would queue it twice, counting it twice
    /// towards the unpark threshold, and a second OS deregistration could hit
    /// an fd number already reused by another socket.
    deregistered: bool,
}

impl Registration {
    /// Registers `source` with the driver behind `handle` for `interest`.
    ///
    /// Fails with the shutdown error after the driver shut down, or with the
    /// OS error if the source cannot be polled (nothing is leaked then).
    ///
    /// # Safety
    ///
    /// `source` must register as [`Handle::add_source`] requires: only
    /// itself, under the token it is given, nothing left behind when it
    /// fails, and no registry kept. mio's own sources do.
    ///
    /// Safe code cannot call it, so a `Source` of its own cannot make the
    /// driver dereference a token of its choosing:
    ///
    /// ```compile_fail,E0133
    /// # fn registering_a_source_needs_unsafe(handle: &eddy_io_driver::Handle) -> std::io::Result<()> {
    /// let mut socket = mio::net::UdpSocket::bind("127.0.0.1:0".parse().unwrap())?;
    /// let _ = eddy_io_driver::Registration::new(
    ///     &mut socket,
    ///     eddy_registration::Interest::READABLE,
    ///     handle,
    /// )?;
    /// # Ok(())
    /// # }
    /// ```
    pub unsafe fn new(
        source: &mut dyn mio::event::Source,
        interest: Interest,
        handle: &Handle,
    ) -> io::Result<Registration> {
        // SAFETY: forwarded from this function's contract.
        let shared = unsafe { handle.add_source(source, interest) }?;
        Ok(Registration {
            handle: handle.clone(),
            shared,
            reported: reported(interest),
            deregistered: false,
        })
    }

    /// The driver this registration belongs to.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Polls for read readiness (readable, read-closed or error). Returns the
    /// shutdown error once the driver has shut down, and `InvalidInput`
    /// instead of waiting if the source was not registered for reading
    /// (no event could end the wait).
    #[inline]
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<ReadyEvent>> {
        self.poll_ready_or_refuse(cx, Direction::Read)
    }

    /// Polls for write readiness (writable, write-closed or error). Returns
    /// the shutdown error once the driver has shut down, and `InvalidInput`
    /// instead of waiting if the source was not registered for writing.
    #[inline]
    pub fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<ReadyEvent>> {
        self.poll_ready_or_refuse(cx, Direction::Write)
    }

    /// [`poll_ready`](Registration::poll_ready), but a wait that no event
    /// can end is refused rather than parked (a read on a source registered
    /// for writable only). Checked only when nothing is ready, so readiness
    /// that came another way (an error, `close_write`) is still reported.
    ///
    /// Not in `poll_ready` itself: `poll_io` and `poll_read_into` are every
    /// eddy socket's I/O path, and there the check kept `self` alive across
    /// the readiness poll, 6 instructions per echo round trip (843 -> 849)
    /// for a mistake eddy's sockets cannot make (each registers what it
    /// uses).
    #[inline]
    fn poll_ready_or_refuse(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
    ) -> Poll<io::Result<ReadyEvent>> {
        match self.poll_ready(cx, direction) {
            Poll::Pending if (direction.mask() & self.reported).is_empty() => {
                Poll::Ready(Err(Registration::unserved()))
            }
            polled => polled,
        }
    }

    /// The one place a `ReadyEvent` becomes an `io::Result`: the shutdown
    /// bit turns into an error, so no caller waits forever on a driver that
    /// is gone.
    #[inline]
    fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
    ) -> Poll<io::Result<ReadyEvent>> {
        let event = ready!(self.shared.poll_readiness(cx, direction));
        if event.is_shutdown {
            return Poll::Ready(Err(shutdown_error()));
        }
        Poll::Ready(Ok(event))
    }

    /// The error for a wait that no event this source can get could end.
    /// Out of line: no correct program gets here. A fixed message: naming
    /// the interests would link their `Debug` and the formatting machinery
    /// into every program for a message no correct one prints.
    #[cold]
    #[inline(never)]
    fn unserved() -> io::Error {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "eddy-io-driver: waiting for readiness the source was not registered for, \
             which no event can end",
        )
    }

    /// Records that the owner shut its own write side down: sets
    /// `WRITE_CLOSED` as an event would, and wakes every write waiter.
    ///
    /// From then on a write does not wait for readiness: it makes its
    /// syscall, which fails at once (`EPIPE`). The kernel's word alone is
    /// not enough: a Unix socket reports no event for its own shutdown, so
    /// with its send buffer full, a write after the shutdown (or one already
    /// waiting) waited until the peer read, forever if it never did.
    ///
    /// Like an event it bumps the readiness tick, from whatever thread
    /// shuts down. A clear from a snapshot taken before (a reader's after a
    /// short read, say) is then refused: its task makes one more syscall,
    /// which says `WouldBlock` and clears, and loses nothing. The read
    /// side never sees the bit (`WRITE_CLOSED` is in no read mask), and a
    /// `SHUTDOWN` bit set by the driver stays set.
    ///
    /// `#[inline]` so that it is compiled where it is used, not here: as a
    /// second caller of `ScheduledIo::wake` in this crate it once stopped
    /// the compiler from inlining the event dispatch into `Driver::turn`,
    /// which cost an echo round trip 4 instructions (844 -> 848). (The
    /// dispatch and `wake` are now forced inline; see `Dispatch::deliver`.)
    #[inline]
    pub fn close_write(&self) {
        self.shared
            .set_readiness(Tick::Set, |ready| ready | Ready::WRITE_CLOSED);
        self.shared.wake(Ready::WRITE_CLOSED);
    }

    /// Waits until any readiness in `interest` is set. Fails with
    /// `InvalidInput` instead of waiting if nothing the source was
    /// registered for can bring such readiness (as `poll_read_ready`).
    pub async fn readiness(&self, interest: Interest) -> io::Result<ReadyEvent> {
        // As in `poll_ready`: refused only if it would wait, and an
        // error-only wait (which every source can end) always waits.
        let wanted = interest.mask() - Ready::ERROR;
        if !wanted.is_empty() && (wanted & self.reported).is_empty() {
            let now = self.shared.ready_now(interest);
            if now.ready.is_empty() && !now.is_shutdown {
                return Err(Registration::unserved());
            }
        }
        let event = self.shared.readiness(interest).await;
        if event.is_shutdown {
            return Err(shutdown_error());
        }
        Ok(event)
    }

    /// Clears the readiness in `event`, unless the driver delivered a newer
    /// event since `event` was observed (then the clear is ignored, so that
    /// the newer readiness is not lost). Closed bits are kept: for a read
    /// that drained a stream (see `ScheduledIo::clear_readiness`).
    #[inline]
    pub fn clear_readiness(&self, event: ReadyEvent) {
        self.shared.clear_readiness(event);
    }

    /// Clears everything in `event`, closed bits included (with the same
    /// tick check): for after an operation returned `WouldBlock`, which
    /// proves nothing in that direction can be acted on now (see
    /// `ScheduledIo::clear_would_block`).
    #[inline]
    pub fn clear_would_block(&self, event: ReadyEvent) {
        self.shared.clear_would_block(event);
    }

    /// Waits for `direction`, runs `f`; on `WouldBlock` clears that readiness
    /// and waits again; on `Interrupted` (a signal, `EINTR`: nothing was
    /// done) runs `f` again. Any other result (success or error) is
    /// returned.
    ///
    /// Unlike [`poll_read_ready`](Registration::poll_read_ready), it does not
    /// check that the source was registered for `direction`: one that was
    /// not waits until an error or a hang-up ends the connection (see
    /// `poll_ready_or_refuse` for why).
    #[inline]
    pub fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        mut f: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        loop {
            let event = ready!(self.poll_ready(cx, direction))?;
            match f() {
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    self.clear_would_block(event)
                }
                // The readiness stands: the next pass runs `f` again.
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                result => return Poll::Ready(result),
            }
        }
    }

    /// [`poll_io`](Registration::poll_io) for reads from a byte stream into
    /// `buf`.
    ///
    /// A short read (some bytes, but fewer than `buf` holds) means the socket
    /// was drained, so read readiness is cleared right away: the next read
    /// waits for the driver instead of making a `read` call that could only
    /// return `WouldBlock`. A read of 0 bytes is end-of-stream and keeps its
    /// readiness, so every later read sees the EOF immediately.
    ///
    /// Only for stream sockets whose reads stop only when drained (TCP): a
    /// datagram smaller than the buffer says nothing about whether more
    /// datagrams are queued, and a Unix-stream read stops early at a
    /// message carrying descriptors; use `poll_io` there. Like `poll_io`, it
    /// waits on a source not registered for reading until the connection
    /// ends.
    #[inline]
    pub fn poll_read_into(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
        mut f: impl FnMut(&mut [u8]) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        loop {
            let event = ready!(self.poll_ready(cx, Direction::Read))?;
            match f(buf) {
                Ok(n) if n > 0 && n < buf.len() => {
                    // A TCP read also stops short at the urgent mark of
                    // out-of-band data, with the rest queued behind it and
                    // no new event to come. While the driver has seen
                    // urgent data (`PRIORITY`, reported on Linux to a
                    // source registered for it) a short read proves
                    // nothing, so readiness stays until `WouldBlock`.
                    if !self.shared.is_priority_set() {
                        self.clear_readiness(event);
                    }
                    return Poll::Ready(Ok(n));
                }
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    // Drained: the urgent data is behind us too.
                    self.clear_would_block(ReadyEvent {
                        ready: event.ready | Ready::PRIORITY,
                        ..event
                    });
                }
                // Nothing read; the readiness stands, so the next pass
                // reads again (see `poll_io`).
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                result => return Poll::Ready(result),
            }
        }
    }

    /// Runs `f` without waiting, if `interest` is currently ready; otherwise
    /// returns `WouldBlock` without calling it. A `WouldBlock` from `f`
    /// clears the readiness it was run under; an `Interrupted` (`EINTR`:
    /// nothing was done) runs it again. Used by `try_read`/`try_write`.
    ///
    /// `interest` names one direction: an interest with both a read part
    /// (readable or priority) and writable fails with `InvalidInput`, and
    /// `f` is not called. Under it, a `WouldBlock` from a read would clear
    /// the write readiness too, and the socket's writer would then wait for
    /// an event that edge-triggered polling never sends again.
    ///
    /// Only the call of `f` is generic: the checks around it live in two
    /// plain functions, compiled once rather than once per caller (eleven
    /// in eddy's socket types).
    pub fn try_io<R>(
        &self,
        interest: Interest,
        mut f: impl FnMut() -> io::Result<R>,
    ) -> io::Result<R> {
        let event = self.ready_for_try(interest)?;
        loop {
            match f() {
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                result => return result.inspect_err(|err| self.clear_if_would_block(event, err)),
            }
        }
    }

    /// `interest`'s readiness now, as `try_io` runs under it: `WouldBlock`
    /// if none is set, the shutdown error once the driver is gone.
    fn ready_for_try(&self, interest: Interest) -> io::Result<ReadyEvent> {
        if interest.is_writable() && (interest.is_readable() || interest.is_priority()) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "eddy-io-driver: try_io takes the interest of one direction, \
                 not readable and writable at once",
            ));
        }
        // Only the bits this interest covers (`ready_now` masks them): the
        // event is what a `WouldBlock` clears, and clearing the other
        // direction's readiness would lose a wake-up for its waiter.
        let event = self.shared.ready_now(interest);
        if event.is_shutdown {
            return Err(shutdown_error());
        }
        if event.ready.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        Ok(event)
    }

    /// Clears `event` if `err` is `WouldBlock` (see `try_io`).
    fn clear_if_would_block(&self, event: ReadyEvent, err: &io::Error) {
        if err.kind() == io::ErrorKind::WouldBlock {
            self.clear_would_block(event);
        }
    }

    /// Removes `source` from the OS poller and queues the registration for
    /// release. The clean-up happens even if the OS call fails; its error is
    /// returned. Calling it twice returns a `NotFound` error the second time
    /// and does nothing else.
    ///
    /// Waiting on the registration afterwards (`poll_read_ready`,
    /// `readiness`, `try_io`, ...) fails at once with the shutdown error,
    /// as after the driver's shutdown: its `ScheduledIo` is shut down, since
    /// no event can reach it any more. (A distinct error would cost the
    /// echo round trip 4 instructions: `poll_ready` would need `self` after
    /// polling, and the compiler spills it to the stack.)
    ///
    /// # Safety
    ///
    /// `source` must be the source this registration was created with, or
    /// that source's fd must already be closed and never have been
    /// duplicated (see [`Handle::deregister_source`]).
    pub unsafe fn deregister(&mut self, source: &mut dyn mio::event::Source) -> io::Result<()> {
        if self.deregistered {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                "eddy-io-driver: registration was already deregistered",
            ));
        }
        self.deregistered = true;
        // SAFETY: forwarded from this function's contract.
        unsafe { self.handle.deregister_source(&self.shared, source) }
    }
}

impl Drop for Registration {
    #[inline]
    fn drop(&mut self) {
        if !self.deregistered {
            // See the type docs: without the source we cannot know it left
            // the OS poller, so the `ScheduledIo` stays registered (sound)
            // and only the wakers go, so that no waker -> task -> socket ->
            // waker cycle outlives the socket.
            self.shared.clear_wakers();
        }
    }
}

impl fmt::Debug for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration")
            .field("token", &self.shared.token())
            .field("deregistered", &self.deregistered)
            .finish_non_exhaustive()
    }
}
