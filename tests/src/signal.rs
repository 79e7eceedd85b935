//! A one-shot flag a task can wait on and any thread can set.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

/// A cloneable one-shot event: [`set`](Signal::set) from any thread wakes
/// the task awaiting [`wait`](Signal::wait). Setting it before anyone waits
/// is remembered; setting it twice is harmless.
#[derive(Clone, Debug, Default)]
pub struct Signal {
    /// Shared by every clone: the flag and the waiting task's waker.
    inner: Arc<Mutex<SignalState>>,
}

#[derive(Debug, Default)]
struct SignalState {
    /// Whether `set` was called.
    set: bool,
    /// The last waiter's waker, taken by `set`.
    waker: Option<Waker>,
}

impl Signal {
    /// A signal that has not been set.
    pub fn new() -> Signal {
        Signal::default()
    }

    fn lock(&self) -> MutexGuard<'_, SignalState> {
        // A test that panicked while holding the lock already failed; the
        // flag is still meaningful for the rest of its cleanup.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets the flag and wakes the waiter, if any. The wake happens after the
    /// lock is released, so the woken task may touch the signal at once.
    pub fn set(&self) {
        let waker = {
            let mut state = self.lock();
            state.set = true;
            state.waker.take()
        };
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Whether the flag is set.
    pub fn is_set(&self) -> bool {
        self.lock().set
    }

    /// Whether a task is waiting: its waker is stored and `set` would wake it.
    pub fn has_waiter(&self) -> bool {
        self.lock().waker.is_some()
    }

    /// A future that completes once the flag is set.
    pub fn wait(&self) -> Wait {
        Wait {
            signal: self.clone(),
        }
    }
}

/// The future returned by [`Signal::wait`].
#[derive(Debug)]
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Wait {
    /// The signal waited on.
    signal: Signal,
}

impl Future for Wait {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.signal.lock();
        if state.set {
            return Poll::Ready(());
        }
        match &mut state.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}
