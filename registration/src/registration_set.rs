//! [`RegistrationSet`]: the lock-free half of the registration bookkeeping.

use std::fmt;
use std::io;

use crossbeam_utils::CachePadded;

use crate::loom::sync::Arc;
use crate::loom::sync::atomic::{AtomicUsize, Ordering};
use crate::synced::Synced;
use crate::{ScheduledIo, error, ptr_expose};

/// How many deregistrations may pile up before `deregister` asks the caller
/// to unpark the driver so it releases them. Lower wakes the driver more
/// often; higher holds more dead `ScheduledIo`s in memory.
#[cfg(not(loom))]
pub const NOTIFY_AFTER: usize = 16;
/// Four in the loom models: loom keeps only the last 7 stores of an
/// atomic, so behind sixteen deregistrations no load could read back to a
/// release's 0, and a model could not catch a turn that read it (finding
/// 72). The protocol does not depend on the number.
#[cfg(loom)]
pub const NOTIFY_AFTER: usize = 4;

/// Tracks every registered resource of one driver.
///
/// The state is split in two: this struct holds what may be read without the
/// driver's lock (the pending-release counter, checked every turn), and
/// [`Synced`] holds the list and queue, which the owner keeps behind a mutex
/// and passes in as `&mut Synced`.
pub struct RegistrationSet {
    /// Length of `Synced::pending_release`, published so the driver can skip
    /// the lock when nothing waits for release. Padded to its own cache line:
    /// it is written by deregistering threads and read every driver turn.
    num_pending_release: CachePadded<AtomicUsize>,
    /// Unique per set (from a process-wide counter, never 0): stamped on
    /// every `ScheduledIo` it allocates and on its `Synced`, so a resource
    /// or a `Synced` from another set is recognised and refused.
    id: u64,
}

