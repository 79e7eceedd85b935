//! The waker of the future passed to `block_on`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures_task::ArcWake;

use super::{Shared, context};

/// Wakes the `block_on` future. It is not a task (it lives on the caller's
/// stack), so a wake only raises a flag the loop checks every tick, plus an
/// unpark when it comes from another thread.
#[derive(Debug)]
pub(crate) struct MainWaker {
    /// Set by a wake, cleared right before the main future is polled.
    notified: AtomicBool,
    /// The runtime to unpark for wakes from other threads.
    shared: Arc<Shared>,
}

impl MainWaker {
    pub(crate) fn new(shared: Arc<Shared>) -> MainWaker {
        MainWaker {
            notified: AtomicBool::new(true),
            shared,
        }
    }

    pub(crate) fn take_notified(&self) -> bool {
        self.notified.swap(false, Ordering::AcqRel)
    }

    pub(crate) fn is_notified(&self) -> bool {
        self.notified.load(Ordering::Acquire)
    }
}

impl ArcWake for MainWaker {
    fn wake_by_ref(arc_self: &Arc<Self>) {
        arc_self.notified.store(true, Ordering::Release);
        let remote = !context::is_current(&arc_self.shared);
        crate::trace::main_woken(remote);
        if remote {
            arc_self.shared.driver().unpark();
        }
    }
}
