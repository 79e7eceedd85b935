//! [`ScheduledIo`]: the readiness state and wakers of one registered resource.

use std::fmt;
use std::ptr::NonNull;
use std::sync::PoisonError;
use std::task::{Context, Poll, Waker};

use crate::linked_list::{Link, Pointers};
use crate::loom::sync::atomic::{AtomicUsize, Ordering};
use crate::loom::sync::{Arc, Mutex, MutexGuard};
use crate::readiness::Readiness;
use crate::waiters::Waiters;
use crate::wake_list::WakeList;
use crate::wake_on_drop::WakeOnDrop;
use crate::{Direction, FirstPanic, Interest, Ready, ReadyEvent, Tick, ptr_expose};

// The readiness word.
//
// One `AtomicUsize` holds everything a poll needs to decide without a lock,
// so a poll of a ready resource costs one load:
//
// 64-bit `usize`:
//
// ```text
//  bit   | 63       | 62 .. 48 | 47 .. 16       | 15 .. 0
//  ------+----------+----------+----------------+------------------
//  field | shutdown | (unused) | tick (32 bits) | ready (`Ready`)
// ```
//
// 32-bit `usize`:
//
// ```text
//  bit   | 31       | 30 .. 16       | 15 .. 0
//  ------+----------+----------------+------------------
//  field | shutdown | tick (15 bits) | ready (`Ready`)
// ```
//
// `ready` holds the `Ready` bits; `tick` counts driver events (`Tick::Set`,
// which also records an owner's own write shutdown) for this resource and
// wraps at `TICK_MAX`; `shutdown` is set once, by
// `shutdown`, and never cleared.

/// Bits 0-15: the `Ready` set.
const READY_MASK: usize = (1 << 16) - 1;
/// Where the tick starts.
const TICK_SHIFT: u32 = 16;
/// Width of the tick: as wide as a `ReadyEvent::tick` (`u32`) when the word
/// has room, otherwise every bit between `ready` and `shutdown`.
const TICK_BITS: u32 = if usize::BITS >= 64 {
    32
} else {
    usize::BITS - 17
};
/// The largest tick; `Tick::Set` wraps to 0 after it.
pub(crate) const TICK_MAX: usize = (1 << TICK_BITS) - 1;
/// The top bit: the resource (or the whole runtime) shut down.
const SHUTDOWN: usize = 1 << (usize::BITS - 1);

// The layout needs 16 ready bits, some tick bits and the shutdown bit.
const _: () = assert!(usize::BITS >= 32);
const _: () = assert!(TICK_SHIFT + TICK_BITS < usize::BITS);
// The fields must not overlap, and every `Ready` bit must fit its field.
const _: () = assert!(READY_MASK & (TICK_MAX << TICK_SHIFT) == 0);
const _: () = assert!(SHUTDOWN & ((TICK_MAX << TICK_SHIFT) | READY_MASK) == 0);
const _: () = assert!(Ready::ALL.as_usize() & !READY_MASK == 0);
// `ReadyEvent::tick` is a `u32`: a wider tick would be truncated there.
const _: () = assert!(TICK_BITS <= 32);
// The widths the tables above print, which docs/ARCHITECTURE.md repeats
// (and whose 32-bit case it turns into "a stale clear matches again after
// 32,768 events").
#[cfg(target_pointer_width = "64")]
const _: () = assert!(TICK_BITS == 32 && TICK_SHIFT + TICK_BITS == 48);
#[cfg(target_pointer_width = "32")]
const _: () = assert!(TICK_BITS == 15 && TICK_MAX + 1 == 32_768);

/// The tick stored in `word`.
fn tick_of(word: usize) -> usize {
    (word >> TICK_SHIFT) & TICK_MAX
}

/// The per-resource readiness and wakers, one per registered I/O resource.
///
/// The driver sets readiness from mio events and wakes the tasks whose
/// interest matches; tasks poll readiness, do their I/O, and clear what
/// turned out to be stale. See the crate docs for the life of one.
pub struct ScheduledIo {
    /// Links in the `RegistrationSet`'s list of live registrations.
    linked_list_pointers: Pointers<ScheduledIo>,
    /// Ready bits, event tick and shutdown bit; see the table above.
    readiness: AtomicUsize,
    /// Everyone waiting for readiness. A mutex (not atomics) because a waker
    /// must be stored and the readiness re-checked as one step.
    waiters: Mutex<Waiters>,
    /// The id of the `RegistrationSet` whose list holds this resource (0:
    /// none). `deregister` checks it, so a resource from another set can
    /// never be queued for release and unlinked from the wrong list.
    owner: u64,
}

