//! The executor end to end: spawning and joining, `!Send` tasks, abort,
//! panic capture, detaching, cross-thread spawns and wakes, fairness,
//! metrics, misuse that must panic clearly, and a seeded random stress test.
//!
//! Every test runs under `with_deadline`, so a runtime that hangs fails the
//! test instead of stalling CI. No test asserts how long anything took: the
//! machine is shared and noisy. Loops that wait for something bound their
//! iterations and then fail with a message.
//!
//! Timers have their own file (`time.rs`, which also proves that `yield_now`
//! in a loop does not starve a timer); shutdown is in `shutdown.rs` and the
//! blocking pool in `blocking.rs`.

use std::cell::{Cell, RefCell};
use std::future::{Future, pending, poll_fn};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::task::Poll;
use std::thread;
use std::time::Duration;

use eddy::task::{JoinError, JoinHandle, yield_now};
use eddy::{Builder, Handle, Runtime};
use eddy_tests::{
    CountDrop, DropFlag, Signal, XorShift, panic_message, panicking_waker, run_bounded, spin_until,
    wake_self_once, with_deadline,
};

/// Generous hang detector for ordinary tests.
const LIMIT: Duration = Duration::from_secs(30);

/// Yields until `done()` holds, at most `max_yields` times. Returns whether
/// it held, so a broken runtime fails an assertion instead of spinning.
async fn yield_until(mut done: impl FnMut() -> bool, max_yields: u32) -> bool {
    for _ in 0..max_yields {
        if done() {
            return true;
        }
        yield_now().await;
    }
    done()
}

/// Polls `future` once and says whether it was ready, returning its output.
async fn poll_once<F: Future + Unpin>(future: &mut F) -> Option<F::Output> {
    poll_fn(|cx| match Pin::new(&mut *future).poll(cx) {
        Poll::Ready(output) => Poll::Ready(Some(output)),
        Poll::Pending => Poll::Ready(None),
    })
    .await
}

// ---------------------------------------------------------------------------
// Spawning and joining
// ---------------------------------------------------------------------------

#[test]
fn spawned_tasks_return_their_values_through_join_handles() {
    with_deadline(LIMIT, || {
        let values = eddy::run(async {
            let handles: Vec<JoinHandle<u64>> = (0..100u64)
                .map(|i| eddy::spawn(async move { i * i }))
                .collect();
            let mut values = Vec::new();
            for handle in handles {
                values.push(handle.await.unwrap());
            }
            values
        });
        assert_eq!(values, (0..100u64).map(|i| i * i).collect::<Vec<_>>());
    });
}

#[test]
fn a_task_can_spawn_and_join_tasks_of_its_own() {
    with_deadline(LIMIT, || {
        let answer = eddy::run(async {
            eddy::spawn(async {
                let inner = eddy::spawn(async {
                    let innermost = eddy::spawn(async { 40 });
                    innermost.await.unwrap() + 1
                });
                yield_now().await;
                inner.await.unwrap() + 1
            })
            .await
            .unwrap()
        });
        assert_eq!(answer, 42);
    });
}

#[test]
fn tasks_spawned_before_block_on_run_inside_it() {
    with_deadline(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let awaited_ran = Rc::new(Cell::new(false));
        let detached_ran = Rc::new(Cell::new(false));
        let awaited = rt.spawn({
            let ran = Rc::clone(&awaited_ran);
            async move {
                ran.set(true);
                7
            }
        });
        drop(rt.spawn({
            let ran = Rc::clone(&detached_ran);
            async move { ran.set(true) }
        }));
        assert!(!awaited_ran.get(), "a task must not run before block_on");
        assert!(!awaited.is_finished());
        assert_eq!(rt.block_on(awaited).unwrap(), 7);
        assert!(awaited_ran.get());
        // The detached one runs too, although block_on does not await it.
        let ran = rt.block_on(yield_until(|| detached_ran.get(), 1_000));
        assert!(ran, "a task spawned before block_on never ran");
    });
}

#[test]
fn non_send_futures_and_outputs_spawn_fine() {
    with_deadline(LIMIT, || {
        eddy::run(async {
            let log = Rc::new(RefCell::new(Vec::new()));
            let tasks: Vec<_> = (0..3)
                .map(|i| {
                    let log = Rc::clone(&log);
                    eddy::spawn(async move {
                        // The `Rc` is held across an await: the future is !Send.
                        log.borrow_mut().push(i);
                        yield_now().await;
                        log.borrow_mut().push(i + 10);
                        Rc::new(i) // and so is the output
                    })
                })
                .collect();
            let mut outputs = Vec::new();
            for task in tasks {
                outputs.push(*task.await.unwrap());
            }
            assert_eq!(outputs, [0, 1, 2]);
            let mut log = log.borrow().clone();
            log.sort_unstable();
            assert_eq!(log, [0, 1, 2, 10, 11, 12]);
        });
    });
}

#[test]
fn handle_current_reaches_the_running_runtime_and_only_inside_one() {
    with_deadline(LIMIT, || {
        assert!(Handle::try_current().is_none());
        let rt = Runtime::new().unwrap();
        let spawned_before = rt.handle().metrics().tasks_spawned;
        let value = rt.block_on(async {
            let handle = Handle::current();
            assert!(!handle.is_shutdown());
            // From a task too, and spawning through it lands on this runtime.
            let inside_task = eddy::spawn(async { Handle::try_current().is_some() });
            assert!(
                inside_task.await.unwrap(),
                "Handle::try_current inside a task"
            );
            handle.spawn(async { 5 }).await.unwrap()
        });
        assert_eq!(value, 5);
        assert_eq!(rt.handle().metrics().tasks_spawned, spawned_before + 2);
        assert!(Handle::try_current().is_none(), "block_on left its context");
    });
}

// ---------------------------------------------------------------------------
// Abort
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// Panics
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// Detaching
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// Other threads: Handle::spawn and wakes
// ---------------------------------------------------------------------------

