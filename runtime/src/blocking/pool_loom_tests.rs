//! loom models of the pool (a child module, for its private items).

use eddy_registration::loom_model::model;
use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::thread;

use super::*;

/// Long enough never to run out (loom ignores it anyway).
const KEEP_ALIVE: Duration = Duration::from_secs(3600);

/// A job that counts its run into `runs`.
fn counting(runs: &loom::sync::Arc<AtomicUsize>) -> Job {
    let runs = runs.clone();
    Box::new(move || {
        runs.fetch_add(1, SeqCst);
    })
}

/// Waits (yielding to loom) until `done` holds; a job never run, or a
/// worker never gone, spins here for ever, which loom reports.
fn wait_until(done: impl Fn() -> bool) {
    while !done() {
        thread::yield_now();
    }
}

#[test]
fn loom_jobs_queued_from_two_threads_each_run_once_and_shutdown_ends_every_worker() {
    let orders = ["one worker ran both", "two workers"];
    model(&orders, |explored| {
        let pool = Pool::new(2, KEEP_ALIVE);
        let runs = loom::sync::Arc::new(AtomicUsize::new(0));
        let remote = {
            let (pool, job) = (pool.clone(), counting(&runs));
            thread::spawn(move || pool.spawn(job).is_ok())
        };
        assert!(pool.spawn(counting(&runs)).is_ok());
        assert!(remote.join().unwrap());
        wait_until(|| runs.load(SeqCst) == 2);
        let (threads, _, queued) = pool.gauges();
        assert_eq!(queued, 0);
        explored.saw(if threads == 1 {
            "one worker ran both"
        } else {
            "two workers"
        });
        pool.shutdown();
        wait_until(|| pool.gauges().0 == 0);
        assert_eq!(runs.load(SeqCst), 2, "a job ran twice");
        assert!(pool.spawn(counting(&runs)).is_err());
    });
}

#[test]
fn loom_a_job_queued_as_an_idle_worker_is_shut_down_still_runs_or_is_refused() {
    let orders = ["queued before the shutdown", "refused after the shutdown"];
    model(&orders, |explored| {
        let pool = Pool::new(1, KEEP_ALIVE);
        let runs = loom::sync::Arc::new(AtomicUsize::new(0));
        // A worker that ran one job and went idle on the stack.
        assert!(pool.spawn(counting(&runs)).is_ok());
        wait_until(|| pool.gauges().1 == 1);
        let remote = {
            let (pool, job) = (pool.clone(), counting(&runs));
            thread::spawn(move || pool.spawn(job).is_ok())
        };
        pool.shutdown();
        let queued = remote.join().unwrap();
        // Accepted, the job runs: the worker finishes the queue before
        // it exits.
        wait_until(|| pool.gauges().0 == 0);
        assert_eq!(runs.load(SeqCst), 1 + usize::from(queued));
        explored.saw(if queued {
            "queued before the shutdown"
        } else {
            "refused after the shutdown"
        });
    });
}
