//! Metrics, repeated `block_on` on one runtime, and misuse that must panic
//! with a clear message.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use eddy::task::yield_now;
use eddy::{Handle, Runtime};
use eddy_tests::{CountDrop, Signal, panic_message, poll_once, with_deadline};

use crate::LIMIT;

#[test]
fn metrics_count_spawned_tasks_alive_tasks_and_polls() {
    with_deadline(LIMIT, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let before = Handle::current().metrics();
            assert_eq!(before.tasks_alive, 0);
            let tasks: Vec<_> = (0..10)
                .map(|_| {
                    eddy::spawn(async {
                        yield_now().await;
                        yield_now().await;
                    })
                })
                .collect();
            assert_eq!(Handle::current().metrics().tasks_alive, 10);
            for task in tasks {
                task.await.unwrap();
            }
            let after = Handle::current().metrics();
            assert_eq!(after.tasks_spawned - before.tasks_spawned, 10);
            assert_eq!(after.polls - before.polls, 30, "three polls per task");
            assert_eq!(after.tasks_alive, 0);
            assert!(after.driver_turns > before.driver_turns);
        });
        // From outside, the counters are as of the runtime's last tick.
        let outside = rt.handle().metrics();
        assert_eq!(outside.tasks_spawned, 10);
        assert_eq!(outside.tasks_alive, 0);
        assert_eq!(outside.polls, 30);
    });
}

#[test]
fn block_on_can_run_twice_and_tasks_persist_between_calls() {
    with_deadline(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let signal = Signal::new();
        let progress = Rc::new(Cell::new(0));
        let task = rt.spawn({
            let signal = signal.clone();
            let progress = Rc::clone(&progress);
            async move {
                progress.set(1);
                signal.wait().await;
                progress.set(2);
                "finished"
            }
        });
        // The first call returns while the task is parked on the signal.
        rt.block_on(yield_now());
        assert_eq!(progress.get(), 1);
        assert_eq!(rt.handle().metrics().tasks_alive, 1);
        // Woken while no block_on runs: it waits for the next one.
        signal.set();
        assert_eq!(progress.get(), 1);
        assert_eq!(rt.block_on(task).unwrap(), "finished");
        assert_eq!(progress.get(), 2);
        // A third call, with a timer, still works.
        rt.block_on(eddy::time::sleep(Duration::from_millis(1)));
        assert_eq!(rt.handle().metrics().tasks_alive, 0);
    });
}

#[test]
#[should_panic(expected = "outside an eddy runtime")]
fn eddy_spawn_outside_a_runtime_panics_saying_so() {
    drop(eddy::spawn(async {}));
}

#[test]
fn eddy_spawn_outside_a_runtime_drops_the_future_exactly_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let probe = CountDrop(Arc::clone(&drops));
    // A big future, like a connection's with its buffer: the task memory
    // is allocated before the runtime is looked up, and must be given back
    // without running the (never written) future's destructor.
    let future = async move {
        let buffer = [0u8; 4096];
        let _probe = &probe;
        yield_now().await;
        buffer.len()
    };
    let outcome = catch_unwind(AssertUnwindSafe(|| drop(eddy::spawn(future))));
    let payload = outcome.expect_err("spawn outside a runtime must panic");
    let message = panic_message(&*payload);
    assert!(message.contains("outside an eddy runtime"), "{message}");
    assert_eq!(
        drops.load(Ordering::SeqCst),
        1,
        "the future's state dropped once"
    );
}

#[test]
fn handle_spawn_on_the_runtimes_own_thread_skips_the_remote_queue() {
    with_deadline(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let handle = rt.handle();
        let remote_before = handle.metrics().remote_wakes;
        let value = rt.block_on(async {
            let handle = Handle::current();
            let big = [7u8; 4096];
            handle.spawn(async move { big[4095] }).await.unwrap()
        });
        assert_eq!(value, 7);
        assert_eq!(
            handle.metrics().remote_wakes,
            remote_before,
            "a same-thread Handle::spawn went through the remote queue"
        );
    });
}

#[test]
fn handle_spawn_onto_another_runtime_from_inside_one_lands_there() {
    with_deadline(LIMIT, || {
        let (to_b, from_a) = mpsc::channel::<Handle>();
        let (done_tx, done_rx) = mpsc::channel::<()>();
        let runtime_b = thread::spawn(move || {
            let rt = Runtime::new().unwrap();
            to_b.send(rt.handle()).unwrap();
            // Turn until runtime A's spawn has run here, then report how
            // many tasks B saw.
            let spawned_here = rt.block_on(async {
                for _ in 0..100_000 {
                    if done_rx.try_recv().is_ok() {
                        break;
                    }
                    eddy::time::sleep(Duration::from_millis(1)).await;
                }
                Handle::current().metrics().tasks_spawned
            });
            (spawned_here, rt.handle().metrics().remote_wakes)
        });
        let handle_b = from_a.recv().unwrap();
        let rt_a = Runtime::new().unwrap();
        let spawned_in_a = rt_a.handle().metrics().tasks_spawned;
        let ran_on = rt_a.block_on(async move {
            // Inside runtime A, spawn onto B: the task must run on B's
            // thread, not on this one.
            handle_b
                .spawn(async { thread::current().id() })
                .await
                .unwrap()
        });
        done_tx.send(()).unwrap();
        let (spawned_in_b, remote_wakes_b) = runtime_b.join().unwrap();
        assert_ne!(
            ran_on,
            thread::current().id(),
            "the task ran on runtime A's thread"
        );
        assert_eq!(
            rt_a.handle().metrics().tasks_spawned,
            spawned_in_a,
            "A adopted B's task"
        );
        assert!(spawned_in_b >= 1, "B never adopted the task");
        assert!(
            remote_wakes_b >= 1,
            "the spawn did not go through B's remote queue"
        );
    });
}

#[test]
#[should_panic(expected = "outside an eddy runtime")]
fn handle_current_outside_a_runtime_panics_saying_so() {
    drop(Handle::current());
}

#[test]
#[should_panic(expected = "within a runtime")]
fn block_on_inside_another_runtime_panics() {
    with_deadline(LIMIT, || {
        let outer = Runtime::new().unwrap();
        let inner = Runtime::new().unwrap();
        outer.block_on(async { inner.block_on(async {}) });
    });
}

#[test]
#[should_panic(expected = "within a runtime")]
fn block_on_inside_the_same_runtime_panics() {
    with_deadline(LIMIT, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async { rt.block_on(async {}) });
    });
}

#[test]
fn eddy_run_inside_a_task_is_a_task_panic_and_the_runtime_survives() {
    with_deadline(LIMIT, || {
        eddy::run(async {
            let nested = eddy::spawn(async { eddy::run(async { 1 }) });
            let error = nested.await.unwrap_err();
            assert!(error.is_panic());
            let message = panic_message(&*error.into_panic());
            assert!(message.contains("within a runtime"), "got: {message}");
            assert_eq!(eddy::spawn(async { 2 }).await.unwrap(), 2);
            // The nested runtime's drop restored this runtime's context.
            assert!(Handle::try_current().is_some());
        });
    });
}

#[test]
#[should_panic(expected = "JoinHandle polled after it completed")]
fn polling_a_join_handle_again_after_it_completed_panics() {
    with_deadline(LIMIT, || {
        eddy::run(async {
            let mut task = eddy::spawn(async { 1 });
            assert_eq!((&mut task).await.unwrap(), 1);
            let _ = poll_once(Pin::new(&mut task)).await;
        });
    });
}