#[test]
#[cfg_attr(miri, ignore = "Miri: too slow interpreted")]
fn handle_spawn_from_eight_threads_runs_all_eighty_thousand_tasks() {
    const THREADS: usize = 8;
    const PER_THREAD: usize = 10_000;
    const TOTAL: usize = THREADS * PER_THREAD;
    with_deadline(Duration::from_secs(120), || {
        let rt = Runtime::new().unwrap();
        let ran = Arc::new(AtomicUsize::new(0));
        let all_ran = Signal::new();
        // The spawners start together once the runtime is inside block_on.
        let start = Arc::new(Barrier::new(THREADS + 1));
        let spawners: Vec<_> = (0..THREADS)
            .map(|t| {
                let handle = rt.handle();
                let ran = Arc::clone(&ran);
                let all_ran = all_ran.clone();
                let start = Arc::clone(&start);
                thread::spawn(move || {
                    start.wait();
                    (0..PER_THREAD)
                        .map(|i| {
                            let ran = Arc::clone(&ran);
                            let all_ran = all_ran.clone();
                            handle.spawn(async move {
                                if ran.fetch_add(1, Ordering::SeqCst) + 1 == TOTAL {
                                    all_ran.set();
                                }
                                (t * PER_THREAD + i) as u64
                            })
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        rt.block_on(async {
            start.wait();
            // Nothing else to run: the runtime parks until remote spawns
            // wake it, over and over.
            all_ran.wait().await;
        });
        assert_eq!(ran.load(Ordering::SeqCst), TOTAL);
        let handles: Vec<JoinHandle<u64>> = spawners
            .into_iter()
            .flat_map(|spawner| spawner.join().unwrap())
            .collect();
        let sum = rt.block_on(async move {
            let mut sum = 0;
            for handle in handles {
                sum += handle.await.unwrap();
            }
            sum
        });
        assert_eq!(sum, (0..TOTAL as u64).sum::<u64>());
        let metrics = rt.handle().metrics();
        assert_eq!(metrics.tasks_spawned, TOTAL as u64);
        assert_eq!(metrics.tasks_alive, 0);
        assert!(metrics.remote_wakes >= TOTAL as u64, "{metrics:?}");
    });
}

/// On a thread outside the runtime: blocks until a task awaits `signal`
/// (its waker is stored), then naps long enough for the runtime to be
/// parked in epoll, so that what the caller does next is a remote wake of a
/// sleeping runtime.
fn wait_until_parked_on(signal: &Signal) {
    while !signal.has_waiter() {
        thread::sleep(Duration::from_millis(1));
    }
    thread::sleep(Duration::from_millis(2));
}

#[test]
fn a_parked_task_is_resumed_by_a_wake_from_another_thread() {
    with_deadline(LIMIT, || {
        let rt = Runtime::new().unwrap();
        for round in 0..20 {
            let signal = Signal::new();
            let task = rt.spawn({
                let signal = signal.clone();
                async move {
                    signal.wait().await;
                    round
                }
            });
            let waker_thread = {
                let signal = signal.clone();
                thread::spawn(move || {
                    wait_until_parked_on(&signal);
                    signal.set();
                })
            };
            assert_eq!(rt.block_on(task).unwrap(), round);
            waker_thread.join().unwrap();
        }
        assert!(rt.handle().metrics().remote_wakes >= 20);
    });
}

#[test]
fn the_block_on_future_is_resumed_by_a_wake_from_another_thread() {
    with_deadline(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let signal = Signal::new();
        let waker_thread = {
            let signal = signal.clone();
            thread::spawn(move || {
                wait_until_parked_on(&signal);
                signal.set();
            })
        };
        rt.block_on(signal.wait());
        waker_thread.join().unwrap();
    });
}

#[test]
fn handle_spawn_from_another_thread_wakes_a_parked_runtime() {
    with_deadline(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let handle = rt.handle();
        let signal = Signal::new();
        let spawner = {
            let signal = signal.clone();
            thread::spawn(move || {
                wait_until_parked_on(&signal);
                handle.spawn(async move {
                    signal.set();
                    "ran on the runtime"
                })
            })
        };
        rt.block_on(signal.wait());
        let task = spawner.join().unwrap();
        assert_eq!(rt.block_on(task).unwrap(), "ran on the runtime");
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri: too slow interpreted")]
fn a_task_woken_400000_times_from_four_threads_is_queued_and_polled_once() {
    const THREADS: usize = 4;
    const WAKES: usize = 100_000;
    with_deadline(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let polls = Rc::new(Cell::new(0u32));
        let (waker_tx, waker_rx) = mpsc::channel();
        let task = rt.spawn({
            let polls = Rc::clone(&polls);
            poll_fn(move |cx| {
                polls.set(polls.get() + 1);
                match polls.get() {
                    1 => {
                        waker_tx.send(cx.waker().clone()).unwrap();
                        Poll::Pending
                    }
                    _ => Poll::Ready(()),
                }
            })
        });
        rt.block_on(yield_now());
        let waker = waker_rx.recv().unwrap();
        let before = rt.handle().metrics().remote_wakes;
        // The storm hits while no `block_on` runs, so the task cannot be
        // polled in between: the first wake queues it, and every later one
        // must see it queued already.
        let storm: Vec<_> = (0..THREADS)
            .map(|_| {
                let waker = waker.clone();
                thread::spawn(move || {
                    for _ in 0..WAKES {
                        waker.wake_by_ref();
                    }
                })
            })
            .collect();
        storm.into_iter().for_each(|thread| thread.join().unwrap());
        let pushes = rt.handle().metrics().remote_wakes - before;
        assert_eq!(pushes, 1, "the task was queued {pushes} times");
        rt.block_on(task).unwrap();
        assert_eq!(polls.get(), 2, "polled again once, and only once");
    });
}

/// A future that, `times` times, has another thread wake it *during* its
/// own poll (the thread is joined before the poll returns `Pending`), so a
/// runtime that forgets a wake arriving mid-poll never polls it again.
async fn woken_mid_poll_from_another_thread(times: u32) -> u32 {
    let mut polls = 0;
    poll_fn(|cx| {
        polls += 1;
        if polls > times {
            return Poll::Ready(polls - 1);
        }
        let waker = cx.waker().clone();
        thread::spawn(move || waker.wake()).join().unwrap();
        Poll::Pending
    })
    .await
}

#[test]
fn a_wake_from_another_thread_during_a_poll_is_not_lost() {
    with_deadline(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let task = rt.spawn(woken_mid_poll_from_another_thread(100));
        assert_eq!(rt.block_on(task).unwrap(), 100);
        // The block_on future itself, too.
        assert_eq!(rt.block_on(woken_mid_poll_from_another_thread(100)), 100);
    });
}

#[test]
fn wakes_on_the_runtime_thread_never_go_through_the_remote_queue() {
    with_deadline(LIMIT, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let remote_before = Handle::current().metrics().remote_wakes;
            // A relay of tasks, each woken by the previous one on this thread.
            let signals: Vec<Signal> = (0..50).map(|_| Signal::new()).collect();
            let tasks: Vec<_> = signals
                .windows(2)
                .map(|pair| {
                    let (mine, next) = (pair[0].clone(), pair[1].clone());
                    eddy::spawn(async move {
                        mine.wait().await;
                        next.set();
                    })
                })
                .collect();
            yield_now().await; // every task parks
            signals[0].set();
            signals[49].wait().await;
            for task in tasks {
                task.await.unwrap();
            }
            // Handle::spawn on the runtime's own thread is a local spawn.
            Handle::current().spawn(async {}).await.unwrap();
            assert_eq!(Handle::current().metrics().remote_wakes, remote_before);
        });
    });
}

#[test]
fn a_join_handle_moved_to_another_task_wakes_its_new_owner() {
    with_deadline(LIMIT, || {
        eddy::run(async {
            let signal = Signal::new();
            let mut target = eddy::spawn({
                let signal = signal.clone();
                async move {
                    signal.wait().await;
                    "target done"
                }
            });
            // First polled (and its waker stored) by this task...
            assert!(poll_once(&mut target).await.is_none());
            // ...then awaited by another one, which must be the one woken.
            let new_owner = eddy::spawn(async move { target.await.unwrap() });
            yield_now().await;
            signal.set();
            assert_eq!(new_owner.await.unwrap(), "target done");
        });
    });
}

#[test]
fn tasks_on_two_runtimes_can_spawn_on_and_await_each_other() {
    const ROUND_TRIPS: u32 = 500;
    with_deadline(LIMIT, || {
        // Runtime B lives on its own thread until told to stop.
        let (b_handle_tx, b_handle_rx) = mpsc::channel();
        let stop_b = Signal::new();
        let b_thread = {
            let stop_b = stop_b.clone();
            thread::spawn(move || {
                let rt = Runtime::new().unwrap();
                b_handle_tx.send(rt.handle()).unwrap();
                rt.block_on(stop_b.wait());
                rt.handle().metrics().tasks_spawned
            })
        };
        let b = b_handle_rx.recv().unwrap();
        let total = eddy::run(async move {
            let a = Handle::current();
            let mut total = 0;
            for i in 0..ROUND_TRIPS {
                // A task on B that itself spawns back onto A and awaits it:
                // every await crosses threads in both directions.
                let a = a.clone();
                let on_b = b.spawn(async move { a.spawn(async move { i + 1 }).await.unwrap() * 2 });
                total += on_b.await.unwrap();
            }
            total
        });
        stop_b.set();
        assert_eq!(total, (1..=ROUND_TRIPS).map(|i| i * 2).sum::<u32>());
        assert_eq!(b_thread.join().unwrap(), u64::from(ROUND_TRIPS));
    });
}

#[test]
fn handles_join_handles_and_errors_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Handle>();
    send_sync::<JoinHandle<u32>>();
    send_sync::<JoinError>();
    send_sync::<eddy::Metrics>();
    with_deadline(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let parked = rt.spawn(pending::<()>());
        drop(rt);
        // The runtime is gone: the handle resolves cancelled, and the error
        // converts to an io::Error that keeps its message.
        let error = Runtime::new().unwrap().block_on(parked).unwrap_err();
        let io_error = std::io::Error::from(error);
        assert_eq!(io_error.kind(), std::io::ErrorKind::Other);
        assert_eq!(io_error.to_string(), "task was cancelled");
    });
}

