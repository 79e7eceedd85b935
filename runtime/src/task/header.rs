//! The part of a task every task has, whatever its future.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::State;
use crate::runtime::Shared;

/// The slab key of a task that no runtime has adopted yet: one spawned from
/// another thread, still travelling through the remote queue.
const UNASSIGNED: usize = usize::MAX;

/// Fields shared by every task.
#[derive(Debug)]
pub(crate) struct Header {
    /// Queued / complete / cancelled, see [`State`].
    pub(crate) state: State,
    /// The task's key in its runtime's slab, so a finished task can be
    /// removed in O(1). Written once, by the runtime thread, before the task
    /// is first polled; `Relaxed` suffices because only that thread acts on
    /// it. (Other threads read it only for the `trace` journal of a remote
    /// wake, where a stale `None` is harmless.)
    key: AtomicUsize,
    /// The runtime the task belongs to: a wake from another thread needs its
    /// remote queue and its driver's unpark.
    pub(crate) shared: Arc<Shared>,
}

impl Header {
    pub(crate) fn new(shared: Arc<Shared>) -> Header {
        Header {
            state: State::new_notified(),
            key: AtomicUsize::new(UNASSIGNED),
            shared,
        }
    }

    /// The slab key, or `None` before the runtime adopted the task.
    #[inline]
    pub(crate) fn key(&self) -> Option<usize> {
        match self.key.load(Ordering::Relaxed) {
            UNASSIGNED => None,
            key => Some(key),
        }
    }

    pub(crate) fn set_key(&self, key: usize) {
        self.key.store(key, Ordering::Relaxed);
    }
}
