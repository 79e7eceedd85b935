//! The one way a job reaches the pool, shared by both spawn functions.

use std::sync::Arc;

use super::Pool;
use super::job::{BlockingJob, Runner};
use crate::task::JoinHandle;

/// Queues `f` on `pool`, from any thread: the body of both
/// `task::spawn_blocking` and `Handle::spawn_blocking`.
pub(crate) fn spawn<F, R>(pool: &Pool, f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let job = Arc::new(BlockingJob::new(Box::new(f)));
    let runner = Runner::new(job.clone());
    // Refused (shut down, or no thread could start), the job never runs:
    // the pool has dropped the runner, which dropped the closure and
    // resolved the handle, cancelled.
    let _ = pool.spawn(Box::new(move || runner.run()));
    JoinHandle::new(job)
}
