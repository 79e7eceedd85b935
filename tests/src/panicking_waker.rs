//! A waker that panics when woken: foreign code eddy must survive.

use std::sync::Arc;
use std::task::{Wake, Waker};

/// Panics with its message when woken.
struct Panicking(&'static str);

impl Wake for Panicking {
    fn wake(self: Arc<Self>) {
        std::panic::panic_any(self.0);
    }
}

/// A waker that panics with `message` (a `&'static str` payload) when
/// woken: the waker of some other executor's future, as eddy meets it when
/// that future awaits a `JoinHandle` or polls a socket. Every waker is
/// foreign code to the runtime that wakes it; one that panics must cost
/// nobody else their wake-up.
pub fn panicking_waker(message: &'static str) -> Waker {
    Waker::from(Arc::new(Panicking(message)))
}
