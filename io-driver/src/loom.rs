//! The synchronisation primitives this crate uses, swapped for loom's under `--cfg loom`.
//!
//! Only the pieces that the loom model exercises go through here: the mutex
//! around the registration set's `Synced` state and the atomics next to it.
//! Everything that touches mio keeps using std directly, because loom cannot
//! model system calls and the loom tests never build a real driver.

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicUsize, Ordering};
#[cfg(not(loom))]
pub(crate) use std::sync::{Mutex, MutexGuard};

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicUsize, Ordering};
#[cfg(loom)]
pub(crate) use loom::sync::{Mutex, MutexGuard};
