//! One `spawn_blocking` call, as its `JoinHandle` sees it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use crate::task::{JoinSlot, JoinTarget};

/// Not started yet: `abort` can still cancel it.
const QUEUED: u8 = 0;
/// Running on a pool thread: it can no longer be stopped.
const RUNNING: u8 = 1;
/// Over (finished, panicked or cancelled).
const DONE: u8 = 2;

/// The shared state of a blocking job.
#[derive(Debug)]
pub(crate) struct BlockingJob<T> {
    /// `QUEUED`, `RUNNING` or `DONE`, moved forward by compare-exchange so a
    /// racing `abort` and start agree on who wins.
    stage: AtomicU8,
    /// Where the outcome waits for the handle.
    slot: JoinSlot<T>,
}

impl<T> BlockingJob<T> {
    pub(crate) fn new() -> BlockingJob<T> {
        BlockingJob {
            stage: AtomicU8::new(QUEUED),
            slot: JoinSlot::new(),
        }
    }

    /// Claims the job for a pool thread. `false` if it was aborted first.
    pub(crate) fn start(&self) -> bool {
        self.stage
            .compare_exchange(QUEUED, RUNNING, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    pub(crate) fn finish(&self, outcome: Result<T, crate::task::JoinError>) {
        self.stage.store(DONE, Ordering::Release);
        self.slot.complete(outcome);
    }
}

impl<T: Send> JoinTarget<T> for BlockingJob<T> {
    fn slot(&self) -> &JoinSlot<T> {
        &self.slot
    }

    fn abort(self: Arc<Self>) {
        let aborted = self
            .stage
            .compare_exchange(QUEUED, DONE, Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
        if aborted {
            self.slot.complete(Err(crate::task::JoinError::cancelled()));
        }
    }

    fn is_finished(&self) -> bool {
        self.stage.load(Ordering::Acquire) == DONE
    }
}