/// The next set id. A plain std atomic even under loom: ids only need to
/// be unique, and no model races on creating sets.
static NEXT_SET_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl RegistrationSet {
    /// An empty set and its lock-protected half.
    pub fn new() -> (RegistrationSet, Synced) {
        let id = NEXT_SET_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let set = RegistrationSet {
            num_pending_release: CachePadded::new(AtomicUsize::new(0)),
            id,
        };
        (set, Synced::new(id))
    }

    /// Refuses a `Synced` that belongs to another set: mixing them up would
    /// link and unlink nodes of one intrusive list through another, which is
    /// memory corruption, so this is a panic rather than an error.
    fn check(&self, synced: &Synced) {
        assert_eq!(
            synced.set_id, self.id,
            "RegistrationSet used with the Synced of another set"
        );
    }

    /// Whether `shutdown` ran.
    pub fn is_shutdown(&self, synced: &Synced) -> bool {
        synced.is_shutdown
    }

    /// Whether some deregistered resources wait for `release`: a cheap hint
    /// read without the lock (`Acquire` pairs with `deregister`'s `Release`).
    /// Inlined: the driver asks at the start of every turn.
    ///
    /// A load, so it may read an older count; an owner that unparks the
    /// driver for a release must give the driver's thread a happens-before
    /// edge to the `deregister` that asked, or the release after the unpark
    /// may not see it (finding 72; eddy's driver uses `acquire_allocations`).
    #[inline]
    pub fn needs_release(&self) -> bool {
        self.num_pending_release() != 0
    }

    /// How many deregistered resources wait for `release`.
    #[inline]
    pub fn num_pending_release(&self) -> usize {
        self.num_pending_release.load(Ordering::Acquire)
    }

    /// Creates a `ScheduledIo` and links it into the list.
    ///
    /// Fails with a [`shutdown_error`](crate::shutdown_error) once `shutdown`
    /// ran: the driver will not deliver events any more, so a registration
    /// would wait forever.
    pub fn allocate(&self, synced: &mut Synced) -> io::Result<Arc<ScheduledIo>> {
        self.check(synced);
        if synced.is_shutdown {
            return Err(error::shutdown_error());
        }
        let io = Arc::new(ScheduledIo::owned_by(self.id));
        // SAFETY: `io` was created just now, so it is in no list.
        unsafe { synced.registrations.push_front(io.clone()) };
        Ok(io)
    }

    /// Queues `io` for release on a later driver turn (see the crate docs for
    /// why it is not unlinked now). Returns `true` exactly when the queue
    /// reaches [`NOTIFY_AFTER`]: the caller should then unpark the driver.
    ///
    /// After `shutdown` this does nothing and returns `false`. That is a
    /// guard, not a shortcut: `shutdown` already unlinked every entry, so
    /// queueing `io` would make `release` unlink a node that is no longer
    /// in the list.
    ///
    /// A resource this set did not allocate is refused the same way (nothing
    /// queued, `false`): releasing it would unlink it from another set's
    /// list while only this set's lock is held.
    pub fn deregister(&self, synced: &mut Synced, io: &Arc<ScheduledIo>) -> bool {
        self.check(synced);
        if synced.is_shutdown || !self.allocated(io) {
            return false;
        }
        synced.pending_release.push(io.clone());
        let len = synced.pending_release.len();
        self.num_pending_release.store(len, Ordering::Release);
        len == NOTIFY_AFTER
    }

    /// Whether this set allocated `io`. Only such a resource may be queued
    /// by `deregister`, or be shut down (its waiters woken) by this set's
    /// owner as it deregisters it: another set's resource belongs to tasks
    /// waiting through that set's driver.
    pub fn allocated(&self, io: &ScheduledIo) -> bool {
        io.owner() == self.id
    }

    /// Unlinks every queued resource and drops the list's references to them.
    /// Called by the driver at the start of a turn, before it polls, so no
    /// event of the coming poll can name a released address. Returns how many
    /// were unlinked.
    pub fn release(&self, synced: &mut Synced) -> usize {
        self.check(synced);
        let mut pending = std::mem::take(&mut synced.pending_release);
        let mut released = 0;
        for io in pending.drain(..) {
            // Everything in `pending_release` came from `allocate` on this
            // set, and after `shutdown` the queue is empty, so nothing here
            // was unlinked by `shutdown`.
            // SAFETY: `io` is linked in this set's list, or was already
            // unlinked from it (deregistered twice), which `unlink` tolerates.
            if unsafe { self.unlink(synced, &io) } {
                released += 1;
            }
        }
        // Keep the allocation for the next batch.
        synced.pending_release = pending;
        self.num_pending_release.store(0, Ordering::Release);
        released
    }

    /// Unlinks `io` from the list now and drops the list's reference.
    ///
    /// # Safety
    ///
    /// `io` must have been allocated by this set and still be linked in its
    /// list (or already unlinked from it, which makes this a no-op). Passing
    /// a `ScheduledIo` from another set corrupts both lists. The caller must
    /// also ensure no event can still name `io`'s address.
    pub unsafe fn remove(&self, synced: &mut Synced, io: &Arc<ScheduledIo>) {
        self.check(synced);
        // SAFETY: forwarded from this function's contract.
        unsafe { self.unlink(synced, io) };
    }

    /// `remove`, reporting whether `io` was still linked.
    ///
    /// # Safety
    ///
    /// As for [`RegistrationSet::remove`].
    unsafe fn unlink(&self, synced: &mut Synced, io: &Arc<ScheduledIo>) -> bool {
        ptr_expose::unexpose(Arc::as_ptr(io));
        let node = <Arc<ScheduledIo> as crate::linked_list::Link>::as_raw(io);
        // SAFETY: the caller promises `io` is linked in this list or in none.
        let handle = unsafe { synced.registrations.remove(node) };
        handle.is_some()
    }

    /// Marks the set shut down and returns every registration still listed,
    /// so the driver can shut each one down (waking its tasks). Idempotent:
    /// a second call returns nothing. Also forgets the release queue: its
    /// entries are still listed, so they are among those returned.
    pub fn shutdown(&self, synced: &mut Synced) -> Vec<Arc<ScheduledIo>> {
        self.check(synced);
        if synced.is_shutdown {
            return Vec::new();
        }
        synced.is_shutdown = true;
        synced.pending_release.clear();
        self.num_pending_release.store(0, Ordering::Release);

        let mut drained = Vec::new();
        while let Some(io) = synced.registrations.pop_back() {
            ptr_expose::unexpose(Arc::as_ptr(&io));
            drained.push(io);
        }
        drained
    }
}

impl fmt::Debug for RegistrationSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistrationSet")
            .field("num_pending_release", &self.num_pending_release())
            .finish()
    }
}
