//! The driver's unpark and poll with the kernel taken out, for the loom
//! models of the crates above this one (the runtime's remote queue). Built
//! only under `--cfg loom`.
//!
//! [`Handle::unpark`](crate::Handle::unpark) writes an eventfd and
//! [`Driver::turn`](crate::Driver::turn) returns from `epoll_wait` for it;
//! loom cannot run either, and Rust's memory model does not count them as
//! synchronisation anyway. So the kernel is a `Relaxed` counter here (an
//! eventfd is one: a write adds, the poll takes it all), which hands the
//! wake over and orders nothing, and around it stand the same two calls
//! of the registration set that the real unpark and turn make.

use crate::loom::{AtomicUsize, Ordering};
use crate::synced_set::SyncedSet;

/// An unpark channel whose halves make the driver's own memory-ordering
/// calls.
#[derive(Debug)]
pub struct Kernel {
    /// The set whose counter the real `unpark` and turn write and read.
    set: SyncedSet,
    /// The eventfd's count: unparks not yet polled.
    eventfd: AtomicUsize,
}

impl Kernel {
    /// A channel with no unpark pending.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Kernel {
        Kernel {
            set: SyncedSet::new(),
            eventfd: AtomicUsize::new(0),
        }
    }

    /// What [`Handle::unpark`](crate::Handle::unpark) does.
    pub fn unpark(&self) {
        self.set.publish_before_unpark();
        self.eventfd.fetch_add(1, Ordering::Relaxed);
    }

    /// A turn's poll with a zero timeout and what the turn does after it
    /// ([`Driver::turn`](crate::Driver::turn)): whether an unpark had come.
    pub fn poll(&self) -> bool {
        let woken = self.eventfd.swap(0, Ordering::Relaxed) != 0;
        self.set.acquire_allocations();
        woken
    }
}
