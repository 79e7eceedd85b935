//! What one call to [`Driver::turn`](crate::Driver::turn) did.

/// A summary of one turn of the driver, for metrics and tracing.
///
/// The numbers are counts, not durations, so they are cheap to produce on
/// every turn and stay meaningful on a noisy machine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TurnStats {
    /// I/O events dispatched to registrations (the waker's own event is not
    /// counted here; it shows up as `unparked`).
    pub events: usize,
    /// Deregistered registrations whose memory was released at the start of
    /// this turn.
    pub released: usize,
    /// Whether the poll returned (also) because someone called
    /// [`Handle::unpark`](crate::Handle::unpark), or because the
    /// sixteenth pending deregistration asked for a release.
    pub unparked: bool,
}
