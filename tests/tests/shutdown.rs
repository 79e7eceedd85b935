//! Dropping a runtime: it returns with tasks pending, parked, queued,
//! sleeping or never polled; it drops every future exactly once, inside the
//! runtime's context; `Drop` impls that spawn, wake, abort or panic during
//! shutdown neither hang nor stop it; and everything that outlives the
//! runtime (handles, wakers, join handles) stays harmless. The metrics prove
//! nothing leaks.
//!
//! Every test runs under `with_deadline`: a shutdown that hangs fails the
//! test. No test asserts how long anything took.

use std::cell::{Cell, RefCell};
use std::future::{Future, pending, poll_fn};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::task::{Poll, Waker};
use std::thread;
use std::time::Duration;

use eddy::task::{JoinHandle, yield_now};
use eddy::{Handle, Metrics, Runtime};
use eddy_tests::child_process::{assert_child_succeeded, child_role, run_child};
use eddy_tests::{
    CountDrop, DropFlag, Signal, panic_message, panicking_waker, wake_self_once, with_deadline,
};

const LIMIT: Duration = Duration::from_secs(30);

/// Asserts the snapshot of a runtime that shut down cleanly.
fn assert_nothing_left(metrics: Metrics) {
    assert_eq!(metrics.tasks_alive, 0, "{metrics:?}");
    assert_eq!(metrics.registrations_live, 0, "{metrics:?}");
    assert_eq!(metrics.registrations_pending_release, 0, "{metrics:?}");
    assert_eq!(metrics.timers_live, 0, "{metrics:?}");
}

/// Awaits every handle on a fresh runtime and asserts each was cancelled.
fn assert_all_cancelled<T: 'static>(handles: Vec<JoinHandle<T>>) {
    let fresh = Runtime::new().unwrap();
    fresh.block_on(async {
        for (i, handle) in handles.into_iter().enumerate() {
            assert!(handle.is_finished(), "handle {i} unfinished after shutdown");
            let error = handle.await.err().expect("no value after shutdown");
            assert!(error.is_cancelled(), "handle {i}: {error:?}");
        }
    });
}

#[test]
fn dropping_the_runtime_with_pending_parked_and_sleeping_tasks_returns_and_leaks_nothing() {
    with_deadline(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let handle = rt.handle();
        let drops = Arc::new(AtomicUsize::new(0));
        let guard = || CountDrop(Arc::clone(&drops));
        let mut handles: Vec<JoinHandle<()>> = Vec::new();
        // Parked forever on a future nobody will ever wake.
        for _ in 0..10 {
            let guard = guard();
            handles.push(rt.spawn(async move {
                let _guard = guard;
                pending::<()>().await;
            }));
        }
        // Waiting on timers an hour away, directly and through `timeout`.
        for i in 0..10 {
            let guard = guard();
            handles.push(rt.spawn(async move {
                let _guard = guard;
                eddy::time::sleep(Duration::from_secs(3600 + i)).await;
            }));
        }
        let guard_for_timeout = guard();
        handles.push(rt.spawn(async move {
            let _guard = guard_for_timeout;
            let _ = eddy::time::timeout(Duration::from_secs(3600), pending::<()>()).await;
        }));
        // Waiting on another task's JoinHandle.
        let parked_for_join = guard();
        let awaited = rt.spawn(async move {
            let _guard = parked_for_join;
            pending::<()>().await;
        });
        let guard_for_join = guard();
        handles.push(rt.spawn(async move {
            let _guard = guard_for_join;
            let _ = awaited.await;
        }));
        // Always ready (sits in the run queue) and yielding (sits in the
        // deferred list) when block_on returns.
        let busy = guard();
        handles.push(rt.spawn(async move {
            let _guard = busy;
            loop {
                poll_fn(|cx| {
                    cx.waker().wake_by_ref();
                    Poll::Ready(())
                })
                .await;
                wake_self_once().await;
            }
        }));
        let yielder = guard();
        handles.push(rt.spawn(async move {
            let _guard = yielder;
            loop {
                yield_now().await;
            }
        }));
        rt.block_on(async {
            for _ in 0..3 {
                yield_now().await;
            }
        });
        let parked = handle.metrics();
        assert_eq!(parked.tasks_alive, 25, "{parked:?}");
        assert_eq!(parked.timers_live, 11, "{parked:?}");
        // Spawned after the last block_on: never polled.
        for _ in 0..5 {
            let guard = guard();
            handles.push(rt.spawn(async move {
                let _guard = guard;
            }));
        }
        // Spawned from another thread: still in the remote queue.
        let remote_guard = guard();
        let remote = {
            let handle = rt.handle();
            thread::spawn(move || {
                handle.spawn(async move {
                    let _guard = remote_guard;
                })
            })
            .join()
            .unwrap()
        };
        handles.push(remote);

        let futures = handles.len() + 1; // and the awaited one
        assert_eq!(drops.load(Ordering::SeqCst), 0);

        drop(rt);

        assert_eq!(
            drops.load(Ordering::SeqCst),
            futures,
            "every future dropped once"
        );
        assert!(handle.is_shutdown());
        assert_nothing_left(handle.metrics());
        assert_all_cancelled(handles);
    });
}