// ---------------------------------------------------------------------------
// Fairness
// ---------------------------------------------------------------------------

/// Asserts that `order` alternates between its two ids from start to end.
fn assert_alternates(order: &[char]) {
    for (i, pair) in order.windows(2).enumerate() {
        assert_ne!(pair[0], pair[1], "not round-robin at {i}: {order:?}");
    }
}

/// Under each of a few event intervals, spawns two tasks that each record
/// their id and then await `step()`, `rounds` times, and asserts that both
/// ran every round and took turns from start to end.
fn assert_two_tasks_interleave<Fut>(rounds: usize, step: fn() -> Fut)
where
    Fut: Future<Output = ()> + 'static,
{
    for event_interval in [1, 2, 61] {
        let rt = Builder::new()
            .event_interval(event_interval)
            .build()
            .unwrap();
        let order = rt.block_on(async {
            let order = Rc::new(RefCell::new(Vec::new()));
            let stepper = |id: char| {
                let order = Rc::clone(&order);
                eddy::spawn(async move {
                    for _ in 0..rounds {
                        order.borrow_mut().push(id);
                        step().await;
                    }
                })
            };
            let (a, b) = (stepper('a'), stepper('b'));
            a.await.unwrap();
            b.await.unwrap();
            order.take()
        });
        assert_eq!(order.len(), 2 * rounds);
        assert_alternates(&order);
    }
}

#[test]
fn two_tasks_yielding_in_a_loop_interleave_round_robin() {
    with_deadline(LIMIT, || assert_two_tasks_interleave(100, yield_now));
}

#[test]
fn two_tasks_that_are_always_ready_interleave_round_robin() {
    // Each task wakes itself before returning Pending, so it is ready again
    // at once: the shape of a task whose socket never runs dry.
    with_deadline(LIMIT, || assert_two_tasks_interleave(300, wake_self_once));
}

