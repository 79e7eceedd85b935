//! The smallest executor there is, for polling eddy objects off a runtime.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake};
use std::thread::{self, Thread};

/// Unparks the thread that polls.
struct Unpark(Thread);

impl Wake for Unpark {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs `future` to completion on this thread with no runtime at all:
/// polls it, parks the thread until its waker fires, polls again.
///
/// eddy's sockets are `Send`: their owner may move them to a plain thread
/// and drive them with an executor like this one while the runtime that
/// registered them keeps turning its driver elsewhere. The tests use it to
/// prove that such a poll gets an answer, not a panic.
pub fn block_on_parked<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let waker = Arc::new(Unpark(thread::current())).into();
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        // A spurious unpark only costs one more poll.
        thread::park();
    }
}
