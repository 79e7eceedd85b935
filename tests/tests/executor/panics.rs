//! Panics: a panicking task (in its poll, its drop or its output's drop) is
//! reported through its handle and takes nothing else down.

use std::future::{Future, pending};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::mpsc;
use std::task::Poll;
use std::thread;

use eddy::task::{JoinHandle, yield_now};
use eddy::{Handle, Runtime};
use eddy_tests::{Signal, panic_message, panicking_waker, run_bounded, with_deadline};

use crate::{LIMIT, yield_until};

#[test]
fn a_panicking_task_reports_its_payload_and_the_runtime_keeps_running() {
    with_deadline(LIMIT, || {
        eddy::run(async {
            let sibling = eddy::spawn(async {
                yield_now().await;
                yield_now().await;
                "sibling done"
            });
            let boom: JoinHandle<u32> = eddy::spawn(async {
                yield_now().await;
                panic!("boom {}", 42)
            });
            let error = boom.await.unwrap_err();
            assert!(error.is_panic());
            assert!(!error.is_cancelled());
            assert_eq!(error.to_string(), "task panicked: boom 42");
            assert_eq!(panic_message(&*error.into_panic()), "boom 42");

            // A payload that is not a string comes back intact.
            let typed: JoinHandle<()> = eddy::spawn(async { std::panic::panic_any(17u64) });
            let payload = typed.await.unwrap_err().into_panic();
            assert_eq!(payload.downcast_ref::<u64>(), Some(&17));

            assert_eq!(sibling.await.unwrap(), "sibling done");
            assert_eq!(eddy::spawn(async { 1 }).await.unwrap(), 1);
            assert_eq!(Handle::current().metrics().tasks_alive, 0);
        });
    });
}

/// `runtime.block_on(future)`, with a panic out of it caught and returned
/// as the error: for tests that a panic does (or does not) escape.
fn block_on_catching<F: Future>(runtime: &Runtime, future: F) -> std::thread::Result<F::Output> {
    catch_unwind(AssertUnwindSafe(|| runtime.block_on(future)))
}

/// Panics when dropped (unless the thread is already unwinding).
#[derive(Debug)]
struct PanicsOnDrop(&'static str);

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        if !thread::panicking() {
            panic!("{}", self.0);
        }
    }
}

/// Returns an output that panics when dropped, and panics itself when
/// dropped after that.
struct ReadyThenPanicsTwice(Option<PanicsOnDrop>);

impl Future for ReadyThenPanicsTwice {
    type Output = PanicsOnDrop;

    fn poll(mut self: Pin<&mut Self>, _: &mut std::task::Context<'_>) -> Poll<PanicsOnDrop> {
        self.0 = Some(PanicsOnDrop("the future's drop"));
        Poll::Ready(PanicsOnDrop("the output's drop"))
    }
}

#[test]
fn a_future_and_output_that_both_panic_in_drop_end_as_one_panicked_task() {
    with_deadline(LIMIT, || {
        eddy::run(async {
            // The future's drop panics after it returned its output, so the
            // task reports that panic and drops the output, whose own drop
            // panics as well. Before the fix that second panic unwound out
            // of the loop: `block_on` panicked and the task stayed in the
            // slab for good.
            let error = eddy::spawn(ReadyThenPanicsTwice(None))
                .await
                .expect_err("the future's drop panicked");
            assert!(error.is_panic());
            assert_eq!(panic_message(&*error.into_panic()), "the future's drop");
            assert_eq!(Handle::current().metrics().tasks_alive, 0);
        });
    });
}

