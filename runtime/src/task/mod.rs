//! Tasks: spawning, waking, joining.
//!
//! A task is one `Arc` allocation (`cell::TaskCell`) holding a small
//! `Header` (state word, slab key, owning runtime), the future, and the
//! `JoinSlot` its outcome is left in. The runtime keeps every live task in
//! a slab (so shutdown can find and drop them all) and queues `Arc`s of the
//! ready ones. A waker is that same `Arc`, built by `futures-task`, so waking
//! costs one state check and one queue push: no lookup, no extra allocation.

mod cell;
mod header;
mod join_error;
mod join_handle;
mod join_slot;
#[cfg(all(test, loom))]
mod loom_tests;
mod runnable;
mod spawn;
mod state;
mod uninit_task;
mod yield_now;

pub(crate) use cell::TaskCell;
pub(crate) use header::Header;
pub use join_error::JoinError;
pub use join_handle::JoinHandle;
pub(crate) use join_handle::JoinTarget;
pub(crate) use join_slot::JoinSlot;
pub(crate) use runnable::{RunOutcome, Runnable};
pub use spawn::{spawn, spawn_blocking};
pub(crate) use state::State;
pub(crate) use uninit_task::UninitTask;
pub use yield_now::yield_now;
