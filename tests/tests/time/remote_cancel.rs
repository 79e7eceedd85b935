//! Sleeps dropped or reset where their runtime's timers cannot be reached
//! (another thread, or their own between two `block_on` calls): the
//! cancel or reset is queued, and applied at the runtime's next turn
//! (RELIABILITY 16).

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use eddy::time::{Sleep, interval_at, sleep, sleep_until};
use eddy_tests::{poll_once, with_deadline};

use crate::{an_hour_registered_in, ms, timers_live_after_a_turn};

#[test]
fn a_sleep_dropped_outside_block_on_frees_its_entry_at_the_next_turn() {
    let runtime = eddy::Runtime::new().unwrap();
    let pending = an_hour_registered_in(&runtime);
    drop(pending);
    assert_eq!(timers_live_after_a_turn(&runtime), 0);
}

#[test]
fn a_sleep_dropped_on_another_thread_frees_its_entry_at_the_next_turn() {
    let runtime = eddy::Runtime::new().unwrap();
    let pending = an_hour_registered_in(&runtime);
    std::thread::spawn(move || drop(pending)).join().unwrap();
    assert_eq!(timers_live_after_a_turn(&runtime), 0);
}

#[test]
fn a_thousand_sleeps_dropped_on_another_thread_leave_no_entries() {
    let runtime = eddy::Runtime::new().unwrap();
    let sleeps: Vec<Sleep> = runtime.block_on(async {
        let mut sleeps = Vec::new();
        for _ in 0..1000 {
            let mut pending = sleep(Duration::from_secs(3600));
            assert!(poll_once(Pin::new(&mut pending)).await.is_pending());
            sleeps.push(pending);
        }
        sleeps
    });
    assert_eq!(timers_live_after_a_turn(&runtime), 1000);
    std::thread::spawn(move || drop(sleeps)).join().unwrap();
    assert_eq!(timers_live_after_a_turn(&runtime), 0);
}

#[test]
fn a_sleep_reset_on_another_thread_then_dropped_leaves_no_entry() {
    let runtime = eddy::Runtime::new().unwrap();
    let mut pending = an_hour_registered_in(&runtime);
    std::thread::spawn(move || {
        Pin::new(&mut pending).reset(Instant::now() + Duration::from_secs(7200));
        drop(pending);
    })
    .join()
    .unwrap();
    assert_eq!(timers_live_after_a_turn(&runtime), 0);
}

#[test]
fn a_sleep_reset_later_on_another_thread_completes_no_earlier_than_its_new_deadline() {
    let runtime = eddy::Runtime::new().unwrap();
    let start = Instant::now();
    let shared = std::sync::Arc::new(std::sync::Mutex::new(sleep_until(start + ms(20))));
    let polled = |cx: &mut Context<'_>, shared: &std::sync::Mutex<Sleep>| {
        Pin::new(&mut *shared.lock().unwrap()).poll(cx)
    };
    runtime.block_on(async {
        // Registers the 20 ms entry (or completes, if the machine stalled
        // that long: the reset below makes the sleep pending again).
        let _registered_or_done = poll_fn(|cx| Poll::Ready(polled(cx, &shared))).await;
        let resetter = std::sync::Arc::clone(&shared);
        std::thread::spawn(move || {
            Pin::new(&mut *resetter.lock().unwrap()).reset(start + ms(60));
        })
        .join()
        .unwrap();
        poll_fn(|cx| polled(cx, &shared)).await;
    });
    assert!(
        start.elapsed() >= ms(60),
        "completed before the new deadline"
    );
    assert_eq!(timers_live_after_a_turn(&runtime), 0);
}

#[test]
fn a_sleep_reset_earlier_on_another_thread_wakes_its_waiting_task() {
    with_deadline(Duration::from_secs(30), || {
        let runtime = eddy::Runtime::new().unwrap();
        let shared = std::sync::Arc::new(std::sync::Mutex::new(sleep(Duration::from_secs(3600))));
        let resetter = std::sync::Arc::clone(&shared);
        runtime.block_on(async {
            let mut reset = None;
            poll_fn(|cx| {
                let polled = Pin::new(&mut *shared.lock().unwrap()).poll(cx);
                if polled.is_pending() && reset.is_none() {
                    // Reset from another thread while this task waits: the
                    // runtime is parked on the hour-long deadline.
                    let resetter = std::sync::Arc::clone(&resetter);
                    reset = Some(std::thread::spawn(move || {
                        std::thread::sleep(ms(20));
                        Pin::new(&mut *resetter.lock().unwrap()).reset(Instant::now());
                    }));
                }
                polled
            })
            .await;
            reset.unwrap().join().unwrap();
        });
        assert_eq!(timers_live_after_a_turn(&runtime), 0);
    });
}

