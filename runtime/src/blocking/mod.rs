//! `spawn_blocking`: running blocking code without stalling the runtime.

mod job;
mod pool;
mod spawn;

pub(crate) use pool::Pool;
pub(crate) use spawn::spawn;