#[test]
fn dropping_a_runtime_that_never_ran_cancels_its_tasks() {
    with_deadline(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let handle = rt.handle();
        let ran = Rc::new(Cell::new(false));
        let task = rt.spawn({
            let ran = Rc::clone(&ran);
            async move { ran.set(true) }
        });
        drop(rt);
        assert!(!ran.get());
        assert_nothing_left(handle.metrics());
        assert_all_cancelled(vec![task]);
    });
}

#[test]
fn shutdown_drops_task_futures_inside_the_runtime_context() {
    struct SeesRuntime(Rc<Cell<Option<bool>>>);
    impl Drop for SeesRuntime {
        fn drop(&mut self) {
            self.0.set(Some(Handle::try_current().is_some()));
        }
    }
    with_deadline(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let saw_runtime = Rc::new(Cell::new(None));
        let guard = SeesRuntime(Rc::clone(&saw_runtime));
        drop(rt.spawn(async move {
            let _guard = guard;
            pending::<()>().await;
        }));
        rt.block_on(yield_now());
        drop(rt);
        assert_eq!(saw_runtime.get(), Some(true));
        assert!(Handle::try_current().is_none(), "shutdown left its context");
    });
}

#[test]
fn a_task_that_spawns_from_its_drop_during_shutdown_neither_hangs_nor_panics() {
    /// On drop, spawns three ways and keeps the handles; the spawned futures
    /// carry a `SpawnOnDrop` of their own, `depth` levels deep.
    struct SpawnOnDrop {
        depth: u32,
        spawned: Rc<RefCell<Vec<JoinHandle<()>>>>,
        blocking: Rc<RefCell<Vec<JoinHandle<u32>>>>,
        ran: Rc<Cell<u32>>,
    }
    impl SpawnOnDrop {
        fn child(&self) -> Option<SpawnOnDrop> {
            (self.depth > 0).then(|| SpawnOnDrop {
                depth: self.depth - 1,
                spawned: Rc::clone(&self.spawned),
                blocking: Rc::clone(&self.blocking),
                ran: Rc::clone(&self.ran),
            })
        }
    }
    impl Drop for SpawnOnDrop {
        fn drop(&mut self) {
            let child = self.child();
            let ran = Rc::clone(&self.ran);
            let local = eddy::spawn(async move {
                let _child = child;
                ran.set(ran.get() + 1);
            });
            let via_current = Handle::current().spawn(async {});
            self.spawned.borrow_mut().extend([local, via_current]);
            self.blocking
                .borrow_mut()
                .push(eddy::task::spawn_blocking(|| 7));
        }
    }
    with_deadline(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let handle = rt.handle();
        let spawned = Rc::default();
        let blocking = Rc::default();
        let ran = Rc::new(Cell::new(0));
        let guard = SpawnOnDrop {
            depth: 3,
            spawned: Rc::clone(&spawned),
            blocking: Rc::clone(&blocking),
            ran: Rc::clone(&ran),
        };
        drop(rt.spawn(async move {
            let _guard = guard;
            pending::<()>().await;
        }));
        rt.block_on(yield_now());
        drop(rt);

        assert_eq!(ran.get(), 0, "no task spawned during shutdown may run");
        let spawned = spawned.take();
        assert_eq!(spawned.len(), 8, "four drops, two spawns each");
        assert!(handle.is_shutdown());
        assert_nothing_left(handle.metrics());
        assert_all_cancelled(spawned);
        // A blocking job queued during shutdown either ran or was refused;
        // either way its handle resolves.
        let fresh = Runtime::new().unwrap();
        fresh.block_on(async {
            for job in blocking.take() {
                match job.await {
                    Ok(value) => assert_eq!(value, 7),
                    Err(error) => assert!(error.is_cancelled(), "{error:?}"),
                }
            }
        });
    });
}

