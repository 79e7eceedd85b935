//! The one place where std's synchronisation types are swapped for loom's
//! under `--cfg loom`, so the remote queue, the task state word, the join
//! slot, a blocking job's stage, the blocking pool's hand-off and a signal
//! hub's listeners are model-checked exactly as they are compiled.

#[cfg(not(loom))]
pub(crate) mod sync {
    pub(crate) use std::sync::atomic;
    pub(crate) use std::sync::{Condvar, Mutex, MutexGuard};
}

#[cfg(loom)]
pub(crate) mod sync {
    pub(crate) use loom::sync::atomic;
    pub(crate) use loom::sync::{Condvar, Mutex, MutexGuard};
}

/// Starting threads (the blocking pool's workers): loom's under the model,
/// so a worker is one of the threads it schedules.
#[cfg(not(loom))]
pub(crate) use std::thread;

/// Starting threads (the blocking pool's workers): loom's under the model,
/// so a worker is one of the threads it schedules.
#[cfg(loom)]
pub(crate) use loom::thread;
