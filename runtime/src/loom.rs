//! The one place where std's synchronisation types are swapped for loom's
//! under `--cfg loom`, so the remote queue, the task state word and the join
//! slot are model-checked exactly as they are compiled.

#[cfg(not(loom))]
pub(crate) mod sync {
    pub(crate) use std::sync::atomic;
    pub(crate) use std::sync::{Mutex, MutexGuard};
}

#[cfg(loom)]
pub(crate) mod sync {
    pub(crate) use loom::sync::atomic;
    pub(crate) use loom::sync::{Mutex, MutexGuard};
}