#[test]
fn a_task_that_is_always_ready_does_not_starve_remote_wakes_or_timers() {
    // Bounded like the yield_now test above; the spinner wakes itself
    // directly (no yield_now), so only the event interval lets the driver,
    // the remote queue and the timers in.
    const GIVE_UP_AFTER: u64 = 2_000_000;
    with_deadline(Duration::from_secs(60), || {
        let rt = Runtime::new().unwrap();
        let spinner_stopped = rt.block_on(async {
            let stop = Rc::new(Cell::new(false));
            let spinner = eddy::spawn(spin_until(Rc::clone(&stop), GIVE_UP_AFTER, wake_self_once));
            let woken = Signal::new();
            let waiter = eddy::spawn({
                let woken = woken.clone();
                async move {
                    woken.wait().await;
                    eddy::time::sleep(Duration::from_millis(5)).await;
                    stop.set(true);
                }
            });
            let other_thread = thread::spawn(move || {
                thread::sleep(Duration::from_millis(5));
                woken.set();
            });
            waiter.await.unwrap();
            other_thread.join().unwrap();
            spinner.await.unwrap()
        });
        assert!(
            spinner_stopped,
            "the always-ready task starved the wake or the timer"
        );
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri: no datagram sockets")]
fn a_task_whose_socket_never_blocks_does_not_starve_another_sockets_readiness() {
    // Bounded: without the cooperative budget the sender never returns
    // `Pending` once it sends, so it would give up after this many sends.
    const GIVE_UP_AFTER: u64 = 1_000_000;
    with_deadline(Duration::from_secs(120), || {
        eddy::run(async {
            let receiver = eddy::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
            let receiver_addr = receiver.local_addr().unwrap();
            let stop = Rc::new(Cell::new(false));
            // Parked on its socket before the sender starts.
            let receiving = eddy::spawn({
                let stop = Rc::clone(&stop);
                async move {
                    let mut buf = [0u8; 8];
                    let (len, _) = receiver.recv_from(&mut buf).await.unwrap();
                    stop.set(true);
                    buf[..len].to_vec()
                }
            });
            // Never read: a full sink drops datagrams, so a send to it
            // always succeeds at once.
            let sink = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            let sink_addr = sink.local_addr().unwrap();
            let sender = eddy::spawn(async move {
                let socket = eddy::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
                let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
                let mut sends = 0u64;
                while !stop.get() && sends < GIVE_UP_AFTER {
                    let _ = socket.send_to(b"x", sink_addr).await;
                    sends += 1;
                    if sends == 1_000 {
                        // Well into the loop: from here on the receive
                        // needs a driver turn that only a yield of this
                        // task can let happen.
                        peer.send_to(b"ping", receiver_addr).unwrap();
                    }
                }
                sends
            });
            assert_eq!(receiving.await.unwrap(), b"ping");
            let sends = sender.await.unwrap();
            assert!(
                sends < GIVE_UP_AFTER,
                "the always-ready sender starved the other socket"
            );
        });
    });
}

/// `yield_now` resumes its task only after the runtime has polled the I/O
/// driver once more (as documented), so readiness the kernel already holds
/// is seen after a single yield. Woken at once instead, the task ran again
/// with no driver turn in between and still found the socket not ready.
#[test]
fn one_yield_now_lets_the_driver_deliver_readiness_the_kernel_already_has() {
    use std::io::Write;
    use std::os::fd::AsRawFd;
    with_deadline(LIMIT, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let listener = eddy::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let mut peer = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
            let (server, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 8];
            // Nothing sent yet: read readiness, if any, is cleared here.
            let before = server.try_read(&mut buf).expect_err("nothing was sent");
            assert_eq!(before.kind(), std::io::ErrorKind::WouldBlock);

            // Sent from a plain blocking socket, and waited for with poll(2)
            // outside eddy: the byte is in the kernel's receive queue, and
            // the runtime has not turned its driver since.
            peer.write_all(b"x").unwrap();
            let mut poll_fd = libc::pollfd {
                fd: server.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: `poll_fd` is one valid `pollfd`, the count passed is
            // 1, and its descriptor is the stream's, open for the call.
            let polled = unsafe { libc::poll(&mut poll_fd, 1, -1) };
            assert_eq!(polled, 1, "poll: {}", std::io::Error::last_os_error());

            yield_now().await;
            let n = server
                .try_read(&mut buf)
                .expect("one yield_now did not let the driver deliver the readable event");
            assert_eq!(&buf[..n], b"x");
        });
    });
}

#[test]
fn yield_now_in_a_loop_does_not_starve_wakes_and_spawns_from_other_threads() {
    // Bounded: if remote work starves, the spinner gives up after this many
    // yields and the assertion fails instead of the test hanging.
    const GIVE_UP_AFTER: u64 = 2_000_000;
    with_deadline(Duration::from_secs(60), || {
        let rt = Runtime::new().unwrap();
        let handle = rt.handle();
        let spinner_stopped = rt.block_on(async move {
            let stop = Rc::new(Cell::new(false));
            let spinner = eddy::spawn(spin_until(Rc::clone(&stop), GIVE_UP_AFTER, yield_now));
            let woken = Signal::new();
            let remotely_spawned_ran = Signal::new();
            let waiter = eddy::spawn({
                let woken = woken.clone();
                let remotely_spawned_ran = remotely_spawned_ran.clone();
                async move {
                    woken.wait().await;
                    remotely_spawned_ran.wait().await;
                    stop.set(true);
                }
            });
            let other_thread = thread::spawn(move || {
                thread::sleep(Duration::from_millis(10));
                woken.set();
                handle.spawn(async move { remotely_spawned_ran.set() })
            });
            waiter.await.unwrap();
            let spinner_stopped = spinner.await.unwrap();
            other_thread.join().unwrap().await.unwrap();
            spinner_stopped
        });
        assert!(
            spinner_stopped,
            "the spinning task starved the remote wake and spawn"
        );
    });
}

// ---------------------------------------------------------------------------
// Metrics, repeated block_on, misuse
// ---------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------
// Seeded random stress
// ---------------------------------------------------------------------------

/// What a stress task does before it returns its id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Ready,
    Yield(u32),
    Sleep(u64),
    Wait,
    Forever,
    Panic,
}

/// Per task id: how often its future was dropped and how often its body
/// ran to the end. Both must stay at most 1; dropped is exactly 1 once the
/// handle says finished.
struct Ledger {
    dropped: Vec<AtomicU32>,
    completed: Vec<AtomicU32>,
}

impl Ledger {
    fn new(ids: usize) -> Ledger {
        Ledger {
            dropped: (0..ids).map(|_| AtomicU32::new(0)).collect(),
            completed: (0..ids).map(|_| AtomicU32::new(0)).collect(),
        }
    }

