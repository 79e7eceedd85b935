//! [`Handle`]: the cheap, shareable side of the driver.
//!
//! Everything a socket needs to register, deregister and wake the driver
//! lives in [`Inner`] behind one `Arc`, so cloning a `Handle` is a reference
//! count bump and the handle can cross threads.

use std::fmt;
use std::io;

use eddy_registration::{Interest, ScheduledIo, catch_quietly};
use mio::Token;

use crate::loom::Arc;
use crate::mio_interest::to_mio;
use crate::synced_set::SyncedSet;

/// The token the driver's `mio::Waker` is registered with.
///
/// Every other token is the exposed address of a live `ScheduledIo`, and an
/// allocation is never at address 0, so `Token(0)` can never collide with a
/// registration (it does not even rely on `ScheduledIo`'s alignment).
pub(crate) const WAKER_TOKEN: Token = Token(0);

/// A cloneable, `Send + Sync` reference to an I/O driver, used to register
/// sources and to wake the driver from other threads.
///
/// It stays usable after the [`Driver`](crate::Driver) has shut down or been
/// dropped: registering then fails with the shutdown error
/// (`eddy_registration::is_shutdown_error` recognises it) and deregistering
/// still works.
#[derive(Clone)]
pub struct Handle {
    /// The shared state; `Arc` so clones are cheap and outlive the driver.
    pub(crate) inner: Arc<Inner>,
}

/// The state a [`Handle`] shares with the driver.
pub(crate) struct Inner {
    /// A clone of the poll's registry, so sources can be registered from any
    /// thread while the driver is blocked in `Poll::poll`.
    registry: mio::Registry,
    /// The registration set and its lock: who is registered, who is waiting
    /// to be released, and whether the driver has shut down.
    pub(crate) registrations: SyncedSet,
    /// Wakes a driver blocked in `Poll::poll`; registered under
    /// [`WAKER_TOKEN`].
    waker: mio::Waker,
}

impl Handle {
    /// Builds the shared state for a driver whose poll is behind `registry`.
    pub(crate) fn new(registry: &mio::Registry) -> io::Result<Handle> {
        let waker = mio::Waker::new(registry, WAKER_TOKEN)?;
        Ok(Handle {
            inner: Arc::new(Inner {
                registry: registry.try_clone()?,
                registrations: SyncedSet::new(),
                waker,
            }),
        })
    }

    /// Registers `source` for `interest` and returns the `ScheduledIo` its
    /// readiness will be delivered to.
    ///
    /// The OS token is the `ScheduledIo`'s exposed address, so the driver
    /// finds it again without a lookup table. Fails with the shutdown error
    /// once the driver has shut down; if the OS refuses the source (already
    /// registered, not pollable, ...), the allocation is taken back before the
    /// OS error is returned, so a failed call leaks nothing.
    ///
    /// The source is taken as a trait object: registering is no hot path,
    /// and one compiled copy serves every socket type, where a generic
    /// parameter compiled this function (and `Registration::new` around it)
    /// once per type into every program.
    ///
    /// # Safety
    ///
    /// `source`'s `register` must register only itself with the registry it
    /// is given, under the token it is given, and must leave nothing
    /// registered when it fails; it must not keep the registry (a clone of
    /// it) to register anything later. mio's own sources (its sockets, pipes
    /// and `SourceFd`) do exactly that. The driver turns every token an event
    /// carries back into a pointer: a source registered under another token
    /// makes it dereference an arbitrary address, and one left registered
    /// by a failed call (the first fd of a source that registers two, say)
    /// names the `ScheduledIo` this call frees before it returns the error
    /// (RELIABILITY finding 22).
    pub unsafe fn add_source(
        &self,
        source: &mut dyn mio::event::Source,
        interest: Interest,
    ) -> io::Result<Arc<ScheduledIo>> {
        let io = self.inner.registrations.allocate()?;
        let token = Token(io.token());
        debug_assert_ne!(token, WAKER_TOKEN, "a ScheduledIo at address 0");
        if let Err(err) = self
            .inner
            .registry
            .register(source, token, to_mio(interest))
        {
            // SAFETY: `io` was allocated from this set just above and has not
            // been handed to anyone, so it was neither deregistered nor
            // removed yet.
            unsafe { self.inner.registrations.remove_unregistered(&io) };
            return Err(err);
        }
        crate::trace::registered(token.0, interest);
        Ok(io)
    }

