//! What the signal handler touches: one delivery counter per signal number
//! and the write end of the process's one signal pipe. The only file that
//! runs inside a signal handler.
//!
//! ```text
//!  DELIVERIES[signum]: AtomicUsize   deliveries of signum so far (wrapping)
//!  WRITE_FD:           AtomicI32     the pipe's write end, -1 until made;
//!                                    never closed once set
//!  READ_END:           Mutex         the pipe's read end, which each
//!                                    runtime's hub duplicates
//! ```
//!
//! The handler counts first and writes second, so whoever is woken by the
//! byte finds the count already raised (module rule 1). The write and the
//! drain's read are system calls, which Rust's memory model does not count
//! as synchronisation: a `Release` fence between the count and the write,
//! and the `Acquire` fence of a drain that took bytes (`hub.rs`), make the
//! count happen before what the drainer does next (RELIABILITY finding
//! 81). The byte itself says nothing (a full pipe drops it, and any
//! runtime may drain it): it only makes every runtime's registered read
//! end readable, so that their listeners look at the counters again
//! (rules 2 and 7).
//!
//! The write end stays open for the rest of the process, or a handler that
//! loaded its number just before a close could write into whatever file
//! reused it (rule 3); two descriptors per process, not two per listener.

use std::io;
use std::os::fd::{IntoRawFd, OwnedFd};
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering::Release, Ordering::SeqCst, fence};
use std::sync::{Mutex, PoisonError};

/// Signal numbers go from 1 to `MAX_SIGNAL`: 64 covers Linux's real-time
/// signals (up to 64), 128 FreeBSD's and DragonFly's (65 to 126); macOS
/// has 31, and `sigaction` rejects the numbers a system does not have.
#[cfg(any(target_os = "freebsd", target_os = "dragonfly"))]
pub(super) const MAX_SIGNAL: i32 = 128;
/// Signal numbers go from 1 to `MAX_SIGNAL`: see the FreeBSD definition.
#[cfg(not(any(target_os = "freebsd", target_os = "dragonfly")))]
pub(super) const MAX_SIGNAL: i32 = 64;

/// Deliveries per signal number, indexed by the number (index 0 unused, so
/// the handler needs no subtraction). A listener remembers the count it
/// last reported and compares: counts wrap, so only "different" matters.
static DELIVERIES: [AtomicUsize; MAX_SIGNAL as usize + 1] =
    [const { AtomicUsize::new(0) }; MAX_SIGNAL as usize + 1];

/// The pipe's write end for the handler, or -1 before the pipe exists.
static WRITE_FD: AtomicI32 = AtomicI32::new(-1);

/// The pipe's read end: never read itself, only duplicated, one copy per
/// runtime that has listeners. `None` until the first listener anywhere.
static READ_END: Mutex<Option<OwnedFd>> = Mutex::new(None);

/// The counter of `signum`, or `None` if it is out of the table's range.
fn counter(signum: i32) -> Option<&'static AtomicUsize> {
    DELIVERIES.get(usize::try_from(signum).ok()?)
}

/// How many deliveries of `signum` there have been so far (0 for a number
/// out of range, which callers have ruled out already).
pub(super) fn deliveries(signum: i32) -> usize {
    counter(signum).map_or(0, |count| count.load(SeqCst))
}

/// A new descriptor for the pipe's read end (close-on-exec, and
/// non-blocking like the original, whose file status it shares), making
/// the pipe first if no one has yet.
///
/// Fails with the OS error when it runs out of descriptors; nothing is
/// left half made, so a later call may succeed.
pub(super) fn duplicate_read_end() -> io::Result<OwnedFd> {
    let mut read_end = READ_END.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(fd) = read_end.as_ref() {
        return fd.try_clone();
    }
    let (sender, receiver) = mio::unix::pipe::new()?;
    let receiver = OwnedFd::from(receiver);
    let copy = receiver.try_clone()?;
    // Published only now that nothing else can fail: from here on the
    // write end is the handler's, and it is never closed (see the top of
    // this file).
    WRITE_FD.store(sender.into_raw_fd(), SeqCst);
    *read_end = Some(receiver);
    Ok(copy)
}

/// Called from the signal handler: counts the delivery, then makes every
/// registered read end readable.
///
/// Async-signal-safe: atomics and one non-blocking `write(2)`; no
/// allocation, locks or panics. A full pipe (`EAGAIN`) is ignored: it
/// already holds bytes that wake every runtime draining it.
pub(super) fn deliver(signum: i32) {
    let Some(count) = counter(signum) else {
        return;
    };
    count.fetch_add(1, SeqCst);
    let fd = WRITE_FD.load(SeqCst);
    if fd < 0 {
        return;
    }
    // With the `Acquire` fence after a drain that took bytes, this orders
    // the count before whatever the drainer reads next: the write below
    // and the drain's read are the kernel's, which orders nothing in
    // Rust's memory model (RELIABILITY finding 81). A fence is one
    // instruction at most, async-signal-safe.
    fence(Release);
    let byte = 1u8;
    // A bare `libc::write`, not `syscall!`: there is no caller to hand an
    // error to, and a full pipe is fine (see above).
    // SAFETY: `fd` is the pipe's write end, published once and never
    // closed, so it is open and names that pipe; the buffer is one byte.
    unsafe {
        libc::write(fd, (&raw const byte).cast(), 1);
    }
}

/// The error for a signal number the counters have no slot for.
pub(super) fn out_of_range(signum: i32) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("eddy::signal: signal number {signum} is out of range 1..={MAX_SIGNAL}"),
    )
}
