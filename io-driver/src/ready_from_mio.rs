//! Translating a `mio::event::Event` into eddy's [`Ready`] bits.

use eddy_registration::Ready;

/// Every readiness bit `event` reports.
///
/// Each mio predicate maps to exactly one bit; the readiness word in
/// `ScheduledIo` decides later which of them a reader or writer cares about
/// (see `Interest::mask`). Closed and error bits are kept separate from
/// readable/writable so that a reset connection wakes both directions.
pub(crate) fn ready_from_event(event: &mio::event::Event) -> Ready {
    let mut ready = Ready::EMPTY;
    if event.is_readable() {
        ready |= Ready::READABLE;
    }
    if event.is_writable() {
        ready |= Ready::WRITABLE;
    }
    if event.is_read_closed() {
        ready |= Ready::READ_CLOSED;
    }
    if event.is_write_closed() {
        ready |= Ready::WRITE_CLOSED;
    }
    if event.is_error() {
        ready |= Ready::ERROR;
    }
    // mio only ever reports priority on Linux/Android (EPOLLPRI); elsewhere
    // the predicate is simply false, so no cfg is needed here.
    if event.is_priority() {
        ready |= Ready::PRIORITY;
    }
    ready
}
