//! Tests of what eddy's own `sigaction` handler promises beyond waking
//! listeners (which tests/tests/signal.rs covers): it chains to the handler
//! it displaced, and it leaves `errno` alone. Each test uses a signal number
//! no other test in this binary touches, since dispositions are
//! process-wide.

use std::ffi::{c_int, c_void};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

use super::handler;
use super::slots;
use super::unix::{SignalKind, signal};

/// Only reached when a delivery is lost.
const LIMIT: Duration = Duration::from_secs(20);

/// Deliveries seen by [`plain_handler`].
static PLAIN_CALLS: AtomicUsize = AtomicUsize::new(0);

/// Deliveries seen by [`info_handler`], with the right signal number in
/// its `siginfo_t`.
static INFO_CALLS: AtomicUsize = AtomicUsize::new(0);

/// A one-argument handler, as a library that was there first installs it.
extern "C" fn plain_handler(_signum: c_int) {
    PLAIN_CALLS.fetch_add(1, SeqCst);
}

/// A three-argument (`SA_SIGINFO`) handler; counts only deliveries whose
/// `siginfo_t` names the signal, proving eddy passed the kernel's on.
extern "C" fn info_handler(signum: c_int, info: *mut libc::siginfo_t, _context: *mut c_void) {
    // SAFETY: the kernel passes a valid siginfo_t to an SA_SIGINFO handler,
    // and eddy's handler forwards that pointer unchanged.
    if !info.is_null() && unsafe { (*info).si_signo } == signum {
        INFO_CALLS.fetch_add(1, SeqCst);
    }
}

/// Installs `address` (with `flags`) as `signum`'s handler, the way a
/// library other than eddy would.
fn install_foreign(signum: c_int, address: libc::sighandler_t, flags: c_int) {
    // SAFETY: all-zero is a valid sigaction (integers, an address, a set).
    let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
    action.sa_sigaction = address;
    action.sa_flags = flags;
    // SAFETY: `action` is a valid action; `signum` is a catchable signal;
    // we do not ask for the old action.
    let rc = unsafe { libc::sigaction(signum, &action, std::ptr::null_mut()) };
    assert_eq!(rc, 0, "sigaction: {}", std::io::Error::last_os_error());
}

/// Starts an eddy listener for `signum`, raises it once, waits for the
/// listener to see it.
fn listen_and_raise(signum: c_int) {
    crate::run(async {
        let mut listener = signal(SignalKind::from_raw(signum)).expect("listen");
        // SAFETY: raise(3) only sends a signal; eddy's handler is installed.
        assert_eq!(unsafe { libc::raise(signum) }, 0);
        let received = crate::time::timeout(LIMIT, listener.recv()).await;
        assert_eq!(received, Ok(Some(())), "no delivery within {LIMIT:?}");
    });
}

#[test]
fn a_one_argument_handler_installed_before_eddys_still_runs_on_each_delivery() {
    let signum = libc::SIGUSR2;
    install_foreign(signum, plain_handler as *const () as libc::sighandler_t, 0);
    listen_and_raise(signum);
    assert_eq!(PLAIN_CALLS.load(SeqCst), 1);
    listen_and_raise(signum);
    assert_eq!(PLAIN_CALLS.load(SeqCst), 2);
}

#[test]
fn an_siginfo_handler_installed_before_eddys_gets_the_kernels_siginfo() {
    let signum = libc::SIGXFSZ;
    install_foreign(
        signum,
        info_handler as *const () as libc::sighandler_t,
        libc::SA_SIGINFO,
    );
    listen_and_raise(signum);
    assert_eq!(INFO_CALLS.load(SeqCst), 1);
}

#[cfg(target_os = "linux")]
#[test]
fn the_handler_leaves_errno_as_the_interrupted_code_left_it() {
    // A signal number nothing installs a handler for; calling the handler
    // directly needs no installation. A slot holding an fd that cannot be
    // open makes the handler's write fail, which sets errno (to EBADF).
    let signum = libc::SIGTTIN;
    let slot = slots::claim(signum, 999_999).expect("a free slot");
    // SAFETY: the calling thread's errno slot, valid for its life.
    unsafe { *libc::__errno_location() = libc::ENOTTY };
    handler::handler(signum, std::ptr::null_mut(), std::ptr::null_mut());
    // SAFETY: as above.
    let errno = unsafe { *libc::__errno_location() };
    slots::release(signum, slot);
    assert_eq!(errno, libc::ENOTTY);
}