#[test]
fn a_join_handle_waker_that_panics_when_its_task_finishes_leaves_no_task_behind() {
    with_deadline(LIMIT, || {
        let runtime = Runtime::new().unwrap();
        let release = Signal::new();
        let wait = release.clone();
        let mut task = runtime.spawn(async move {
            wait.wait().await;
            7
        });
        // Some other executor's future awaits the handle, with a waker
        // that panics.
        let doomed = panicking_waker("the join handle's waker panics");
        let mut cx = std::task::Context::from_waker(&doomed);
        assert!(Pin::new(&mut task).poll(&mut cx).is_pending());

        let ran = block_on_catching(&runtime, async {
            release.set();
            pending::<()>().await
        });
        let payload = ran.expect_err("the waker's panic comes out of block_on");
        assert_eq!(panic_message(&*payload), "the join handle's waker panics");
        // Before the fix the panic unwound out of the task's run before the
        // loop forgot the task: it stayed in the slab for good.
        assert_eq!(runtime.handle().metrics().tasks_alive, 0);
        let noop = std::task::Waker::noop();
        let output = Pin::new(&mut task).poll(&mut std::task::Context::from_waker(noop));
        assert!(matches!(output, Poll::Ready(Ok(7))), "{output:?}");
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri: too slow interpreted")]
fn is_finished_is_true_only_once_the_output_can_be_taken() {
    with_deadline(LIMIT, || {
        let stop = Signal::new();
        let waiting = stop.clone();
        let (send_handle, handle) = mpsc::channel();
        let runner = thread::spawn(move || {
            let runtime = Runtime::new().unwrap();
            send_handle.send(runtime.handle()).unwrap();
            runtime.block_on(waiting.wait());
        });
        let handle = handle.recv().unwrap();
        let noop = std::task::Waker::noop();
        // The runtime finishes each task on its own thread while this one
        // watches `is_finished`: the window between the task being marked
        // complete and its output being stored was hit in thousands of
        // 50,000 tries before the fix.
        for i in 0..20_000u32 {
            let mut task = handle.spawn(async move { i });
            while !task.is_finished() {
                std::hint::spin_loop();
            }
            match Pin::new(&mut task).poll(&mut std::task::Context::from_waker(noop)) {
                Poll::Ready(Ok(value)) => assert_eq!(value, i),
                other => panic!("is_finished was true, but polling the handle gave {other:?}"),
            }
        }
        stop.set();
        runner.join().unwrap();
    });
}

#[test]
fn a_panic_in_the_block_on_future_propagates_and_the_runtime_stays_usable() {
    with_deadline(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let background = rt.spawn(async {
            yield_now().await;
            3
        });
        let caught = block_on_catching(&rt, async {
            yield_now().await;
            panic!("the main future failed")
        });
        let payload = caught.expect_err("block_on must re-raise the panic");
        assert_eq!(panic_message(&*payload), "the main future failed");
        assert!(Handle::try_current().is_none(), "the context was restored");
        assert_eq!(rt.block_on(background).unwrap(), 3);
        assert_eq!(rt.block_on(rt.spawn(async { 4 })).unwrap(), 4);
    });
}

#[test]
fn a_detached_task_whose_output_panics_on_drop_does_not_take_the_runtime_down() {
    with_deadline(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let outcome = block_on_catching(&rt, async {
            drop(eddy::spawn(async {
                yield_now().await;
                PanicsOnDrop("the output's drop panics on purpose")
            }));
            for _ in 0..3 {
                yield_now().await;
            }
            eddy::spawn(async { 1 }).await.unwrap()
        });
        assert_eq!(outcome.ok(), Some(1), "the panic escaped block_on");
        assert_eq!(
            rt.handle().metrics().tasks_alive,
            0,
            "the finished task leaked"
        );
    });
}

#[test]
fn dropping_the_handle_of_a_finished_task_whose_output_panics_on_drop_does_not_panic() {
    with_deadline(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let handle = rt.spawn(async { PanicsOnDrop("the output's drop panics on purpose") });
        rt.block_on(yield_now());
        assert!(handle.is_finished());
        // Nobody reads the output, exactly as when the handle is dropped
        // before the task finishes (detached): its drop must not panic out
        // of `JoinHandle::drop`. It did, on whichever thread dropped the
        // handle, and a thread dropping it while it unwound (a `Vec` of
        // handles on a panicking thread) aborted the process.
        let dropped = catch_unwind(AssertUnwindSafe(|| drop(handle)));
        assert!(
            dropped.is_ok(),
            "the output's panic escaped the handle's drop"
        );
        // Inside a task: the task that drops the handle finishes normally
        // instead of reporting a panic that was not its own.
        let finished = rt.spawn(async { PanicsOnDrop("the output's drop panics on purpose") });
        let dropper = rt.spawn(async move {
            while !finished.is_finished() {
                yield_now().await;
            }
            drop(finished);
            7
        });
        assert_eq!(rt.block_on(dropper).unwrap(), 7);
    });
}

#[test]
fn aborting_a_task_whose_future_panics_on_drop_reports_the_panic() {
    with_deadline(LIMIT, || {
        eddy::run(async {
            let bomb = PanicsOnDrop("the future's drop panics on purpose");
            let task = eddy::spawn(async move {
                let _bomb = bomb;
                pending::<()>().await;
            });
            yield_now().await;
            task.abort();
            let error = task.await.unwrap_err();
            assert!(error.is_panic(), "{error:?}");
            let message = panic_message(&*error.into_panic());
            assert_eq!(message, "the future's drop panics on purpose");
            assert_eq!(Handle::current().metrics().tasks_alive, 0);
            assert_eq!(eddy::spawn(async { 5 }).await.unwrap(), 5);
        });
    });
}

