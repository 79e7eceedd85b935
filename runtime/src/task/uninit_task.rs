//! [`UninitTask`]: a task's allocation before its future is in it.

use std::future::Future;
use std::mem::MaybeUninit;
use std::ptr::NonNull;
use std::sync::Arc;

use super::TaskCell;

/// The memory for one task, allocated before its future moves and filled
/// by [`TaskCell::init`].
///
/// Spawning allocates first so that the future is written straight into
/// the heap: `Arc::new(TaskCell { .. })` built the cell on the stack and
/// copied it in, and every move of the future on the way (into a closure,
/// into a function that then allocates) was one more copy, because the
/// compiler does not merge copies across the call into the allocator. An
/// echo connection's future, mostly its 4 KiB buffer, was copied three
/// times per spawn; now twice (the caller's move into `spawn` remains).
///
/// Not `Clone`: being the only handle to the allocation is what lets
/// `init` write into it.
pub(crate) struct UninitTask<F: Future> {
    /// The allocation, reference counts set, cell not yet written.
    pub(super) cell: Arc<MaybeUninit<TaskCell<F>>>,
    /// Where the cell is, taken from `Arc::get_mut` when allocating. Taken
    /// then rather than in `init`: `get_mut`'s atomic uniqueness check
    /// between the future's arrival in `init` and its write kept the
    /// compiler from merging the two copies.
    pub(super) ptr: NonNull<TaskCell<F>>,
}

impl<F: Future> UninitTask<F> {
    /// Allocates the memory for a task.
    ///
    /// `Arc::new(MaybeUninit::uninit())` rather than `Arc::new_uninit()`:
    /// its layout is a constant, where `new_uninit` computes it in a call
    /// (17 instructions per spawn in callgrind).
    #[inline]
    pub(crate) fn allocate() -> UninitTask<F> {
        let mut cell = Arc::new(MaybeUninit::uninit());
        let slot = Arc::get_mut(&mut cell).expect("a new Arc has no other owner");
        UninitTask {
            ptr: NonNull::from(slot).cast(),
            cell,
        }
    }
}
