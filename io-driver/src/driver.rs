//! [`Driver`]: the half of the reactor that the runtime thread owns and turns.

use std::fmt;
use std::io;
use std::time::Duration;

use eddy_registration::{FirstPanic, catch_quietly, shutdown_error};

use crate::dispatch::Dispatch;
use crate::handle::Handle;
use crate::turn_stats::TurnStats;

/// The I/O driver: owns the OS poller and turns its events into readiness on
/// the registered `ScheduledIo`s.
///
/// Only the thread that owns it calls [`Driver::turn`]; every other thread
/// talks to it through a [`Handle`].
pub struct Driver {
    /// Reused for every poll so a turn allocates nothing.
    events: mio::Events,
    /// Shared with every socket; holds the registration set.
    handle: Handle,
    /// How many turns have polled, for tracing and debugging. (Not to be
    /// confused with the readiness tick each `ScheduledIo` keeps.)
    turns: u64,
    /// Set by the first [`Driver::shutdown`]; afterwards `turn` refuses to
    /// poll, because events could name `ScheduledIo`s that the set no longer
    /// owns and that may already be freed.
    is_shutdown: bool,
    /// The OS poller. Declared last so it is dropped last: `Drop` shuts the
    /// set down and wakes every waiter before the poller goes away.
    poll: mio::Poll,
}

impl Driver {
    /// The events buffer size the runtime uses when not told otherwise.
    pub const DEFAULT_EVENTS_CAPACITY: usize = 1024;

    /// The largest events capacity [`Driver::new`] accepts: as many events
    /// as fit in `i32::MAX` bytes. One `epoll_wait` takes at most that many
    /// (Linux's `EP_MAX_EVENTS`; mio passes the capacity as an `i32` on
    /// every platform), so a driver with a larger buffer failed every turn
    /// with `EINVAL`, and a much larger one could not even be allocated.
    pub const MAX_EVENTS_CAPACITY: usize =
        i32::MAX as usize / std::mem::size_of::<mio::event::Event>();

    /// Creates a driver whose turns dispatch at most `events_capacity` events
    /// each (more stay queued in the OS for the next turn).
    ///
    /// Fails with `InvalidInput` for a capacity of zero (a poll that can
    /// return nothing would spin) or above [`Driver::MAX_EVENTS_CAPACITY`]
    /// (checked before the buffer is allocated: `usize::MAX` made it panic,
    /// and a merely huge one aborted the process when its allocation
    /// failed), or with the OS error if the poller or its waker cannot be
    /// created (for example when out of file descriptors).
    pub fn new(events_capacity: usize) -> io::Result<Driver> {
        if events_capacity == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "eddy-io-driver: events_capacity must be at least 1",
            ));
        }
        if events_capacity > Driver::MAX_EVENTS_CAPACITY {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "eddy-io-driver: events_capacity is more than one poll can return \
                 (Driver::MAX_EVENTS_CAPACITY)",
            ));
        }
        let poll = mio::Poll::new()?;
        let handle = Handle::new(poll.registry())?;
        Ok(Driver {
            events: mio::Events::with_capacity(events_capacity),
            handle,
            turns: 0,
            is_shutdown: false,
            poll,
        })
    }

    /// The handle sockets register through; clone it to keep it.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// How many turns have polled so far.
    pub fn turns(&self) -> u64 {
        self.turns
    }

    /// Runs one turn: release pending deregistrations, wait for events for at
    /// most `timeout` (`None`: until something happens, `Some(ZERO)`: do not
    /// block), and deliver each event to its `ScheduledIo`.
    ///
    /// A signal interrupting the wait (`EINTR`) ends the turn early with zero
    /// events instead of returning an error; the caller's loop simply turns
    /// again, after handling whatever the signal meant. After
    /// [`Driver::shutdown`] this returns the shutdown error without polling.
    pub fn turn(&mut self, timeout: Option<Duration>) -> io::Result<TurnStats> {
        if self.is_shutdown {
            return Err(shutdown_error());
        }
        let mut stats = TurnStats {
            // Releasing here, before the poll, is what makes the token
            // dereference below sound: nothing is released between this poll
            // and the dispatch of its events.
            released: self.handle.inner.registrations.release_if_needed(),
            ..TurnStats::default()
        };
        self.turns = self.turns.wrapping_add(1);
        crate::trace::released(stats.released);
        crate::trace::polling(timeout);

        match self.poll.poll(&mut self.events, timeout) {
            Ok(()) => {}
            Err(err) if err.kind() == io::ErrorKind::Interrupted => return Ok(stats),
            Err(err) => return Err(err),
        }
        // Before any token becomes a pointer: what was allocated on other
        // threads is initialised as far as this thread can tell.
        self.handle.inner.registrations.acquire_allocations();

        // Through `Dispatch`, whose drop delivers the rest of the events if
        // a waker panics mid-batch.
        let mut dispatch = Dispatch {
            events: self.events.iter(),
            stats: &mut stats,
        };
        while let Some(event) = dispatch.events.next() {
            dispatch.deliver(event);
        }
        // Every event delivered: its drop has nothing to do, so it is not
        // even called (it runs only if a wake panics).
        std::mem::forget(dispatch);
        Ok(stats)
    }

    /// Shuts the driver down: every registration gets its shutdown bit set
    /// and every waiter is woken (their polls now return the shutdown error),
    /// pending deregistrations are released, and later `add_source` calls
    /// fail. Idempotent; also run by `Drop`.
    ///
    /// The order is the promise: the set is emptied under its lock first (so
    /// no registration can slip in afterwards), then waiters are woken outside
    /// the lock (a woken task may deregister, which takes the lock), and the
    /// `mio::Poll` is only dropped after all of that, when the `Driver`
    /// itself is dropped. No task is left waiting on a reactor that is gone.
    ///
    /// A waker that panics costs no other waiter its wake-up; the first such
    /// panic goes on once all are woken, unless a panic is already unwinding
    /// (a call from a `Drop`, this driver's own included): then it is
    /// dropped, since a second panic leaving a `drop` aborts the process.
    pub fn shutdown(&mut self) {
        if self.is_shutdown {
            return;
        }
        self.is_shutdown = true;
        let live = self.handle.inner.registrations.shutdown();
        crate::trace::drained(live.len());
        // Every resource gets its shutdown bit and its waiters woken, even
        // if one of their wakers panics: a task left waiting would hang.
        let mut panics = FirstPanic::new();
        for io in &live {
            panics.run(|| io.shutdown());
        }
        if std::thread::panicking() {
            // Called as a panic unwinds, so from a `Drop` (this driver's
            // own, or its owner's): a waker's panic passed on from here
            // would leave that `drop` as a second panic, which aborts the
            // process. Every waiter was woken all the same; only the
            // waker's panic is dropped, and the unwinding one goes on.
            catch_quietly(|| panics.resume());
        } else {
            panics.resume();
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // Runs before any field is dropped, so the poll (declared last) is
        // still alive while waiters are being woken.
        self.shutdown();
    }
}

impl fmt::Debug for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Driver")
            .field("events_capacity", &self.events.capacity())
            .field("turns", &self.turns)
            .field("is_shutdown", &self.is_shutdown)
            .field("handle", &self.handle)
            .finish_non_exhaustive()
    }
}
