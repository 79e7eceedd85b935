//! Timers end to end: `sleep`, `timeout` and `interval` on a real runtime.
//!
//! No test asserts an upper bound on time: the machine is shared and noisy.
//! Lower bounds ("a 20 ms sleep took at least 20 ms") are guaranteed by the
//! monotonic clock. Every test is bounded: the longest wait any of them can
//! take is a few seconds even when the behaviour under test is broken.
//! An `Interval::tick` dropped at random points skips no tick.

use std::cell::{Cell, RefCell};
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use eddy::time::{
    Elapsed, Interval, MissedTickBehavior, Sleep, Timeout, interval, interval_at, sleep,
    sleep_until, timeout, timeout_at,
};
use eddy_tests::{DropFlag, poll_once, run_bounded, spin_until, with_deadline};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn timers_live() -> usize {
    eddy::Handle::current().metrics().timers_live
}

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
fn timeout_cancels_the_inner_future_and_returns_elapsed() {
    eddy::run(async {
        let dropped = Rc::new(Cell::new(false));
        let guard = DropFlag(Rc::clone(&dropped));
        let start = Instant::now();
        let result = timeout(ms(20), async move {
            let _guard = guard;
            sleep(Duration::from_secs(3600)).await;
            "finished"
        })
        .await;
        assert!(result.is_err(), "expected Elapsed, got {result:?}");
        assert!(start.elapsed() >= ms(20));
        assert!(dropped.get(), "the inner future must be dropped");
        assert_eq!(timers_live(), 0, "the inner sleep's timer must be freed");
    });
}

#[test]
fn elapsed_says_what_happened_and_converts_to_timed_out() {
    let elapsed = eddy::run(async { timeout(Duration::ZERO, sleep(ms(50))).await.unwrap_err() });
    assert_eq!(elapsed.to_string(), "deadline has elapsed");
    let io: std::io::Error = elapsed.into();
    assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
}

#[test]
fn timeout_returns_the_value_when_the_future_is_fast() {
    eddy::run(async {
        assert_eq!(timeout(Duration::from_secs(3600), async { 7 }).await, Ok(7));
        let quick = timeout(Duration::from_secs(3600), async {
            sleep(ms(5)).await;
            8
        });
        assert_eq!(quick.await, Ok(8));
        assert_eq!(timers_live(), 0, "the deadline's timer must be freed");
    });
}

