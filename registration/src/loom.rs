//! The one place that chooses between `std` and `loom` primitives.
//!
//! Every other module imports its `Arc`, `Mutex`, atomics and `UnsafeCell`
//! from here. Under `--cfg loom` they become loom's model-checked versions,
//! so the same code that ships is the code the loom tests explore; a stray
//! `std::sync` import elsewhere would silently hide an interleaving from the
//! model, which is why nothing else may name them directly. The one
//! exception is `registration_set`'s process-wide id counter, a `static`
//! (which loom's atomics cannot be) that no model races on.

/// Shared ownership, locking and atomics.
#[cfg(not(loom))]
pub(crate) mod sync {
    pub(crate) use std::sync::{Arc, Mutex, MutexGuard};

    /// Atomic integers and orderings.
    pub(crate) mod atomic {
        pub(crate) use std::sync::atomic::{AtomicUsize, Ordering};
    }
}

/// Shared ownership, locking and atomics (loom's model-checked versions).
#[cfg(loom)]
pub(crate) mod sync {
    pub(crate) use ::loom::sync::{Arc, Mutex, MutexGuard};

    /// Atomic integers and orderings.
    pub(crate) mod atomic {
        pub(crate) use ::loom::sync::atomic::{AtomicUsize, Ordering};
    }
}

/// Interior mutability with loom's closure-based access API.
pub(crate) mod cell {
    #[cfg(loom)]
    pub(crate) use ::loom::cell::UnsafeCell;

    /// `std::cell::UnsafeCell` behind loom's `with` / `with_mut` API, so call
    /// sites compile unchanged under the model (where loom checks that no
    /// `with_mut` overlaps another access).
    #[cfg(not(loom))]
    #[derive(Debug)]
    pub(crate) struct UnsafeCell<T>(
        /// The real cell: this wrapper only adds loom's access API.
        std::cell::UnsafeCell<T>,
    );

    #[cfg(not(loom))]
    impl<T> UnsafeCell<T> {
        /// Wraps `value`.
        pub(crate) const fn new(value: T) -> UnsafeCell<T> {
            UnsafeCell(std::cell::UnsafeCell::new(value))
        }

        /// Runs `f` with a shared raw pointer to the value.
        #[inline]
        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }

        /// Runs `f` with an exclusive raw pointer to the value.
        #[inline]
        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }
}
