//! `spawn_blocking`: running blocking code without stalling the runtime.

mod job;
mod pool;

pub(crate) use job::BlockingJob;
pub(crate) use pool::Pool;
