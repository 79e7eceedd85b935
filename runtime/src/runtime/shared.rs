//! The part of a runtime other threads can reach.

use std::sync::Arc;

use super::{RemoteQueue, context};
use crate::blocking::Pool;
use crate::metrics::MetricsCell;
use crate::task::Runnable;
use crate::time::timer_request::TimerRequest;

/// State shared between the runtime thread, wakers, `Handle`s and the
/// blocking pool. Everything here is `Sync`; the runtime's own queues and
/// task slab live in `Core`, on its thread only.
#[derive(Debug)]
pub(crate) struct Shared {
    /// Tasks woken or spawned where the local run queue cannot be reached
    /// (another thread, or this one outside `block_on`), waiting to be
    /// adopted.
    remote: RemoteQueue<Arc<dyn Runnable>>,
    /// Changes to timer entries whose `Sleep` was dropped or reset where
    /// the timers cannot be reached (another thread, this one outside
    /// `block_on`, or code running inside the runtime's own borrow of
    /// them: a global allocator, a panic hook), or a dropped sleep's entry
    /// stayed until its deadline (time rule 3, RELIABILITY finding 16).
    timer_requests: RemoteQueue<TimerRequest>,
    /// The I/O driver's handle: registrations and the cross-thread unpark.
    driver: eddy_io_driver::Handle,
    /// Counters published by the runtime thread for `Handle::metrics`.
    metrics: MetricsCell,
    /// The threads behind `spawn_blocking`, started on demand.
    blocking: Pool,
}

impl Shared {
    pub(crate) fn new(driver: eddy_io_driver::Handle, blocking: Pool) -> Shared {
        Shared {
            remote: RemoteQueue::new(),
            timer_requests: RemoteQueue::new(),
            driver,
            metrics: MetricsCell::default(),
            blocking,
        }
    }

    pub(crate) fn driver(&self) -> &eddy_io_driver::Handle {
        &self.driver
    }

    pub(crate) fn metrics(&self) -> &MetricsCell {
        &self.metrics
    }

    pub(crate) fn blocking(&self) -> &Pool {
        &self.blocking
    }

    /// Queues a woken task on its runtime: on the local queue while that
    /// runtime runs on this thread (no lock), otherwise on the remote queue
    /// (from another thread, or from this one outside `block_on`).
    ///
    /// Generic over the task type so that the local path reads the task's
    /// runtime without a virtual call, and borrows it instead of cloning
    /// its `Arc` (two atomic operations on every wake).
    pub(crate) fn schedule<T: Runnable + 'static>(task: Arc<T>) {
        let local = context::push_local(task);
        if let Err(task) = local {
            crate::trace::task_woken(|| task.header().key(), true);
            // A closed runtime already dropped every future, so a late wake
            // has nothing left to run: dropping the `Arc` is all there is.
            let shared = Arc::clone(&task.header().shared);
            let _ = shared.push_remote(task);
        }
    }

    /// Pushes `task` on the remote queue and unparks the runtime when the
    /// queue protocol asks for it (see [`RemoteQueue`]). Gives the task back
    /// if the runtime has shut down.
    pub(crate) fn push_remote(&self, task: Arc<dyn Runnable>) -> Result<(), Arc<dyn Runnable>> {
        let must_unpark = self.remote.push(task)?;
        self.metrics.count_remote_wake();
        if must_unpark {
            self.driver.unpark();
        }
        Ok(())
    }

    /// Whether other threads queued anything since the last `take_remote`.
    pub(crate) fn has_remote(&self) -> bool {
        self.remote.has_pending()
    }

    /// Moves every remotely queued task into `into` (the runtime thread's
    /// reusable buffer).
    pub(crate) fn take_remote(&self, into: &mut Vec<Arc<dyn Runnable>>) {
        self.remote.take_all(into);
    }

    /// Queues `request` for the runtime's timers, from where they cannot be
    /// reached, and unparks the runtime, which applies it at its next turn
    /// (or as `block_on` starts): a moved deadline takes effect now rather
    /// than at the old one, and a dropped sleep's entry goes now rather
    /// than when something else wakes the runtime (finding 70).
    ///
    /// Every request unparks, not only the first of a batch: a turn with
    /// no timer leaves the queue as it is (only stale keys can be in it
    /// then), so a request pushed behind those would find no unpark coming.
    pub(crate) fn queue_timer_request(&self, request: TimerRequest) {
        // Refused once the runtime has shut down; its timers went with it.
        if self.timer_requests.push(request).is_ok() {
            self.driver.unpark();
        }
    }

    /// Whether any timer request is waiting (a hint, as `has_remote`).
    pub(crate) fn has_timer_requests(&self) -> bool {
        self.timer_requests.has_pending()
    }

    /// Moves every queued timer request into `into`.
    pub(crate) fn take_timer_requests(&self, into: &mut Vec<TimerRequest>) {
        self.timer_requests.take_all(into);
    }

    /// Refuses further remote pushes (tasks and timer requests) and returns
    /// the tasks that were queued.
    pub(crate) fn close_remote(&self) -> Vec<Arc<dyn Runnable>> {
        drop(self.timer_requests.close());
        self.remote.close()
    }

    /// Whether the runtime has shut down (its remote queue is closed).
    pub(crate) fn is_closed(&self) -> bool {
        self.remote.is_closed()
    }
}
