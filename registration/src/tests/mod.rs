//! Unit tests of the public behaviour (not built under loom, whose
//! primitives only work inside a model).

mod counting_waker;
mod quietly;
mod readiness;
mod registration_set;
mod scheduled_io;
mod wake_list;
