//! A sleep and the runtime it registered in: outliving it, polled with none,
//! dropped with it gone or in another, and moved to another.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use eddy::time::{interval, sleep};
use eddy_tests::poll_once;

use crate::{an_hour_registered_in, ms, timers_live, timers_live_after_a_turn};

#[test]
fn a_sleep_that_outlived_its_runtime_completes_in_the_next() {
    let created = Instant::now();
    let mut sleep = sleep(ms(30));
    let first = eddy::Runtime::new().unwrap();
    assert!(first.block_on(poll_once(Pin::new(&mut sleep))).is_pending());
    drop(first);
    let second = eddy::Runtime::new().unwrap();
    second.block_on(async {
        (&mut sleep).await;
        assert_eq!(timers_live(), 0);
    });
    assert!(sleep.is_elapsed());
    assert!(created.elapsed() >= ms(30));
}

#[test]
fn polling_a_pending_sleep_outside_a_runtime_panics_clearly() {
    let mut sleep = sleep(Duration::from_secs(3600));
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = Pin::new(&mut sleep).poll(&mut Context::from_waker(Waker::noop()));
    }))
    .unwrap_err();
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or_default();
    assert!(
        message.contains("outside an eddy runtime"),
        "got: {message}"
    );
    // A sleep whose deadline passed needs no runtime at all.
    let mut done = eddy::time::sleep(Duration::ZERO);
    let poll = Pin::new(&mut done).poll(&mut Context::from_waker(Waker::noop()));
    assert!(poll.is_ready());
}

#[test]
fn dropping_a_runtime_with_tasks_waiting_on_timers_frees_them() {
    let runtime = eddy::Runtime::new().unwrap();
    let handle = runtime.block_on(async {
        for _ in 0..100 {
            eddy::spawn(sleep(Duration::from_secs(3600)));
            eddy::spawn(async {
                let mut every = interval(Duration::from_secs(3600));
                loop {
                    every.tick().await;
                }
            });
        }
        // Yield until every spawned task has run and registered its timer
        // (how many ticks that takes depends on the event interval, not on
        // the clock, so no sleep here).
        for _ in 0..1000 {
            if timers_live() == 200 {
                break;
            }
            eddy::task::yield_now().await;
        }
        assert_eq!(timers_live(), 200);
        eddy::Handle::current()
    });
    drop(runtime);
    assert!(handle.is_shutdown());
    assert_eq!(handle.metrics().timers_live, 0);
}

#[test]
fn a_sleep_dropped_after_its_runtime_is_gone_is_harmless() {
    let runtime = eddy::Runtime::new().unwrap();
    let pending = an_hour_registered_in(&runtime);
    drop(runtime);
    drop(pending); // no runtime on this thread: nothing to cancel, no panic

    // The same, with a `Handle` keeping the runtime's shared state alive:
    // the cancel is refused, not queued for a runtime that will never turn.
    let runtime = eddy::Runtime::new().unwrap();
    let handle = runtime.handle();
    let pending = an_hour_registered_in(&runtime);
    drop(runtime);
    drop(pending);
    assert!(handle.is_shutdown());
}

#[test]
fn a_sleep_dropped_inside_another_runtime_frees_its_entry_in_its_own() {
    let own = eddy::Runtime::new().unwrap();
    let pending = an_hour_registered_in(&own);
    let other = eddy::Runtime::new().unwrap();
    other.block_on(async move {
        drop(pending);
        assert_eq!(timers_live(), 0, "the entry never lived here");
    });
    assert_eq!(timers_live_after_a_turn(&own), 0);
}

#[test]
fn a_sleep_moved_to_another_runtime_leaves_no_entry_behind() {
    let first = eddy::Runtime::new().unwrap();
    let second = eddy::Runtime::new().unwrap();
    let mut pending = an_hour_registered_in(&first);
    assert!(
        second
            .block_on(poll_once(Pin::new(&mut pending)))
            .is_pending()
    );
    assert_eq!(
        timers_live_after_a_turn(&first),
        0,
        "the old entry is cancelled"
    );
    assert_eq!(
        timers_live_after_a_turn(&second),
        1,
        "the sleep waits here now"
    );
    drop(pending);
    assert_eq!(timers_live_after_a_turn(&second), 0);
}
