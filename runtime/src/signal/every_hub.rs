//! Every runtime's signal listeners, for the one that drains the pipe to
//! wake them all ([`wake_all`]; module rule 7, RELIABILITY finding 10): a
//! byte drained while another runtime's thread was busy never reaches that
//! runtime's epoll, nor one drained by a `Signal` polled off its runtime's
//! thread its own runtime's. Each woken listener looks at its own counter,
//! as for any wake.
//!
//! ```text
//!  HUBS: Mutex<Slab<Weak<Listeners>>>   one entry per live hub, its key
//!                                       kept by the hub to withdraw it
//! ```
//!
//! Never touched by the signal handler (it takes a lock); only by hubs
//! being made, dropped, and draining.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use eddy_registration::catch_quietly;
use futures_task::ArcWake;
use slab::Slab;

use super::listeners::Listeners;

/// The listeners of every live hub, in every runtime of the process. Weak:
/// a hub owns its listeners, this list only finds them.
static HUBS: Mutex<Slab<Weak<Listeners>>> = Mutex::new(Slab::new());

/// Locks the list. No code but the slab's runs under the lock (wakers are
/// woken, and the last `Arc` of a list dropped, outside it), so a poisoned
/// lock still holds a good slab.
fn lock() -> MutexGuard<'static, Slab<Weak<Listeners>>> {
    HUBS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Adds a hub's listeners; returns the key to [`withdraw`] them with.
pub(super) fn enroll(listeners: &Arc<Listeners>) -> usize {
    lock().insert(Arc::downgrade(listeners))
}

/// Removes the hub whose key is `key`.
pub(super) fn withdraw(key: usize) {
    let removed = lock().try_remove(key);
    drop(removed);
}

/// Wakes every listener of every hub. Called by whoever read bytes out of
/// the pipe: the edges of those bytes may be lost to every other runtime.
///
/// Every listener is woken even if another's waker (foreign code) panics,
/// and the panic stops here, or it failed whichever listener's task
/// happened to drain, in any runtime (finding 10). The panic hook has
/// already reported it; that listener's own runtime re-raises it out of
/// its driver when it is the one to wake it.
pub(super) fn wake_all() {
    // Pushed in a loop, not collected: every `collect` compiles its own
    // copy of `Vec`'s from-iterator code (1 KB here), for one iterator type.
    let mut hubs = Vec::new();
    for (_, hub) in lock().iter() {
        if let Some(hub) = hub.upgrade() {
            hubs.push(hub);
        }
    }
    for hub in &hubs {
        // `Listeners` wakes all of its listeners before its first panic
        // goes on, so this only stops that panic.
        catch_quietly(|| ArcWake::wake_by_ref(hub));
    }
    // Dropped outside the lock: the last `Arc` of a list drops the wakers
    // it holds.
    drop(hubs);
}
