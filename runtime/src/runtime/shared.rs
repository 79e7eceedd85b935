//! The part of a runtime other threads can reach.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::{RemoteQueue, context};
use crate::blocking::Pool;
use crate::metrics::MetricsCell;
use crate::task::Runnable;

/// State shared between the runtime thread, wakers, `Handle`s and the
/// blocking pool. Everything here is `Sync`; the runtime's own queues and
/// task slab live in `Core`, on its thread only.
#[derive(Debug)]
pub(crate) struct Shared {
    /// Tells runtimes apart (timers registered in one runtime and polled in
    /// another are moved, not confused).
    id: u64,
    /// Tasks woken or spawned from other threads, waiting to be adopted.
    remote: RemoteQueue<Arc<dyn Runnable>>,
    /// The I/O driver's handle: registrations and the cross-thread unpark.
    driver: eddy_io_driver::Handle,
    /// Counters published by the runtime thread for `Handle::metrics`.
    metrics: MetricsCell,
    /// The threads behind `spawn_blocking`, started on demand.
    blocking: Pool,
}

impl Shared {
    pub(crate) fn new(driver: eddy_io_driver::Handle, blocking: Pool) -> Shared {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        Shared {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            remote: RemoteQueue::new(),
            driver,
            metrics: MetricsCell::default(),
            blocking,
        }
    }

    pub(crate) fn id(&self) -> u64 {
        self.id
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

    /// Queues a woken task on its runtime: on the local queue when called
    /// on the runtime's own thread (no lock), otherwise on the remote queue.
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

    /// Refuses further remote pushes and returns what was queued.
    pub(crate) fn close_remote(&self) -> Vec<Arc<dyn Runnable>> {
        self.remote.close()
    }

    /// Whether the runtime has shut down (its remote queue is closed).
    pub(crate) fn is_closed(&self) -> bool {
        self.remote.is_closed()
    }
}