#[test]
fn drops_that_wake_or_abort_other_tasks_during_shutdown_are_harmless() {
    struct WakeAndAbort {
        wake: Signal,
        abort: Option<JoinHandle<()>>,
    }
    impl Drop for WakeAndAbort {
        fn drop(&mut self) {
            self.wake.set();
            if let Some(other) = &self.abort {
                other.abort();
            }
        }
    }
    with_deadline(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let handle = rt.handle();
        let drops = Arc::new(AtomicUsize::new(0));
        let signals: Vec<Signal> = (0..20).map(|_| Signal::new()).collect();
        let mut previous: Option<JoinHandle<()>> = None;
        for i in 0..20 {
            let counted = CountDrop(Arc::clone(&drops));
            // Each task waits on its own signal; its drop sets the next
            // task's signal (a wake) and aborts the previous task.
            let waker = WakeAndAbort {
                wake: signals[(i + 1) % signals.len()].clone(),
                abort: previous.take(),
            };
            let signal = signals[i].clone();
            previous = Some(rt.spawn(async move {
                let _counted = counted;
                let _waker = waker;
                signal.wait().await;
                pending::<()>().await;
            }));
        }
        let last = previous.take().unwrap();
        rt.block_on(yield_now());
        drop(rt);
        assert_eq!(drops.load(Ordering::SeqCst), 20);
        assert_nothing_left(handle.metrics());
        assert_all_cancelled(vec![last]);
        // Late sets of the signals the dead tasks waited on: harmless.
        for signal in signals {
            signal.set();
        }
    });
}

#[test]
fn a_task_whose_drop_panics_during_shutdown_does_not_stop_the_shutdown() {
    struct PanicOnDrop(u32);
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            panic!("drop {} panics on purpose", self.0);
        }
    }
    with_deadline(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let handle = rt.handle();
        let drops = Arc::new(AtomicUsize::new(0));
        let mut panicky = Vec::new();
        let mut calm = Vec::new();
        for i in 0..6 {
            let counted = CountDrop(Arc::clone(&drops));
            if i % 2 == 0 {
                let bomb = PanicOnDrop(i);
                panicky.push(rt.spawn(async move {
                    let _counted = counted;
                    let _bomb = bomb;
                    pending::<()>().await;
                }));
            } else {
                calm.push(rt.spawn(async move {
                    let _counted = counted;
                    eddy::time::sleep(Duration::from_secs(3600)).await;
                }));
            }
        }
        rt.block_on(yield_now());
        drop(rt); // must return, not unwind

        assert_eq!(drops.load(Ordering::SeqCst), 6, "every future was dropped");
        assert_nothing_left(handle.metrics());
        assert_all_cancelled(calm);
        let fresh = Runtime::new().unwrap();
        let messages: Vec<String> = fresh.block_on(async {
            let mut messages = Vec::new();
            for task in panicky {
                let error = task.await.unwrap_err();
                assert!(error.is_panic(), "{error:?}");
                messages.push(panic_message(&*error.into_panic()));
            }
            messages
        });
        assert_eq!(
            messages,
            [
                "drop 0 panics on purpose",
                "drop 2 panics on purpose",
                "drop 4 panics on purpose"
            ]
        );
    });
}

