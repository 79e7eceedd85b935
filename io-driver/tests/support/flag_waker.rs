//! A waker that records that it was woken and unparks the thread that made it.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Wake, Waker};
use std::thread::{self, Thread};

/// Remembers a wake until `take_woken` consumes it.
pub(crate) struct FlagWaker {
    /// Set by every wake, cleared by `take_woken`.
    woken: AtomicBool,
    /// The thread to unpark, so a thread blocked in `park` notices the wake.
    thread: Thread,
}

impl FlagWaker {
    /// A flag owned by the current thread, plus a `Waker` that sets it.
    pub(crate) fn new() -> (Arc<FlagWaker>, Waker) {
        let flag = Arc::new(FlagWaker {
            woken: AtomicBool::new(false),
            thread: thread::current(),
        });
        let waker = Waker::from(flag.clone());
        (flag, waker)
    }

    /// Whether a wake happened since the last call.
    pub(crate) fn take_woken(&self) -> bool {
        self.woken.swap(false, Ordering::AcqRel)
    }
}

impl Wake for FlagWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.thread.unpark();
    }
}