/// A panic payload (`panic_any` takes any type) that panics again when it
/// is dropped.
struct PayloadThatPanicsOnDrop;

impl Drop for PayloadThatPanicsOnDrop {
    fn drop(&mut self) {
        if !thread::panicking() {
            panic!("the payload's drop panics on purpose");
        }
    }
}

/// Panics when dropped, with a [`PayloadThatPanicsOnDrop`].
#[derive(Debug)]
struct PanicsOnDropWithAPanickingPayload;

impl Drop for PanicsOnDropWithAPanickingPayload {
    fn drop(&mut self) {
        if !thread::panicking() {
            std::panic::panic_any(PayloadThatPanicsOnDrop);
        }
    }
}

/// Panics when polled; its drop then panics with a payload that panics.
struct PanicsInPollThenInDrop {
    /// Dropped with the future, after the poll panicked.
    _bomb: PanicsOnDropWithAPanickingPayload,
}

impl Future for PanicsInPollThenInDrop {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _: &mut std::task::Context<'_>) -> Poll<()> {
        panic!("the poll panics on purpose")
    }
}

/// Returns an output whose drop panics with a payload that panics, then
/// panics the same way when dropped itself.
struct ReadyThenPanicsTwiceWithPanickingPayloads(Option<PanicsOnDropWithAPanickingPayload>);

impl Future for ReadyThenPanicsTwiceWithPanickingPayloads {
    type Output = PanicsOnDropWithAPanickingPayload;

    fn poll(mut self: Pin<&mut Self>, _: &mut std::task::Context<'_>) -> Poll<Self::Output> {
        self.0 = Some(PanicsOnDropWithAPanickingPayload);
        Poll::Ready(PanicsOnDropWithAPanickingPayload)
    }
}

#[test]
fn a_task_whose_poll_and_drop_both_panic_with_a_panicking_payload_is_one_panicked_task() {
    with_deadline(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let outcome = block_on_catching(&rt, async {
            let dropped_in_poll = PanicsOnDropWithAPanickingPayload;
            let error = eddy::spawn(PanicsInPollThenInDrop {
                _bomb: dropped_in_poll,
            })
            .await
            .expect_err("the task panicked");
            assert_eq!(
                panic_message(&*error.into_panic()),
                "the poll panics on purpose"
            );
            Handle::current().metrics().tasks_alive
        });
        // Before the fix the drop's payload was dropped outside any
        // `catch_unwind`: its own panic unwound out of `block_on`, and the
        // task, its future gone, stayed in the slab unfinished until the
        // runtime was dropped.
        assert_eq!(outcome.ok(), Some(0), "a panic escaped block_on");
    });
}

#[test]
fn outputs_whose_drop_panics_with_a_panicking_payload_go_nowhere() {
    with_deadline(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let outcome = block_on_catching(&rt, async {
            // Detached: the output is dropped as the task completes.
            drop(eddy::spawn(async {
                yield_now().await;
                PanicsOnDropWithAPanickingPayload
            }));
            // The future's drop panics after it returned the output,
            // which is dropped unread.
            let error = eddy::spawn(ReadyThenPanicsTwiceWithPanickingPayloads(None))
                .await
                .expect_err("the future's drop panicked");
            let payload = error.into_panic();
            assert!(payload.is::<PayloadThatPanicsOnDrop>());
            // Dropping it here would panic, in this test's own code.
            std::mem::forget(payload);
            // Finished, then the handle is dropped unread.
            let finished = eddy::spawn(async { PanicsOnDropWithAPanickingPayload });
            assert!(yield_until(|| finished.is_finished(), 1_000).await);
            drop(finished);
            for _ in 0..3 {
                yield_now().await;
            }
            Handle::current().metrics().tasks_alive
        });
        // Before the fix, each of the three panicked out of `block_on` (the
        // first two) or out of `JoinHandle::drop` (the third): the output's
        // panic was caught, but its payload was dropped outside the catch.
        assert_eq!(outcome.ok(), Some(0), "a panic escaped");
    });
}

#[test]
fn a_panic_message_formatted_at_run_time_shows_in_the_join_error() {
    run_bounded(LIMIT, || async {
        // Formatted from a value known only at run time, the payload is a
        // `String`; `panic!("boom {}", 42)` is folded into a `&'static str`.
        let code = std::hint::black_box(42);
        let handle: JoinHandle<()> = eddy::spawn(async move { panic!("boom {code}") });
        let error = handle.await.expect_err("the task panicked");
        assert_eq!(error.to_string(), "task panicked: boom 42");
    });
}