#[test]
fn wakers_that_outlive_the_runtime_are_harmless() {
    with_deadline(LIMIT, || {
        let stash: Arc<Mutex<Option<Waker>>> = Arc::default();
        let rt = Runtime::new().unwrap();
        let handle = rt.handle();
        let task = rt.spawn({
            let stash = Arc::clone(&stash);
            poll_fn(move |cx| {
                *stash.lock().unwrap() = Some(cx.waker().clone());
                Poll::<()>::Pending
            })
        });
        // The block_on future's own waker escapes too.
        let main_waker = rt.block_on(async {
            yield_now().await;
            poll_fn(|cx| Poll::Ready(cx.waker().clone())).await
        });
        let waker = stash.lock().unwrap().take().expect("the task ran");
        drop(rt);

        // From this thread, outside any runtime.
        waker.wake_by_ref();
        main_waker.wake_by_ref();
        // From other threads, including the very last drop of the waker.
        let (waker_for_thread, main_for_thread) = (waker.clone(), main_waker.clone());
        thread::spawn(move || {
            waker_for_thread.wake_by_ref();
            waker_for_thread.wake();
            main_for_thread.wake();
        })
        .join()
        .unwrap();
        // From inside another runtime on this thread: the dead task must not
        // land in it.
        let other = Runtime::new().unwrap();
        other.block_on(async {
            waker.wake_by_ref();
            main_waker.wake_by_ref();
            yield_now().await;
            assert_eq!(Handle::current().metrics().tasks_alive, 0);
            assert_eq!(Handle::current().metrics().polls, 0);
        });
        assert!(other.block_on(task).unwrap_err().is_cancelled());
        thread::spawn(move || drop((waker, main_waker)))
            .join()
            .unwrap();
        assert_nothing_left(handle.metrics());
    });
}

#[test]
fn waking_a_finished_task_does_not_poll_it_again() {
    with_deadline(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let stash: Arc<Mutex<Option<Waker>>> = Arc::default();
        let task = rt.spawn({
            let stash = Arc::clone(&stash);
            async move {
                poll_fn(|cx| {
                    *stash.lock().unwrap() = Some(cx.waker().clone());
                    Poll::Ready(())
                })
                .await;
                "done"
            }
        });
        assert_eq!(rt.block_on(task).unwrap(), "done");
        let waker = stash.lock().unwrap().take().unwrap();
        let polls = rt.handle().metrics().polls;
        rt.block_on(async {
            waker.wake_by_ref();
            let other_thread = waker.clone();
            thread::spawn(move || other_thread.wake()).join().unwrap();
            for _ in 0..3 {
                yield_now().await;
            }
        });
        assert_eq!(
            rt.handle().metrics().polls,
            polls,
            "a finished task ran again"
        );
        assert_eq!(rt.handle().metrics().tasks_alive, 0);
    });
}

#[test]
fn handle_spawn_after_the_runtime_is_dropped_resolves_to_cancelled() {
    with_deadline(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let handle = rt.handle();
        drop(rt);
        let ran = Arc::new(AtomicBool::new(false));
        let drops = Arc::new(AtomicUsize::new(0));
        let spawn_one = |handle: &Handle| {
            let ran = Arc::clone(&ran);
            let guard = CountDrop(Arc::clone(&drops));
            handle.spawn(async move {
                let _guard = guard;
                ran.store(true, Ordering::SeqCst);
            })
        };
        let here = spawn_one(&handle);
        let there = thread::scope(|scope| scope.spawn(|| spawn_one(&handle)).join().unwrap());
        assert!(here.is_finished() && there.is_finished());
        assert_eq!(
            drops.load(Ordering::SeqCst),
            2,
            "refused futures are dropped"
        );
        assert_all_cancelled(vec![here, there]);
        assert!(!ran.load(Ordering::SeqCst));
        assert_nothing_left(handle.metrics());
    });
}

