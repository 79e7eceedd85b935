//! Other threads: `Handle::spawn`, and wakes sent from off the runtime.

use std::cell::Cell;
use std::future::{pending, poll_fn};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::task::Poll;
use std::thread;
use std::time::Duration;

use eddy::task::{JoinError, JoinHandle, yield_now};
use eddy::{Handle, Runtime};
use eddy_tests::{Signal, poll_once, with_deadline};

use crate::LIMIT;

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
            assert!(poll_once(Pin::new(&mut target)).await.is_pending());
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
