//! Translating eddy's [`Interest`] into the `mio::Interest` passed to the OS.

use eddy_registration::{Interest, Ready};

/// The mio interest that makes the OS report everything `interest` asks for.
///
/// * mio has no "error" interest: errors are always reported. An interest of
///   only [`Interest::ERROR`] still has to register *something*, so it asks
///   for readable, the interest under which epoll and kqueue both report
///   errors anyway.
/// * Priority (out-of-band) readiness is only a separate interest on Linux
///   and Android. Elsewhere it degrades to readable, which is where kqueue
///   reports urgent data; the caller still filters readiness with its own
///   interest mask, so no spurious priority readiness reaches it. Under
///   Miri, whose epoll refuses `EPOLLPRI`, Linux is treated like the rest
///   (`scripts/miri`).
pub(crate) fn to_mio(interest: Interest) -> mio::Interest {
    let mut out: Option<mio::Interest> = None;
    let mut add = |extra: mio::Interest| {
        out = Some(match out {
            Some(have) => have.add(extra),
            None => extra,
        });
    };
    if interest.is_readable() {
        add(mio::Interest::READABLE);
    }
    if interest.is_writable() {
        add(mio::Interest::WRITABLE);
    }
    if interest.is_priority() {
        #[cfg(all(any(target_os = "linux", target_os = "android"), not(miri)))]
        add(mio::Interest::PRIORITY);
        #[cfg(any(not(any(target_os = "linux", target_os = "android")), miri))]
        add(mio::Interest::READABLE);
    }
    // ERROR alone (or any interest mio cannot express) falls back to readable.
    out.unwrap_or(mio::Interest::READABLE)
}

/// The readiness bits an event can bring a source registered for
/// `interest`, besides `ERROR` (every source can get an error).
///
/// The OS reports only the directions a source was registered for (plus
/// errors, and a hang-up of both directions at once), so a wait for
/// anything outside these would last until the connection dies, or
/// forever. The answer follows the mio interest `interest` becomes: an
/// error-only registration asks for readable, and priority is readable
/// outside Linux. Computed once, when the source is registered.
pub(crate) fn reported(interest: Interest) -> Ready {
    let mio = to_mio(interest);
    let mut reported = Ready::EMPTY;
    if mio.is_readable() {
        reported |= Ready::READABLE | Ready::READ_CLOSED;
    }
    if mio.is_writable() {
        reported |= Ready::WRITABLE | Ready::WRITE_CLOSED;
    }
    #[cfg(all(any(target_os = "linux", target_os = "android"), not(miri)))]
    if mio.is_priority() {
        reported |= Ready::PRIORITY;
    }
    reported
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn readable_and_writable_map_to_both_mio_interests() {
        let mio = to_mio(Interest::READABLE.add(Interest::WRITABLE));
        assert!(mio.is_readable());
        assert!(mio.is_writable());
    }

    #[test]
    fn error_only_interest_still_registers_readable() {
        let mio = to_mio(Interest::ERROR);
        assert!(mio.is_readable());
        assert!(!mio.is_writable());
    }

    #[cfg(all(any(target_os = "linux", target_os = "android"), not(miri)))]
    #[test]
    fn priority_interest_maps_to_mio_priority_on_linux() {
        let mio = to_mio(Interest::PRIORITY);
        assert!(mio.is_priority());
        assert!(!mio.is_readable());
    }
}
