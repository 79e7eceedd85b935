//! The registration set together with the lock around its `Synced` half.
//!
//! [`SyncedSet`] is the part of the driver's shared state that has nothing
//! to do with mio: allocation, deregistration, release and shutdown of
//! `ScheduledIo`s, plus the counters the metrics read. Keeping it apart from
//! the mio `Registry` and `Waker` lets the loom tests at the bottom of this
//! file run the real hand-off code (deregister -> "unpark" -> release) with
//! a plain flag standing in for the `mio::Waker`.

use std::fmt;
use std::io;
use std::sync::PoisonError;

use eddy_registration::{RegistrationSet, ScheduledIo, Synced};

use crate::loom::{Arc, AtomicUsize, Mutex, MutexGuard, Ordering};

/// A [`RegistrationSet`] and its [`Synced`] state behind one mutex.
pub(crate) struct SyncedSet {
    /// The lock-free half: the pending-release counter the driver checks on
    /// every turn without taking the lock.
    set: RegistrationSet,
    /// The list of live registrations, the pending-release buffer and the
    /// shutdown flag. Every mutation of the set happens under this lock.
    synced: Mutex<Synced>,
    /// How many `ScheduledIo`s the set still holds (live ones plus those
    /// waiting for release). Only written under `synced`, read without it
    /// for metrics (`Relaxed`) and by the driver after each poll (an
    /// `Acquire` read-modify-write, see [`SyncedSet::acquire_allocations`]).
    num_registered: AtomicUsize,
}

impl SyncedSet {
    /// An empty, running set.
    pub(crate) fn new() -> SyncedSet {
        let (set, synced) = RegistrationSet::new();
        SyncedSet {
            set,
            synced: Mutex::new(synced),
            num_registered: AtomicUsize::new(0),
        }
    }

    /// Locks `synced`. A panic while the lock was held cannot leave the set
    /// half-updated in a way that matters more than refusing all further I/O
    /// would, so a poisoned lock is used as is rather than turning every later
    /// registration into a panic too.
    fn lock(&self) -> MutexGuard<'_, Synced> {
        self.synced.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Allocates a new `ScheduledIo` in the set; fails with the shutdown error
    /// once [`SyncedSet::shutdown`] has run.
    ///
    /// `#[inline]`, as `deregister`: each has one caller (the handle's
    /// `add_source`, `deregister_source`), and a call of its own costs a
    /// registration and its deregistration 32 instructions (callgrind
    /// `regchurn`: 656 against 624), which LLVM's own heuristics gave and
    /// took away again as unrelated code changed.
    #[inline]
    pub(crate) fn allocate(&self) -> io::Result<Arc<ScheduledIo>> {
        let mut synced = self.lock();
        let io = self.set.allocate(&mut synced)?;
        // `Release`: publishes the new `ScheduledIo` to the driver thread's
        // `acquire_allocations`.
        self.num_registered.fetch_add(1, Ordering::Release);
        Ok(io)
    }

    /// Makes every `ScheduledIo` allocated so far, on any thread, visible
    /// to the caller: an `Acquire` read-modify-write that pairs with the
    /// `Release` increment in [`SyncedSet::allocate`] (the decrements in
    /// between are read-modify-writes too, which carry it on). It also
    /// pairs with [`SyncedSet::deregister`]'s, so the next turn's
    /// `release_if_needed` sees every deregistration made before an unpark
    /// this poll returned for (finding 72), and with
    /// [`SyncedSet::publish_before_unpark`]'s, so the caller sees whatever
    /// an unparking thread stored before the unpark (finding 80).
    ///
    /// The driver calls it after each poll, before it turns event tokens
    /// back into pointers: without it only the kernel (`epoll_ctl`, then
    /// `epoll_wait`), which Rust's memory model does not count, orders a
    /// resource's initialisation on another thread before the driver reads
    /// it (RELIABILITY finding 18). Not a plain load, which may read an
    /// older count and synchronise with nothing (finding 19): a
    /// read-modify-write reads the newest. With its result unused, x86
    /// gets no instruction for it.
    #[inline]
    pub(crate) fn acquire_allocations(&self) {
        self.num_registered.fetch_add(0, Ordering::Acquire);
    }

