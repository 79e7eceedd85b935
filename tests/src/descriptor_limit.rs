//! The process's descriptor limit (`RLIMIT_NOFILE`), for the tests that
//! run out of descriptors on purpose (in child processes: a full table
//! would fail every other test's sockets too).

use std::io;
use std::os::fd::{AsFd, OwnedFd};

/// The soft and hard `RLIMIT_NOFILE`.
pub fn descriptor_limit() -> libc::rlimit {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the `rlimit` we lend it.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    assert_eq!(rc, 0, "getrlimit: {}", io::Error::last_os_error());
    limit
}

/// Sets the soft `RLIMIT_NOFILE` to `soft`, keeping the hard limit.
pub fn set_descriptor_soft_limit(soft: libc::rlim_t) {
    let limit = libc::rlimit {
        rlim_cur: soft,
        rlim_max: descriptor_limit().rlim_max,
    };
    // SAFETY: setrlimit only reads the `rlimit` we lend it; lowering or
    // raising the soft limit up to the hard limit needs no privilege.
    let rc = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) };
    assert_eq!(rc, 0, "setrlimit: {}", io::Error::last_os_error());
}

/// Lowers the soft limit to `soft` (at most the hard one) and takes every
/// descriptor left under it, so that the next `pipe(2)`, `dup(2)` or
/// `socket(2)` fails with `EMFILE`. Dropping what it returns frees them.
pub fn fill_descriptor_table(soft: libc::rlim_t) -> Vec<OwnedFd> {
    set_descriptor_soft_limit(soft.min(descriptor_limit().rlim_max));
    let mut taken = Vec::new();
    loop {
        match io::stderr().as_fd().try_clone_to_owned() {
            Ok(fd) => taken.push(fd),
            Err(err) => {
                assert_eq!(err.raw_os_error(), Some(libc::EMFILE), "dup: {err}");
                return taken;
            }
        }
    }
}
