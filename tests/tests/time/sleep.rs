//! `sleep` and `sleep_until`: how long they last, the order they fire in,
//! their entries, `reset`, and deadlines too far ahead to matter.

use std::cell::{Cell, RefCell};
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::rc::Rc;
use std::task::Poll;
use std::time::{Duration, Instant};

use eddy::time::{Elapsed, Interval, Sleep, Timeout, interval, sleep, sleep_until, timeout};
use eddy_tests::{poll_once, run_bounded};

use crate::{ms, timers_live};

#[test]
fn a_sleep_lasts_at_least_its_duration() {
    eddy::run(async {
        let start = Instant::now();
        sleep(ms(20)).await;
        assert!(start.elapsed() >= ms(20));
    });
}

#[test]
fn sleep_zero_completes() {
    eddy::run(async {
        sleep(Duration::ZERO).await;
        sleep_until(Instant::now()).await;
        assert_eq!(timers_live(), 0);
    });
}

#[test]
fn timers_fire_in_deadline_order() {
    let order = eddy::run(async {
        let order = Rc::new(RefCell::new(Vec::new()));
        let base = Instant::now();
        let mut handles = Vec::new();
        for delay in [30u64, 10, 50, 20, 40] {
            let order = Rc::clone(&order);
            handles.push(eddy::spawn(async move {
                sleep_until(base + ms(delay)).await;
                order.borrow_mut().push(delay);
            }));
        }
        for handle in handles {
            handle.await.unwrap();
        }
        order.take()
    });
    assert_eq!(order, vec![10, 20, 30, 40, 50]);
}

#[test]
fn sleep_inside_a_spawned_task_completes() {
    let value = eddy::run(async {
        let start = Instant::now();
        let value = eddy::spawn(async move {
            sleep(ms(20)).await;
            start.elapsed()
        })
        .await
        .unwrap();
        assert_eq!(timers_live(), 0);
        value
    });
    assert!(value >= ms(20));
}

#[test]
fn a_hundred_thousand_timers_all_fire() {
    const N: u64 = 100_000;
    let fired = eddy::run(async {
        let fired = Rc::new(Cell::new(0u64));
        let base = Instant::now();
        let mut handles = Vec::with_capacity(N as usize);
        for i in 0..N {
            let fired = Rc::clone(&fired);
            // 100 distinct deadlines, 1,000 timers sharing each.
            handles.push(eddy::spawn(async move {
                sleep_until(base + Duration::from_micros((i % 100) * 500)).await;
                fired.set(fired.get() + 1);
            }));
        }
        for handle in handles {
            handle.await.unwrap();
        }
        assert_eq!(timers_live(), 0);
        fired.get()
    });
    assert_eq!(fired, N);
}

#[test]
fn a_million_pending_timers_dropped_free_their_entries() {
    const N: usize = 1_000_000;
    eddy::run(async {
        let mut sleeps: Vec<Sleep> = (0..N)
            .map(|i| sleep(Duration::from_secs(3600) + Duration::from_nanos(i as u64)))
            .collect();
        for sleep in &mut sleeps {
            assert!(poll_once(Pin::new(sleep)).await.is_pending());
        }
        assert_eq!(timers_live(), N);
        drop(sleeps);
        assert_eq!(timers_live(), 0);
    });
}

#[test]
fn reset_moves_the_wake_of_a_task_already_waiting() {
    let old_deadline = Instant::now() + Duration::from_secs(20);
    eddy::run(async move {
        let mut sleep = sleep_until(old_deadline);
        let mut reset_done = false;
        // First poll registers the old deadline, then resets it WITHOUT
        // polling again: the stored waker must be moved to the new deadline.
        poll_fn(|cx| {
            let mut pinned = Pin::new(&mut sleep);
            if pinned.as_mut().poll(cx).is_ready() {
                return Poll::Ready(());
            }
            if !reset_done {
                reset_done = true;
                pinned.reset(Instant::now() + ms(10));
            }
            Poll::Pending
        })
        .await;
        assert!(sleep.is_elapsed());
    });
    assert!(
        Instant::now() < old_deadline,
        "woke at the new deadline, not the old one"
    );
}

#[test]
fn timer_futures_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Sleep>();
    send_sync::<Interval>();
    send_sync::<Timeout<Sleep>>();
    send_sync::<Elapsed>();
}

#[test]
fn deadlines_too_far_ahead_to_matter_stay_pending_without_overflowing() {
    run_bounded(Duration::from_secs(30), || async {
        // `now + Duration::MAX` overflows `Instant`; an `Instant` 2^60 s
        // ahead does not, but its millisecond tick saturates; an interval of
        // `Duration::MAX` must tick once and then wait, not panic.
        let mut forever = sleep(Duration::MAX);
        let far_ahead = Instant::now()
            .checked_add(Duration::from_secs(1 << 60))
            .expect("a 64-bit Unix Instant reaches 2^60 s ahead");
        let mut far = sleep_until(far_ahead);
        let mut never_again = interval(Duration::MAX);
        never_again.tick().await;
        let mut late_result = timeout(Duration::MAX, Box::pin(async { 7 }));
        assert!(poll_once(Pin::new(&mut forever)).await.is_pending());
        assert!(poll_once(Pin::new(&mut far)).await.is_pending());
        assert!(
            poll_once(Pin::new(&mut late_result)).await.is_ready(),
            "ready at once"
        );
        let mut next_tick = Box::pin(never_again.tick());
        assert!(poll_once(Pin::new(&mut next_tick)).await.is_pending());
        drop(next_tick);
        assert_eq!(timers_live(), 3);
        // The wheel keeps turning around them: a short sleep still ends,
        // and none of them fired early.
        sleep(ms(5)).await;
        assert!(!forever.is_elapsed() && !far.is_elapsed());
        assert!(
            poll_once(Pin::new(&mut forever)).await.is_pending()
                && poll_once(Pin::new(&mut far)).await.is_pending()
        );
        drop((forever, far, never_again));
        assert_eq!(timers_live(), 0);
    });
}

#[test]
fn resetting_a_pending_sleep_many_times_keeps_one_timer_and_wakes_at_the_last_deadline() {
    run_bounded(Duration::from_secs(30), || async {
        let mut sleeping = sleep(Duration::from_secs(3600));
        assert!(poll_once(Pin::new(&mut sleeping)).await.is_pending());
        let start = Instant::now();
        for step in 0..100_000u64 {
            // Deadlines on every level of the wheel, forwards and back.
            let ahead = Duration::from_millis((step * 7_919) % 10_000_000);
            Pin::new(&mut sleeping).reset(start + Duration::from_secs(60) + ahead);
        }
        assert_eq!(timers_live(), 1, "a reset moves the timer, never adds one");
        Pin::new(&mut sleeping).reset(Instant::now() + ms(5));
        sleeping.await;
        assert_eq!(timers_live(), 0);
    });
}