#[test]
fn a_ready_future_beats_an_already_passed_deadline() {
    eddy::run(async {
        let past = Instant::now();
        assert_eq!(timeout_at(past, async { 9 }).await, Ok(9));
        assert_eq!(timeout(Duration::ZERO, async { 10 }).await, Ok(10));
    });
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
fn interval_ticks_on_its_schedule() {
    eddy::run(async {
        let period = ms(10);
        let start = Instant::now();
        let mut every = interval_at(start, period);
        assert_eq!(every.period(), period);
        assert_eq!(every.missed_tick_behavior(), MissedTickBehavior::Burst);
        for n in 0..4 {
            assert_eq!(every.tick().await, start + period * n);
            assert!(Instant::now() >= start + period * n);
        }
    });
}

#[test]
fn interval_first_tick_is_immediate() {
    // Bounded: a first tick one period late would otherwise hang the test
    // binary for the hour.
    with_deadline(Duration::from_secs(30), || {
        eddy::run(async {
            let before = Instant::now();
            let first = interval(Duration::from_secs(3600)).tick().await;
            assert!(first >= before);
        })
    });
}

#[test]
fn interval_burst_catches_up_on_missed_ticks() {
    eddy::run(async {
        let period = ms(10);
        let start = Instant::now();
        let mut every = interval_at(start, period);
        every.tick().await;
        std::thread::sleep(ms(35)); // block the runtime: ticks 10, 20, 30 are missed
        for n in 1..=4 {
            assert_eq!(every.tick().await, start + period * n);
        }
    });
}

#[test]
fn interval_delay_restarts_one_period_after_a_late_tick() {
    eddy::run(async {
        let period = ms(10);
        let start = Instant::now();
        let mut every = interval_at(start, period);
        every.set_missed_tick_behavior(MissedTickBehavior::Delay);
        every.tick().await;
        std::thread::sleep(ms(35));
        let woke = Instant::now();
        assert_eq!(every.tick().await, start + period);
        let next = every.tick().await;
        assert!(
            next >= woke + period,
            "Delay keeps a full period after the late tick"
        );
    });
}

#[test]
fn interval_skip_resumes_on_the_original_grid() {
    eddy::run(async {
        let period = ms(10);
        let start = Instant::now();
        let mut every = interval_at(start, period);
        every.set_missed_tick_behavior(MissedTickBehavior::Skip);
        every.tick().await;
        std::thread::sleep(ms(35));
        assert_eq!(every.tick().await, start + period);
        let next = every.tick().await;
        assert!(next >= start + period * 4, "ticks 20 and 30 are skipped");
        assert_eq!(
            (next - start).as_nanos() % period.as_nanos(),
            0,
            "on the grid"
        );
    });
}

#[test]
fn interval_reset_pushes_the_next_tick_a_period_away() {
    eddy::run(async {
        let period = ms(20);
        let mut every = interval(period);
        every.tick().await;
        let before_reset = Instant::now();
        every.reset();
        let next = every.tick().await;
        assert!(next >= before_reset + period);
        assert!(Instant::now() >= before_reset + period);
    });
}

#[test]
#[should_panic(expected = "must be non-zero")]
fn interval_with_a_zero_period_is_refused() {
    let _ = interval(Duration::ZERO);
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
fn yield_now_in_a_loop_does_not_starve_a_timer() {
    // Bounded: if timers starve, the spinner gives up after this many yields
    // and the assertion below fails instead of the test hanging.
    const GIVE_UP_AFTER: u64 = 2_000_000;
    let fired_first = eddy::run(async {
        let done = Rc::new(Cell::new(false));
        let spinner = eddy::spawn(spin_until(
            Rc::clone(&done),
            GIVE_UP_AFTER,
            eddy::task::yield_now,
        ));
        sleep(ms(20)).await;
        done.set(true);
        spinner.await.unwrap()
    });
    assert!(
        fired_first,
        "the timer must fire while another task spins on yield_now"
    );
}

#[test]
fn a_loop_over_expired_sleeps_lets_other_tasks_run() {
    // Bounded: without the cooperative budget the looping task never yields
    // and stops after this many iterations, failing the assertion below.
    const GIVE_UP_AFTER: u64 = 1_000_000;
    let other_ran_first = eddy::run(async {
        let other_ran = Rc::new(Cell::new(false));
        let looping = {
            let other_ran = Rc::clone(&other_ran);
            eddy::spawn(async move {
                let mut rounds = 0u64;
                while !other_ran.get() && rounds < GIVE_UP_AFTER {
                    sleep(Duration::ZERO).await;
                    rounds += 1;
                }
                other_ran.get()
            })
        };
        let other = {
            let other_ran = Rc::clone(&other_ran);
            eddy::spawn(async move { other_ran.set(true) })
        };
        other.await.unwrap();
        looping.await.unwrap()
    });
    assert!(other_ran_first);
}

#[test]
fn timeout_fires_around_a_future_that_spends_its_whole_budget() {
    // The inner future only ever completes expired sleeps, so each poll it
    // runs until the cooperative budget is gone. The deadline must fire
    // anyway. Bounded: if it never fires, the inner future gives up and
    // returns Ok, failing the assertion.
    const GIVE_UP_AFTER: u64 = 5_000_000;
    let result = eddy::run(async {
        eddy::spawn(timeout(ms(20), async {
            let mut rounds = 0u64;
            while rounds < GIVE_UP_AFTER {
                sleep(Duration::ZERO).await;
                rounds += 1;
            }
            rounds
        }))
        .await
        .unwrap()
    });
    assert!(result.is_err(), "expected Elapsed, got {result:?}");
}

/// Reads 16 bytes at a time from a stream whose peer (a plain thread)
/// never stops sending, until `give_up_after` reads: each poll of it reads
/// until the task's cooperative budget is spent, then yields.
async fn read_a_flood(give_up_after: u64) -> &'static str {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let peer = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let flooding = std::thread::spawn(move || {
        use std::io::Write;
        let mut peer = peer;
        // Ends when the reader's stream closes under a blocked write.
        while peer.write_all(&[7; 64 * 1024]).is_ok() {}
    });
    let mut stream = eddy::net::TcpStream::from_std(listener.accept().unwrap().0).unwrap();
    let mut buf = [0u8; 16];
    for _ in 0..give_up_after {
        assert_ne!(stream.read(&mut buf).await.unwrap(), 0, "the flood ended");
    }
    drop(stream);
    flooding.join().unwrap();
    "the reads gave up"
}