    fn dropped(&self, id: usize) -> u32 {
        self.dropped[id].load(Ordering::SeqCst)
    }

    fn completed(&self, id: usize) -> u32 {
        self.completed[id].load(Ordering::SeqCst)
    }
}

/// Counts the drop of the future it is moved into (even one never polled).
struct DropCount {
    ledger: Arc<Ledger>,
    id: usize,
}

impl Drop for DropCount {
    fn drop(&mut self) {
        self.ledger.dropped[self.id].fetch_add(1, Ordering::SeqCst);
    }
}

/// The future of stress task `id`. `Send`, so it can be spawned remotely.
fn stress_task(
    id: usize,
    kind: Kind,
    ledger: Arc<Ledger>,
    signal: Signal,
) -> Pin<Box<dyn Future<Output = usize> + Send>> {
    let guard = DropCount {
        ledger: Arc::clone(&ledger),
        id,
    };
    Box::pin(async move {
        let _guard = guard;
        match kind {
            Kind::Ready => {}
            Kind::Yield(n) => {
                for _ in 0..n {
                    yield_now().await;
                }
            }
            Kind::Sleep(ms) => eddy::time::sleep(Duration::from_millis(ms)).await,
            Kind::Wait => signal.wait().await,
            Kind::Forever => pending::<()>().await,
            Kind::Panic => {
                yield_now().await;
                panic!("stress task {id} panics on purpose");
            }
        }
        ledger.completed[id].fetch_add(1, Ordering::SeqCst);
        id
    })
}

/// A task the stress test spawned and has not joined yet.
struct Tracked {
    id: usize,
    kind: Kind,
    handle: JoinHandle<usize>,
    signal: Signal,
    /// `abort` was called on the runtime thread while the task had not
    /// finished: it must end cancelled.
    aborted_while_pending: bool,
    /// The helper thread aborted it while the runtime ran: it may end
    /// either way, but exactly once.
    abort_raced: bool,
    /// Spawned through `Handle::spawn` on the helper thread.
    remote: bool,
}

/// What the helper thread does for the runtime thread, concurrently with it
/// unless a reply is awaited.
enum Command {
    /// `Handle::spawn` this future and send the handle back.
    Spawn(Pin<Box<dyn Future<Output = usize> + Send>>),
    /// Set this signal: a wake from another thread.
    Wake(Signal),
    /// Abort this task from the helper thread and send it back.
    Abort(Tracked),
    /// Drop this handle on the helper thread: the task is detached.
    Detach(Tracked),
}

/// The helper thread's side of the conversation.
fn helper_thread(
    handle: Handle,
    commands: mpsc::Receiver<Command>,
    spawned: mpsc::Sender<JoinHandle<usize>>,
    returned: mpsc::Sender<Tracked>,
) {
    for command in commands {
        match command {
            Command::Spawn(future) => spawned.send(handle.spawn(future)).unwrap(),
            Command::Wake(signal) => signal.set(),
            Command::Abort(task) => {
                task.handle.abort();
                returned.send(task).unwrap();
            }
            Command::Detach(task) => drop(task.handle),
        }
    }
}

/// The stress test's model of the runtime.
struct World {
    seed: u64,
    rng: XorShift,
    ledger: Arc<Ledger>,
    /// Handles the runtime thread holds.
    tracked: Vec<Tracked>,
    /// Tasks lent to the helper thread for an abort, not yet returned.
    lent: usize,
    /// Tasks whose handle the helper dropped, with their wake signal.
    detached: Vec<(usize, Signal)>,
    /// Ids handed out so far (= tasks spawned).
    next_id: usize,
    /// Per id: spawned through the helper thread.
    remote: Vec<bool>,
    /// Ids whose future was alive at the last check.
    unfinished: Vec<usize>,
    local_spawned: u64,
    /// Which ids were joined already: each must be joined exactly once.
    joined: Vec<bool>,
    commands: mpsc::Sender<Command>,
    spawned: mpsc::Receiver<JoinHandle<usize>>,
    returned: mpsc::Receiver<Tracked>,
}

impl World {
    fn random_kind(&mut self) -> Kind {
        match self.rng.below(100) {
            0..=19 => Kind::Ready,
            20..=44 => Kind::Yield(self.rng.below(4) as u32),
            45..=59 => Kind::Sleep(self.rng.below(3)),
            60..=79 => Kind::Wait,
            80..=97 => Kind::Forever,
            _ => Kind::Panic,
        }
    }

    fn spawn(&mut self, remote: bool) {
        let id = self.next_id;
        self.next_id += 1;
        self.remote.push(remote);
        self.unfinished.push(id);
        let kind = self.random_kind();
        let signal = Signal::new();
        let future = stress_task(id, kind, Arc::clone(&self.ledger), signal.clone());
        let handle = if remote {
            self.commands.send(Command::Spawn(future)).unwrap();
            self.spawned.recv().unwrap()
        } else {
            self.local_spawned += 1;
            eddy::spawn(future)
        };
        self.tracked.push(Tracked {
            id,
            kind,
            handle,
            signal,
            aborted_while_pending: false,
            abort_raced: false,
            remote,
        });
    }

    fn pick(&mut self) -> Option<usize> {
        if self.tracked.is_empty() {
            None
        } else {
            Some(self.rng.index(self.tracked.len()))
        }
    }

    fn take_back_returned(&mut self) {
        while let Ok(task) = self.returned.try_recv() {
            self.lent -= 1;
            self.tracked.push(task);
        }
    }