#[test]
fn resets_outside_block_on_each_followed_by_a_poll_keep_one_entry() {
    let runtime = eddy::Runtime::new().unwrap();
    let mut pending = an_hour_registered_in(&runtime);
    for i in 0..100u64 {
        Pin::new(&mut pending).reset(Instant::now() + Duration::from_secs(3600 + i));
        assert!(
            runtime
                .block_on(poll_once(Pin::new(&mut pending)))
                .is_pending()
        );
    }
    assert_eq!(
        timers_live_after_a_turn(&runtime),
        1,
        "one sleep, one entry"
    );
}

#[test]
fn an_interval_reset_outside_block_on_then_dropped_frees_its_entry() {
    let runtime = eddy::Runtime::new().unwrap();
    let hour = Duration::from_secs(3600);
    let mut ticks = interval_at(Instant::now() + hour, hour);
    assert!(runtime.block_on(poll_fn(|cx| Poll::Ready(ticks.poll_tick(cx).is_pending()))));
    ticks.reset();
    drop(ticks);
    assert_eq!(timers_live_after_a_turn(&runtime), 0);
}

#[test]
fn a_cancel_queued_after_its_slot_was_reused_spares_the_newer_timers() {
    with_deadline(Duration::from_secs(30), || {
        let runtime = eddy::Runtime::new().unwrap();
        // A sleep that fires without being polled again keeps its (stale)
        // key. Retried if the machine stalls past its deadline before the
        // first poll (Miri does), which would complete it at once.
        let stale = loop {
            let mut pending = sleep(ms(20));
            if runtime
                .block_on(poll_once(Pin::new(&mut pending)))
                .is_pending()
            {
                break pending;
            }
        };
        runtime.block_on(sleep(ms(40)));
        assert_eq!(timers_live_after_a_turn(&runtime), 0, "the stale one fired");
        // Newer timers take the freed slot (and the slab's others).
        let newer: Vec<Sleep> = (0..8).map(|_| an_hour_registered_in(&runtime)).collect();
        std::thread::spawn(move || drop(stale)).join().unwrap();
        assert_eq!(
            timers_live_after_a_turn(&runtime),
            8,
            "the stale key cancelled a newer timer"
        );
        drop(newer);
        assert_eq!(timers_live_after_a_turn(&runtime), 0);
    });
}

#[test]
fn block_on_calls_that_never_wait_still_free_the_entries_of_sleeps_dropped_between_them() {
    struct Probe;
    impl std::task::Wake for Probe {
        fn wake(self: std::sync::Arc<Self>) {}
    }
    let runtime = eddy::Runtime::new().unwrap();
    let probe = std::sync::Arc::new(Probe);
    for _ in 0..100 {
        let mut pending = sleep(Duration::from_secs(3600));
        let waker = Waker::from(std::sync::Arc::clone(&probe));
        // Ready at its first poll, so this `block_on` never turns the
        // driver; the entry keeps a clone of the probe's waker.
        runtime.block_on(async {
            let polled = Pin::new(&mut pending).poll(&mut Context::from_waker(&waker));
            assert!(polled.is_pending());
        });
        drop(pending);
    }
    runtime.block_on(async {});
    assert_eq!(
        std::sync::Arc::strong_count(&probe),
        1,
        "timer entries still hold the dropped sleeps' wakers"
    );
}

#[test]
fn sleeps_dropped_on_another_thread_while_their_runtime_fires_timers_leave_no_entries() {
    with_deadline(Duration::from_secs(60), || {
        let runtime = eddy::Runtime::new().unwrap();
        let (to_dropper, to_drop) = std::sync::mpsc::channel::<Sleep>();
        let dropper = std::thread::spawn(move || to_drop.into_iter().for_each(drop));
        runtime.block_on(async {
            for i in 0..5000u64 {
                // Every third sleep is due within a few milliseconds, so
                // entries fire while the other thread queues cancels for
                // them and for the hour-long ones.
                let duration = if i % 3 == 0 {
                    ms(i % 4)
                } else {
                    Duration::from_secs(3600)
                };
                let mut pending = sleep(duration);
                if poll_once(Pin::new(&mut pending)).await.is_pending() {
                    to_dropper.send(pending).unwrap();
                }
                if i % 64 == 0 {
                    // A driver turn: fires what is due, cancels what is queued.
                    eddy::task::yield_now().await;
                }
            }
        });
        drop(to_dropper);
        dropper.join().unwrap();
        assert_eq!(timers_live_after_a_turn(&runtime), 0);
    });
}
