//! What a program that embeds eddy relies on, beyond one runtime's life:
//! runtimes made and dropped by the thousand, one after another or on
//! eight threads at once, give back every descriptor and thread; making one with no descriptor left is an error that leaks
//! nothing (never a panic, except `eddy::run`'s documented one); a
//! plain thread blocked on a `JoinHandle` (the README's
//! `futures_lite::future::block_on(handle.spawn(work))`) is released when
//! the runtime is dropped; wakers, `Handle`s and `JoinHandle`s that
//! outlive a runtime hold its descriptors only until they are dropped;
//! and a loop of `block_on` calls whose futures are ready at once still
//! runs the tasks spawned on it, from its thread or another.
//!
//! The counting tests run in a child process of their own: other tests in
//! the same binary open descriptors and start threads at the same time.
//! Every wait is bounded by `with_deadline`; no test asserts how long
//! anything took.

use std::cell::RefCell;
use std::future::{pending, poll_fn};
use std::rc::Rc;
use std::sync::{Arc, Mutex, mpsc};
use std::task::{Poll, Waker};
use std::thread;
use std::time::Duration;

use eddy::Runtime;
use eddy::net::TcpListener;
use eddy::task::{JoinHandle, yield_now};
use eddy_tests::child_process::run_alone;
use eddy_tests::{
    Signal, block_on_parked, fill_descriptor_table, open_descriptors, panic_message, with_deadline,
};

const LIMIT: Duration = Duration::from_secs(60);

/// Threads of this process (`/proc/self/task`).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .expect("read /proc/self/task")
        .count()
}

// Linux only: counts threads in `/proc/self/task`.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
#[cfg_attr(miri, ignore = "Miri: cannot start a child process")]
fn a_thousand_runtimes_made_used_and_dropped_give_back_every_descriptor_and_thread() {
    run_alone(make_use_and_drop_a_thousand_runtimes);
}

/// One runtime's life as an embedder might live it: tasks left pending and
/// sleeping, a connection, a blocking job now and then, a `Handle` that
/// outlives it.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn use_and_drop_one_runtime(round: usize) {
    use eddy::net::TcpStream;
    use eddy::task::spawn_blocking;
    let runtime = Runtime::new().expect("runtime");
    let handle = runtime.handle();
    let parked = runtime.spawn(pending::<()>());
    let sleeping = runtime.spawn(eddy::time::sleep(Duration::from_secs(3600)));
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("local_addr");
        let _client = TcpStream::connect(address).await.expect("connect");
        let _server = listener.accept().await.expect("accept");
        if round % 10 == 0 {
            assert_eq!(spawn_blocking(move || round).await.unwrap(), round);
        }
        yield_now().await;
    });
    drop(runtime);
    assert!(parked.is_finished() && sleeping.is_finished());
    let late = handle.spawn(async {});
    assert!(late.is_finished(), "a spawn after the drop was accepted");
}

/// The child's side: after one warm-up round (std and the allocator make
/// their lazy statics), a thousand rounds leave the thread count where it
/// was once the blocking threads told to stop have exited, and then the
/// descriptor count exactly where it was.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn make_use_and_drop_a_thousand_runtimes() {
    with_deadline(LIMIT, || {
        // Round 1 runs no blocking job: a pool thread still on its way out
        // would be counted in the baseline, and the wait below could then
        // end while a later round's thread is still alive.
        use_and_drop_one_runtime(1);
        let (descriptors, threads_before) = (open_descriptors(), threads());
        for round in 0..1000 {
            use_and_drop_one_runtime(round);
        }
        // A dropped runtime's pool threads are told to stop but not joined:
        // they leave on their own, at once (bounded by the deadline). Until
        // then one may still hold the runtime's shared half for a moment:
        // the waker of the job it just finished, which the runtime may have
        // seen complete before that wake returned.
        while threads() > threads_before {
            thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(open_descriptors(), descriptors, "descriptors leaked");
    });
}

// Linux only: counts threads in `/proc/self/task`.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
#[cfg_attr(miri, ignore = "Miri: cannot start a child process")]
fn runtimes_made_and_dropped_on_eight_threads_at_once_give_back_every_descriptor_and_thread() {
    run_alone(make_and_drop_runtimes_on_eight_threads);
}