    /// Publishes what the calling thread did before it unparks the driver
    /// to the turn that polls that unpark: a `Release` read-modify-write
    /// that the turn's [`SyncedSet::acquire_allocations`] after the poll
    /// takes. The unpark is an eventfd write (`mio::Waker`), which Rust's
    /// memory model does not count as synchronisation (finding 18), so
    /// without it a task pushed on the runtime's remote queue before the
    /// unpark could be read as absent by the very turn it woke, and the
    /// runtime parked again with it queued (RELIABILITY finding 80).
    /// [`Handle::unpark`](crate::Handle::unpark) calls it before every
    /// wake; with its result unused, x86 gets no instruction for it.
    #[inline]
    pub(crate) fn publish_before_unpark(&self) {
        self.num_registered.fetch_add(0, Ordering::Release);
    }

    /// Takes back an allocation that was never registered with the OS
    /// (mio refused it), so that a failed `add_source` leaks nothing.
    ///
    /// # Safety
    ///
    /// `io` must have been returned by [`SyncedSet::allocate`] on this set and
    /// must not have been passed to [`SyncedSet::deregister`] or to this
    /// function before: `RegistrationSet::remove` unlinks it from the list,
    /// and unlinking a node twice (or one that is in the pending-release
    /// buffer) corrupts the list.
    pub(crate) unsafe fn remove_unregistered(&self, io: &Arc<ScheduledIo>) {
        let mut synced = self.lock();
        // After shutdown the list has already been emptied into the vector
        // `shutdown` returned, so `io` is no longer linked: removing it would
        // unlink a node that is not in the list.
        if self.set.is_shutdown(&synced) {
            return;
        }
        // The caller guarantees `io` came from `allocate` on this set and was
        // neither deregistered nor removed since, and the set is not shut down
        // (checked above under the same lock).
        // SAFETY: so `io` is still linked in `synced`'s registration list.
        unsafe { self.set.remove(&mut synced, io) };
        self.num_registered.fetch_sub(1, Ordering::Relaxed);
    }

    /// Queues `io` for release. Returns `true` when the caller must unpark the
    /// driver, because enough deregistrations are now pending
    /// (`NOTIFY_AFTER`).
    ///
    /// The caller must have removed the source from the OS poller first (or
    /// the OS must have dropped it by closing the fd): once released, the
    /// `ScheduledIo` may be freed and an event naming it would dangle.
    ///
    /// The unpark that `true` asks for must come through
    /// [`Handle::unpark`](crate::Handle::unpark), whose
    /// [`SyncedSet::publish_before_unpark`] lets the turn it wakes see this
    /// deregistration's count: through the kernel alone, that turn could
    /// read the last release's 0 and skip the batch that woke it (finding
    /// 72).
    #[inline]
    pub(crate) fn deregister(&self, io: &Arc<ScheduledIo>) -> bool {
        let mut synced = self.lock();
        self.set.deregister(&mut synced, io)
    }

    /// Whether this set allocated `io` (no lock: the answer never changes).
    pub(crate) fn allocated(&self, io: &ScheduledIo) -> bool {
        self.set.allocated(io)
    }

    /// Releases the pending deregistrations if there are any. The lock is only
    /// taken when the lock-free counter says there is work, so an idle turn
    /// never touches the mutex. Inlined: its check runs on every turn.
    #[inline]
    pub(crate) fn release_if_needed(&self) -> usize {
        if !self.set.needs_release() {
            return 0;
        }
        self.release_pending()
    }

    /// The locked half of `release_if_needed`, out of the turn's way.
    #[cold]
    fn release_pending(&self) -> usize {
        let mut synced = self.lock();
        let released = self.set.release(&mut synced);
        self.num_registered.fetch_sub(released, Ordering::Relaxed);
        released
    }

    /// Marks the set shut down and returns every registration it still held,
    /// so the caller can wake their waiters. Pending releases are released
    /// first, under the same lock, so that nothing stays queued behind a
    /// driver that will never turn again. Calling it again returns nothing.
    pub(crate) fn shutdown(&self) -> Vec<Arc<ScheduledIo>> {
        let mut synced = self.lock();
        self.set.release(&mut synced);
        let all = self.set.shutdown(&mut synced);
        self.num_registered.store(0, Ordering::Relaxed);
        all
    }

    /// Whether [`SyncedSet::shutdown`] has run.
    pub(crate) fn is_shutdown(&self) -> bool {
        let synced = self.lock();
        self.set.is_shutdown(&synced)
    }

    /// Registrations the set holds: live ones plus those waiting for release.
    pub(crate) fn num_registered(&self) -> usize {
        self.num_registered.load(Ordering::Relaxed)
    }

    /// Deregistrations waiting for the next turn to release them.
    pub(crate) fn num_pending_release(&self) -> usize {
        self.set.num_pending_release()
    }
}