impl ScheduledIo {
    /// A resource with no readiness, tick 0, not shut down, no waiter.
    pub fn new() -> ScheduledIo {
        ScheduledIo::owned_by(0)
    }

    /// A fresh resource for the set with id `owner`.
    pub(crate) fn owned_by(owner: u64) -> ScheduledIo {
        ScheduledIo {
            linked_list_pointers: Pointers::new(),
            readiness: AtomicUsize::new(0),
            waiters: Mutex::new(Waiters::default()),
            owner,
        }
    }

    /// The id of the set that allocated this resource (0 for none).
    pub(crate) fn owner(&self) -> u64 {
        self.owner
    }

    /// The token to register with mio: this resource's exposed address
    /// (see [`ptr_expose`] for why that is safe).
    pub fn token(&self) -> usize {
        ptr_expose::expose(self)
    }

    /// Updates the ready bits with `f`.
    ///
    /// With `Tick::Set` (a driver event, or one recorded from another
    /// thread such as the owner's write shutdown) the tick is bumped. With
    /// `Tick::Clear(t)` nothing happens and `false` is returned unless the
    /// stored tick is still exactly `t`: an event arrived after the caller
    /// took its snapshot, and clearing now would erase readiness the caller
    /// never saw, leaving its task asleep on a ready socket.
    pub fn set_readiness(&self, tick: Tick, f: impl Fn(Ready) -> Ready) -> bool {
        let mut current = self.readiness.load(Ordering::Acquire);
        loop {
            let current_tick = tick_of(current);
            let new_tick = match tick {
                Tick::Set => current_tick.wrapping_add(1) & TICK_MAX,
                // Compare the whole stored tick. Comparing only its low 8 bits
                // (as tokio once did) makes a clear that is 256 events stale
                // look current, and it then erases the newest readiness.
                Tick::Clear(t) if t as usize == current_tick => current_tick,
                Tick::Clear(_) => return false,
            };
            let ready = f(Ready::from_usize(current & READY_MASK));
            let next = (current & SHUTDOWN) | (new_tick << TICK_SHIFT) | ready.as_usize();
            match self.readiness.compare_exchange(
                current,
                next,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return true,
                Err(actual) => current = actual,
            }
        }
    }

    /// Wakes every waiter whose interest intersects `ready`: the reader, the
    /// writer and matching `readiness` futures linked before the call.
    ///
    /// Wakers are taken out under the lock in batches of at most 32, then
    /// woken with the lock released: a woken task may run at once, take this
    /// lock, or drop the resource. Every matching waiter is woken even if a
    /// waker panics (foreign code); the first panic goes on afterwards. On
    /// the common path that takes no `catch_unwind` (see `WakeOnDrop`);
    /// linked waiters are woken through [`FirstPanic`].
    ///
    /// `inline(always)`: the driver's event dispatch must hold it inline
    /// (see `Dispatch::deliver` in eddy-io-driver); left to the inliner it
    /// was outlined there whenever the dispatch had two copies, costing an
    /// echo round trip 9 instructions.
    #[inline(always)]
    pub fn wake(&self, ready: Ready) {
        let mut waiters = self.lock_waiters();
        let reader = if ready.intersects(Direction::Read.mask()) {
            waiters.reader.take()
        } else {
            None
        };
        let writer = if ready.intersects(Direction::Write.mask()) {
            waiters.writer.take()
        } else {
            None
        };

        // The common case, a socket served by one task: no `readiness`
        // futures are linked, so at most two wakers, woken without building
        // a batch (which costs more than the wake itself on an echo).
        if !waiters.list.is_empty() {
            self.wake_linked(waiters, ready, [reader, writer]);
            return;
        }
        drop(waiters);
        match (reader, writer) {
            (Some(only), None) | (None, Some(only)) => only.wake(),
            (None, None) => {}
            (Some(reader), writer) => {
                // If the reader's wake panics, the writer is woken as the
                // panic unwinds.
                let writer = WakeOnDrop(writer);
                reader.wake();
                writer.wake();
            }
        }
    }

