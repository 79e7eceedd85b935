//! The part of a runtime other threads can reach.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::context;
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
    remote: Mutex<Remote>,
    /// A cheap "is the remote queue worth locking?" flag, read every tick.
    remote_pending: AtomicBool,
    /// The I/O driver's handle: registrations and the cross-thread unpark.
    driver: eddy_io_driver::Handle,
    /// Counters published by the runtime thread for `Handle::metrics`.
    metrics: MetricsCell,
    /// The threads behind `spawn_blocking`, started on demand.
    blocking: Pool,
}

/// The remote queue, behind `Shared::remote`'s mutex.
#[derive(Debug, Default)]
struct Remote {
    /// Tasks to push on the local run queue at the next tick.
    tasks: Vec<Arc<dyn Runnable>>,
    /// Set at shutdown: from then on remote wakes and spawns are dropped.
    closed: bool,
}

impl Shared {
    pub(crate) fn new(driver: eddy_io_driver::Handle, blocking: Pool) -> Shared {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        Shared {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            remote: Mutex::new(Remote::default()),
            remote_pending: AtomicBool::new(false),
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

    fn lock_remote(&self) -> MutexGuard<'_, Remote> {
        self.remote.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues a woken task: on the local queue when called on the runtime's
    /// own thread (no lock), otherwise on the remote queue.
    pub(crate) fn schedule(&self, task: Arc<dyn Runnable>) {
        if let Err(task) = context::push_local(self, task) {
            // A closed runtime already dropped every future, so a late wake
            // has nothing left to run: dropping the `Arc` is all there is.
            let _ = self.push_remote(task);
        }
    }

    /// Pushes `task` on the remote queue and unparks the runtime if the
    /// queue was empty. Gives the task back if the runtime has shut down.
    ///
    /// Unparking only on the empty-to-non-empty edge batches wakes: the
    /// runtime takes the whole queue at once, so a second push before it
    /// does is carried by the first unpark.
    pub(crate) fn push_remote(&self, task: Arc<dyn Runnable>) -> Result<(), Arc<dyn Runnable>> {
        let mut remote = self.lock_remote();
        if remote.closed {
            return Err(task);
        }
        let was_empty = remote.tasks.is_empty();
        remote.tasks.push(task);
        self.remote_pending.store(true, Ordering::Release);
        drop(remote);
        self.metrics.count_remote_wake();
        if was_empty {
            self.driver.unpark();
        }
        Ok(())
    }

    /// Moves every remotely queued task into `into` (the runtime thread's
    /// reusable buffer).
    pub(crate) fn take_remote(&self, into: &mut Vec<Arc<dyn Runnable>>) {
        if !self.remote_pending.load(Ordering::Acquire) {
            return;
        }
        let mut remote = self.lock_remote();
        self.remote_pending.store(false, Ordering::Relaxed);
        std::mem::swap(&mut remote.tasks, into);
    }

    /// Refuses further remote pushes and returns what was queued.
    pub(crate) fn close_remote(&self) -> Vec<Arc<dyn Runnable>> {
        let mut remote = self.lock_remote();
        remote.closed = true;
        self.remote_pending.store(false, Ordering::Relaxed);
        std::mem::take(&mut remote.tasks)
    }

    /// Whether the runtime has shut down (its remote queue is closed).
    pub(crate) fn is_closed(&self) -> bool {
        self.lock_remote().closed
    }
}
