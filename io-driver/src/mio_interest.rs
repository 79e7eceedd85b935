//! Translating eddy's [`Interest`] into the `mio::Interest` passed to the OS.

use eddy_registration::Interest;

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