    /// The rest of `wake` when `readiness` futures are linked: wakes every
    /// one linked before the call whose interest intersects `ready` (not
    /// those that link again meanwhile), and the reader and writer
    /// `wake` took out, each even if another panics (the first panic goes
    /// on once all are woken). Out of line, so that its 32-waker batch does
    /// not weigh on the common path above.
    #[inline(never)]
    fn wake_linked<'a>(
        &'a self,
        mut waiters: MutexGuard<'a, Waiters>,
        ready: Ready,
        slots: [Option<Waker>; 2],
    ) {
        let mut panics = FirstPanic::new();
        let mut batch = WakeList::new();
        for waker in slots {
            batch.extend(waker);
        }
        // Only waiters linked before this wake began are its to wake, chosen
        // once, here, under the lock: a woken task that links again at once
        // made the batches loop forever (RELIABILITY finding 23). A flag in
        // each node, not a wake count in every `ScheduledIo` (16 bytes of
        // heap per socket).
        for node in waiters.list.iter() {
            // SAFETY: `node` is linked in our list, so its future has not
            // been dropped (it unlinks itself under this lock first), and we
            // hold the waiters lock.
            let waiter = unsafe { node.as_ref() };
            if waiter.interest().mask().intersects(ready) {
                // SAFETY: as above, we hold the waiters lock.
                unsafe { waiter.with_state(|state| state.chosen = true) };
            }
        }
        loop {
            // SAFETY: we hold the waiters lock.
            let mut drain = waiters
                .list
                .drain_filter(|waiter| unsafe { waiter.with_state(|state| state.chosen) });
            let mut done = false;
            while batch.can_push() {
                let Some(waiter) = drain.next() else {
                    done = true;
                    break;
                };
                // SAFETY: the waiter was linked in our list, so its future has
                // not been dropped (it unlinks itself under this lock first),
                // and we hold the waiters lock.
                let waker = unsafe {
                    waiter.as_ref().with_state(|state| {
                        state.notified = true;
                        state.waker.take()
                    })
                };
                if let Some(waker) = waker {
                    batch.push(waker);
                }
            }
            if done {
                break;
            }
            // The batch is full: wake it without the lock, then continue from
            // the head (the list may have changed meanwhile).
            drop(waiters);
            batch.wake_all(&mut panics);
            waiters = self.lock_waiters();
        }

        drop(waiters);
        batch.wake_all(&mut panics);
        panics.resume();
    }

    /// Polls for readiness in `direction`.
    ///
    /// Returns `Ready` if any bit of `direction.mask()` is set or the
    /// resource is shut down. Otherwise stores `cx`'s waker in the
    /// direction's slot and returns `Pending`; the next `wake` that matches
    /// wakes it.
    ///
    /// Inlined: a ready resource costs one load here, on every I/O call.
    #[inline]
    pub fn poll_readiness(&self, cx: &mut Context<'_>, direction: Direction) -> Poll<ReadyEvent> {
        let event = self.event(direction.mask());
        if is_final(event) {
            return Poll::Ready(event);
        }
        self.park_waker(cx, direction)
    }

    /// The not-ready half of `poll_readiness`: store the waker, look again.
    #[inline(never)]
    fn park_waker(&self, cx: &mut Context<'_>, direction: Direction) -> Poll<ReadyEvent> {
        let mask = direction.mask();
        let mut waiters = self.lock_waiters();
        let slot = match direction {
            Direction::Read => &mut waiters.reader,
            Direction::Write => &mut waiters.writer,
        };
        let replaced = match slot {
            Some(waker) if waker.will_wake(cx.waker()) => None,
            _ => slot.replace(cx.waker().clone()),
        };
        // Check again with the lock held. Between the first load and storing
        // the waker, the driver may have set readiness and run `wake`, which
        // found no waker: without this second look the wake-up is lost and
        // the task sleeps on a ready resource. Any `wake` after this point
        // takes the lock after us and finds the waker.
        let event = self.event(mask);
        drop(waiters);
        // Dropped without the lock: dropping a waker can run arbitrary code.
        drop(replaced);

        if is_final(event) {
            Poll::Ready(event)
        } else {
            Poll::Pending
        }
    }

    /// Clears the readiness `event` reported, unless the driver reported new
    /// readiness since (the tick moved on), in which case nothing is cleared.
    /// For a read that drained the socket (a short read).
    ///
    /// `READ_CLOSED` and `WRITE_CLOSED` are not cleared: at a stream's end
    /// the closed bit stays, so every later read sees the EOF at once, and
    /// no further event would ever set it again.
    #[inline]
    pub fn clear_readiness(&self, event: ReadyEvent) {
        self.clear(
            event,
            event.ready - (Ready::READ_CLOSED | Ready::WRITE_CLOSED),
        );
    }

    /// Clears everything `event` reported, closed bits included, unless the
    /// tick moved on (as [`clear_readiness`](ScheduledIo::clear_readiness)).
    /// For after the syscall said `WouldBlock`.
    ///
    /// `WouldBlock` proves that nothing in this direction can be acted on
    /// now, whatever the closed bits say: kept, the `READ_CLOSED` a
    /// read-shut datagram socket reports on every event made a `recv` loop
    /// spin (RELIABILITY finding 6). A stream never gets here with one set
    /// (at its end a read returns 0 and a write `EPIPE`).
    #[inline]
    pub fn clear_would_block(&self, event: ReadyEvent) {
        self.clear(event, event.ready);
    }

    /// Removes `bits` if the tick is still `event`'s.
    #[inline]
    fn clear(&self, event: ReadyEvent, bits: Ready) {
        if bits.is_empty() {
            return;
        }
        self.set_readiness(Tick::Clear(event.tick), |current| current - bits);
    }

    /// A future that completes when any readiness in `interest` is set (or
    /// the resource shuts down). Any number of tasks may wait at once.
    pub fn readiness(&self, interest: Interest) -> Readiness<'_> {
        Readiness::new(self, interest)
    }

    /// Whether the driver has reported urgent (out-of-band) data that no
    /// clear has covered since: one load, for the short-read rule of
    /// `Registration::poll_read_into` on every TCP read.
    #[inline]
    pub fn is_priority_set(&self) -> bool {
        self.readiness.load(Ordering::Acquire) & Ready::PRIORITY.as_usize() != 0
    }

    /// The current readiness for `interest`, without waiting (for `try_*`
    /// operations).
    pub fn ready_now(&self, interest: Interest) -> ReadyEvent {
        self.event(interest.mask())
    }

    /// Whether `shutdown` was called.
    pub fn is_shutdown(&self) -> bool {
        self.readiness.load(Ordering::Acquire) & SHUTDOWN != 0
    }

    /// Marks the resource shut down and wakes every waiter, so each sees
    /// `is_shutdown` instead of sleeping forever. Idempotent.
    pub fn shutdown(&self) {
        self.readiness.fetch_or(SHUTDOWN, Ordering::AcqRel);
        self.wake(Ready::ALL);
    }

    /// Drops the stored reader and writer wakers (the resource's owner is
    /// going away; keeping them would keep their tasks alive).
    pub fn clear_wakers(&self) {
        let mut waiters = self.lock_waiters();
        let reader = waiters.reader.take();
        let writer = waiters.writer.take();
        drop(waiters);
        drop((reader, writer));
    }

    /// A snapshot of the readiness word restricted to `mask`.
    #[inline]
    pub(crate) fn event(&self, mask: Ready) -> ReadyEvent {
        let word = self.readiness.load(Ordering::Acquire);
        ReadyEvent {
            // `tick_of` is at most `TICK_MAX`, which fits in `u32`.
            tick: tick_of(word) as u32,
            ready: Ready::from_usize(word & READY_MASK) & mask,
            is_shutdown: word & SHUTDOWN != 0,
        }
    }

    /// Locks the waiters. A poisoned lock is used as is: every critical
    /// section leaves `Waiters` consistent before anything that can panic,
    /// and panicking here would turn one task's panic into the driver's.
    ///
    /// Inlined: every park and every wake locks, and as a call of its own
    /// it cost 21 of the 848 instructions of an echo round trip.
    #[inline]
    pub(crate) fn lock_waiters(&self) -> MutexGuard<'_, Waiters> {
        self.waiters.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl ScheduledIo {
    /// Whether nobody holds the waiters lock (tests check that wakers run
    /// after it is released).
    #[cfg(all(test, not(loom)))]
    pub(crate) fn waiters_lock_is_free(&self) -> bool {
        self.waiters.try_lock().is_ok()
    }

    /// Whether no `Readiness` future is linked.
    #[cfg(test)]
    pub(crate) fn has_no_linked_waiters(&self) -> bool {
        self.lock_waiters().list.is_empty()
    }
}

