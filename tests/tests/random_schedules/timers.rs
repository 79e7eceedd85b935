//! Timers: sleeps reset, dropped and timed out at random never fire early,
//! never lose a wake-up and never leak an entry.

use std::cell::RefCell;
use std::future::poll_fn;
use std::panic::resume_unwind;
use std::pin::{Pin, pin};
use std::rc::Rc;
use std::task::{Poll, ready};
use std::time::{Duration, Instant};

use eddy::Handle;
use eddy::task::{JoinHandle, yield_now};
use eddy::time::{Sleep, sleep, sleep_until, timeout};
use eddy_tests::{XorShift, woken_within};

use crate::{assert_exercised, mix, poll_up_to, run_seed, seeds, tiny_timeout};

/// What the timer test did, summed over its seeds.
#[derive(Clone, Copy, Debug, Default)]
struct TimerTally {
    /// Resets of a sleep its task was waiting on.
    resets_while_waiting: u64,
    /// Hour-long sleeps reset to a near deadline at the end, which only a
    /// working reset wakes in time.
    far_sleeps_pulled_in: u64,
    /// Tasks aborted before their sleep completed (while waiting on it, or
    /// before their first poll), the sleep dropped with their future.
    sleeps_dropped_with_their_task: u64,
    /// Sleeps polled and dropped while pending.
    sleeps_dropped_pending: u64,
    /// Timeouts that elapsed before their sleep.
    timeouts_elapsed: u64,
    /// Sleeps reset after they completed, and awaited again.
    completed_sleeps_reset: u64,
}

impl TimerTally {
    /// Adds `other`'s counts to these.
    fn add(&mut self, other: TimerTally) {
        self.resets_while_waiting += other.resets_while_waiting;
        self.far_sleeps_pulled_in += other.far_sleeps_pulled_in;
        self.sleeps_dropped_with_their_task += other.sleeps_dropped_with_their_task;
        self.sleeps_dropped_pending += other.sleeps_dropped_pending;
        self.timeouts_elapsed += other.timeouts_elapsed;
        self.completed_sleeps_reset += other.completed_sleeps_reset;
    }
}

/// An hour: a deadline no sleep reaches during the test. A sleep left at it
/// completes only if a reset pulls it in and wakes its task.
const FAR: Duration = Duration::from_secs(3600);

/// A deadline around `now`: usually 0 to 4 ms ahead, sometimes already
/// past, sometimes an hour ahead ([`FAR`]).
fn random_deadline(rng: &mut XorShift, now: Instant) -> Instant {
    match rng.below(10) {
        0 => now.checked_sub(Duration::from_millis(1)).unwrap_or(now),
        1 => now + FAR,
        _ => now + Duration::from_micros(rng.below(4_000)),
    }
}

/// Asserts that a sleep with deadline `deadline` that just completed did
/// not complete early.
fn assert_not_early(deadline: Instant, seed: u64, what: &str) {
    let now = Instant::now();
    assert!(
        now >= deadline,
        "seed {seed:#x}: {what} completed {:?} before its deadline",
        deadline - now
    );
}

/// A sleep one task waits on while the test's main future resets it from
/// outside (the task keeps waiting, and must be woken at the new deadline).
#[derive(Debug)]
struct WatchedSleep {
    /// The sleep; taken out and dropped when its task's future is dropped.
    sleep: Option<Sleep>,
    /// The deadline last given to it, kept apart from the sleep's own.
    deadline: Instant,
    /// The task saw it complete.
    completed: bool,
    /// Its task was aborted before it completed.
    aborted_pending: bool,
}

/// Owned by a waiting task's future: drops the task's sleep when that
/// future is dropped, completed or aborted (even before its first poll).
#[derive(Debug)]
struct DropsSleep(Rc<RefCell<WatchedSleep>>);

impl Drop for DropsSleep {
    fn drop(&mut self) {
        // Dropped after the borrow ends: a sleep's drop cancels its timer.
        let sleep = self.0.borrow_mut().sleep.take();
        drop(sleep);
    }
}

