//! The queue other threads push woken and spawned tasks onto.

use crate::loom::sync::atomic::{AtomicBool, Ordering};
use crate::loom::sync::{Mutex, MutexGuard};

/// A mutex-protected batch queue with a cheap "anything there?" flag.
///
/// The protocol that makes cross-thread wakes reliable and cheap:
///
/// * a pusher appends under the lock and is told to unpark the runtime
///   only if the queue was empty (the empty-to-non-empty edge);
/// * the runtime takes the *whole* queue at once, under the same lock.
///
/// So every item is either taken by a `take_all` that happens after its
/// push, or sits behind an earlier item whose pusher unparked the runtime
/// after pushing: no wake-up is lost, and a burst of pushes between two
/// ticks costs one unpark. `loom_tests` model-checks exactly this.
#[derive(Debug)]
pub(crate) struct RemoteQueue<T> {
    /// The items and the closed flag.
    inner: Mutex<Inner<T>>,
    /// Set by every push, cleared by `take_all`: lets the runtime skip the
    /// lock on the (usual) ticks when no other thread pushed anything.
    pending: AtomicBool,
}

#[derive(Debug)]
struct Inner<T> {
    /// Pushed and not yet taken.
    items: Vec<T>,
    /// Set at shutdown: pushes are refused from then on.
    closed: bool,
}

impl<T> RemoteQueue<T> {
    pub(crate) fn new() -> RemoteQueue<T> {
        RemoteQueue {
            inner: Mutex::new(Inner {
                items: Vec::new(),
                closed: false,
            }),
            pending: AtomicBool::new(false),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner<T>> {
        // Nothing runs user code under this lock; a poisoned lock is usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Appends `item`. `Ok(true)` means the caller must unpark the runtime;
    /// `Err(item)` gives the item back because the queue is closed.
    pub(crate) fn push(&self, item: T) -> Result<bool, T> {
        let mut inner = self.lock();
        if inner.closed {
            return Err(item);
        }
        let was_empty = inner.items.is_empty();
        inner.items.push(item);
        self.pending.store(true, Ordering::Release);
        Ok(was_empty)
    }

    /// Whether anything was pushed since the last `take_all` (a hint: the
    /// caller still takes under the lock).
    pub(crate) fn has_pending(&self) -> bool {
        self.pending.load(Ordering::Acquire)
    }

    /// Moves every queued item into `into` (which the runtime reuses, so a
    /// steady trickle of remote wakes allocates nothing).
    pub(crate) fn take_all(&self, into: &mut Vec<T>) {
        if !self.pending.load(Ordering::Acquire) {
            return;
        }
        let mut inner = self.lock();
        self.pending.store(false, Ordering::Relaxed);
        std::mem::swap(&mut inner.items, into);
    }

    /// Refuses further pushes and returns what was queued.
    pub(crate) fn close(&self) -> Vec<T> {
        let mut inner = self.lock();
        inner.closed = true;
        self.pending.store(false, Ordering::Relaxed);
        std::mem::take(&mut inner.items)
    }

    /// Whether `close` was called.
    pub(crate) fn is_closed(&self) -> bool {
        self.lock().closed
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::RemoteQueue;
    use loom::sync::Arc;
    use loom::sync::atomic::{AtomicBool, Ordering};

    /// A stand-in for the driver's park/unpark: an unpark before the park
    /// makes the park return at once, like an eventfd that is already
    /// readable.
    struct Parker {
        unparked: AtomicBool,
    }

    impl Parker {
        fn unpark(&self) {
            self.unparked.store(true, Ordering::Release);
        }

        /// Returns whether the park was woken; a park with no unpark
        /// pending would block forever, which the model reports as `false`.
        fn park(&self) -> bool {
            self.unparked.swap(false, Ordering::AcqRel)
        }
    }

    #[test]
    fn loom_remote_push_racing_the_runtime_going_to_sleep_is_never_lost() {
        loom::model(|| {
            let queue = Arc::new(RemoteQueue::new());
            let parker = Arc::new(Parker {
                unparked: AtomicBool::new(false),
            });
            let pusher = {
                let (queue, parker) = (queue.clone(), parker.clone());
                loom::thread::spawn(move || {
                    for item in 0..2 {
                        if queue.push(item).expect("queue open") {
                            parker.unpark();
                        }
                    }
                })
            };
            // The runtime: take what is there; when nothing is, park. Every
            // park that finds no unpark pending must happen only when both
            // items were already received, or the wake-up was lost.
            let mut received = Vec::new();
            let mut buffer = Vec::new();
            while received.len() < 2 {
                queue.take_all(&mut buffer);
                if buffer.is_empty() {
                    if !parker.park() {
                        // Would sleep forever: only allowed if the pusher is
                        // still going to push (then it will unpark us).
                        loom::thread::yield_now();
                    }
                    continue;
                }
                received.append(&mut buffer);
            }
            pusher.join().unwrap();
            assert_eq!(received, vec![0, 1]);
        });
    }

    #[test]
    fn loom_push_after_close_is_refused_and_close_returns_everything_before() {
        loom::model(|| {
            let queue = Arc::new(RemoteQueue::new());
            let pusher = {
                let queue = queue.clone();
                loom::thread::spawn(move || queue.push(7).is_ok())
            };
            let drained = queue.close();
            let accepted = pusher.join().unwrap();
            // An accepted push is in what close returned; a refused one is not.
            assert_eq!(accepted, drained == vec![7]);
            assert!(queue.push(8).is_err());
        });
    }
}