/// A sleep and an interval's tick raced (`select`, `or`: the first branch
/// polled first) against a loop that spends the task's whole budget every
/// poll, here reads of a stream that is always readable, still fire: the
/// session limit or the keep-alive tick of a connection handler whose
/// peer floods it. Before, the expired sleep found the budget spent at
/// every poll, yielded, and at the next poll the reads spent it again
/// first: the timer never fired while the flood went on. `Timeout` polls
/// its deadline unbudgeted for the same reason; a race written by hand or
/// with another crate's combinator could not.
#[test]
fn a_sleep_or_tick_raced_after_an_always_ready_read_loop_still_fires() {
    use futures_util::future::{Either, select};
    // Bounded: far more reads than the 20 ms the timers wait for can
    // hold (each is a syscall); if the timer starves, the reads win.
    const GIVE_UP_AFTER: u64 = 2_000_000;
    run_bounded(Duration::from_secs(120), || async {
        let slept = select(Box::pin(read_a_flood(GIVE_UP_AFTER)), sleep(ms(20))).await;
        assert!(
            matches!(slept, Either::Right(_)),
            "the sleep never fired beside an always-ready read loop"
        );
        drop(slept);

        let mut every = interval_at(Instant::now() + ms(20), ms(20));
        let reads = Box::pin(read_a_flood(GIVE_UP_AFTER));
        let ticked = select(reads, Box::pin(every.tick())).await;
        assert!(
            matches!(ticked, Either::Right(_)),
            "the interval never ticked beside an always-ready read loop"
        );
    });
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

/// A waker whose last drop panics (foreign code).
struct PanicsWhenDropped;

impl std::task::Wake for PanicsWhenDropped {
    fn wake(self: std::sync::Arc<Self>) {}
}

impl Drop for PanicsWhenDropped {
    fn drop(&mut self) {
        panic!("a waker's drop panicked");
    }
}

#[test]
fn a_waker_drop_that_panics_in_a_remote_cancel_loses_no_other_cancel() {
    let runtime = eddy::Runtime::new().unwrap();
    let mut bad = sleep(Duration::from_secs(3600));
    let mut good = sleep(Duration::from_secs(3600));
    runtime.block_on(async {
        let waker = Waker::from(std::sync::Arc::new(PanicsWhenDropped));
        assert!(
            Pin::new(&mut bad)
                .poll(&mut Context::from_waker(&waker))
                .is_pending()
        );
        drop(waker); // the timer entry holds the last clone
        assert!(poll_once(Pin::new(&mut good)).await.is_pending());
    });
    std::thread::spawn(move || {
        drop(bad);
        drop(good);
    })
    .join()
    .unwrap();
    let turned = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        timers_live_after_a_turn(&runtime)
    }));
    assert!(turned.is_err(), "the waker's panic goes on to block_on");
    assert_eq!(timers_live_after_a_turn(&runtime), 0);
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

#[test]
fn timer_futures_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Sleep>();
    send_sync::<Interval>();
    send_sync::<Timeout<Sleep>>();
    send_sync::<Elapsed>();
}

#[test]
fn a_waker_that_panics_does_not_keep_other_due_timers_from_firing() {
    // Bounded: if this thread were ever slower than the 20 ms margin below
    // (Miri is), both deadlines would pass before the sleeps register, and
    // the last `block_on` would wait forever on a future nothing wakes.
    with_deadline(Duration::from_secs(30), || {
        use std::panic::{AssertUnwindSafe, catch_unwind};
        use std::sync::Arc;
        use std::task::Wake;

        struct PanicsOnWake;
        impl Wake for PanicsOnWake {
            fn wake(self: Arc<Self>) {
                panic!("this waker panics");
            }
        }

        let runtime = eddy::Runtime::new().unwrap();
        let start = eddy::time::Instant::now();
        let fired = std::rc::Rc::new(std::cell::Cell::new(false));
        let task_fired = fired.clone();
        runtime.spawn(async move {
            eddy::time::sleep_until(start + ms(40)).await;
            task_fired.set(true);
        });
        // Let the task register its timer.
        runtime.block_on(eddy::task::yield_now());
        // Kept alive past the panic, so that its drop cannot cancel it first
        // (forgetting it instead leaked its pointer to the runtime).
        let kept = RefCell::new(Vec::new());
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            runtime.block_on(std::future::poll_fn(|_| {
                // An earlier timer whose waker panics, registered by hand...
                let waker = Waker::from(Arc::new(PanicsOnWake));
                let mut early = eddy::time::sleep_until(start + ms(20));
                let _ = std::pin::Pin::new(&mut early).poll(&mut Context::from_waker(&waker));
                kept.borrow_mut().push(early);
                // ...and both deadlines pass before the runtime looks again.
                std::thread::sleep(ms(60));
                Poll::<()>::Pending
            }))
        }));
        assert!(
            outcome.is_err(),
            "the panicking waker's panic reaches block_on"
        );
        // The task's timer was due in the same batch: it must have been woken.
        runtime.block_on(async {
            for _ in 0..100 {
                if fired.get() {
                    break;
                }
                eddy::task::yield_now().await;
            }
        });
        assert!(fired.get(), "a due timer was lost to another waker's panic");
    });
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