#[test]
fn a_join_handle_awaited_on_another_runtime_resolves_when_its_runtime_drops() {
    with_deadline(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let parked = rt.handle().spawn(pending::<()>());
        rt.block_on(yield_now());
        let awaiting = Signal::new();
        let waiter = {
            let awaiting = awaiting.clone();
            thread::spawn(move || {
                // A second runtime on another thread parks on the handle.
                eddy::run(async move {
                    let mut parked = parked;
                    let first = poll_fn(|cx| {
                        Poll::Ready(std::pin::Pin::new(&mut parked).poll(cx).is_pending())
                    })
                    .await;
                    assert!(first, "the task is parked forever");
                    awaiting.set();
                    parked.await
                })
            })
        };
        while !awaiting.is_set() {
            thread::sleep(Duration::from_millis(1));
        }
        drop(rt);
        let outcome = waiter.join().unwrap();
        assert!(outcome.unwrap_err().is_cancelled());
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri: too slow interpreted")]
fn dropping_the_runtime_while_other_threads_keep_spawning_drops_every_future_once() {
    const THREADS: usize = 4;
    const MAX_PER_THREAD: usize = 200_000;
    with_deadline(Duration::from_secs(60), || {
        let rt = Runtime::new().unwrap();
        let handle = rt.handle();
        let created = Arc::new(AtomicUsize::new(0));
        let drops = Arc::new(AtomicUsize::new(0));
        let start = Arc::new(Barrier::new(THREADS + 1));
        let spawners: Vec<_> = (0..THREADS)
            .map(|_| {
                let (handle, created, drops, start) = (
                    rt.handle(),
                    Arc::clone(&created),
                    Arc::clone(&drops),
                    Arc::clone(&start),
                );
                thread::spawn(move || {
                    let mut handles = Vec::new();
                    start.wait();
                    // Keep spawning until a spawn lands after the shutdown.
                    while handles.len() < MAX_PER_THREAD {
                        let shut_down_before = handle.is_shutdown();
                        created.fetch_add(1, Ordering::SeqCst);
                        let guard = CountDrop(Arc::clone(&drops));
                        handles.push(handle.spawn(async move {
                            let _guard = guard;
                            yield_now().await;
                            1u8
                        }));
                        if shut_down_before {
                            break;
                        }
                    }
                    handles
                })
            })
            .collect();
        rt.block_on(async {
            start.wait();
            for _ in 0..100 {
                yield_now().await;
            }
        });
        drop(rt);
        let handles: Vec<_> = spawners
            .into_iter()
            .flat_map(|spawner| spawner.join().unwrap())
            .collect();
        assert_eq!(handles.len(), created.load(Ordering::SeqCst));
        assert_eq!(
            drops.load(Ordering::SeqCst),
            handles.len(),
            "every future, run, cancelled or refused, is dropped exactly once"
        );
        assert_nothing_left(handle.metrics());
        let fresh = Runtime::new().unwrap();
        let (mut finished, mut cancelled) = (0, 0);
        fresh.block_on(async {
            for task in handles {
                assert!(task.is_finished());
                match task.await {
                    Ok(value) => {
                        assert_eq!(value, 1);
                        finished += 1;
                    }
                    Err(error) => {
                        assert!(error.is_cancelled(), "{error:?}");
                        cancelled += 1;
                    }
                }
            }
        });
        assert!(cancelled >= THREADS, "each thread's last spawn was refused");
        assert_eq!(finished + cancelled, created.load(Ordering::SeqCst));
    });
}

#[test]
fn dropping_a_runtime_inside_another_runtimes_task_restores_the_outer_context() {
    with_deadline(LIMIT, || {
        eddy::run(async {
            let outer = Handle::current().metrics().tasks_spawned;
            let inner = Runtime::new().unwrap();
            let inner_handle = inner.handle();
            let dropped = Rc::new(Cell::new(false));
            let flag = DropFlag(Rc::clone(&dropped));
            // Never polled: the inner runtime never runs.
            let parked = inner.spawn(async move {
                let _flag = flag;
                pending::<()>().await;
            });
            eddy::spawn(async move { drop(inner) }).await.unwrap();
            assert!(dropped.get());
            assert!(inner_handle.is_shutdown());
            assert!(parked.is_finished());
            // This runtime is still the current one and still works.
            assert_eq!(eddy::spawn(async { 3 }).await.unwrap(), 3);
            assert_eq!(Handle::current().metrics().tasks_spawned, outer + 2);
        });
    });
}

#[test]
fn a_runtime_dropped_at_thread_exit_shuts_down_cleanly() {
    thread_local! {
        static KEPT: RefCell<Option<(Runtime, Vec<JoinHandle<()>>)>> = const { RefCell::new(None) };
    }
    with_deadline(LIMIT, || {
        let drops = Arc::new(AtomicUsize::new(0));
        let handle = {
            let drops = Arc::clone(&drops);
            thread::spawn(move || {
                let rt = Runtime::new().unwrap();
                let mut handles = Vec::new();
                for i in 0..5 {
                    let guard = CountDrop(Arc::clone(&drops));
                    handles.push(rt.spawn(async move {
                        let _guard = guard;
                        if i % 2 == 0 {
                            pending::<()>().await;
                        } else {
                            eddy::time::sleep(Duration::from_secs(3600)).await;
                        }
                    }));
                }
                rt.block_on(yield_now());
                let handle = rt.handle();
                // The runtime (and the handles) die with the thread's locals.
                KEPT.with(|kept| *kept.borrow_mut() = Some((rt, handles)));
                handle
            })
            .join()
            .expect("the thread exited cleanly")
        };
        assert_eq!(drops.load(Ordering::SeqCst), 5);
        assert!(handle.is_shutdown());
        assert_nothing_left(handle.metrics());
    });
}

/// A waker that panics when it is dropped: foreign code, as
/// `a_join_handle_waker_that_panics_during_shutdown_does_not_stop_the_shutdown`'s
/// waker is, met where the shutdown lets go of a waker instead of waking it.
struct PanicsWhenDropped;

impl std::task::Wake for PanicsWhenDropped {
    fn wake(self: Arc<Self>) {}
}

impl Drop for PanicsWhenDropped {
    fn drop(&mut self) {
        std::panic::panic_any("a timer waker's drop panics");
    }
}

#[test]
fn a_timer_waker_whose_drop_panics_during_shutdown_does_not_stop_the_shutdown() {
    with_deadline(LIMIT, || {
        // Idle pool threads that never time out: only the shutdown's step
        // (3) sends them away (since finding 75; step (4) before).
        let runtime = eddy::Builder::new()
            .thread_keep_alive(Duration::MAX)
            .build()
            .unwrap();
        let handle = runtime.handle();
        // A sleep polled with a foreign waker and kept past the runtime:
        // its entry, holding the waker's last clone, is still in the
        // runtime's timers when the shutdown drops them.
        let mut kept = eddy::time::sleep(Duration::from_secs(3600));
        runtime.block_on(async {
            eddy::task::spawn_blocking(|| ()).await.unwrap();
            let waker = Waker::from(Arc::new(PanicsWhenDropped));
            let mut cx = std::task::Context::from_waker(&waker);
            assert!(std::pin::Pin::new(&mut kept).poll(&mut cx).is_pending());
            drop(waker);
            // A turn, so the timer gauge counts the entry.
            yield_now().await;
        });
        assert_eq!(handle.metrics().timers_live, 1);
        assert_eq!(handle.metrics().blocking_threads, 1);

        let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
            drop(runtime);
        }));
        let payload = dropped.expect_err("the waker's panic comes out of the drop");
        assert_eq!(panic_message(&*payload), "a timer waker's drop panics");
        // Before the fix the panic left the shutdown as the timers were
        // dropped, before the blocking pool was closed and the gauges
        // published: the idle pool thread waited for work forever (this
        // loop ran into the deadline) and the runtime still counted the
        // timer it had dropped. (The pool now closes before the timers go,
        // finding 75, so the timer gauge is what still catches it.)
        while handle.metrics().blocking_threads != 0 {
            thread::sleep(Duration::from_millis(1));
        }
        assert_nothing_left(handle.metrics());
        drop(kept);
    });
}

