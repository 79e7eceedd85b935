//! loom models of the job (a child module, for its private items).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc as StdArc;
use std::sync::Mutex as StdMutex;
use std::sync::atomic::AtomicUsize as StdAtomicUsize;
use std::task::{Context, Poll};

use eddy_registration::loom_model::{model, model_into};
use futures_task::ArcWake;
use loom::sync::atomic::AtomicBool;
use loom::thread::{self, ThreadId};

use super::*;
use crate::task::JoinHandle;

/// What a job's closure captures: counts its drops and records the
/// thread that dropped it (std types: bookkeeping, no scheduling point).
struct Capture {
    /// Bumped by `Drop`.
    drops: StdArc<StdAtomicUsize>,
    /// The loom thread that dropped it.
    dropped_on: StdArc<StdMutex<Option<ThreadId>>>,
}

impl Drop for Capture {
    fn drop(&mut self) {
        *self.dropped_on.lock().unwrap() = Some(thread::current().id());
        self.drops.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// The counters a model checks after the race.
#[derive(Default)]
struct Counts {
    /// How often the closure ran.
    runs: StdArc<StdAtomicUsize>,
    /// How often its capture was dropped.
    drops: StdArc<StdAtomicUsize>,
    /// Which thread dropped it.
    dropped_on: StdArc<StdMutex<Option<ThreadId>>>,
}

/// A queued job whose closure returns 7, its pool-side `Runner`, and
/// the handle `spawn` would return.
fn job(counts: &Counts) -> (Runner<u32>, JoinHandle<u32>) {
    let capture = Capture {
        drops: counts.drops.clone(),
        dropped_on: counts.dropped_on.clone(),
    };
    let runs = counts.runs.clone();
    let work: Work<u32> = Box::new(move || {
        let _capture = capture;
        runs.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        7
    });
    let job = Arc::new(BlockingJob::new(work));
    (Runner::new(job.clone()), JoinHandle::new(job))
}

/// A waker that only raises a loom flag, so the wake is a synchronising
/// event the model sees.
struct FlagWaker(AtomicBool);

impl ArcWake for FlagWaker {
    fn wake_by_ref(arc_self: &StdArc<Self>) {
        arc_self.0.store(true, Ordering::SeqCst);
    }
}

/// Awaits `handle` as a parked task would: poll, and while `Pending`
/// wait (with loom yields) for the wake, then poll again. A lost wake
/// never ends the wait, which loom reports.
fn await_handle(handle: &mut JoinHandle<u32>) -> Result<u32, JoinError> {
    let flag = StdArc::new(FlagWaker(AtomicBool::new(false)));
    let waker = futures_task::waker(flag.clone());
    let mut cx = Context::from_waker(&waker);
    loop {
        if let Poll::Ready(outcome) = Pin::new(&mut *handle).poll(&mut cx) {
            return outcome;
        }
        while !flag.0.load(Ordering::SeqCst) {
            thread::yield_now();
        }
        flag.0.store(false, Ordering::SeqCst);
    }
}

#[test]
fn loom_blocking_run_racing_abort_runs_at_most_once_and_resolves_once() {
    let orders = ["ran", "cancelled before the run"];
    model(&orders, |explored| {
        let counts = Counts::default();
        let (runner, mut handle) = job(&counts);
        // The pool thread: runs the job, then drops the runner (whose
        // drop must find the job over and do nothing).
        let pool = thread::spawn(move || runner.run());
        handle.abort();
        let outcome = await_handle(&mut handle);
        pool.join().unwrap();

        let runs = counts.runs.load(std::sync::atomic::Ordering::SeqCst);
        match outcome {
            Ok(value) => {
                assert_eq!((value, runs), (7, 1), "an output without a run");
                explored.saw("ran");
            }
            Err(err) => {
                assert!(err.is_cancelled(), "{err:?}");
                assert_eq!(runs, 0, "cancelled, but the closure ran");
                explored.saw("cancelled before the run");
            }
        }
        drop(handle);
        // Run or cancelled, the capture went exactly once.
        assert_eq!(counts.drops.load(std::sync::atomic::Ordering::SeqCst), 1);
    });
}

#[test]
fn loom_a_refused_runner_resolves_the_handle_once_with_or_without_an_abort() {
    let explored = StdArc::default();
    for abort in [false, true] {
        model_into(&explored, move |explored| {
            let counts = Counts::default();
            let (runner, mut handle) = job(&counts);
            // The pool refused the job (shut down, or no thread could
            // start): it drops the runner unrun, on its own thread. With
            // no abort, that drop alone must resolve the handle.
            let pool = thread::spawn(move || drop(runner));
            let pool_id = pool.thread().id();
            if abort {
                handle.abort();
            }
            let outcome = await_handle(&mut handle);
            pool.join().unwrap();

            assert!(outcome.unwrap_err().is_cancelled());
            assert_eq!(counts.runs.load(std::sync::atomic::Ordering::SeqCst), 0);
            assert_eq!(counts.drops.load(std::sync::atomic::Ordering::SeqCst), 1);
            let dropped_on = counts.dropped_on.lock().unwrap().expect("dropped");
            explored.saw(match (dropped_on == pool_id, abort) {
                (true, false) => "the pool's drop cancelled, no abort",
                (true, true) => "the pool's drop cancelled, then the abort",
                (false, _) => "the abort cancelled, then the pool's drop",
            });
        });
    }
    explored.assert_saw(&[
        "the pool's drop cancelled, no abort",
        "the pool's drop cancelled, then the abort",
        "the abort cancelled, then the pool's drop",
    ]);
}

#[test]
fn loom_an_abort_that_wins_the_race_with_a_run_drops_the_closure_itself() {
    let orders = ["ran", "cancelled before the run"];
    model(&orders, |explored| {
        let counts = Counts::default();
        let (runner, mut handle) = job(&counts);
        let pool = thread::spawn(move || runner.run());
        handle.abort();
        let outcome = await_handle(&mut handle);
        if let Err(err) = outcome {
            assert!(err.is_cancelled(), "{err:?}");
            // Cancelled: the abort took the closure, so its captures are
            // gone before the handle resolves, and went on this thread,
            // not later on the pool's.
            assert_eq!(
                counts.drops.load(std::sync::atomic::Ordering::SeqCst),
                1,
                "the handle resolved cancelled with the closure still alive"
            );
            let dropped_on = counts.dropped_on.lock().unwrap().expect("dropped");
            assert_eq!(dropped_on, thread::current().id(), "dropped on the pool");
            explored.saw("cancelled before the run");
        } else {
            explored.saw("ran");
        }
        pool.join().unwrap();
    });
}