/// `Handle::metrics` read once `block_on` has returned (on the runtime's
/// thread, but outside it) counts the timers as they are, not as they were
/// at the last driver turn: a sleep that registered, lived through a turn
/// and was dropped is not reported pending any more.
#[test]
fn timers_live_is_exact_after_block_on_returns() {
    let rt = eddy::Runtime::new().unwrap();
    rt.block_on(async {
        let mut long = sleep(Duration::from_secs(3600));
        assert!(poll_once(Pin::new(&mut long)).await.is_pending());
        // `yield_now` defers the main future, so the driver turns (and
        // publishes one live timer) before it runs again.
        eddy::task::yield_now().await;
        drop(long);
    });
    assert_eq!(rt.handle().metrics().timers_live, 0);
}

/// Read from another thread while the runtime is parked with nothing to
/// do, `timers_live` shows the timers that are pending now. It showed the
/// count from before the last task ran, forever: a connection that dropped
/// its timeout stayed "live" in every snapshot until something else woke
/// the runtime.
#[test]
fn timers_live_read_from_another_thread_catches_up_when_the_runtime_parks() {
    let (handle_tx, handle_rx) = std::sync::mpsc::channel();
    let runtime_thread = std::thread::spawn(move || {
        let rt = eddy::Runtime::new().unwrap();
        rt.block_on(async {
            let stop = eddy::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            handle_tx
                .send((eddy::Handle::current(), stop.local_addr().unwrap()))
                .unwrap();
            let mut long = sleep(Duration::from_secs(3600));
            assert!(poll_once(Pin::new(&mut long)).await.is_pending());
            eddy::task::yield_now().await;
            drop(long);
            // Parks: no task, no timer, nothing to wake it until the test
            // connects to `stop`.
            stop.accept().await.unwrap();
        });
    });
    let (handle, stop) = handle_rx.recv().unwrap();
    // The hang guard turns "never catches up" into a failure; it is not a
    // bound on how fast it does.
    let started = Instant::now();
    while handle.metrics().timers_live != 0 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "a parked runtime with no timers still reports {:?}",
            handle.metrics()
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    drop(std::net::TcpStream::connect(stop).unwrap());
    runtime_thread.join().unwrap();
}

#[test]
fn a_timeout_reports_the_deadline_it_was_given() {
    // No runtime needed: neither future is polled.
    let deadline = Instant::now() + Duration::from_secs(3600);
    let bounded = timeout_at(deadline, std::future::pending::<()>());
    assert_eq!(bounded.deadline(), deadline);
    let after = Instant::now();
    let bounded = timeout(Duration::from_secs(60), std::future::pending::<()>());
    assert!(
        bounded.deadline() >= after + Duration::from_secs(60),
        "a timeout's deadline is before its duration from its creation"
    );
}

#[test]
fn interval_ticks_dropped_at_random_points_skip_no_tick() {
    // With `Burst`, the ticks an interval returns are its schedule, one
    // period apart, however late they are observed: a tick future dropped
    // after taking a tick would show as a gap.
    for seed in [0x9E37_79B9_u64, 0xC0FF_EE11, 0x5EED_0003] {
        with_deadline(Duration::from_secs(30), move || {
            eddy::run(async move {
                let mut rng = eddy_tests::XorShift(seed);
                let period = ms(1);
                let start = Instant::now();
                let mut every = interval_at(start, period);
                let mut next = 0u32;
                let mut dropped = 0;
                while next < 200 {
                    match eddy_tests::cancel_at_random(&mut rng, every.tick()).await {
                        Some(tick) => {
                            assert_eq!(
                                tick,
                                start + period * next,
                                "seed {seed:#x}: tick {next} skipped or repeated"
                            );
                            next += 1;
                        }
                        None => dropped += 1,
                    }
                }
                assert!(dropped > 0, "seed {seed:#x}: no tick was ever dropped");
            })
        });
    }
}