/// The child's side: eight threads each make, use and drop 150 runtimes
/// at the same time (signal listeners, which share the process's pipe and
/// one another's hubs, blocking jobs started through a `Handle`, and the
/// `Handle` of each handed to the next thread to drop), then the thread
/// and descriptor counts must come back to where they were.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn make_and_drop_runtimes_on_eight_threads() {
    use eddy::signal::unix::{SignalKind, signal};
    const THREADS: usize = 8;
    const ROUNDS: usize = 150;
    with_deadline(LIMIT, || {
        // The warm-up makes the process's signal pipe, kept for good, and
        // runs no blocking job (see the single-thread test above).
        Runtime::new().expect("runtime").block_on(async {
            drop(signal(SignalKind::user_defined2()).expect("signal"));
        });
        let (descriptors, threads_before) = (open_descriptors(), threads());
        let start = Arc::new(std::sync::Barrier::new(THREADS));
        let (handles_out, handles_in): (Vec<_>, Vec<_>) = (0..THREADS)
            .map(|_| mpsc::channel::<eddy::Handle>())
            .unzip();
        let workers: Vec<_> = handles_in
            .into_iter()
            .enumerate()
            .map(|(index, handles_in)| {
                let start = Arc::clone(&start);
                // Each thread hands its runtimes' handles to the next.
                let next = handles_out[(index + 1) % THREADS].clone();
                thread::spawn(move || {
                    start.wait();
                    for round in 0..ROUNDS {
                        use_and_drop_one_shared_runtime(index, round, &next);
                        while let Ok(handle) = handles_in.try_recv() {
                            drop(handle);
                        }
                    }
                    handles_in
                })
            })
            .collect();
        drop(handles_out);
        for worker in workers {
            drop(worker.join().expect("a runtime thread failed"));
        }
        while threads() > threads_before {
            thread::sleep(Duration::from_millis(1));
        }
        assert_eq!(open_descriptors(), descriptors, "descriptors leaked");
    });
}

/// One round of the eight threads' test.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn use_and_drop_one_shared_runtime(index: usize, round: usize, next: &mpsc::Sender<eddy::Handle>) {
    use eddy::net::TcpStream;
    use eddy::signal::unix::{SignalKind, signal};
    let runtime = Runtime::new().expect("runtime");
    let handle = runtime.handle();
    let parked = runtime.spawn(pending::<()>());
    let sleeping = runtime.spawn(eddy::time::sleep(Duration::from_secs(3600)));
    runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("local_addr");
        let _client = TcpStream::connect(address).await.expect("connect");
        let _server = listener.accept().await.expect("accept");
        let _listener = signal(SignalKind::user_defined2()).expect("signal");
        if round % 10 == index {
            let job = eddy::Handle::current().spawn_blocking(move || round);
            assert_eq!(job.await.unwrap(), round);
        }
        yield_now().await;
    });
    drop(runtime);
    assert!(parked.is_finished() && sleeping.is_finished());
    // The next thread may be gone already (it finished its rounds).
    let _ = next.send(handle);
}

#[test]
#[cfg_attr(miri, ignore = "Miri: cannot start a child process")]
fn wakers_and_handles_that_outlive_their_runtime_give_back_its_descriptors_once_dropped() {
    run_alone(outlive_a_runtime_then_let_go);
}