    async fn step(&mut self) {
        self.take_back_returned();
        match self.rng.below(100) {
            0..=27 => self.spawn(false),
            28..=37 => self.spawn(true),
            38..=47 => {
                if let Some(i) = self.pick() {
                    let task = &mut self.tracked[i];
                    task.aborted_while_pending |= !task.handle.is_finished();
                    task.handle.abort();
                }
            }
            48..=50 => {
                if let Some(i) = self.pick() {
                    let mut task = self.tracked.swap_remove(i);
                    task.abort_raced = true;
                    self.lent += 1;
                    self.commands.send(Command::Abort(task)).unwrap();
                }
            }
            51..=52 => {
                // Detach a task that can end by itself.
                if let Some(i) = self
                    .pick()
                    .filter(|&i| self.tracked[i].kind != Kind::Forever)
                {
                    let task = self.tracked.swap_remove(i);
                    assert!(!self.joined[task.id]);
                    self.joined[task.id] = true; // nobody will ever join it
                    self.detached.push((task.id, task.signal.clone()));
                    self.commands.send(Command::Detach(task)).unwrap();
                }
            }
            53..=63 => {
                if let Some(i) = self.pick() {
                    // Possibly a late wake of a finished task: harmless.
                    let signal = self.tracked[i].signal.clone();
                    if self.rng.below(2) == 0 {
                        signal.set();
                    } else {
                        self.commands.send(Command::Wake(signal)).unwrap();
                    }
                }
            }
            64..=75 => yield_now().await,
            76..=79 => eddy::time::sleep(Duration::from_millis(self.rng.below(3))).await,
            _ => {
                if let Some(i) = self
                    .pick()
                    .filter(|&i| self.tracked[i].handle.is_finished())
                {
                    let mut task = self.tracked.swap_remove(i);
                    let outcome = poll_once(&mut task.handle).await;
                    let outcome = outcome.expect("a finished handle must be ready at once");
                    self.check_outcome(&task, outcome, false);
                }
            }
        }
    }

    /// Checks one joined handle's outcome against what the task was told to
    /// do. `cancel_allowed`: the runtime shut down before the task finished.
    fn check_outcome(
        &mut self,
        task: &Tracked,
        outcome: Result<usize, JoinError>,
        cancel_allowed: bool,
    ) {
        let (seed, id) = (self.seed, task.id);
        assert!(!self.joined[id], "seed {seed:#x}: task {id} joined twice");
        self.joined[id] = true;
        let completed = self.ledger.completed(id);
        match outcome {
            Ok(value) => {
                assert_eq!(value, id, "seed {seed:#x}");
                assert!(
                    !task.aborted_while_pending,
                    "seed {seed:#x}: task {id} ({:?}) was aborted yet returned a value",
                    task.kind
                );
                assert_ne!(task.kind, Kind::Panic, "seed {seed:#x}: task {id}");
                assert_ne!(task.kind, Kind::Forever, "seed {seed:#x}: task {id}");
                assert_eq!(completed, 1, "seed {seed:#x}: task {id}");
            }
            Err(error) if error.is_cancelled() => {
                assert!(
                    task.aborted_while_pending || task.abort_raced || cancel_allowed,
                    "seed {seed:#x}: task {id} ({:?}, remote: {}) cancelled without abort",
                    task.kind,
                    task.remote
                );
                assert_eq!(completed, 0, "seed {seed:#x}: task {id}");
            }
            Err(error) => {
                assert_eq!(task.kind, Kind::Panic, "seed {seed:#x}: task {id}: {error}");
                let message = panic_message(&*error.into_panic());
                assert_eq!(message, format!("stress task {id} panics on purpose"));
                assert_eq!(completed, 0, "seed {seed:#x}: task {id}");
            }
        }
        assert_eq!(
            self.ledger.dropped(id),
            1,
            "seed {seed:#x}: task {id}'s future must be dropped exactly once"
        );
    }

    /// The invariants that hold between any two steps. Only tasks whose
    /// future was still alive at the last check are rescanned (the final
    /// check of the round covers every id), which keeps a step O(live tasks).
    fn check_invariants(&mut self, step: usize) {
        let seed = self.seed;
        let ledger = Arc::clone(&self.ledger);
        self.unfinished.retain(|&id| {
            let (dropped, completed) = (ledger.dropped(id), ledger.completed(id));
            assert!(
                dropped <= 1 && completed <= dropped,
                "seed {seed:#x} step {step}: task {id} dropped {dropped}, completed {completed}"
            );
            dropped == 0
        });
        for task in &self.tracked {
            assert_eq!(
                task.handle.is_finished(),
                ledger.dropped(task.id) == 1,
                "seed {seed:#x} step {step}: task {} ({:?}, remote: {}): \
                 finished must mean its future is gone, and only then",
                task.id,
                task.kind,
                task.remote
            );
        }
        // Every local task is in the slab until its future is gone; a
        // remote one only once the runtime adopted it.
        let metrics = Handle::current().metrics();
        let at_most = self.unfinished.len();
        let at_least = self
            .unfinished
            .iter()
            .filter(|&&id| !self.remote[id])
            .count();
        assert!(
            (at_least..=at_most).contains(&metrics.tasks_alive),
            "seed {seed:#x} step {step}: tasks_alive {} outside {at_least}..={at_most}",
            metrics.tasks_alive
        );
        assert!(
            (self.local_spawned..=self.next_id as u64).contains(&metrics.tasks_spawned),
            "seed {seed:#x} step {step}: tasks_spawned {} outside {}..={}",
            metrics.tasks_spawned,
            self.local_spawned,
            self.next_id
        );
    }

    /// Takes back every lent task, blocking for the helper.
    fn take_back_all_lent(&mut self) {
        while self.lent > 0 {
            let task = self.returned.recv().unwrap();
            self.lent -= 1;
            self.tracked.push(task);
        }
    }

    /// Lets every task end (abort the endless ones, wake the waiting ones)
    /// and joins them all.
    async fn finish(&mut self) {
        self.take_back_all_lent();
        for task in &mut self.tracked {
            match task.kind {
                Kind::Forever => {
                    task.aborted_while_pending |= !task.handle.is_finished();
                    task.handle.abort();
                }
                Kind::Wait => task.signal.set(),
                _ => {}
            }
        }
        for (_, signal) in &self.detached {
            signal.set();
        }
        while let Some(mut task) = self.tracked.pop() {
            let outcome = (&mut task.handle).await;
            self.check_outcome(&task, outcome, false);
        }
        // Detached tasks run to the end although nobody joins them.
        let ledger = Arc::clone(&self.ledger);
        let ids: Vec<usize> = self.detached.iter().map(|(id, _)| *id).collect();
        let all_ended = yield_until(|| ids.iter().all(|&id| ledger.dropped(id) == 1), 10_000);
        assert!(
            all_ended.await,
            "seed {:#x}: a detached task never ended",
            self.seed
        );
    }
}