impl fmt::Debug for SyncedSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SyncedSet")
            .field("num_registered", &self.num_registered())
            .field("num_pending_release", &self.num_pending_release())
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use eddy_registration::NOTIFY_AFTER;
    use eddy_registration::loom_model::model;
    use loom::sync::atomic::AtomicBool;

    /// The driver side of the model: one "turn" is a release followed by a
    /// "poll" that only sees the unpark flag, and the turn's
    /// `acquire_allocations`.
    fn turn(set: &SyncedSet, unparked: &AtomicBool) -> (usize, bool) {
        let released = set.release_if_needed();
        let woken = unparked.swap(false, Ordering::Relaxed);
        set.acquire_allocations();
        (released, woken)
    }

    /// `racing` threads each deregister one entry while the driver turns;
    /// `NOTIFY_AFTER - 1` were deregistered before, so the first racer to
    /// get the lock makes the deregistration that should unpark, and a
    /// second racer would be the seventeenth, which must not unpark again.
    fn hand_off_model(racing: usize, expected: &[&'static str]) {
        model(expected, move |explored| {
            let set = Arc::new(SyncedSet::new());
            let unparked = Arc::new(AtomicBool::new(false));
            let unparks = Arc::new(AtomicUsize::new(0));
            let total = NOTIFY_AFTER - 1 + racing;
            let ios: Vec<_> = (0..total).map(|_| set.allocate().unwrap()).collect();
            // Deregistrations that cannot unpark are done up front: it keeps
            // the model small and leaves only the interesting ones racing.
            for io in &ios[..NOTIFY_AFTER - 1] {
                assert!(!set.deregister(io));
            }
            let racers: Vec<_> = ios[NOTIFY_AFTER - 1..]
                .iter()
                .map(|io| {
                    let (set, unparked, unparks, io) =
                        (set.clone(), unparked.clone(), unparks.clone(), io.clone());
                    loom::thread::spawn(move || {
                        if set.deregister(&io) {
                            unparks.fetch_add(1, Ordering::Relaxed);
                            // `Handle::unpark`: the publish, then
                            // `mio::Waker::wake`, the kernel, which orders
                            // nothing in Rust's memory model, so `Relaxed`
                            // (findings 72 and 80).
                            set.publish_before_unpark();
                            unparked.store(true, Ordering::Relaxed);
                        }
                    })
                })
                .collect();

            let (mut released, woken) = turn(&set, &unparked);
            if woken {
                // The hand-off promise: an unpark observed by the driver means
                // the next release sees every deregistration that caused it
                // (the sixteen of the batch; a seventeenth may come later).
                let (more, _) = turn(&set, &unparked);
                released += more;
                assert!(
                    released >= NOTIFY_AFTER,
                    "unpark seen but release missed entries"
                );
            }
            for racer in racers {
                racer.join().unwrap();
            }
            let unparks = unparks.load(Ordering::Relaxed);
            explored.saw(match (woken, unparks) {
                (true, _) => "the turn saw the unpark",
                (false, 0) => "the turn released first, no unpark due",
                (false, _) => "the unpark came after the turn",
            });
            released += set.release_if_needed();
            // Everything is released, and the lock-free counter the next turn
            // checks says so.
            assert_eq!(set.num_pending_release(), 0);

            assert!(unparks <= 1, "one batch asked for two unparks");
            assert_eq!(released, total);
            assert_eq!(set.num_registered(), 0);
            for io in &ios {
                assert_eq!(
                    Arc::strong_count(io),
                    1,
                    "the set still holds a released entry"
                );
            }
        });
    }

    #[test]
    fn loom_sixteenth_deregistration_unpark_is_followed_by_a_release_that_sees_it() {
        hand_off_model(
            1,
            &["the turn saw the unpark", "the unpark came after the turn"],
        );
    }

    #[test]
    fn loom_two_racing_deregistrations_unpark_once_and_release_everything() {
        hand_off_model(
            2,
            &[
                "the turn saw the unpark",
                "the unpark came after the turn",
                "the turn released first, no unpark due",
            ],
        );
    }

    #[test]
    fn loom_a_driver_unparked_through_the_kernel_releases_the_batch_that_unparked_it() {
        let orders = [
            "the poll saw no unpark",
            "the turn after the unpark released",
        ];
        model(&orders, |explored| {
            let set = Arc::new(SyncedSet::new());
            let ios: Vec<_> = (0..NOTIFY_AFTER).map(|_| set.allocate().unwrap()).collect();
            // The kernel: `mio::Waker::wake` (an eventfd write) on the
            // deregistering thread, `epoll_wait` returning on the driver's.
            // Rust's memory model does not count a system call as
            // synchronisation, so it is a `Relaxed` atomic here: it hands
            // the unpark over and orders nothing (as in the allocation
            // model below).
            let kernel = Arc::new(AtomicBool::new(false));
            let deregistering = {
                let (set, kernel, ios) = (set.clone(), kernel.clone(), ios.clone());
                loom::thread::spawn(move || {
                    for io in &ios {
                        if set.deregister(io) {
                            // `Handle::unpark`: the publish, then the wake.
                            set.publish_before_unpark();
                            kernel.store(true, Ordering::Relaxed);
                        }
                    }
                })
            };
            // The driver's poll and `acquire_allocations` after it; if it
            // was unparked, the next turn starts with `release_if_needed`.
            let woken = kernel.load(Ordering::Relaxed);
            set.acquire_allocations();
            if woken {
                assert_eq!(
                    set.release_if_needed(),
                    NOTIFY_AFTER,
                    "the turn after the unpark did not release the deregistrations \
                     that asked for it, and no later deregistration unparks again"
                );
                explored.saw("the turn after the unpark released");
            } else {
                explored.saw("the poll saw no unpark");
            }
            deregistering.join().unwrap();
        });
    }

    #[test]
    fn loom_shutdown_racing_deregistration_leaks_nothing_and_wakes_live_entries() {
        let orders = [
            "deregistered before shutdown",
            "deregistered after shutdown",
        ];
        model(&orders, |explored| {
            let set = Arc::new(SyncedSet::new());
            let a = set.allocate().unwrap();
            let b = set.allocate().unwrap();

            let deregisterer = {
                let (set, a) = (set.clone(), a.clone());
                loom::thread::spawn(move || {
                    // After shutdown this does nothing; before it, `a` is queued.
                    set.deregister(&a);
                })
            };
            let live = set.shutdown();
            deregisterer.join().unwrap();
            explored.saw(if live.iter().any(|io| Arc::ptr_eq(io, &a)) {
                "deregistered after shutdown"
            } else {
                "deregistered before shutdown"
            });
            // Deregistration after shutdown must not resurrect a pending
            // entry: nothing is queued, so the next turn takes no lock.
            assert_eq!(set.num_pending_release(), 0);
            assert_eq!(set.release_if_needed(), 0);
            assert!(set.is_shutdown());
            assert!(set.allocate().is_err());

            // `b` was never deregistered, so shutdown must have handed it back.
            assert!(live.iter().any(|io| Arc::ptr_eq(io, &b)));
            drop(live);
            // Whichever way the race went, the set let go of `a`: either the
            // release inside `shutdown` dropped it or it came back in `live`.
            assert_eq!(Arc::strong_count(&a), 1);
            assert_eq!(Arc::strong_count(&b), 1);
        });
    }

    #[test]
    fn loom_an_allocation_on_another_thread_is_initialised_before_the_driver_reads_it() {
        let orders = ["the driver found no token", "the driver delivered to it"];
        model(&orders, |explored| {
            let set = Arc::new(SyncedSet::new());
            // The kernel: `epoll_ctl` on the registering thread, then
            // `epoll_wait` on the driver's. Rust's memory model does not
            // count it, so it is a `Relaxed` atomic here: it hands over the
            // token and orders nothing.
            let kernel = Arc::new(AtomicUsize::new(0));
            let registering = {
                let (set, kernel) = (set.clone(), kernel.clone());
                loom::thread::spawn(move || {
                    let io = set.allocate().unwrap();
                    kernel.store(io.token(), Ordering::Relaxed);
                })
            };
            // One driver turn: poll, then `acquire_allocations`, then turn
            // each token back into its `ScheduledIo` and deliver.
            let token = kernel.load(Ordering::Relaxed);
            if token == 0 {
                explored.saw("the driver found no token");
            } else {
                set.acquire_allocations();
                // SAFETY: the token is a live `ScheduledIo`'s exposed address:
                // the set's list holds it until a release, and nothing here
                // deregisters it.
                let io = unsafe { eddy_registration::ptr_expose::from_exposed(token) };
                io.set_readiness(eddy_registration::Tick::Set, |r| {
                    r | eddy_registration::Ready::READABLE
                });
                io.wake(eddy_registration::Ready::READABLE);
                explored.saw("the driver delivered to it");
            }
            registering.join().unwrap();
        });
    }
}
