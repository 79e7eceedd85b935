//! Spawning and joining, `!Send` tasks included.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use eddy::task::{JoinHandle, yield_now};
use eddy::{Handle, Runtime};
use eddy_tests::{run_bounded, with_deadline};

use crate::{LIMIT, yield_until};

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
fn a_join_handle_raced_and_dropped_at_random_points_still_delivers_the_output() {
    // `select`ing on `&mut handle` polls the handle and drops that borrow
    // when the other branch wins: the handle must still hand over the
    // output (once) to a later await, and the task must keep running.
    for seed in [0x9E37_79B9_u64, 0xC0FF_EE11, 0x5EED_0003] {
        run_bounded(LIMIT, move || async move {
            let mut rng = eddy_tests::XorShift(seed);
            for round in 0..if cfg!(miri) { 5 } else { 200 } {
                let yields = rng.below(8);
                let mut handle = eddy::spawn(async move {
                    for _ in 0..yields {
                        yield_now().await;
                    }
                    vec![round; 3]
                });
                let output = loop {
                    if let Some(joined) = eddy_tests::cancel_at_random(&mut rng, &mut handle).await
                    {
                        break joined;
                    }
                };
                assert_eq!(
                    output.expect("the task"),
                    vec![round; 3],
                    "seed {seed:#x}, round {round}"
                );
                assert!(handle.is_finished());
            }
        });
    }
}

#[test]
fn a_blocking_job_whose_handle_was_raced_and_dropped_still_delivers_the_output() {
    for seed in [0x9E37_79B9_u64, 0xC0FF_EE11] {
        run_bounded(LIMIT, move || async move {
            let mut rng = eddy_tests::XorShift(seed);
            for round in 0..if cfg!(miri) { 3 } else { 50 } {
                let mut handle = eddy::task::spawn_blocking(move || round * 7);
                let output = loop {
                    if let Some(joined) = eddy_tests::cancel_at_random(&mut rng, &mut handle).await
                    {
                        break joined;
                    }
                };
                assert_eq!(
                    output.expect("the job"),
                    round * 7,
                    "seed {seed:#x}, round {round}"
                );
            }
        });
    }
}