/// Waits for the watched sleep in `guard`, checking when it completes that
/// its last deadline has passed.
async fn wait_for_watched(guard: DropsSleep, seed: u64, id: usize) {
    poll_fn(|cx| {
        let mut watched = guard.0.borrow_mut();
        let deadline = watched.deadline;
        let sleep = watched.sleep.as_mut().expect("only its task drops it");
        ready!(Pin::new(sleep).poll(cx));
        assert_not_early(deadline, seed, &format!("watched sleep {id}"));
        watched.completed = true;
        Poll::Ready(())
    })
    .await;
}

/// A watched sleep and its task's handle, until it is joined.
type Watched = (Rc<RefCell<WatchedSleep>>, Option<JoinHandle<()>>);

/// The live-timer gauge of the runtime running this thread.
fn timers_live() -> usize {
    Handle::current().metrics().timers_live
}

/// One seed of the timer test: random steps on watched sleeps (spawn,
/// reset, abort) and on the main future's own (poll and drop, timeouts,
/// reset after completion), then every remaining sleep pulled in and
/// joined.
async fn timer_round(seed: u64) -> TimerTally {
    const STEPS: usize = 250;
    let mut rng = XorShift(mix(seed, 1));
    let mut tally = TimerTally::default();
    let mut watched: Vec<Watched> = Vec::new();
    for step in 0..STEPS {
        let now = Instant::now();
        match rng.below(100) {
            0..=19 => {
                let deadline = random_deadline(&mut rng, now);
                // Both constructors: `sleep` measures from its own `now`,
                // so the deadline is read back from it.
                let sleep = if rng.below(2) == 0 {
                    sleep_until(deadline)
                } else {
                    sleep(deadline.saturating_duration_since(now))
                };
                let shared = Rc::new(RefCell::new(WatchedSleep {
                    deadline: sleep.deadline(),
                    sleep: Some(sleep),
                    completed: false,
                    aborted_pending: false,
                }));
                let task = eddy::spawn(wait_for_watched(
                    DropsSleep(Rc::clone(&shared)),
                    seed,
                    watched.len(),
                ));
                watched.push((shared, Some(task)));
            }
            20..=39 if !watched.is_empty() => {
                let (shared, _) = &watched[rng.index(watched.len())];
                let mut shared = shared.borrow_mut();
                let deadline = random_deadline(&mut rng, now);
                if let Some(sleep) = shared.sleep.as_mut() {
                    Pin::new(&mut *sleep).reset(deadline);
                    assert_eq!(sleep.deadline(), deadline, "seed {seed:#x}");
                    shared.deadline = deadline;
                    tally.resets_while_waiting += 1;
                }
            }
            40..=46 if !watched.is_empty() => {
                let (shared, task) = &watched[rng.index(watched.len())];
                let pending = !shared.borrow().completed;
                if let Some(task) = task {
                    task.abort();
                    shared.borrow_mut().aborted_pending |= pending;
                    tally.sleeps_dropped_with_their_task += u64::from(pending);
                }
            }
            47..=59 => {
                // A sleep of the main future, polled a few times, perhaps
                // reset in between, then dropped.
                let mut local = sleep_until(random_deadline(&mut rng, now));
                let mut done = false;
                for _ in 0..1 + rng.below(3) {
                    if rng.below(3) == 0 {
                        Pin::new(&mut local).reset(random_deadline(&mut rng, Instant::now()));
                    }
                    let deadline = local.deadline();
                    if poll_up_to(Pin::new(&mut local), 1).await.is_some() {
                        assert_not_early(deadline, seed, "a sleep polled by hand");
                        done = true;
                        break;
                    }
                }
                tally.sleeps_dropped_pending += u64::from(!done);
            }
            60..=71 => {
                let inner = sleep_until(random_deadline(&mut rng, now));
                let limited = timeout(tiny_timeout(&mut rng), inner);
                let (outer, inner) = (limited.deadline(), limited.get_ref().deadline());
                match limited.await {
                    Ok(()) => assert_not_early(inner, seed, "a sleep inside a timeout"),
                    Err(_elapsed) => {
                        assert_not_early(outer, seed, "a timeout");
                        tally.timeouts_elapsed += 1;
                    }
                }
            }
            72..=77 => {
                // A timeout polled once and dropped: both its timers go.
                let inner = sleep_until(random_deadline(&mut rng, now));
                let mut limited = pin!(timeout(tiny_timeout(&mut rng), inner));
                let (outer, inner) = (limited.deadline(), limited.get_ref().deadline());
                match poll_up_to(limited.as_mut(), 1).await {
                    Some(Ok(())) => assert_not_early(inner, seed, "a sleep inside a timeout"),
                    Some(Err(_elapsed)) => assert_not_early(outer, seed, "a timeout"),
                    None => tally.sleeps_dropped_pending += 1,
                }
            }
            78..=82 => {
                // A completed sleep becomes pending again when reset ahead.
                let mut local = sleep(Duration::ZERO);
                (&mut local).await;
                let deadline = Instant::now() + Duration::from_micros(rng.below(3_000));
                Pin::new(&mut local).reset(deadline);
                (&mut local).await;
                assert_not_early(deadline, seed, "a sleep reset after it completed");
                tally.completed_sleeps_reset += 1;
            }
            83..=92 => yield_now().await,
            _ => {
                let pause = sleep(Duration::from_micros(rng.below(2_000)));
                let deadline = pause.deadline();
                pause.await;
                assert_not_early(deadline, seed, "a pause of the main future");
            }
        }
        // Every live timer belongs to a sleep still alive: the main
        // future's own are gone by now, so only watched ones remain.
        let alive = watched
            .iter()
            .filter(|(shared, _)| shared.borrow().sleep.is_some())
            .count();
        let live = timers_live();
        assert!(
            live <= alive,
            "seed {seed:#x} step {step}: {live} live timers, but only {alive} sleeps alive"
        );
    }
    // Pull every hour-long sleep in, while its task waits on it: only a
    // reset that moves the waiting task's wake-up lets it finish.
    for (shared, _) in &watched {
        let mut shared = shared.borrow_mut();
        let far = shared.deadline > Instant::now() + FAR / 2;
        if let (true, Some(sleep)) = (far, shared.sleep.as_mut()) {
            let deadline = Instant::now() + Duration::from_micros(rng.below(3_000));
            Pin::new(&mut *sleep).reset(deadline);
            shared.deadline = deadline;
            tally.far_sleeps_pulled_in += 1;
        }
    }
    let joined = woken_within(Duration::from_secs(20), async {
        let mut outcomes = Vec::new();
        for (_, task) in &mut watched {
            outcomes.push(task.take().expect("joined once").await);
        }
        outcomes
    })
    .await
    .unwrap_or_else(|| {
        panic!("seed {seed:#x}: a sleep that was not dropped never completed (a lost wake-up)")
    });
    for (id, ((shared, _), outcome)) in watched.iter().zip(joined).enumerate() {
        let shared = shared.borrow();
        match outcome {
            Ok(()) => assert!(
                shared.completed && !shared.aborted_pending,
                "seed {seed:#x}: watched sleep {id}: {shared:?} yet its task returned"
            ),
            Err(error) if error.is_panic() => resume_unwind(error.into_panic()),
            Err(_cancelled) => assert!(
                shared.aborted_pending && !shared.completed,
                "seed {seed:#x}: watched sleep {id}: {shared:?} yet its task was cancelled"
            ),
        }
        assert!(
            shared.sleep.is_none(),
            "seed {seed:#x}: watched sleep {id} outlived its task"
        );
    }
    assert_eq!(timers_live(), 0, "seed {seed:#x}: timers left behind");
    tally
}

#[test]
#[cfg_attr(
    miri,
    ignore = "Miri: its millisecond sleeps are overrun by the slowdown"
)]
fn sleeps_reset_dropped_and_timed_out_at_random_never_fire_early_and_never_leak() {
    let mut total = TimerTally::default();
    for seed in seeds(32) {
        total.add(run_seed(seed, timer_round));
    }
    assert_exercised(total.resets_while_waiting, "a reset of a waited-on sleep");
    assert_exercised(total.far_sleeps_pulled_in, "an hour-long sleep pulled in");
    assert_exercised(
        total.sleeps_dropped_with_their_task,
        "a registered sleep dropped with its aborted task",
    );
    assert_exercised(
        total.sleeps_dropped_pending,
        "a sleep dropped while pending",
    );
    assert_exercised(total.timeouts_elapsed, "an elapsed timeout");
    assert_exercised(total.completed_sleeps_reset, "a completed sleep reset");
}
