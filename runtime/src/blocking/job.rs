//! One `spawn_blocking` call, as its `JoinHandle` sees it.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use crate::loom::sync::Mutex;
use crate::loom::sync::atomic::{AtomicU8, Ordering};

use eddy_registration::drop_quietly;

use crate::task::{JoinError, JoinSlot, JoinTarget};

/// The closure `spawn_blocking` was given.
type Work<T> = Box<dyn FnOnce() -> T + Send>;

/// Not started yet: `abort` can still cancel it.
const QUEUED: u8 = 0;
/// Running on a pool thread: it can no longer be stopped.
const RUNNING: u8 = 1;
/// Over (finished, panicked or cancelled).
const DONE: u8 = 2;

/// The shared state of a blocking job.
pub(crate) struct BlockingJob<T> {
    /// `QUEUED`, `RUNNING` or `DONE`, moved forward by compare-exchange so a
    /// racing `abort` and start agree on who wins.
    stage: AtomicU8,
    /// The closure until a pool thread takes it to run, or `abort` takes it
    /// to drop, so an aborted job's captures do not live until a worker
    /// reaches it in the queue (5; the module's rule 2).
    work: Mutex<Option<Work<T>>>,
    /// Where the outcome waits for the handle.
    slot: JoinSlot<T>,
}

impl<T> BlockingJob<T> {
    pub(crate) fn new(work: Work<T>) -> BlockingJob<T> {
        BlockingJob {
            stage: AtomicU8::new(QUEUED),
            work: Mutex::new(Some(work)),
            slot: JoinSlot::new(),
        }
    }

    /// Takes the closure out (once).
    fn take_work(&self) -> Option<Work<T>> {
        self.work.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    /// Runs the job on a pool thread, unless it was aborted first; a panic
    /// in the closure becomes the handle's `JoinError`.
    pub(crate) fn run(&self) {
        let claimed = self
            .stage
            .compare_exchange(QUEUED, RUNNING, Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
        // Only the stage's winner takes the closure, or an abort that won
        // found it taken, and its captures lived on to be dropped here (55).
        if !claimed {
            return;
        }
        if let Some(work) = self.take_work() {
            let outcome = catch_unwind(AssertUnwindSafe(work)).map_err(JoinError::panic);
            self.finish(outcome);
        }
    }

    /// Cancels the job if no thread has started it: its closure is dropped
    /// here, on the calling thread, and its handle resolves cancelled.
    fn cancel_if_queued(&self) {
        let cancelled = self
            .stage
            .compare_exchange(QUEUED, DONE, Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
        if cancelled {
            // Quietly, or a capture's panic (or that of a payload whose own
            // `Drop` panics) came out of `abort` (14; rule 4).
            drop_quietly(self.take_work());
            self.slot.complete(Err(JoinError::cancelled()));
        }
    }

    pub(crate) fn finish(&self, outcome: Result<T, JoinError>) {
        self.stage.store(DONE, Ordering::Release);
        self.slot.complete(outcome);
    }
}

impl<T> fmt::Debug for BlockingJob<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BlockingJob")
            .field("stage", &self.stage)
            .finish_non_exhaustive()
    }
}

impl<T: Send> JoinTarget<T> for BlockingJob<T> {
    fn slot(&self) -> &JoinSlot<T> {
        &self.slot
    }

    fn abort(self: Arc<Self>) {
        self.cancel_if_queued();
    }
}

/// A job as the pool's queue holds it: run by a pool thread, or cancelled
/// if the pool drops it unrun; before, the handle of a job refused with
/// another caller's waited for ever (50; the module's rules 1 and 6).
pub(crate) struct Runner<T>(Arc<BlockingJob<T>>);

impl<T> Runner<T> {
    pub(crate) fn new(job: Arc<BlockingJob<T>>) -> Runner<T> {
        Runner(job)
    }

    /// Runs the job (its drop then finds it over, and does nothing).
    pub(crate) fn run(self) {
        self.0.run();
    }
}

impl<T> Drop for Runner<T> {
    fn drop(&mut self) {
        self.0.cancel_if_queued();
    }
}

/// loom models of a blocking job's stage word: a pool thread running (or,
/// refused, dropping) the job's [`Runner`] while the handle's owner aborts
/// and awaits it on another thread. `stage` and `work` are loom's here
/// (through `crate::loom`), as is the [`JoinSlot`] the outcome goes through.
///
/// Run with
/// `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test --release -p eddy --lib -- loom`.
#[cfg(all(test, loom))]
#[path = "job_loom_tests.rs"]
mod loom_tests;