/// The child's side. What outlives the runtime keeps its shared half (and
/// with it the driver handle's descriptors) alive, as documented; this
/// proves that is all: once those are dropped, nothing else holds it. A
/// reference cycle through the shared half (its remote queue holds tasks,
/// and every task holds the shared half) would keep the descriptors open
/// for good.
fn outlive_a_runtime_then_let_go() {
    with_deadline(LIMIT, || {
        drop(Runtime::new().expect("warm-up runtime"));
        let before = open_descriptors();
        let stash: Arc<Mutex<Vec<Waker>>> = Arc::default();
        let keep = |stash: &Arc<Mutex<Vec<Waker>>>, waker: &Waker| {
            stash.lock().unwrap().push(waker.clone());
        };
        let runtime = Runtime::new().expect("runtime");
        let handle = runtime.handle();
        // A task that finished and one still parked at the drop, each
        // leaving a waker behind.
        let finished = runtime.spawn({
            let stash = Arc::clone(&stash);
            poll_fn(move |cx| {
                keep(&stash, cx.waker());
                Poll::Ready(1)
            })
        });
        let parked = runtime.spawn({
            let stash = Arc::clone(&stash);
            poll_fn(move |cx| {
                keep(&stash, cx.waker());
                Poll::<()>::Pending
            })
        });
        // A task that holds its own handle, and one awaiting the parked
        // task's handle (its waker sits in that task's join slot).
        let own_handle: Rc<RefCell<Option<JoinHandle<()>>>> = Rc::default();
        let holds_itself = runtime.spawn({
            let own_handle = Rc::clone(&own_handle);
            async move {
                let _own = own_handle;
                pending::<()>().await
            }
        });
        *own_handle.borrow_mut() = Some(holds_itself);
        drop(own_handle);
        let awaits_parked = runtime.spawn(parked);
        runtime.block_on({
            let stash = Arc::clone(&stash);
            async move {
                poll_fn(|cx| {
                    keep(&stash, cx.waker());
                    Poll::Ready(())
                })
                .await;
                yield_now().await;
            }
        });
        // Woken from another thread between two `block_on`s: the parked
        // task now waits in the remote queue when the runtime is dropped.
        let wakers = std::mem::take(&mut *stash.lock().unwrap());
        let wakers = thread::spawn(move || {
            wakers.iter().for_each(Waker::wake_by_ref);
            wakers
        })
        .join()
        .unwrap();
        drop(runtime);
        assert!(handle.is_shutdown());
        // Woken again after the drop, then dropped, on another thread.
        thread::spawn(move || wakers.into_iter().for_each(Waker::wake))
            .join()
            .unwrap();
        assert_eq!(block_on_parked(finished).unwrap(), 1);
        assert!(block_on_parked(awaits_parked).unwrap_err().is_cancelled());
        drop(handle);
        assert_eq!(
            open_descriptors(),
            before,
            "the runtime's descriptors leaked"
        );
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri: cannot start a child process")]
fn making_a_runtime_with_no_descriptor_left_is_an_error_that_leaks_none() {
    run_alone(|| with_deadline(LIMIT, make_runtimes_in_a_full_descriptor_table));
}

/// The child's side: with the table full, `Runtime::new` fails with
/// `EMFILE` and `eddy::run` panics saying why. Then descriptors are freed
/// one at a time: while too few are free for a whole runtime, each attempt
/// fails part way (the epoll instance made, its waker not) and must close
/// what it opened; once enough are, the runtime works, and dropping it
/// gives them all back.
fn make_runtimes_in_a_full_descriptor_table() {
    let mut filler = fill_descriptor_table(64);

    let refused = Runtime::new().expect_err("a runtime with no descriptor left");
    assert_eq!(refused.raw_os_error(), Some(libc::EMFILE), "{refused}");
    let panic = std::panic::catch_unwind(|| eddy::run(async {})).expect_err("eddy::run");
    assert!(
        panic_message(&*panic).contains("could not create the runtime"),
        "unhelpful panic: {}",
        panic_message(&*panic)
    );

    let mut failures = 0;
    let made = loop {
        let before = open_descriptors();
        match Runtime::new() {
            Ok(runtime) => break (runtime, before),
            Err(err) => {
                assert_eq!(err.raw_os_error(), Some(libc::EMFILE), "{err}");
                assert_eq!(open_descriptors(), before, "a failed Runtime::new leaked");
                failures += 1;
            }
        }
        let freed = filler
            .pop()
            .expect("a runtime needs fewer than 64 descriptors");
        drop(freed);
    };
    assert!(
        failures >= 2,
        "no attempt failed part way ({failures} failures)"
    );
    let (runtime, before) = made;
    assert_eq!(
        runtime
            .block_on(async { eddy::spawn(async { 7 }).await })
            .unwrap(),
        7
    );
    drop(runtime);
    assert_eq!(
        open_descriptors(),
        before,
        "the dropped runtime kept descriptors"
    );
    drop(filler);
}

#[test]
fn a_plain_thread_blocked_on_a_join_handle_is_released_when_the_runtime_is_dropped() {
    with_deadline(LIMIT, || {
        let (handle_tx, handle_rx) = mpsc::channel();
        let stop = Signal::new();
        let runtime_thread = {
            let stop = stop.clone();
            thread::spawn(move || {
                let runtime = Runtime::new().unwrap();
                handle_tx.send(runtime.handle()).unwrap();
                runtime.block_on(stop.wait());
                // The task below is still pending: dropping cancels it.
            })
        };
        let handle = handle_rx.recv().unwrap();
        let task = handle.spawn(pending::<u32>());
        let waiting = Signal::new();
        let waiter = {
            let waiting = waiting.clone();
            // A plain thread with no runtime, parked on the handle.
            thread::spawn(move || {
                waiting.set();
                block_on_parked(task)
            })
        };
        while !waiting.is_set() {
            thread::sleep(Duration::from_millis(1));
        }
        stop.set();
        runtime_thread.join().unwrap();
        let outcome = waiter.join().unwrap();
        assert!(outcome.unwrap_err().is_cancelled());
        assert!(handle.is_shutdown());
    });
}

#[test]
fn a_task_spawned_between_block_on_calls_runs_at_the_next_one_even_if_its_future_is_ready_at_once()
{
    with_deadline(LIMIT, || {
        block_on_calls_that_never_wait_run_tasks(Runtime::new().unwrap());
        // Even when the one poll of the `block_on` future uses up the
        // interval, the round polls a task.
        block_on_calls_that_never_wait_run_tasks(
            eddy::Builder::new().event_interval(1).build().unwrap(),
        );
    });
}

/// The body of the test above, for one runtime (with a given event
/// interval).
fn block_on_calls_that_never_wait_run_tasks(runtime: Runtime) {
    let ran = Rc::new(std::cell::Cell::new(false));
    let task = runtime.spawn({
        let ran = Rc::clone(&ran);
        async move { ran.set(true) }
    });
    // `Runtime::spawn` promises the task starts at the next `block_on`;
    // a future that is ready at its first poll must not skip it.
    runtime.block_on(async {});
    assert!(ran.get(), "the task did not run at the next block_on");
    assert!(task.is_finished());

    // A task parked on a socket: readiness that arrives between two
    // calls reaches it through calls that never wait either.
    let (server, mut client) = runtime.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("local_addr");
        let client = std::net::TcpStream::connect(address).expect("connect");
        let (server, _) = listener.accept().await.expect("accept");
        (server, client)
    });
    let reader = runtime.spawn(async move {
        let mut server = server;
        let mut byte = [0u8; 1];
        server.read_exact(&mut byte).await.expect("read");
        byte[0]
    });
    runtime.block_on(async {});
    std::io::Write::write_all(&mut client, b"x").expect("write");
    while !reader.is_finished() {
        runtime.block_on(async {});
    }
    assert_eq!(runtime.block_on(reader).unwrap(), b'x');
}

#[test]
fn a_block_on_ready_at_once_with_no_task_anywhere_turns_no_driver() {
    with_deadline(LIMIT, || {
        let runtime = Runtime::new().unwrap();
        let turns = |runtime: &Runtime| runtime.handle().metrics().driver_turns;
        let before = turns(&runtime);
        for _ in 0..100 {
            runtime.block_on(async {});
        }
        // With nothing spawned the round before returning has nothing to
        // run: it is skipped, so such a call makes no syscall.
        assert_eq!(turns(&runtime), before);
        // With a task alive it is not.
        let _parked = runtime.spawn(std::future::pending::<()>());
        runtime.block_on(async {});
        assert!(turns(&runtime) > before, "a task alive, and no turn");
    });
}

#[test]
fn a_thread_waiting_on_handle_spawn_is_answered_by_block_on_calls_that_never_wait() {
    with_deadline(LIMIT, || {
        let runtime = Runtime::new().unwrap();
        let handle = runtime.handle();
        // The embedder's loop: its own work each round, wrapped in a
        // `block_on` whose future is ready at once, while another thread
        // hands the runtime work and waits for the answer.
        let asker = thread::spawn(move || {
            let answers: Vec<u32> = (0..100)
                .map(|n| block_on_parked(handle.spawn(async move { n * 2 })).unwrap())
                .collect();
            answers
        });
        while !asker.is_finished() {
            runtime.block_on(async {});
        }
        let answers = asker.join().unwrap();
        assert_eq!(answers, (0..100).map(|n| n * 2).collect::<Vec<u32>>());
        assert_eq!(runtime.handle().metrics().tasks_alive, 0);
    });
}
