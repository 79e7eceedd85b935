//! [`Synced`]: the half of the registration bookkeeping behind a lock.

use std::fmt;

use crate::ScheduledIo;
use crate::linked_list::LinkedList;
use crate::loom::sync::Arc;

/// The registration list and release queue of a `RegistrationSet`.
///
/// The driver keeps it in a mutex and passes `&mut Synced` to every
/// `RegistrationSet` method that changes it; exclusive access is what makes
/// the intrusive list sound.
pub struct Synced {
    /// Set by `RegistrationSet::shutdown`; refuses new registrations and
    /// deregistrations afterwards.
    pub(crate) is_shutdown: bool,
    /// Every live registration; each link holds one strong reference, which
    /// keeps the address (the mio token) valid until released.
    pub(crate) registrations: LinkedList<Arc<ScheduledIo>, ScheduledIo>,
    /// Deregistered resources still linked, unlinked by the next `release`.
    pub(crate) pending_release: Vec<Arc<ScheduledIo>>,
    /// The id of the `RegistrationSet` created with it. Both halves are
    /// public and handed in separately, so nothing but this id stops a set
    /// from being given another set's `Synced`; `RegistrationSet::check`
    /// refuses that, or `release` would unlink nodes of one list through
    /// another.
    pub(crate) set_id: u64,
}

impl Synced {
    /// Empty, not shut down.
    pub(crate) fn new(set_id: u64) -> Synced {
        Synced {
            is_shutdown: false,
            registrations: LinkedList::new(),
            pending_release: Vec::new(),
            set_id,
        }
    }

    /// How many registrations are linked (including those pending release).
    pub fn num_registered(&self) -> usize {
        self.registrations.iter().count()
    }
}

impl Drop for Synced {
    fn drop(&mut self) {
        // The list does not drop its handles by itself; give back the strong
        // references so a driver dropped without `shutdown` leaks nothing.
        self.pending_release.clear();
        while self.registrations.pop_back().is_some() {}
    }
}

impl fmt::Debug for Synced {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Synced")
            .field("is_shutdown", &self.is_shutdown)
            .field("num_registered", &self.num_registered())
            .field("pending_release", &self.pending_release.len())
            .finish()
    }
}
