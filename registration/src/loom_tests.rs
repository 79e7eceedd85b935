//! Loom models of the races that matter. Run with
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test --release -p eddy-registration --lib -- loom`.
//!
//! A lost wake-up shows up as a deadlock: `loom::future::block_on` parks the
//! thread until its waker is woken, and loom fails the model if every thread
//! is parked.
//!
//! A limit of loom 0.7 to keep in mind when writing one (tokio-rs/loom#392):
//! a spawned thread whose first access to an object is a load was never run,
//! in probes of ours, in full before the main thread's first access to it:
//! that order goes unexplored. `ScheduledIo::set_readiness` begins with a
//! load, so in the models below "the driver's event lands before the task
//! looks at all" is not covered by loom; it is the order in which the task
//! simply sees the readiness, and the unit tests cover it. Every order in
//! which the event lands after the task's first look (the ones a lost wake-up
//! hides in) is explored: removing `park_waker`'s second look, or the wake
//! from an event, fails these models.

use std::future::Future;
use std::future::poll_fn;
use std::pin::pin;
use std::task::{Context, Waker};

use ::loom::future::block_on;
use ::loom::sync::{Arc, Mutex};
use ::loom::thread;

use crate::{Direction, Interest, NOTIFY_AFTER, Ready, RegistrationSet, ScheduledIo, Tick};

/// Runs `f` under loom. Unbounded exploration of the three-thread models
/// takes minutes, so when `LOOM_MAX_PREEMPTIONS` is unset the bound defaults
/// to 3 (CI uses 2); set the variable to explore further.
fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = ::loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(3);
    }
    builder.check(f);
}

/// What `Driver::turn` does for one event, on another thread: set the
/// readiness (bumping the tick), then wake whoever waits for it.
fn driver_event(io: &Arc<ScheduledIo>, ready: Ready) -> thread::JoinHandle<()> {
    let io = io.clone();
    thread::spawn(move || {
        io.set_readiness(Tick::Set, |r| r | ready);
        io.wake(ready);
    })
}

/// Asserts the counter agrees with the queue; call with the lock held.
fn assert_counter_matches(set: &RegistrationSet, synced: &crate::Synced) {
    assert_eq!(set.num_pending_release(), synced.pending_release.len());
}

#[test]
fn loom_deregister_races_needs_release_and_release() {
    model(|| {
        let (set, mut synced) = RegistrationSet::new();
        let ios: Vec<_> = (0..NOTIFY_AFTER)
            .map(|_| set.allocate(&mut synced).unwrap())
            .collect();
        // Fifteen already queued: the racing deregister is the sixteenth.
        for io in &ios[..NOTIFY_AFTER - 1] {
            assert!(!set.deregister(&mut synced, io));
        }
        let set = Arc::new(set);
        let synced = Arc::new(Mutex::new(synced));

        let last = ios[NOTIFY_AFTER - 1].clone();
        let deregistering = {
            let (set, synced) = (set.clone(), synced.clone());
            thread::spawn(move || {
                let mut synced = synced.lock().unwrap();
                let notify = set.deregister(&mut synced, &last);
                assert_counter_matches(&set, &synced);
                notify
            })
        };

        // One driver turn.
        let mut released_early = 0;
        if set.needs_release() {
            let mut synced = synced.lock().unwrap();
            released_early = set.release(&mut synced);
            assert_counter_matches(&set, &synced);
            assert!(!set.needs_release());
        }

        let notify = deregistering.join().unwrap();
        // The sixteenth asks for a wake-up exactly when it was queued before
        // the driver released (released_early is 0 or 16), and not when the
        // driver released the first fifteen before it.
        assert_eq!(notify, released_early != NOTIFY_AFTER - 1);
        // Whatever is still queued is visible to the next turn's check.
        let mut synced = synced.lock().unwrap();
        assert_counter_matches(&set, &synced);
        assert_eq!(set.needs_release(), !synced.pending_release.is_empty());
        let released_late = set.release(&mut synced);
        assert_eq!(released_early + released_late, NOTIFY_AFTER);
        assert_eq!(synced.num_registered(), 0);
        drop(synced);
        for io in &ios {
            assert_eq!(Arc::strong_count(io), 1, "released exactly once");
        }
    });
}

#[test]
fn loom_set_readiness_races_clear_readiness() {
    model(|| {
        let io = Arc::new(ScheduledIo::new());
        assert!(io.set_readiness(Tick::Set, |r| r | Ready::READABLE));
        let seen = io.ready_now(Interest::READABLE);

        let driver = {
            let io = io.clone();
            thread::spawn(move || {
                assert!(io.set_readiness(Tick::Set, |r| r | Ready::READABLE));
            })
        };
        io.clear_readiness(seen);
        driver.join().unwrap();

        // Clear before the event: the event sets it again. Clear after: the
        // tick moved, so the clear is refused. Either way it stays readable.
        let now = io.ready_now(Interest::READABLE);
        assert!(now.ready.is_readable());
        assert_eq!(now.tick, seen.tick + 1);
    });
}

#[test]
fn loom_write_closed_survives_a_racing_would_block_clear_and_wakes_the_writer() {
    // `Registration::close_write` on one thread (the owner shutting its
    // write side down), a writer on another that saw `WRITABLE`, got
    // `WouldBlock`, clears what it saw and waits again. The clear must not
    // erase `WRITE_CLOSED`, and the wait must end.
    model(|| {
        let io = Arc::new(ScheduledIo::new());
        assert!(io.set_readiness(Tick::Set, |r| r | Ready::WRITABLE));
        let closer = driver_event(&io, Ready::WRITE_CLOSED);
        let seen = io.ready_now(Interest::WRITABLE);
        if !seen.ready.is_write_closed() {
            // The write got `WouldBlock`. (Had it seen the closed bit, its
            // syscall would have failed with `EPIPE` instead.)
            io.clear_would_block(seen);
        }
        let event = block_on(poll_fn(|cx| io.poll_readiness(cx, Direction::Write)));
        assert!(event.ready.is_write_closed(), "{:?}", event.ready);
        closer.join().unwrap();
    });
}

#[test]
fn loom_poll_readiness_races_wake_without_losing_the_wakeup() {
    model(|| {
        let io = Arc::new(ScheduledIo::new());
        let driver = driver_event(&io, Ready::READABLE);
        let event = block_on(poll_fn(|cx| io.poll_readiness(cx, Direction::Read)));
        assert!(event.ready.is_readable());
        driver.join().unwrap();
    });
}

#[test]
fn loom_readiness_future_races_wake_without_losing_the_wakeup() {
    model(|| {
        let io = Arc::new(ScheduledIo::new());
        let driver = driver_event(&io, Ready::WRITABLE);
        let event = block_on(io.readiness(Interest::WRITABLE));
        assert!(event.ready.is_writable());
        driver.join().unwrap();
        assert!(io.has_no_linked_waiters());
    });
}

#[test]
fn loom_shutdown_races_poll_readiness() {
    model(|| {
        let io = Arc::new(ScheduledIo::new());
        let shutting_down = {
            let io = io.clone();
            thread::spawn(move || io.shutdown())
        };
        let event = block_on(poll_fn(|cx| io.poll_readiness(cx, Direction::Write)));
        assert!(event.is_shutdown);
        shutting_down.join().unwrap();
    });
}

#[test]
fn loom_shutdown_races_a_readiness_future() {
    model(|| {
        let io = Arc::new(ScheduledIo::new());
        let shutting_down = {
            let io = io.clone();
            thread::spawn(move || io.shutdown())
        };
        let event = block_on(io.readiness(Interest::READABLE));
        assert!(event.is_shutdown);
        shutting_down.join().unwrap();
    });
}

#[test]
fn loom_dropping_a_readiness_future_races_wake() {
    model(|| {
        let io = Arc::new(ScheduledIo::new());
        let driver = driver_event(&io, Ready::READABLE);
        {
            let mut fut = pin!(io.readiness(Interest::READABLE));
            let _ = fut.as_mut().poll(&mut Context::from_waker(Waker::noop()));
            // Dropped here, possibly while `wake` unlinks it.
        }
        driver.join().unwrap();
        assert!(io.has_no_linked_waiters());
    });
}

#[test]
fn loom_two_readiness_waiters_on_other_threads_are_both_woken() {
    model(|| {
        let io = Arc::new(ScheduledIo::new());
        let waiters: Vec<_> = [Interest::READABLE, Interest::READABLE | Interest::WRITABLE]
            .into_iter()
            .map(|interest| {
                let io = io.clone();
                thread::spawn(move || block_on(io.readiness(interest)).ready.is_readable())
            })
            .collect();
        io.set_readiness(Tick::Set, |r| r | Ready::READABLE);
        io.wake(Ready::READABLE);
        for waiter in waiters {
            assert!(waiter.join().unwrap());
        }
        assert!(io.has_no_linked_waiters());
    });
}

#[test]
fn loom_deregisters_on_two_threads_race_release() {
    model(|| {
        let (set, mut synced) = RegistrationSet::new();
        let ios: Vec<_> = (0..2).map(|_| set.allocate(&mut synced).unwrap()).collect();
        let set = Arc::new(set);
        let synced = Arc::new(Mutex::new(synced));

        let threads: Vec<_> = ios
            .iter()
            .map(|io| {
                let (set, synced, io) = (set.clone(), synced.clone(), io.clone());
                thread::spawn(move || {
                    let mut synced = synced.lock().unwrap();
                    assert!(!set.deregister(&mut synced, &io));
                })
            })
            .collect();
        let mut released = 0;
        if set.needs_release() {
            released += set.release(&mut synced.lock().unwrap());
        }
        for t in threads {
            t.join().unwrap();
        }
        released += set.release(&mut synced.lock().unwrap());
        assert_eq!(released, 2);
        assert!(!set.needs_release());
        for io in &ios {
            assert_eq!(Arc::strong_count(io), 1);
        }
    });
}