/// One round of the stress test: `STEPS` random actions on a fresh runtime,
/// then either a clean finish or a drop with tasks still alive.
fn stress_round(seed: u64, drop_with_tasks_alive: bool) {
    const STEPS: usize = 4_000;
    let ledger = Arc::new(Ledger::new(STEPS));
    let rt = Runtime::new().unwrap();
    let (commands, command_rx) = mpsc::channel();
    let (spawned_tx, spawned) = mpsc::channel();
    let (returned_tx, returned) = mpsc::channel();
    let helper = {
        let handle = rt.handle();
        thread::spawn(move || helper_thread(handle, command_rx, spawned_tx, returned_tx))
    };
    let world = World {
        seed,
        rng: XorShift(seed),
        ledger: Arc::clone(&ledger),
        tracked: Vec::new(),
        lent: 0,
        detached: Vec::new(),
        next_id: 0,
        remote: Vec::new(),
        unfinished: Vec::new(),
        local_spawned: 0,
        joined: vec![false; STEPS],
        commands,
        spawned,
        returned,
    };
    let mut world = rt.block_on(async move {
        let mut world = world;
        for step in 0..STEPS {
            world.step().await;
            world.check_invariants(step);
        }
        if !drop_with_tasks_alive {
            world.finish().await;
        }
        world
    });
    let handle = rt.handle();
    if drop_with_tasks_alive {
        world.take_back_all_lent();
        let finished_before_drop: Vec<bool> = world
            .tracked
            .iter()
            .map(|t| t.handle.is_finished())
            .collect();
        drop(rt);
        // Late wakes from both threads, after the runtime is gone.
        for task in &world.tracked {
            task.signal.set();
            world
                .commands
                .send(Command::Wake(task.signal.clone()))
                .unwrap();
        }
        let mut tracked = std::mem::take(&mut world.tracked);
        for task in &tracked {
            assert!(
                task.handle.is_finished(),
                "seed {seed:#x}: task {}",
                task.id
            );
        }
        let fresh = Runtime::new().unwrap();
        let outcomes: Vec<_> = fresh.block_on(async {
            let mut outcomes = Vec::new();
            for task in &mut tracked {
                outcomes.push((&mut task.handle).await);
            }
            outcomes
        });
        for ((task, outcome), finished) in tracked.iter().zip(outcomes).zip(finished_before_drop) {
            world.check_outcome(task, outcome, !finished);
        }
    }
    let metrics = handle.metrics();
    assert_eq!(metrics.tasks_alive, 0, "seed {seed:#x}: {metrics:?}");
    assert_eq!(metrics.timers_live, 0, "seed {seed:#x}: {metrics:?}");
    assert!(
        world.joined[..world.next_id].iter().all(|&j| j),
        "seed {seed:#x}: a handle was never joined"
    );
    for id in 0..world.next_id {
        assert_eq!(ledger.dropped(id), 1, "seed {seed:#x}: task {id}");
    }
    if !drop_with_tasks_alive {
        assert_eq!(
            metrics.tasks_spawned, world.next_id as u64,
            "seed {seed:#x}"
        );
    }
    drop(world);
    helper.join().unwrap();
}

#[test]
#[cfg_attr(miri, ignore = "Miri: too slow interpreted")]
fn seeded_random_schedules_keep_every_task_invariant() {
    with_deadline(Duration::from_secs(120), || {
        let seeds = [
            0x9E37_79B9_7F4A_7C15,
            0xD1B5_4A32_D192_ED03,
            0x2545_F491_4F6C_DD1D,
            0x8CB9_2BA7_2F3D_8DD7,
            0x0123_4567_89AB_CDEF,
            0xFEDC_BA98_7654_3210,
            0x5851_F42D_4C95_7F2D,
            0x1405_7B7E_F767_814F,
        ];
        for (round, seed) in seeds.into_iter().enumerate() {
            stress_round(seed, round % 2 == 1);
        }
    });
}

#[test]
fn a_budget_spent_inside_block_on_does_not_leak_to_polls_outside_the_runtime() {
    with_deadline(LIMIT, || {
        let rt = Builder::new().budget(1).build().unwrap();
        // The last poll of the main future spends the whole budget.
        rt.block_on(eddy::time::sleep(Duration::ZERO));
        drop(rt);
        // Outside any runtime an elapsed sleep needs nothing: it is ready.
        let mut elapsed = eddy::time::sleep(Duration::ZERO);
        let poll = Pin::new(&mut elapsed)
            .poll(&mut std::task::Context::from_waker(std::task::Waker::noop()));
        assert!(
            poll.is_ready(),
            "a budget left at zero by the runtime starves polls outside it"
        );
    });
}

/// How often a task is polled while it completes 100 already-elapsed
/// sleeps (each spends a unit of budget), after `before` ran in its first
/// poll, on a runtime with a budget of 4.
fn polls_for_a_hundred_budgeted_steps_after(before: fn()) -> u64 {
    let rt = Builder::new().budget(4).build().unwrap();
    let polls = Rc::new(Cell::new(0));
    let task = rt.spawn(eddy_tests::count_polls(Rc::clone(&polls), async move {
        before();
        for _ in 0..100 {
            eddy::time::sleep(Duration::ZERO).await;
        }
    }));
    rt.block_on(task).unwrap();
    polls.get()
}

#[test]
fn a_task_that_drops_another_runtime_keeps_its_cooperative_budget() {
    with_deadline(LIMIT, || {
        let plain = polls_for_a_hundred_budgeted_steps_after(|| {});
        // Dropping a runtime enters it for the shutdown and leaves it
        // again; leaving once reset the budget to "unlimited", so the rest
        // of this poll could loop over an always-ready socket for ever and
        // starve every other task of the outer runtime.
        let after_drop = polls_for_a_hundred_budgeted_steps_after(|| drop(Runtime::new().unwrap()));
        assert_eq!(plain, 25, "100 steps at 4 per poll");
        assert_eq!(
            after_drop, plain,
            "the task stopped yielding after it dropped a runtime"
        );
    });
}

#[test]
#[should_panic(expected = "event_interval must be at least 1")]
fn a_zero_event_interval_is_refused() {
    let _ = Builder::new().event_interval(0);
}