#[test]
fn a_join_handle_waker_that_panics_during_shutdown_does_not_stop_the_shutdown() {
    with_deadline(LIMIT, || {
        let runtime = Runtime::new().unwrap();
        // Slab order: `watched` is cancelled first, `other` after it.
        let mut watched = runtime.spawn(pending::<()>());
        let other = runtime.spawn(pending::<()>());
        let doomed = panicking_waker("the join handle's waker panics");
        let mut cx = std::task::Context::from_waker(&doomed);
        assert!(std::pin::Pin::new(&mut watched).poll(&mut cx).is_pending());
        let handle = runtime.handle();

        let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
            drop(runtime);
        }));
        let payload = dropped.expect_err("the waker's panic comes out of the drop");
        assert_eq!(panic_message(&*payload), "the join handle's waker panics");
        // Before the fix the panic left shutdown after the first task: the
        // others were never cancelled (their handles pending forever, their
        // futures dropped by whichever thread let go last) and the remote
        // queue stayed open.
        assert!(other.is_finished(), "the second task was never cancelled");
        assert!(
            handle.is_shutdown(),
            "shutdown stopped before closing the runtime"
        );
        let late = handle.spawn(async { 1 });
        assert!(late.is_finished(), "a spawn after shutdown was accepted");
        drop(watched);
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri: cannot start a child process")]
fn a_runtime_dropped_while_its_thread_unwinds_survives_a_panicking_join_handle_waker() {
    if child_role().as_deref() == Some("unwinding_drop") {
        return drop_a_runtime_while_unwinding_with_a_panicking_waker();
    }
    // In a child: before the fix the process aborted ("panic in a
    // destructor during cleanup"), which would take the whole test binary
    // down with it.
    assert_child_succeeded(&run_child("unwinding_drop"));
}

