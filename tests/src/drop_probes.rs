//! Values that report their own drop, to prove a future or an output was
//! dropped (or how many were).

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Sets its flag when dropped: moved into a future (or returned as an
/// output), it proves that future or output was dropped. `!Send`, for tasks
/// on the runtime's own thread.
#[derive(Debug)]
pub struct DropFlag(
    /// The flag, shared with the test that reads it.
    pub Rc<Cell<bool>>,
);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

/// Counts its own drop; `Send`, so it fits remote tasks and futures
/// spawned from other threads too.
#[derive(Debug)]
pub struct CountDrop(
    /// The counter, shared by every probe of a test.
    pub Arc<AtomicUsize>,
);

impl Drop for CountDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}
