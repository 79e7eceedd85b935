//! Installs the process-wide handler for a signal number, once, with
//! `sigaction(2)`.
//!
//! Straight `sigaction` rather than a handler-registry crate: eddy needs
//! one handler per signal number, installed once and never removed, which
//! is one system call; a registry (signal-hook-registry, as tokio uses)
//! added two crates to every cold build and about 8 KiB to every binary.

use std::io;
use std::mem::MaybeUninit;
use std::sync::{Mutex, PoisonError};

use super::handler;
use super::slots::{self, MAX_SIGNAL};

/// Signals a listener may not take over: SIGKILL and SIGSTOP cannot be
/// caught; SIGILL, SIGFPE, SIGSEGV and SIGBUS report a fault in the
/// instruction that raised them, and a handler that merely notes the fault
/// returns to that instruction, which faults again, forever.
const FORBIDDEN: [i32; 6] = [
    libc::SIGKILL,
    libc::SIGSTOP,
    libc::SIGILL,
    libc::SIGFPE,
    libc::SIGSEGV,
    libc::SIGBUS,
];

/// Which signal numbers already have our handler, so each is installed
/// once (a second `sigaction` would record our own handler as the
/// "previous" one, and the handler would then call itself). Indexed by
/// signal number.
static INSTALLED: Mutex<[bool; MAX_SIGNAL as usize + 1]> =
    Mutex::new([false; MAX_SIGNAL as usize + 1]);

/// Checks that `signum` is a signal number a listener may use, and returns
/// its index in the per-signal tables.
///
/// Fails with `InvalidInput` for a number out of range or one that may not
/// be handled.
pub(super) fn validate(signum: i32) -> io::Result<usize> {
    let index = usize::try_from(signum)
        .ok()
        .filter(|&i| (1..=MAX_SIGNAL as usize).contains(&i))
        .ok_or_else(|| slots::out_of_range(signum))?;
    if FORBIDDEN.contains(&signum) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "eddy::signal: signal {signum} cannot be handled (it is uncatchable or reports a fault)"
            ),
        ));
    }
    Ok(index)
}

/// Makes sure deliveries of `signum` reach [`slots::deliver`] from now on,
/// for the rest of the process's life.
///
/// Fails like [`validate`], or with the OS error if `sigaction` refuses the
/// number (one this system does not have). A failure installs nothing and
/// may be retried.
pub(super) fn install(signum: i32) -> io::Result<()> {
    let index = validate(signum)?;
    // A panic while holding the lock cannot leave the flags inconsistent
    // (a flag is set only after its registration succeeded), so a poisoned
    // lock is still good.
    let mut installed = INSTALLED.lock().unwrap_or_else(PoisonError::into_inner);
    if installed[index] {
        return Ok(());
    }
    // Record the current action before ours replaces it, so the handler
    // can chain to it from its very first delivery. (If another thread
    // changes the action between these two calls, that change is what we
    // displace without chaining: the same race any two libraries that both
    // install handlers have.)
    let previous = sigaction(signum, None)?;
    handler::record_previous(index, &previous);

    let mut action = zeroed_action();
    action.sa_sigaction = handler::handler as *const () as libc::sighandler_t;
    // SIGINFO: `handler` takes three arguments. RESTART: a slow system call
    // the signal interrupts is resumed instead of failing with EINTR in
    // code that never asked for signals. ONSTACK: run on the thread's
    // alternate stack if it has one (std gives every thread one to report
    // stack overflows), as other runtimes' handlers do.
    action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART | libc::SA_ONSTACK;
    // An empty mask (zeroed is not guaranteed to be one): block nothing
    // extra while the handler runs.
    // SAFETY: `sa_mask` is a valid, writable sigset_t.
    unsafe { libc::sigemptyset(&mut action.sa_mask) };
    sigaction(signum, Some(&action))?;
    installed[index] = true;
    Ok(())
}

/// `sigaction(2)` for `signum`: installs `action` if given, and returns
/// the action in place before the call.
fn sigaction(signum: i32, action: Option<&libc::sigaction>) -> io::Result<libc::sigaction> {
    let new = action.map_or(std::ptr::null(), std::ptr::from_ref);
    let mut old = MaybeUninit::<libc::sigaction>::uninit();
    // SAFETY: `new` is null or points to a valid action for the duration
    // of the call; `old` is writable storage for one sigaction, which the
    // kernel fills in whenever the call succeeds. A forbidden or unknown
    // `signum` makes the call fail with EINVAL and change nothing.
    if unsafe { libc::sigaction(signum, new, old.as_mut_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the call succeeded, so it wrote `old`.
    Ok(unsafe { old.assume_init() })
}

/// An all-zero `sigaction`, the starting point every field of which
/// `install` then sets.
fn zeroed_action() -> libc::sigaction {
    // SAFETY: `sigaction` is a plain C struct of integers, a function
    // address and a signal set; all-zero is a valid value for each.
    unsafe { MaybeUninit::zeroed().assume_init() }
}
