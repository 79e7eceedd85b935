//! [`Tick`]: how `set_readiness` treats the per-resource event counter.

/// What kind of update a `ScheduledIo::set_readiness` call is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tick {
    /// A driver event (or the owner's own write shutdown, which
    /// `Registration::close_write` records as one): the tick is bumped so
    /// that any `ReadyEvent` handed out earlier becomes stale and can no
    /// longer clear what this event set.
    Set,
    /// A task clearing readiness it observed in the `ReadyEvent` carrying this
    /// tick; refused if any `Set` happened since (the tick moved on).
    Clear(u32),
}
