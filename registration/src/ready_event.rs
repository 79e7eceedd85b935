//! [`ReadyEvent`]: a snapshot of a resource's readiness handed to a task.

use crate::Ready;

/// What a task observed when its wait for readiness completed.
///
/// The task tries its I/O; on `WouldBlock` it passes the event back to
/// `ScheduledIo::clear_would_block` (after a TCP short read, to
/// `clear_readiness`), which uses `tick` to tell whether the driver
/// reported new readiness in between (then nothing is cleared).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadyEvent {
    /// The full stored tick at the time of the snapshot (never truncated:
    /// comparing fewer bits lets a stale clear match after wrap-around).
    pub tick: u32,
    /// The ready bits the waiter's interest or direction cares about.
    pub ready: Ready,
    /// Whether the resource was shut down: no more events will come.
    pub is_shutdown: bool,
}
