//! Timers end to end: `sleep`, `timeout` and `interval` on a real runtime.
//!
//! No test asserts an upper bound on time: the machine is shared and noisy.
//! Lower bounds ("a 20 ms sleep took at least 20 ms") are guaranteed by the
//! monotonic clock. Every test is bounded: the longest wait any of them can
//! take is a few seconds even when the behaviour under test is broken.
//!
//! A file per subject:
//! * `sleep.rs`: sleeps last at least their duration, fire in deadline
//!   order and by the hundred thousand, free their entries when dropped,
//!   move their wake when reset, and stay pending without overflowing for
//!   deadlines too far ahead to matter;
//! * `timeout.rs`: `timeout` and `timeout_at`, `Elapsed` and the deadline
//!   a timeout reports;
//! * `interval.rs`: an interval's schedule, its missed-tick behaviours and
//!   `reset`; an `Interval::tick` dropped at random points skips no tick;
//! * `budget.rs`: timers fire beside tasks that spin on `yield_now`, loop
//!   over expired sleeps or spend their whole budget on reads;
//! * `runtimes.rs`: a sleep and the runtime it registered in, when that
//!   runtime is dropped, when there is none, or when the sleep moves to
//!   another;
//! * `remote_cancel.rs`: sleeps dropped or reset off their runtime (another
//!   thread, or between two `block_on` calls) leave no entry behind and
//!   wake at their new deadline;
//! * `panicking_wakers.rs`: a waker that panics when woken or dropped loses
//!   no other timer's wake or cancel;
//! * `metrics.rs`: `timers_live` is exact after `block_on` and while the
//!   runtime parks.

use std::pin::Pin;
use std::time::Duration;

use eddy::time::{Sleep, sleep};
use eddy_tests::poll_once;

mod budget;
mod interval;
mod metrics;
mod panicking_wakers;
mod remote_cancel;
mod runtimes;
mod sleep;
mod timeout;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn timers_live() -> usize {
    eddy::Handle::current().metrics().timers_live
}

/// The timers live in `runtime` once it has turned its driver: a yield
/// resumes only after the next turn, which applies cancels queued from
/// elsewhere.
fn timers_live_after_a_turn(runtime: &eddy::Runtime) -> usize {
    runtime.block_on(async {
        eddy::task::yield_now().await;
        timers_live()
    })
}

/// An hour-long sleep polled once in `runtime`, so its entry lives there.
fn an_hour_registered_in(runtime: &eddy::Runtime) -> Sleep {
    let mut pending = sleep(Duration::from_secs(3600));
    assert!(
        runtime
            .block_on(poll_once(Pin::new(&mut pending)))
            .is_pending()
    );
    pending
}
