//! [`TimerRequest`]: what a `Sleep` asks of its runtime's timers from where
//! it cannot reach them.

use super::timer_key::TimerKey;

/// A change to one timer entry, queued on the runtime's shared state by a
/// `Sleep` on another thread (or on the runtime's own thread outside
/// `block_on`, or inside the runtime's own borrow of its timers) and
/// applied by the runtime before it fires timers.
#[derive(Clone, Copy, Debug)]
pub(crate) enum TimerRequest {
    /// The `Sleep` was dropped: take the entry out and drop its waker.
    Cancel(TimerKey),
    /// The `Sleep`'s deadline moved: take the entry out and wake its waker.
    /// The woken task's next poll registers the new deadline (or completes).
    Wake(TimerKey),
}
