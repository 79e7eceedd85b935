//! Loom models of the races that matter. Run with
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test --release -p eddy-registration --lib -- loom`.
//!
//! A lost wake-up shows up as a deadlock: `loom::future::block_on` parks the
//! thread until its waker is woken, and loom fails the model if every thread
//! is parked.
//!
//! A limit of loom 0.7 to keep in mind when writing one (tokio-rs/loom#392):
//! when a spawned thread's first access to an object is a load, the orders
//! in which that thread runs ahead of the main thread's accesses can go
//! unexplored. In our probes, with the main thread only loading too, loom
//! ran such a model once and the main thread never saw the other thread's
//! store; a store or lock on the main thread's side brings most orders back,
//! but still not always "the other thread first". `set_readiness` begins
//! with a load, so every driver thread below is exposed. The models defend
//! in two ways:
//!
//! * each names the orders it is about, and fails if no run of loom took
//!   one of them ([`Explored::assert_saw`]): a model that passes without
//!   reaching its race proves nothing;
//! * where an order was missing, the main thread calls `thread::yield_now`
//!   at the point where the other thread should run: loom then runs the
//!   others first. A yield right after the spawn still leaves the later
//!   orders explored; a yield further on can hide the order where the main
//!   thread goes on, so such a model runs twice, with and without it.
//!
//! These checks found "the event lands between the look and the clear",
//! "the event lands before the clear" and "the wake unlinks the future
//! before its drop" missing from the models, which left, for example, a
//! clear that skips the tick check on its first pass uncaught.

use std::future::Future;
use std::future::poll_fn;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Waker};

use ::loom::future::block_on;
use ::loom::sync::{Arc, Mutex};
use ::loom::thread;

use crate::loom_model::{Explored, model, model_into};
use crate::{Direction, Interest, NOTIFY_AFTER, Ready, RegistrationSet, ScheduledIo, Tick};

/// How far a driver thread got, read from the model's main thread. A std
/// atomic, so reading it adds no scheduling point: loom runs one thread at
/// a time, so it tells which steps were done when the reader looked.
#[derive(Debug, Default)]
struct Progress {
    /// The readiness was set.
    landed: AtomicBool,
    /// The wake after it returned.
    woken: AtomicBool,
}

impl Progress {
    /// Whether the readiness was set.
    fn landed(&self) -> bool {
        self.landed.load(Ordering::Relaxed)
    }

    /// Whether the wake returned.
    fn woken(&self) -> bool {
        self.woken.load(Ordering::Relaxed)
    }
}

/// What `Driver::turn` does for one event, on another thread: set the
/// readiness (bumping the tick), then wake whoever waits for it.
fn driver_event(
    io: &Arc<ScheduledIo>,
    ready: Ready,
) -> (thread::JoinHandle<()>, std::sync::Arc<Progress>) {
    let io = io.clone();
    let progress = std::sync::Arc::new(Progress::default());
    let reported = progress.clone();
    let handle = thread::spawn(move || {
        io.set_readiness(Tick::Set, |r| r | ready);
        reported.landed.store(true, Ordering::Relaxed);
        io.wake(ready);
        reported.woken.store(true, Ordering::Relaxed);
    });
    (handle, progress)
}

/// Polls `poll` to completion on this loom thread (parking between polls);
/// also returns whether the first poll was already ready.
fn block_on_first<T>(mut poll: impl FnMut(&mut Context<'_>) -> Poll<T>) -> (T, bool) {
    let mut first = None;
    let out = block_on(poll_fn(|cx| {
        let result = poll(cx);
        first.get_or_insert(result.is_ready());
        result
    }));
    (out, first == Some(true))
}

/// [`block_on_first`], telling `explored` whether the first poll was
/// ready ("ready at once") or the task had to wait ("waited").
fn block_on_noting<T>(explored: &Explored, poll: impl FnMut(&mut Context<'_>) -> Poll<T>) -> T {
    let (out, at_once) = block_on_first(poll);
    explored.saw(if at_once { "ready at once" } else { "waited" });
    out
}

/// Asserts the counter agrees with the queue; call with the lock held.
fn assert_counter_matches(set: &RegistrationSet, synced: &crate::Synced) {
    assert_eq!(set.num_pending_release(), synced.pending_release.len());
}

#[test]
fn loom_deregister_races_needs_release_and_release() {
    let orders = ["turn released fifteen", "turn released sixteen"];
    model(&orders, |explored| {
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
        explored.saw(if released_early == NOTIFY_AFTER - 1 {
            "turn released fifteen"
        } else {
            "turn released sixteen"
        });

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
    let orders = ["event before the clear", "event after the clear"];
    model(&orders, |explored| {
        let io = Arc::new(ScheduledIo::new());
        assert!(io.set_readiness(Tick::Set, |r| r | Ready::READABLE));
        let seen = io.ready_now(Interest::READABLE);

        let landed = std::sync::Arc::new(AtomicBool::new(false));
        let driver = {
            let (io, landed) = (io.clone(), landed.clone());
            thread::spawn(move || {
                assert!(io.set_readiness(Tick::Set, |r| r | Ready::READABLE));
                landed.store(true, Ordering::Relaxed);
            })
        };
        // loom never ran the whole event before the clear by itself (the
        // driver begins with a load): hand it the turn here.
        thread::yield_now();
        if landed.load(Ordering::Relaxed) {
            explored.saw("event before the clear");
        }
        io.clear_readiness(seen);
        if !landed.load(Ordering::Relaxed) {
            explored.saw("event after the clear");
        }
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
    //
    // The closer begins with a load, so loom reaches neither "closed before
    // the look" nor "closed between the look and the clear" by itself: the
    // writer yields after spawning it, and in a second run also between the
    // look and the clear, handing the closer the turn at each point.
    let explored = std::sync::Arc::default();
    for yield_before_clear in [false, true] {
        model_into(&explored, move |explored| {
            let io = Arc::new(ScheduledIo::new());
            assert!(io.set_readiness(Tick::Set, |r| r | Ready::WRITABLE));
            let (closer, progress) = driver_event(&io, Ready::WRITE_CLOSED);
            thread::yield_now();
            let seen = io.ready_now(Interest::WRITABLE);
            if seen.ready.is_write_closed() {
                explored.saw("closed before the look");
            } else {
                if yield_before_clear {
                    thread::yield_now();
                }
                if progress.landed() {
                    explored.saw("closed between the look and the clear");
                }
                // The write got `WouldBlock`. (Had it seen the closed bit, its
                // syscall would have failed with `EPIPE` instead.)
                io.clear_would_block(seen);
                if !progress.landed() {
                    explored.saw("closed after the clear");
                }
            }
            let event = block_on_noting(explored, |cx| io.poll_readiness(cx, Direction::Write));
            assert!(event.ready.is_write_closed(), "{:?}", event.ready);
            closer.join().unwrap();
        });
    }
    explored.assert_saw(&[
        "closed before the look",
        "closed between the look and the clear",
        "closed after the clear",
        "waited",
    ]);
}

#[test]
fn loom_poll_readiness_races_wake_without_losing_the_wakeup() {
    model(&["ready at once", "waited"], |explored| {
        let io = Arc::new(ScheduledIo::new());
        let (driver, _) = driver_event(&io, Ready::READABLE);
        let event = block_on_noting(explored, |cx| io.poll_readiness(cx, Direction::Read));
        assert!(event.ready.is_readable());
        driver.join().unwrap();
    });
}

#[test]
fn loom_readiness_future_races_wake_without_losing_the_wakeup() {
    model(&["ready at once", "waited"], |explored| {
        let io = Arc::new(ScheduledIo::new());
        let (driver, _) = driver_event(&io, Ready::WRITABLE);
        let mut readiness = pin!(io.readiness(Interest::WRITABLE));
        let event = block_on_noting(explored, |cx| readiness.as_mut().poll(cx));
        assert!(event.ready.is_writable());
        driver.join().unwrap();
        assert!(io.has_no_linked_waiters());
    });
}

#[test]
fn loom_shutdown_races_poll_readiness() {
    model(&["ready at once", "waited"], |explored| {
        let io = Arc::new(ScheduledIo::new());
        let shutting_down = {
            let io = io.clone();
            thread::spawn(move || io.shutdown())
        };
        let event = block_on_noting(explored, |cx| io.poll_readiness(cx, Direction::Write));
        assert!(event.is_shutdown);
        shutting_down.join().unwrap();
    });
}

#[test]
fn loom_shutdown_races_a_readiness_future() {
    model(&["ready at once", "waited"], |explored| {
        let io = Arc::new(ScheduledIo::new());
        let shutting_down = {
            let io = io.clone();
            thread::spawn(move || io.shutdown())
        };
        let mut readiness = pin!(io.readiness(Interest::READABLE));
        let event = block_on_noting(explored, |cx| readiness.as_mut().poll(cx));
        assert!(event.is_shutdown);
        shutting_down.join().unwrap();
    });
}

#[test]
fn loom_dropping_a_readiness_future_races_wake() {
    // Wake and drop both take the waiters lock, so one runs whole before the
    // other. loom does not reach "the wake, then the drop" by itself (the
    // driver begins with a load, see above), so a second run yields between
    // the poll and the drop, which hands the driver the turn there.
    let explored = std::sync::Arc::default();
    for yield_before_drop in [false, true] {
        model_into(&explored, move |explored| {
            let io = Arc::new(ScheduledIo::new());
            let (driver, progress) = driver_event(&io, Ready::READABLE);
            {
                let mut fut = pin!(io.readiness(Interest::READABLE));
                let first = fut.as_mut().poll(&mut Context::from_waker(Waker::noop()));
                if yield_before_drop {
                    thread::yield_now();
                }
                if first.is_ready() {
                    explored.saw("ready at once");
                } else if progress.woken() {
                    explored.saw("dropped after the wake");
                }
                // Dropped here, possibly while `wake` unlinks it.
            }
            if !progress.landed() {
                explored.saw("dropped before the wake");
            }
            driver.join().unwrap();
            assert!(io.has_no_linked_waiters());
        });
    }
    explored.assert_saw(&[
        "ready at once",
        "dropped before the wake",
        "dropped after the wake",
    ]);
}

#[test]
fn loom_two_readiness_waiters_on_other_threads_are_both_woken() {
    model(&["ready at once", "waited"], |explored| {
        let io = Arc::new(ScheduledIo::new());
        let waiters: Vec<_> = [Interest::READABLE, Interest::READABLE | Interest::WRITABLE]
            .into_iter()
            .map(|interest| {
                let io = io.clone();
                thread::spawn(move || {
                    let mut readiness = pin!(io.readiness(interest));
                    block_on_first(|cx| readiness.as_mut().poll(cx))
                })
            })
            .collect();
        io.set_readiness(Tick::Set, |r| r | Ready::READABLE);
        io.wake(Ready::READABLE);
        for waiter in waiters {
            let (event, at_once) = waiter.join().unwrap();
            assert!(event.ready.is_readable());
            explored.saw(if at_once { "ready at once" } else { "waited" });
        }
        assert!(io.has_no_linked_waiters());
    });
}

#[test]
fn loom_deregisters_on_two_threads_race_release() {
    let orders = [
        "turn released none",
        "turn released one",
        "turn released both",
    ];
    model(&orders, |explored| {
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
        explored.saw(match released {
            0 => "turn released none",
            1 => "turn released one",
            _ => "turn released both",
        });
        for t in threads {
            t.join().unwrap();
        }
        // The next turn, as the driver runs it: only when the counter says
        // something waits. A deregistration that queued without publishing
        // the counter would be left behind here.
        if set.needs_release() {
            released += set.release(&mut synced.lock().unwrap());
        }
        assert_eq!(released, 2);
        assert!(!set.needs_release());
        for io in &ios {
            assert_eq!(Arc::strong_count(io), 1);
        }
    });
}
