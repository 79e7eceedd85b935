//! A waker that counts its wake-ups, so tests can see exactly who was woken.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Wake, Waker};

/// Counts wake-ups; `waker()` hands out wakers that bump the count.
#[derive(Debug, Default)]
pub(crate) struct CountingWaker {
    /// How many times any of its wakers was woken.
    wakes: AtomicUsize,
}

impl CountingWaker {
    /// A fresh counter and a waker for it.
    pub(crate) fn new() -> (Arc<CountingWaker>, Waker) {
        let counter = Arc::new(CountingWaker::default());
        let waker = Waker::from(counter.clone());
        (counter, waker)
    }

    /// Wake-ups so far.
    pub(crate) fn wakes(&self) -> usize {
        self.wakes.load(Ordering::SeqCst)
    }
}

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
    }
}