    /// Removes `source` from the OS poller and queues `io` for release.
    ///
    /// The clean-up runs even when the OS deregistration fails (for example
    /// because the fd was already closed, which already removed it from
    /// epoll/kqueue): skipping it would leak the `ScheduledIo` until shutdown.
    /// The OS result is returned last. The driver is unparked when this was
    /// the deregistration that made a release worthwhile, and then `io` is
    /// shut down: whoever waits on it is woken (which also takes the stored
    /// wakers out of their slots), and every later wait on it fails at once
    /// with the shutdown error.
    ///
    /// An `io` this driver did not allocate is refused with `NotFound`
    /// before anything is touched, the OS poller included: its own driver
    /// can still deregister it (calling mio anyway left, in debug builds, a
    /// freed `ScheduledIo`'s address in epoll; RELIABILITY finding 17).
    ///
    /// # Safety
    ///
    /// `source` must be the source [`Handle::add_source`] registered under
    /// `io`, or that source's fd must already be closed and never have been
    /// duplicated. Deregistering some other source would leave the real one
    /// in the OS poller, and its first event after the next turn's release
    /// would name a freed `ScheduledIo`: a use-after-free in the driver.
    ///
    /// In the closed-fd case the stand-in must not be registered with this
    /// driver itself (its fd number may be the closed one's, reused): the OS
    /// call would then remove *its* registration, and its tasks would never
    /// hear from it again.
    pub unsafe fn deregister_source(
        &self,
        io: &Arc<ScheduledIo>,
        source: &mut dyn mio::event::Source,
    ) -> io::Result<()> {
        if !self.inner.registrations.allocated(io) {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                "this I/O resource was registered with another eddy driver",
            ));
        }
        let os_result = self.inner.registry.deregister(source);
        self.forget(io);
        os_result
    }

    /// The clean-up half of deregistration, after telling the OS: queue for
    /// release, unpark if the set asks for it, shut the resource down
    /// (which wakes and so drops every waker).
    fn forget(&self, io: &Arc<ScheduledIo>) {
        let notify = self.inner.registrations.deregister(io);
        crate::trace::deregistered(io.token());
        if notify {
            self.unpark();
        }
        // No event can reach `io` from here on, so a wait on it would never
        // end: with the shutdown bit every later wait returns at once (an
        // error), and whoever waits now is woken to see it. Waking also
        // empties the waker slots: a stored waker may own the task that owns
        // this registration, and kept, it would let a waker -> task ->
        // registration -> waker cycle outlive the socket. Last, because a
        // foreign waker may panic, and the bookkeeping above must not be
        // skipped by it. While a panic unwinds (a socket dropped by it,
        // deregistering in its `Drop`) the waker's panic is dropped
        // instead: passed on, it would be a second panic leaving a `Drop`,
        // which aborts the process.
        if std::thread::panicking() {
            catch_quietly(|| io.shutdown());
        } else {
            io.shutdown();
        }
    }

    /// Wakes the driver if it is blocked in [`Driver::turn`](crate::Driver::turn),
    /// or makes its next turn return without blocking. Callable from any
    /// thread.
    ///
    /// Everything the calling thread did before the call happens before
    /// whatever the driver's thread does after the turn that returned for
    /// it: a task queued for the driver's thread, then `unpark`, is seen
    /// once that turn returns. (The wake itself goes through the kernel,
    /// which Rust's memory model does not count as synchronisation; a
    /// `Release` read-modify-write here and an `Acquire` one after every
    /// poll make the edge.)
    pub fn unpark(&self) {
        // Before the wake: the turn the wake ends must find this write
        // when it reads the counter after its poll (RELIABILITY finding 80).
        self.inner.registrations.publish_before_unpark();
        // An `Interrupted` wrote nothing: wake again, or the driver sleeps
        // through the wake (RELIABILITY finding 54). Otherwise mio's waker only fails if the OS refuses to
        // signal the eventfd / kqueue user event, which does not happen
        // for a live poller; and the only thing a caller could do about it
        // is not wake, which is what happens anyway.
        while let Err(error) = self.inner.waker.wake() {
            if error.kind() != io::ErrorKind::Interrupted {
                break;
            }
        }
    }

    /// Whether the driver has shut down.
    pub fn is_shutdown(&self) -> bool {
        self.inner.registrations.is_shutdown()
    }

    /// How many registrations the driver holds: live ones plus deregistered
    /// ones not yet released by a turn. Zero after shutdown.
    pub fn num_registered(&self) -> usize {
        self.inner.registrations.num_registered()
    }

    /// How many deregistrations wait for the next turn to release them.
    pub fn num_pending_release(&self) -> usize {
        self.inner.registrations.num_pending_release()
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("registrations", &self.inner.registrations)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inner")
            .field("registrations", &self.registrations)
            .finish_non_exhaustive()
    }
}
