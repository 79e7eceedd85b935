//! Detaching: a task whose handle is dropped keeps running to its end.

use std::cell::Cell;
use std::rc::Rc;
use std::thread;

use eddy::task::yield_now;
use eddy::{Handle, Runtime};
use eddy_tests::{DropFlag, Signal, with_deadline};

use crate::{LIMIT, yield_until};

#[test]
fn a_finished_task_drops_its_future_at_once_and_hands_over_its_output_when_joined() {
    with_deadline(LIMIT, || {
        eddy::run(async {
            let future_dropped = Rc::new(Cell::new(false));
            let output_dropped = Rc::new(Cell::new(false));
            let task = eddy::spawn({
                let in_future = DropFlag(Rc::clone(&future_dropped));
                let output = DropFlag(Rc::clone(&output_dropped));
                async move {
                    let _in_future = in_future;
                    yield_now().await;
                    output
                }
            });
            assert!(yield_until(|| task.is_finished(), 1_000).await);
            // What the future held is gone as soon as the task finished,
            // though nobody joined it yet; the output waits in the slot.
            assert!(future_dropped.get(), "the finished future was kept");
            assert!(!output_dropped.get(), "the output was dropped unread");
            assert_eq!(Handle::current().metrics().tasks_alive, 0);
            let output = task.await.unwrap();
            assert!(!output_dropped.get());
            drop(output);
            assert!(output_dropped.get());
        });
    });
}

#[test]
fn dropping_a_join_handle_detaches_the_task() {
    with_deadline(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let finished = Rc::new(Cell::new(0));
        let output_dropped = Rc::new(Cell::new(false));
        let from_thread = Signal::new();
        for _ in 0..10 {
            let finished = Rc::clone(&finished);
            drop(rt.spawn(async move {
                yield_now().await;
                yield_now().await;
                finished.set(finished.get() + 1);
            }));
        }
        // A detached task that needs a wake from another thread, and whose
        // output is dropped (not leaked) once it finishes.
        let detached_done = Signal::new();
        drop(rt.spawn({
            let from_thread = from_thread.clone();
            let detached_done = detached_done.clone();
            let output = DropFlag(Rc::clone(&output_dropped));
            async move {
                from_thread.wait().await;
                detached_done.set();
                output
            }
        }));
        let waker_thread = {
            let from_thread = from_thread.clone();
            thread::spawn(move || from_thread.set())
        };
        rt.block_on(async {
            assert!(yield_until(|| finished.get() == 10, 10_000).await);
            detached_done.wait().await;
        });
        waker_thread.join().unwrap();
        assert_eq!(finished.get(), 10);
        assert!(output_dropped.get(), "a detached task's output is dropped");
        assert_eq!(rt.handle().metrics().tasks_alive, 0);
    });
}
