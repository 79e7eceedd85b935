//! Installs the process-wide handler for a signal number, once.

use std::io;
use std::sync::{Mutex, PoisonError};

use super::pipe::{self, MAX_SIGNAL};

/// Signals a listener may not take over. Besides signal-hook-registry's
/// list (SIGKILL and SIGSTOP cannot be caught; SIGILL, SIGFPE and SIGSEGV
/// report a fault in the instruction that raised them), SIGBUS: a handler
/// that merely notes a bus error returns to the faulting instruction, which
/// faults again, forever.
fn is_forbidden(signum: i32) -> bool {
    signum == libc::SIGBUS || signal_hook_registry::FORBIDDEN.contains(&signum)
}

/// Which signal numbers already have our handler, so each is registered
/// with signal-hook-registry once (every registration adds one more action
/// to run on each delivery). Indexed by signal number.
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
        .ok_or_else(|| pipe::out_of_range(signum))?;
    if is_forbidden(signum) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "eddy::signal: signal {signum} cannot be handled (it is uncatchable or reports a fault)"
            ),
        ));
    }
    Ok(index)
}

/// Makes sure deliveries of `signum` reach [`pipe::deliver`] from now on,
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
    // `signum` is not in signal-hook-registry's FORBIDDEN list (checked by
    // `validate`), so `register` does not panic.
    // SAFETY: the action only calls `pipe::deliver`, which is
    // async-signal-safe (atomics and a non-blocking write(2), no allocation,
    // locks or panics), and captures only a `Copy` integer.
    unsafe { signal_hook_registry::register(signum, move || pipe::deliver(signum)) }?;
    installed[index] = true;
    Ok(())
}
