//! The pieces of the hierarchical timing wheel behind
//! [`Timers`](super::timers::Timers); see the "Implementation" section of
//! the `time` module for how they fit together.

mod clock;
mod due_order;
mod entry;
mod list;
#[cfg(test)]
mod model_test;
mod slots;

pub(crate) use clock::Clock;
pub(crate) use due_order::{Due, sort_due};
pub(crate) use entry::Entry;
pub(crate) use list::NIL;
pub(crate) use slots::Slots;
