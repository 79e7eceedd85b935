//! [`WakeOnDrop`]: a waker woken when it goes out of scope, also while a
//! panic unwinds.

use std::task::Waker;

use crate::catch_quietly;

/// Wakes its waker (if any) when dropped.
///
/// `ScheduledIo::wake` holds the writer's waker in one while it wakes the
/// reader's: if the reader's waker panics (foreign code), the writer is
/// still woken as the panic unwinds, instead of being dropped unwoken. A
/// `catch_unwind` around each wake did the same at a cost on every wake;
/// this costs nothing on the path where nothing panics.
pub(crate) struct WakeOnDrop(
    /// The waker to wake; `None` when there is nobody to wake.
    pub(crate) Option<Waker>,
);

impl WakeOnDrop {
    /// Wakes the waker now. The path where nothing panicked ends here, so
    /// it never calls the drop below.
    #[inline]
    pub(crate) fn wake(mut self) {
        let waker = self.0.take();
        std::mem::forget(self);
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

impl Drop for WakeOnDrop {
    fn drop(&mut self) {
        let Some(waker) = self.0.take() else {
            return;
        };
        if std::thread::panicking() {
            // Another waker's panic is unwinding: a second panic here would
            // abort the process, so this one is caught and dropped.
            catch_quietly(|| waker.wake());
        } else {
            waker.wake();
        }
    }
}
