//! The synchronisation primitives this crate uses, swapped for loom's under `--cfg loom`.
//!
//! The pieces the loom model exercises go through here: the mutex around the
//! registration set's `Synced` state and the atomics next to it. `Arc` must
//! follow whatever `eddy-registration` uses, because `RegistrationSet`
//! hands out `Arc<ScheduledIo>` built from its own (loom or std) `Arc`; using
//! std's here under `--cfg loom` would not even type-check.
//! Everything that touches mio keeps using std directly, because loom cannot
//! model system calls and the loom tests never build a real driver.

#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicUsize, Ordering};
#[cfg(not(loom))]
pub(crate) use std::sync::{Arc, Mutex, MutexGuard};

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicUsize, Ordering};
#[cfg(loom)]
pub(crate) use loom::sync::{Arc, Mutex, MutexGuard};
