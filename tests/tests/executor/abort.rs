//! Aborting tasks: from outside and from inside, pending or finished, and
//! what their handles then report.

use std::cell::{Cell, RefCell};
use std::future::pending;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use eddy::Handle;
use eddy::task::{JoinHandle, yield_now};
use eddy_tests::{CountDrop, DropFlag, with_deadline};

use crate::{LIMIT, yield_until};

#[test]
fn aborting_a_pending_task_cancels_it_and_drops_its_future() {
    with_deadline(LIMIT, || {
        eddy::run(async {
            let dropped = Rc::new(Cell::new(false));
            let resumed = Rc::new(Cell::new(false));
            let guard = DropFlag(Rc::clone(&dropped));
            let task = eddy::spawn({
                let resumed = Rc::clone(&resumed);
                async move {
                    let _guard = guard;
                    pending::<()>().await;
                    resumed.set(true);
                }
            });
            yield_now().await; // the task runs and parks forever
            assert_eq!(Handle::current().metrics().tasks_alive, 1);
            assert!(!dropped.get());
            assert!(!task.is_finished());

            task.abort();
            let error = task.await.unwrap_err();
            assert!(error.is_cancelled(), "{error:?}");
            assert!(!error.is_panic());
            assert_eq!(error.to_string(), "task was cancelled");
            assert!(dropped.get(), "abort must drop the task's future");
            assert!(!resumed.get());
            assert_eq!(Handle::current().metrics().tasks_alive, 0);
        });
    });
}

#[test]
fn aborting_before_the_first_poll_never_runs_the_future() {
    with_deadline(LIMIT, || {
        eddy::run(async {
            let dropped = Rc::new(Cell::new(false));
            let ran = Rc::new(Cell::new(false));
            let guard = DropFlag(Rc::clone(&dropped));
            let task = eddy::spawn({
                let ran = Rc::clone(&ran);
                async move {
                    let _guard = guard;
                    ran.set(true);
                }
            });
            task.abort();
            task.abort(); // twice is harmless
            assert!(task.await.unwrap_err().is_cancelled());
            assert!(!ran.get());
            assert!(dropped.get());
        });
    });
}

#[test]
fn abort_after_the_task_finished_is_a_no_op() {
    with_deadline(LIMIT, || {
        eddy::run(async {
            let task = eddy::spawn(async { 5 });
            assert!(yield_until(|| task.is_finished(), 1_000).await);
            task.abort();
            assert_eq!(task.await.unwrap(), 5);
        });
    });
}

#[test]
fn a_task_that_aborts_itself_stops_at_its_next_suspension() {
    with_deadline(LIMIT, || {
        eddy::run(async {
            let own_handle: Rc<RefCell<Option<JoinHandle<()>>>> = Rc::default();
            let got_past_the_yield = Rc::new(Cell::new(false));
            let task = eddy::spawn({
                let own_handle = Rc::clone(&own_handle);
                let got_past_the_yield = Rc::clone(&got_past_the_yield);
                async move {
                    yield_now().await; // by now the handle is in the slot
                    own_handle.borrow().as_ref().unwrap().abort();
                    yield_now().await;
                    got_past_the_yield.set(true);
                }
            });
            *own_handle.borrow_mut() = Some(task);
            let finished = yield_until(
                || own_handle.borrow().as_ref().unwrap().is_finished(),
                1_000,
            )
            .await;
            assert!(finished, "the self-aborted task never ended");
            let task = own_handle.borrow_mut().take().unwrap();
            assert!(task.await.unwrap_err().is_cancelled());
            assert!(!got_past_the_yield.get());
        });
    });
}

#[test]
fn a_task_that_aborts_itself_and_finishes_in_the_same_poll_keeps_its_output() {
    with_deadline(LIMIT, || {
        eddy::run(async {
            let own_handle: Rc<RefCell<Option<JoinHandle<u32>>>> = Rc::default();
            let dropped = Rc::new(Cell::new(false));
            let task = eddy::spawn({
                let own_handle = Rc::clone(&own_handle);
                let flag = DropFlag(Rc::clone(&dropped));
                async move {
                    let _flag = flag;
                    yield_now().await; // by now the handle is in the slot
                    own_handle.borrow().as_ref().unwrap().abort();
                    // No suspension point after the abort: the poll ends the
                    // task, so there is nothing left to cancel (as in tokio).
                    9
                }
            });
            *own_handle.borrow_mut() = Some(task);
            let finished = yield_until(
                || own_handle.borrow().as_ref().unwrap().is_finished(),
                1_000,
            )
            .await;
            assert!(finished, "the task never ended");
            assert!(dropped.get(), "the future was not dropped on completion");
            let task = own_handle.borrow_mut().take().unwrap();
            assert_eq!(task.await.unwrap(), 9);
            // The abort's wake queued the finished task once more: that
            // stale entry must neither poll it again nor leave it behind.
            assert!(yield_until(|| Handle::current().metrics().tasks_alive == 0, 10).await);
        });
    });
}

#[test]
fn abort_from_another_thread_cancels_a_parked_task() {
    with_deadline(LIMIT, || {
        eddy::run(async {
            let dropped = Arc::new(AtomicUsize::new(0));
            let parked = eddy::spawn({
                let dropped = Arc::clone(&dropped);
                async move {
                    let _guard = CountDrop(dropped);
                    pending::<u8>().await
                }
            });
            yield_now().await;
            // The runtime parks while the other thread aborts the task.
            let parked = thread::spawn(move || {
                parked.abort();
                parked
            });
            let parked = loop {
                if parked.is_finished() {
                    break parked.join().unwrap();
                }
                yield_now().await;
            };
            assert!(parked.await.unwrap_err().is_cancelled());
            assert_eq!(dropped.load(Ordering::SeqCst), 1);
        });
    });
}