#[test]
#[should_panic(expected = "budget must be at least 1")]
fn a_zero_budget_is_refused() {
    let _ = Builder::new().budget(0);
}

#[test]
fn every_builder_setting_yields_a_working_runtime() {
    with_deadline(LIMIT, || {
        let rt = Builder::new()
            .event_interval(1)
            .budget(1)
            .events_capacity(0)
            .max_blocking_threads(0)
            .thread_keep_alive(Duration::ZERO)
            .build()
            .unwrap();
        let value = rt.block_on(async {
            let task = eddy::spawn(async {
                yield_now().await;
                eddy::time::sleep(Duration::from_millis(1)).await;
                eddy::task::spawn_blocking(|| 6).await.unwrap()
            });
            task.await.unwrap() * 7
        });
        assert_eq!(value, 42);
    });
}

#[test]
fn an_event_interval_of_one_with_a_busy_block_on_future_still_runs_spawned_tasks() {
    with_deadline(LIMIT, || {
        let rt = Builder::new().event_interval(1).build().unwrap();
        let ran = rt.block_on(async {
            let done = Rc::new(Cell::new(false));
            let task = eddy::spawn({
                let done = done.clone();
                async move { done.set(true) }
            });
            // The main future's own poll fills the interval of 1 before
            // every tick: the task must still get its turn.
            let ran = spin_until(done, 100_000, wake_self_once).await;
            task.await.unwrap();
            ran
        });
        assert!(
            ran,
            "the spawned task never ran beside a busy block_on future"
        );
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri: no datagram sockets")]
fn an_events_capacity_too_large_for_the_os_still_builds_a_runtime_that_turns() {
    // `usize::MAX` cannot be allocated; 178,956,971 events can (lazily),
    // but `epoll_wait` refuses more than INT_MAX / 12 with EINVAL. Either
    // must give a runtime whose driver turns: a sleep needs a blocking turn,
    // a datagram a turn that reports an event.
    for capacity in [usize::MAX, 178_956_971] {
        with_deadline(LIMIT, move || {
            let rt = Builder::new()
                .events_capacity(capacity)
                .build()
                .expect("an odd events_capacity must still build a runtime");
            let echoed = rt.block_on(async {
                eddy::time::sleep(Duration::from_millis(1)).await;
                let (a, b) = eddy::net::UnixDatagram::pair().expect("pair");
                a.send(b"turn").await.expect("send");
                let mut buf = [0u8; 8];
                let n = b.recv(&mut buf).await.expect("recv");
                buf[..n].to_vec()
            });
            assert_eq!(echoed, b"turn", "capacity {capacity}");
        });
    }
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
fn yield_now_outside_a_runtime_wakes_at_once() {
    struct CountWakes(AtomicUsize);
    impl std::task::Wake for CountWakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let wakes = Arc::new(CountWakes(AtomicUsize::new(0)));
    let waker = std::task::Waker::from(Arc::clone(&wakes));
    let mut cx = std::task::Context::from_waker(&waker);
    let mut yielding = std::pin::pin!(yield_now());
    assert!(yielding.as_mut().poll(&mut cx).is_pending());
    assert_eq!(wakes.0.load(Ordering::SeqCst), 1, "woken before returning");
    assert!(yielding.as_mut().poll(&mut cx).is_ready());
}

#[test]
#[should_panic(expected = "JoinHandle polled after it completed")]
fn polling_a_join_handle_again_after_it_completed_panics() {
    with_deadline(LIMIT, || {
        eddy::run(async {
            let mut task = eddy::spawn(async { 1 });
            assert_eq!((&mut task).await.unwrap(), 1);
            let _ = poll_once(&mut task).await;
        });
    });
}

#[test]
fn a_block_on_future_that_keeps_waking_itself_does_not_starve_timers() {
    with_deadline(LIMIT, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let sleeper = eddy::spawn(eddy::time::sleep(Duration::from_millis(10)));
            // The main future is always ready again at once; the driver must
            // still turn every event_interval polls so the timer fires.
            while !sleeper.is_finished() {
                wake_self_once().await;
            }
        });
    });
}

/// A task that yields is resumed after the next driver turn, and the
/// runtime turns the driver at once for it even while the `block_on`
/// future keeps waking itself. Waiting for the event interval instead,
/// the yielder sat behind the busy future for up to `event_interval`
/// polls of it: with `event_interval(u32::MAX)`, for good.
#[test]
fn a_yielding_task_resumes_within_a_round_beside_a_busy_block_on_future() {
    // Polls of the busy future after which the test gives up: far more
    // than the round or two the yielder needs, far fewer than the interval.
    const GIVE_UP_AFTER: u32 = 1000;
    with_deadline(LIMIT, || {
        let rt = Builder::new().event_interval(u32::MAX).build().unwrap();
        rt.block_on(async {
            let resumed = Rc::new(Cell::new(false));
            let yielder = eddy::spawn({
                let resumed = Rc::clone(&resumed);
                async move {
                    yield_now().await;
                    resumed.set(true);
                }
            });
            let mut polls = 0;
            while !resumed.get() && polls < GIVE_UP_AFTER {
                polls += 1;
                wake_self_once().await;
            }
            assert!(
                resumed.get(),
                "the yielding task was not resumed in {polls} polls of the block_on future"
            );
            yielder.await.unwrap();
        });
    });
}

#[test]
fn a_task_ping_ponging_with_the_block_on_future_does_not_starve_timers() {
    with_deadline(LIMIT, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let sleeper = eddy::spawn(eddy::time::sleep(Duration::from_millis(10)));
            // A task that wakes itself forever, alongside a main future that
            // does the same: neither yields to the driver on its own.
            let spinner = eddy::spawn(async {
                loop {
                    wake_self_once().await;
                }
            });
            while !sleeper.is_finished() {
                wake_self_once().await;
            }
            spinner.abort();
        });
    });
}

#[test]
fn a_handle_whose_output_was_taken_still_reports_its_task_finished() {
    run_bounded(LIMIT, || async {
        let mut handle = eddy::spawn(async { 7 });
        // Awaited by reference: the handle outlives taking the output.
        assert_eq!((&mut handle).await.expect("the task ran"), 7);
        assert!(
            handle.is_finished(),
            "the task finished, but its handle forgot once the output was read"
        );
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
