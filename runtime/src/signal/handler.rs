//! The process-wide signal handler itself, and the handler it displaced.
//!
//! `install.rs` puts [`handler`] in place with `sigaction(2)` and records
//! what was there before in [`PREVIOUS`]; the handler wakes eddy's
//! listeners ([`slots::deliver`]) and then runs that previous handler, so a
//! library that caught the signal before eddy did keeps working.
//!
//! ```text
//!  PREVIOUS[signum]: AtomicUsize   0 (SIG_DFL), 1 (SIG_IGN)   nothing to chain to
//!                                  anything else              the old handler's address
//!  TAKES_INFO[signum]: AtomicBool  true if that old handler was installed
//!                                  with SA_SIGINFO (three arguments)
//! ```

use std::ffi::{c_int, c_void};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};

use super::slots::{self, MAX_SIGNAL};

/// The handler each signal number had before eddy's, as the
/// `sa_sigaction` value `sigaction` returned. Written once per signal
/// number by `install` (under its lock, before our handler is installed),
/// read by [`handler`]. All zero (`SIG_DFL`) until then: no `.data` cost.
static PREVIOUS: [AtomicUsize; MAX_SIGNAL as usize + 1] =
    [const { AtomicUsize::new(0) }; MAX_SIGNAL as usize + 1];

/// Whether the handler in [`PREVIOUS`] takes `siginfo_t` and a context
/// (`SA_SIGINFO`) rather than just the signal number: calling it through
/// the wrong type would pass it garbage.
static TAKES_INFO: [AtomicBool; MAX_SIGNAL as usize + 1] =
    [const { AtomicBool::new(false) }; MAX_SIGNAL as usize + 1];

/// Remembers `previous`, the action `signum` had before eddy installs
/// [`handler`] for it. Must be called before that installation, so the
/// handler never runs without knowing what to chain to.
pub(super) fn record_previous(signum: usize, previous: &libc::sigaction) {
    let (Some(slot), Some(info)) = (PREVIOUS.get(signum), TAKES_INFO.get(signum)) else {
        return;
    };
    info.store(previous.sa_flags & libc::SA_SIGINFO != 0, SeqCst);
    slot.store(previous.sa_sigaction, SeqCst);
}

/// The handler eddy installs (with `SA_SIGINFO`) for every signal number
/// someone listens for.
///
/// Async-signal-safe: atomics, `write(2)` and a call to the previous
/// handler; no allocation, locks or panics. It saves and restores `errno`,
/// which a failed `write` would change under the interrupted code's feet
/// (code that just saw a syscall fail and is about to read `errno`).
pub(super) extern "C" fn handler(signum: c_int, info: *mut libc::siginfo_t, context: *mut c_void) {
    let saved_errno = errno();
    slots::deliver(signum);
    call_previous(signum, info, context);
    set_errno(saved_errno);
}

/// Runs the handler `signum` had before eddy's, if it was a function
/// (neither `SIG_DFL` nor `SIG_IGN`): with eddy's in front of it, it would
/// otherwise never run again.
fn call_previous(signum: c_int, info: *mut libc::siginfo_t, context: *mut c_void) {
    let Some(index) = usize::try_from(signum).ok() else {
        return;
    };
    let (Some(previous), Some(takes_info)) = (PREVIOUS.get(index), TAKES_INFO.get(index)) else {
        return;
    };
    let previous = previous.load(SeqCst);
    if previous == libc::SIG_DFL || previous == libc::SIG_IGN || previous == libc::SIG_ERR {
        return;
    }
    if takes_info.load(SeqCst) {
        // SAFETY: `previous` came from `sigaction` for this signal with
        // SA_SIGINFO set, so it is the address of a handler with this
        // three-argument signature; we pass on the kernel's own arguments.
        let previous: extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void) =
            unsafe { std::mem::transmute(previous) };
        previous(signum, info, context);
    } else {
        // SAFETY: `previous` came from `sigaction` for this signal without
        // SA_SIGINFO, so it is the address of a one-argument handler.
        let previous: extern "C" fn(c_int) = unsafe { std::mem::transmute(previous) };
        previous(signum);
    }
}

/// This thread's `errno`.
fn errno() -> c_int {
    // SAFETY: the location is this thread's errno, valid for the thread's
    // life; reading an int is async-signal-safe.
    unsafe { *errno_location() }
}

/// Sets this thread's `errno` back to `value`.
fn set_errno(value: c_int) {
    // SAFETY: as in `errno`; writing an int is async-signal-safe.
    unsafe { *errno_location() = value }
}

/// Where libc keeps this thread's `errno` (each libc names the function
/// differently).
fn errno_location() -> *mut c_int {
    #[cfg(any(target_os = "linux", target_os = "emscripten", target_os = "fuchsia"))]
    // SAFETY: no preconditions; returns the calling thread's errno slot.
    let location = unsafe { libc::__errno_location() };
    #[cfg(any(target_os = "android", target_os = "netbsd", target_os = "openbsd"))]
    // SAFETY: as above.
    let location = unsafe { libc::__errno() };
    #[cfg(any(
        target_vendor = "apple",
        target_os = "freebsd",
        target_os = "dragonfly"
    ))]
    // SAFETY: as above.
    let location = unsafe { libc::__error() };
    #[cfg(any(target_os = "solaris", target_os = "illumos"))]
    // SAFETY: as above.
    let location = unsafe { libc::___errno() };
    location
}