/// The child's side: the runtime's thread panics (here, out of the
/// `block_on` future), and the unwinding drops the runtime, whose shutdown
/// tells a task's `JoinHandle` that the task was cancelled. That handle's
/// waker (a foreign executor's) panics. Re-raising that panic out of a drop
/// that runs during unwinding aborts the process; the thread must instead
/// end with its own panic, and the shutdown must still be complete.
fn drop_a_runtime_while_unwinding_with_a_panicking_waker() {
    with_deadline(LIMIT, || {
        let (handle_tx, handle_rx) = std::sync::mpsc::channel();
        let (watched_tx, watched_rx) = std::sync::mpsc::channel();
        let runtime_thread = thread::spawn(move || {
            let runtime = Runtime::new().unwrap();
            handle_tx.send(runtime.handle()).unwrap();
            let mut watched = runtime.spawn(pending::<()>());
            let other = runtime.spawn(pending::<()>());
            let doomed = panicking_waker("the join handle's waker panics");
            let mut cx = std::task::Context::from_waker(&doomed);
            assert!(std::pin::Pin::new(&mut watched).poll(&mut cx).is_pending());
            // Kept alive past the runtime (so the waker is still there when
            // the shutdown cancels the task), and so is `other`'s handle.
            watched_tx.send((watched, other)).unwrap();
            runtime.block_on(async { panic!("the runtime's thread panics") });
        });
        let handle = handle_rx.recv().unwrap();
        let (watched, other) = watched_rx.recv().unwrap();
        let payload = runtime_thread
            .join()
            .expect_err("the block_on future's panic ends the thread");
        assert_eq!(panic_message(&*payload), "the runtime's thread panics");
        assert!(handle.is_shutdown());
        assert!(watched.is_finished() && other.is_finished());
        assert_nothing_left(handle.metrics());
    });
}
