//! The table the signal handler reads: per signal number, the write ends of
//! the pipes of everyone listening for it. The only file that touches raw
//! file descriptors from a signal handler.
//!
//! ```text
//!  SLOTS[signum][i]: AtomicI32     0        free
//!                                  fd + 1   a listener's pipe write end
//!  READERS: ReaderGate             handlers inside `deliver`, counted per
//!                                  generation (see `reader_gate.rs`)
//! ```
//!
//! A slot holds the fd plus one so that "free" is zero: an all-zero table
//! lives in `.bss` and costs the binary nothing, where a table of `-1`s
//! (65 x 64 x 4 bytes) was 16 KiB of `.data` in every program that uses
//! eddy.
//!
//! `claim` publishes an fd with a compare-exchange from 0; `release`
//! stores 0 and then waits out the handlers that entered `deliver` before
//! that (only those: handlers that start later cannot see the old fd and
//! do not hold it up), so that once it returns no handler can still hold
//! the old fd and the caller may close it.

use std::io;
use std::sync::atomic::{AtomicI32, Ordering::SeqCst};

use super::reader_gate::ReaderGate;

/// Listeners per signal number. A fixed size because the handler cannot
/// allocate or lock; 64 is far more than a program listens for at once.
pub(super) const SLOTS_PER_SIGNAL: usize = 64;

/// Signal numbers go from 1 to `MAX_SIGNAL` (64 covers Linux's real-time
/// signals; other systems have fewer, and `sigaction` rejects the rest).
pub(super) const MAX_SIGNAL: i32 = 64;

/// Marks a free slot. Slots hold `fd + 1`, and no valid fd is negative.
const EMPTY: i32 = 0;

/// The write ends plus one, indexed by signal number (index 0 is never
/// used, so the handler needs no subtraction).
static SLOTS: [[AtomicI32; SLOTS_PER_SIGNAL]; MAX_SIGNAL as usize + 1] =
    [const { [const { AtomicI32::new(EMPTY) }; SLOTS_PER_SIGNAL] }; MAX_SIGNAL as usize + 1];

/// The handler invocations between reading a slot and finishing their
/// write. `release` waits them out before its caller closes the fd;
/// without it a handler on another thread could write into an unrelated
/// file that reused the closed fd number.
static READERS: ReaderGate = ReaderGate::new();

/// The slots of `signum`, or `None` if it is out of the table's range.
fn slots_of(signum: i32) -> Option<&'static [AtomicI32; SLOTS_PER_SIGNAL]> {
    if signum < 1 {
        return None;
    }
    SLOTS.get(usize::try_from(signum).ok()?)
}

/// Publishes `fd` in a free slot of `signum` and returns the slot's index.
///
/// Fails when all slots of `signum` are taken (or `signum` is out of
/// range, which callers have ruled out already).
pub(super) fn claim(signum: i32, fd: i32) -> io::Result<usize> {
    let slots = slots_of(signum).ok_or_else(|| out_of_range(signum))?;
    let stored = fd
        .checked_add(1)
        .filter(|&stored| stored > EMPTY)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "eddy::signal: bad pipe fd"))?;
    slots
        .iter()
        .position(|slot| slot.compare_exchange(EMPTY, stored, SeqCst, SeqCst).is_ok())
        .ok_or_else(|| {
            io::Error::other(format!(
                "eddy::signal: already {SLOTS_PER_SIGNAL} listeners for signal {signum}; drop one first"
            ))
        })
}

/// Empties slot `index` of `signum` and returns once no signal handler can
/// still be using the fd it held: after this the caller may close it.
pub(super) fn release(signum: i32, index: usize) {
    let Some(slot) = slots_of(signum).and_then(|slots| slots.get(index)) else {
        return;
    };
    // SeqCst, like every access of the gate: a handler that loaded our fd
    // did so before this store, and so entered the gate before the flip in
    // `wait_out_readers` (the argument is in `reader_gate.rs`).
    slot.store(EMPTY, SeqCst);
    READERS.wait_out_readers();
}

/// Called from the signal handler: wakes every listener of `signum` by
/// writing one byte to its pipe.
///
/// Async-signal-safe: only atomics and `write(2)`; no allocation, locks or
/// panics. A full pipe (`EAGAIN`) is ignored: its reader has a wake-up
/// pending already.
pub(super) fn deliver(signum: i32) {
    let Some(slots) = slots_of(signum) else {
        return;
    };
    let byte = 1u8;
    let generation = READERS.enter();
    for slot in slots {
        let stored = slot.load(SeqCst);
        if stored == EMPTY {
            continue;
        }
        let fd = stored - 1;
        // write(2) is async-signal-safe, and the fd is non-blocking, so it
        // returns at once (its error, EAGAIN on a full pipe, is deliberately
        // ignored: a full pipe already means "wake up"). `fd` was published
        // by `claim` and is not closed before `release` has emptied its slot
        // and waited out every reader that entered the gate before that,
        // which includes us until our `exit` below.
        // SAFETY: so `fd` is open for this write; the buffer is one byte.
        unsafe {
            libc::write(fd, (&raw const byte).cast(), 1);
        }
    }
    READERS.exit(generation);
}

/// The error for a signal number the table has no row for.
pub(super) fn out_of_range(signum: i32) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("eddy::signal: signal number {signum} is out of range 1..={MAX_SIGNAL}"),
    )
}
