//! Unix signals as streams: [`signal`](fn@signal) returns a [`Signal`] for one
//! [`SignalKind`]. See the [parent module](super) for how a delivery gets
//! from the kernel to [`Signal::recv`].

mod signal;
mod signal_kind;

pub use signal::{Signal, signal};
pub use signal_kind::SignalKind;
