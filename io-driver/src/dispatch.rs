//! [`Dispatch`]: delivering one `epoll_wait`'s events, all of them even
//! when a waker panics.

use eddy_registration::{Tick, catch_quietly, ptr_expose};

use crate::handle::WAKER_TOKEN;
use crate::ready_from_mio::ready_from_event;
use crate::turn_stats::TurnStats;

/// The events of one poll still to be delivered, and the turn's counts.
///
/// Delivering an event wakes wakers, which are foreign code and may panic.
/// Such a panic must not cost the events after it their wake-up:
/// edge-triggered epoll never reports them again, and their tasks would
/// sleep on ready sockets (found in review). So the drop, which runs while
/// the panic unwinds, delivers whatever is left. On the path where nothing
/// panics the turn forgets it once the loop is done, so that path pays
/// nothing; a `catch_unwind` around every wake cost 46 instructions per
/// echo round trip.
pub(crate) struct Dispatch<'a> {
    /// The poll's events not delivered yet.
    pub(crate) events: mio::event::Iter<'a>,
    /// Events delivered, and whether the cross-thread waker fired.
    pub(crate) stats: &'a mut TurnStats,
}

impl Dispatch<'_> {
    /// Sets the readiness an event reports on its `ScheduledIo` and wakes
    /// its waiters (or notes an unpark).
    ///
    /// `inline(always)`, like `ScheduledIo::wake` inside it: with two
    /// callers here (the turn's loop and `Drop`) the inliner's choice hung
    /// on the size of unrelated code in this crate. When registering
    /// stopped being generic and moved into this crate, the compiler
    /// outlined this function and an echo round trip cost 5 instructions
    /// more (842 -> 847); forcing this one alone outlined `wake` instead
    /// (850). Both forced: 841.
    #[inline(always)]
    pub(crate) fn deliver(&mut self, event: &mio::event::Event) {
        let token = event.token();
        if token == WAKER_TOKEN {
            self.stats.unparked = true;
            return;
        }
        let ready = ready_from_event(event);
        // Every token other than WAKER_TOKEN was registered by a source
        // `Handle::add_source` handed it to (whose contract is that the
        // source registers only under that token, and leaves nothing
        // registered if the call fails) from `ScheduledIo::token()`, the exposed
        // address of an `Arc<ScheduledIo>` allocated by the registration
        // set. The set keeps a strong reference until `release`, which only
        // runs at the start of a turn (before this poll) or in `shutdown`
        // (after which `turn` refuses to run). A source is removed from the
        // OS poller (explicitly, or by its fd closing) before it is queued
        // for release, so no event of this poll can name a released
        // `ScheduledIo`. The turn called `acquire_allocations` after the
        // poll, so one allocated on another thread is seen initialised.
        // SAFETY: so `token.0` is the address of a live `ScheduledIo`.
        let io = unsafe { ptr_expose::from_exposed(token.0) };
        crate::trace::event(token.0, ready);
        io.set_readiness(Tick::Set, |current| current | ready);
        self.stats.events += 1;
        io.wake(ready);
    }
}

impl Drop for Dispatch<'_> {
    fn drop(&mut self) {
        // Events are left only when a wake panicked: deliver the rest. Each
        // under `catch_unwind`, since a second panic while the first one
        // unwinds would abort the process; the first goes on.
        while let Some(event) = self.events.next() {
            catch_quietly(|| self.deliver(event));
        }
    }
}
