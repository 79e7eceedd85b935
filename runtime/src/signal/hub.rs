//! [`Hub`]: one runtime's copy of the signal pipe, shared by all of that
//! runtime's listeners.

use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{Ordering::Acquire, fence};
use std::task::{Context, Poll, Waker, ready};

use eddy_io_driver::{Handle, Registration};
use eddy_registration::Interest;
use mio::unix::pipe::Receiver;

use super::every_hub;
use super::listeners::Listeners;
use super::pipe;

/// One runtime's end of the process's signal pipe: a duplicate of the
/// read end, registered with this runtime's driver, and the wakers of the
/// listeners that wait on it.
///
/// Every runtime with listeners has its own copy, so each runtime's epoll
/// hears of a byte that is still in the pipe when it next waits; one that
/// another runtime drained first, the drainer wakes this hub's listeners
/// for (module rules 4 and 7).
#[derive(Debug)]
pub(crate) struct Hub {
    /// This runtime's copy of the read end, drained by whichever listener
    /// finds it readable.
    receiver: Receiver,
    /// The copy's registration: how the driver learns the pipe is readable.
    registration: Registration,
    /// The listeners' wakers, woken together by `waker`.
    listeners: Arc<Listeners>,
    /// `listeners` as a waker: what waits in the registration's reader
    /// slot. Made once, so waiting again stores nothing new.
    waker: Waker,
    /// This hub's key in the process-wide list of hubs, which a runtime
    /// that drains the pipe wakes; withdrawn on drop.
    enrolled: usize,
}

impl Hub {
    /// Registers a new copy of the pipe's read end with the driver behind
    /// `handle`.
    ///
    /// Fails with the OS error when out of descriptors, or with the
    /// shutdown error once the runtime shut down.
    pub(super) fn new(handle: &Handle) -> io::Result<Hub> {
        let mut receiver = Receiver::from(pipe::duplicate_read_end()?);
        // SAFETY: mio's pipe `Receiver` registers only its own fd, under the
        // token it is given.
        let registration = unsafe { Registration::new(&mut receiver, Interest::READABLE, handle) }?;
        let listeners = Arc::new(Listeners::new());
        let waker = futures_task::waker(Arc::clone(&listeners));
        // Last: nothing after it can fail, so a failed call enrolls nothing.
        let enrolled = every_hub::enroll(&listeners);
        Ok(Hub {
            receiver,
            registration,
            listeners,
            waker,
            enrolled,
        })
    }

    /// Adds a listener; returns its key for [`park`](Hub::park) and
    /// [`leave`](Hub::leave).
    pub(super) fn join(&self) -> usize {
        self.listeners.join()
    }

    /// Removes the listener `key`.
    pub(super) fn leave(&self, key: usize) {
        self.listeners.leave(key);
    }

    /// Stores `waker` for the listener `key`: it is woken the next time the
    /// pipe turns readable, and when the runtime shuts down.
    pub(super) fn park(&self, key: usize, waker: &Waker) {
        self.listeners.park(key, waker);
    }

    /// Empties the pipe if the driver reported it readable, and wakes
    /// every listener of every runtime if that took any bytes.
    ///
    /// `Ready(Ok)` after draining: a delivery may have come, so the caller
    /// looks at its counter again. `Pending` if the pipe has not turned
    /// readable since it was last drained. `Ready(Err)` once the runtime
    /// shut down (or the pipe failed, which it cannot while its write end
    /// is open).
    pub(super) fn poll_drain(&self) -> Poll<io::Result<()>> {
        let mut cx = Context::from_waker(&self.waker);
        let event = ready!(self.registration.poll_read_ready(&mut cx))?;
        let mut buf = [0u8; 64];
        let mut took_bytes = false;
        loop {
            match (&self.receiver).read(&mut buf) {
                Ok(0) => return Poll::Ready(Err(io::ErrorKind::UnexpectedEof.into())),
                Ok(_) => took_bytes = true,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Poll::Ready(Err(err)),
            }
        }
        // The pipe is empty: a byte written after the read is a new edge,
        // and a newer tick makes this clear a no-op (module rule 8).
        self.registration.clear_would_block(event);
        // The bytes read may be edges another runtime's epoll (or this
        // one's, polled off its thread) never collects, or its listeners
        // slept through their delivery (module rule 7, RELIABILITY finding
        // 10). Only bytes read can have hidden one.
        if took_bytes {
            // Takes the handler's `Release` fence through the bytes read:
            // the counters it raised before writing them are seen by this
            // thread's next read, and by every listener this wakes (module
            // rule 1, RELIABILITY finding 81).
            fence(Acquire);
            every_hub::wake_all();
        }
        Poll::Ready(Ok(()))
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        every_hub::withdraw(self.enrolled);
        // Before `receiver` closes: every copy shares the read end's open
        // file description, so a copy closed while still registered would
        // stay in epoll under a freed token (module rule 4). The only error
        // is "the driver is gone", which needs no clean-up.
        // SAFETY: `receiver` is the source `registration` was created with.
        let _ = unsafe { self.registration.deregister(&mut self.receiver) };
    }
}
