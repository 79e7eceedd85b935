//! A minimal executor loop: poll only after a wake, turn the driver otherwise.

use std::task::{Context, Poll};
use std::time::Duration;

use eddy_io_driver::Driver;

use super::flag_waker::FlagWaker;

/// Upper bound on the turns `drive` makes before giving up: keeps a broken
/// driver from hanging the test suite. Not a timing assertion.
const MAX_TURNS: usize = 20;
/// How long one turn may block. A safety net only: every test makes its
/// event happen before or while turning, so the turn returns much sooner.
pub(crate) const SAFETY_NET: Duration = Duration::from_secs(5);

/// Polls `f` like an executor would: once at first, then only after its
/// waker was woken, turning the driver in between. Returns `f`'s output.
///
/// Because `f` is re-polled only after a wake, a test that completes through
/// `drive` also proves the driver woke the waiter.
pub(crate) fn drive<T>(driver: &mut Driver, mut f: impl FnMut(&mut Context<'_>) -> Poll<T>) -> T {
    let (flag, waker) = FlagWaker::new();
    let mut cx = Context::from_waker(&waker);
    if let Poll::Ready(out) = f(&mut cx) {
        return out;
    }
    for _ in 0..MAX_TURNS {
        driver.turn(Some(SAFETY_NET)).expect("turn failed");
        if flag.take_woken() {
            if let Poll::Ready(out) = f(&mut cx) {
                return out;
            }
        }
    }
    panic!("not ready (or never woken) after {MAX_TURNS} turns");
}

/// Turns the driver until a turn dispatched at least one event.
pub(crate) fn turn_until_event(driver: &mut Driver) {
    for _ in 0..MAX_TURNS {
        if driver.turn(Some(SAFETY_NET)).expect("turn failed").events > 0 {
            return;
        }
    }
    panic!("no event after {MAX_TURNS} turns");
}

/// Polls `f` once with a waker nobody looks at.
pub(crate) fn poll_once<T>(f: impl FnOnce(&mut Context<'_>) -> Poll<T>) -> Poll<T> {
    let (_flag, waker) = FlagWaker::new();
    f(&mut Context::from_waker(&waker))
}