/// Whether a poll should complete with `event`.
#[inline]
pub(crate) fn is_final(event: ReadyEvent) -> bool {
    !event.ready.is_empty() || event.is_shutdown
}

impl Default for ScheduledIo {
    fn default() -> ScheduledIo {
        ScheduledIo::new()
    }
}

impl fmt::Debug for ScheduledIo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let event = self.event(Ready::ALL);
        f.debug_struct("ScheduledIo")
            .field("ready", &event.ready)
            .field("tick", &event.tick)
            .field("is_shutdown", &event.is_shutdown)
            .finish_non_exhaustive()
    }
}

// `as_raw` and `from_raw` are `Arc::as_ptr` / `Arc::from_raw` on the same
// allocation (and `push_front` forgets the handle, transferring one strong
// count into the list), and an `Arc`'s value never moves.
// SAFETY: so the list's raw pointers stay valid and own one count each, and
// `linked_list_pointers` is used only by the one registration list.
unsafe impl Link for Arc<ScheduledIo> {
    type Handle = Arc<ScheduledIo>;
    type Target = ScheduledIo;

    fn as_raw(handle: &Arc<ScheduledIo>) -> NonNull<ScheduledIo> {
        // `Arc::as_ptr` keeps the provenance of the whole allocation, which
        // `Arc::from_raw` needs; `&**handle` would only cover the value.
        let ptr = Arc::as_ptr(handle).cast_mut();
        // SAFETY: an `Arc` always points to an allocation, never null.
        unsafe { NonNull::new_unchecked(ptr) }
    }

    unsafe fn from_raw(ptr: NonNull<ScheduledIo>) -> Arc<ScheduledIo> {
        // SAFETY: the caller promises `ptr` came from `as_raw` on an `Arc`
        // that was then forgotten, and is reclaimed once.
        unsafe { Arc::from_raw(ptr.as_ptr()) }
    }

    unsafe fn pointers(target: NonNull<ScheduledIo>) -> NonNull<Pointers<ScheduledIo>> {
        // SAFETY: the caller promises `target` is live; `&raw mut` takes the
        // field address without a reference to the shared `ScheduledIo`.
        unsafe { NonNull::new_unchecked(&raw mut (*target.as_ptr()).linked_list_pointers) }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn the_tick_wraps_to_zero_without_touching_ready_or_shutdown() {
        let io = ScheduledIo::new();
        io.readiness.store(
            SHUTDOWN | (TICK_MAX << TICK_SHIFT) | Ready::READ_CLOSED.as_usize(),
            Ordering::Relaxed,
        );
        assert_eq!(io.ready_now(Interest::READABLE).tick as usize, TICK_MAX);
        assert!(io.set_readiness(Tick::Set, |r| r | Ready::READABLE));
        let ev = io.ready_now(Interest::READABLE);
        assert_eq!(ev.tick, 0);
        assert!(ev.is_shutdown);
        assert_eq!(ev.ready, Ready::READABLE | Ready::READ_CLOSED);
    }

    #[test]
    fn a_clear_naming_a_tick_too_wide_for_the_word_is_refused() {
        let io = ScheduledIo::new();
        assert!(io.set_readiness(Tick::Set, |r| r | Ready::READABLE));
        let tick = io.ready_now(Interest::READABLE).tick;
        // Same low bits as the stored tick, but a bit beyond them set.
        let alias = u32::try_from((tick as usize) | (TICK_MAX + 1)).unwrap_or(u32::MAX);
        assert!(!io.set_readiness(Tick::Clear(alias), |_| Ready::EMPTY));
        assert!(io.ready_now(Interest::READABLE).ready.is_readable());
    }

    #[test]
    fn a_poisoned_waiters_lock_is_still_used() {
        let io = ScheduledIo::new();
        let poisoned = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _guard = io.lock_waiters();
            panic!("a task panicked while holding the waiters lock");
        }));
        assert!(poisoned.is_err());
        assert!(io.waiters.is_poisoned());

        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        assert!(io.poll_readiness(&mut cx, Direction::Read).is_pending());
        assert!(io.set_readiness(Tick::Set, |r| r | Ready::READABLE));
        io.wake(Ready::READABLE);
        assert!(io.poll_readiness(&mut cx, Direction::Read).is_ready());
        io.shutdown();
        io.clear_wakers();
    }
}
