//! `task::spawn_blocking`: values and panics come back through the handle,
//! jobs run on pool threads concurrently with async tasks and with each
//! other up to the thread limit, queued jobs can be aborted, running ones
//! cannot, idle threads exit, and the runtime's drop does not wait for them.
//! A job for which no thread can start (the OS refuses, none is alive) is
//! cancelled instead of queued forever, and the pool recovers.
//!
//! Concurrency is proved with rendezvous (a job that can only finish if an
//! async task, or another job, runs at the same time) rather than with
//! timing; every test runs under `with_deadline`, so a missing rendezvous
//! fails instead of hanging.

use std::future::{Future, pending};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex, mpsc};
use std::thread;
use std::time::Duration;

use eddy::task::{spawn_blocking, yield_now};
use eddy::{Builder, Handle, Runtime};
use eddy_tests::{Signal, panic_message, with_deadline};

const LIMIT: Duration = Duration::from_secs(30);

/// How long a job waits for its rendezvous before giving up (a failure, not
/// a hang). Generous: it only matters when the runtime is broken.
const RENDEZVOUS: Duration = Duration::from_secs(10);

#[test]
fn spawn_blocking_returns_the_closures_value_from_a_pool_thread() {
    with_deadline(LIMIT, || {
        let runtime_thread = thread::current().id();
        eddy::run(async move {
            let (sum, thread_name, thread_id) = spawn_blocking(|| {
                let me = thread::current();
                (
                    (1..=100u64).sum::<u64>(),
                    me.name().map(str::to_owned),
                    me.id(),
                )
            })
            .await
            .unwrap();
            assert_eq!(sum, 5050);
            assert_eq!(thread_name.as_deref(), Some("eddy-blocking"));
            assert_ne!(
                thread_id, runtime_thread,
                "blocking code left the runtime thread"
            );
        });
    });
}

#[test]
fn a_panicking_blocking_closure_is_reported_through_its_handle() {
    with_deadline(LIMIT, || {
        eddy::run(async {
            let error = spawn_blocking(|| -> u32 { panic!("blocking job {} failed", 3) })
                .await
                .unwrap_err();
            assert!(error.is_panic());
            assert_eq!(panic_message(&*error.into_panic()), "blocking job 3 failed");
            // The pool and the runtime keep working.
            assert_eq!(spawn_blocking(|| 9).await.unwrap(), 9);
            assert_eq!(eddy::spawn(async { 10 }).await.unwrap(), 10);
        });
    });
}

#[test]
fn spawn_blocking_runs_while_async_tasks_keep_running() {
    with_deadline(LIMIT, || {
        eddy::run(async {
            // The job blocks until an async task, which only starts after
            // the job did, sends it a message: both must run at once.
            let (to_job, job_inbox) = mpsc::channel();
            let job_started = Signal::new();
            let job = spawn_blocking({
                let job_started = job_started.clone();
                move || {
                    job_started.set();
                    job_inbox.recv_timeout(RENDEZVOUS)
                }
            });
            let ticks = Arc::new(AtomicUsize::new(0));
            let task = eddy::spawn({
                let ticks = Arc::clone(&ticks);
                async move {
                    job_started.wait().await;
                    for _ in 0..10 {
                        ticks.fetch_add(1, Ordering::SeqCst);
                        yield_now().await;
                    }
                    to_job.send("from the async side").unwrap();
                }
            });
            task.await.unwrap();
            let received = job.await.unwrap();
            assert_eq!(received, Ok("from the async side"));
            assert_eq!(ticks.load(Ordering::SeqCst), 10);
        });
    });
}

#[test]
fn blocking_jobs_run_in_parallel_up_to_the_thread_limit() {
    const THREADS: usize = 4;
    with_deadline(LIMIT, || {
        let rt = Builder::new()
            .max_blocking_threads(THREADS)
            .build()
            .unwrap();
        rt.block_on(async {
            // Each job waits for all the others: only possible if the pool
            // runs THREADS of them at the same time.
            let meet = Arc::new(Barrier::new(THREADS));
            let jobs: Vec<_> = (0..THREADS)
                .map(|i| {
                    let meet = Arc::clone(&meet);
                    spawn_blocking(move || {
                        meet.wait();
                        i
                    })
                })
                .collect();
            for (i, job) in jobs.into_iter().enumerate() {
                assert_eq!(job.await.unwrap(), i);
            }
        });
    });
}

#[test]
fn many_blocking_jobs_all_complete_within_the_thread_limit() {
    const THREADS: usize = 3;
    const JOBS: u64 = 300;
    with_deadline(LIMIT, || {
        let rt = Builder::new()
            .max_blocking_threads(THREADS)
            .build()
            .unwrap();
        let handle = rt.handle();
        let most_threads_seen = Arc::new(AtomicUsize::new(0));
        let total = rt.block_on(async {
            let jobs: Vec<_> = (0..JOBS)
                .map(|i| {
                    let handle = handle.clone();
                    let most = Arc::clone(&most_threads_seen);
                    spawn_blocking(move || {
                        most.fetch_max(handle.metrics().blocking_threads, Ordering::SeqCst);
                        i * 2
                    })
                })
                .collect();
            // Async tasks interleave with them meanwhile.
            let side = eddy::spawn(async {
                for _ in 0..50 {
                    yield_now().await;
                }
            });
            let mut total = 0;
            for job in jobs {
                total += job.await.unwrap();
            }
            side.await.unwrap();
            total
        });
        assert_eq!(total, (0..JOBS).map(|i| i * 2).sum::<u64>());
        let most = most_threads_seen.load(Ordering::SeqCst);
        assert!((1..=THREADS).contains(&most), "saw {most} blocking threads");
    });
}

#[test]
fn aborting_a_queued_blocking_job_cancels_it_before_it_starts() {
    with_deadline(LIMIT, || {
        let rt = Builder::new().max_blocking_threads(1).build().unwrap();
        rt.block_on(async {
            let (release, released) = mpsc::channel::<()>();
            let started = Signal::new();
            let first = spawn_blocking({
                let started = started.clone();
                move || {
                    started.set();
                    released.recv_timeout(RENDEZVOUS).is_ok()
                }
            });
            started.wait().await;
            // The only thread is busy, so this one waits in the queue.
            let ran = Arc::new(AtomicBool::new(false));
            let queued = spawn_blocking({
                let ran = Arc::clone(&ran);
                move || ran.store(true, Ordering::SeqCst)
            });
            assert!(!queued.is_finished());
            queued.abort();
            assert!(queued.is_finished(), "a queued job is cancelled at once");
            assert!(queued.await.unwrap_err().is_cancelled());
            release.send(()).unwrap();
            assert!(first.await.unwrap());
            // The pool went on to the aborted job's slot and skipped it.
            spawn_blocking(|| ()).await.unwrap();
            assert!(!ran.load(Ordering::SeqCst));
        });
    });
}

#[test]
fn aborting_a_running_blocking_job_lets_it_finish() {
    with_deadline(LIMIT, || {
        eddy::run(async {
            let (release, released) = mpsc::channel::<()>();
            let started = Signal::new();
            let job = spawn_blocking({
                let started = started.clone();
                move || {
                    started.set();
                    released
                        .recv_timeout(RENDEZVOUS)
                        .map(|()| "finished anyway")
                }
            });
            started.wait().await;
            job.abort();
            release.send(()).unwrap();
            assert_eq!(job.await.unwrap(), Ok("finished anyway"));
        });
    });
}

#[test]
fn a_detached_blocking_job_still_runs() {
    with_deadline(LIMIT, || {
        eddy::run(async {
            let done = Signal::new();
            drop(spawn_blocking({
                let done = done.clone();
                move || done.set()
            }));
            done.wait().await;
        });
    });
}

#[test]
fn a_blocking_job_can_hand_work_back_to_the_runtime_through_a_handle() {
    with_deadline(LIMIT, || {
        eddy::run(async {
            let handle = Handle::current();
            let from_job = spawn_blocking(move || handle.spawn(async { 21 * 2 }))
                .await
                .unwrap();
            assert_eq!(from_job.await.unwrap(), 42);
        });
    });
}

/// The pool's gauges tell a busy pool from an idle one: with one thread
/// at the limit and busy, a second job waits in the queue and no thread is
/// idle; once both jobs are done the thread waits idle and nothing queues.
#[test]
fn metrics_tell_busy_blocking_threads_and_queued_jobs_from_idle_ones() {
    with_deadline(LIMIT, || {
        let rt = Builder::new().max_blocking_threads(1).build().unwrap();
        rt.block_on(async {
            let handle = Handle::current();
            let (release, released) = mpsc::channel::<()>();
            let started = Signal::new();
            let busy = spawn_blocking({
                let started = started.clone();
                move || {
                    started.set();
                    released.recv_timeout(RENDEZVOUS).is_ok()
                }
            });
            started.wait().await;
            let queued = spawn_blocking(|| 7);
            let metrics = handle.metrics();
            assert_eq!(
                (
                    metrics.blocking_threads,
                    metrics.blocking_idle_threads,
                    metrics.blocking_queue_depth
                ),
                (1, 0, 1),
                "{metrics:?}"
            );
            release.send(()).unwrap();
            assert!(busy.await.unwrap());
            assert_eq!(queued.await.unwrap(), 7);
            // The thread goes back on the idle stack just after its last
            // job's handle is woken: wait (bounded) for it to get there.
            let mut metrics = handle.metrics();
            for _ in 0..10_000 {
                if metrics.blocking_idle_threads == 1 {
                    break;
                }
                thread::sleep(Duration::from_millis(1));
                metrics = handle.metrics();
            }
            assert_eq!(
                (
                    metrics.blocking_threads,
                    metrics.blocking_idle_threads,
                    metrics.blocking_queue_depth
                ),
                (1, 1, 0),
                "{metrics:?}"
            );
        });
    });
}

/// Waits for the blocking pool's idle threads to leave, then asserts none
/// is left. The wait is bounded (a liveness check, not a timing assertion:
/// the bound is orders of magnitude generous).
fn assert_idle_blocking_threads_leave(handle: &Handle) {
    let mut waited = 0;
    while handle.metrics().blocking_threads != 0 && waited < 10_000 {
        thread::sleep(Duration::from_millis(1));
        waited += 1;
    }
    assert_eq!(handle.metrics().blocking_threads, 0);
}

#[test]
fn idle_blocking_threads_exit_after_their_keep_alive() {
    with_deadline(LIMIT, || {
        let rt = Builder::new()
            .thread_keep_alive(Duration::from_millis(1))
            .build()
            .unwrap();
        let handle = rt.handle();
        rt.block_on(async {
            let jobs: Vec<_> = (0..4).map(|i| spawn_blocking(move || i)).collect();
            for job in jobs {
                job.await.unwrap();
            }
        });
        assert_idle_blocking_threads_leave(&handle);
    });
}

#[test]
fn dropping_the_runtime_does_not_wait_for_a_running_blocking_job() {
    with_deadline(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let handle = rt.handle();
        let (release, released) = mpsc::channel::<()>();
        let started = Signal::new();
        let mut job = None;
        rt.block_on(async {
            let started = started.clone();
            job = Some(spawn_blocking(move || {
                started.set();
                released.recv_timeout(RENDEZVOUS).map(|()| 5)
            }));
            // And a parked task, which the shutdown simply drops.
            drop(eddy::spawn(pending::<()>()));
        });
        let job = job.unwrap();
        // If the drop waited for the job, this would hang: the job is only
        // released below.
        while !started.is_set() {
            thread::sleep(Duration::from_millis(1));
        }
        drop(rt);
        assert!(handle.is_shutdown());
        assert_eq!(handle.metrics().tasks_alive, 0);
        assert!(!job.is_finished(), "the job is still blocked");
        release.send(()).unwrap();
        // It finishes on its own and its handle still delivers the value.
        let value = Runtime::new().unwrap().block_on(job).unwrap();
        assert_eq!(value, Ok(5));
        // With the runtime gone, the pool's threads leave once idle.
        assert_idle_blocking_threads_leave(&handle);
    });
}

#[test]
#[should_panic(expected = "outside an eddy runtime")]
fn spawn_blocking_outside_a_runtime_panics_saying_so() {
    drop(spawn_blocking(|| ()));
}

#[test]
fn jobs_spawned_while_a_thread_is_idle_still_run_in_parallel() {
    // Two jobs that can only finish together: with one idle thread and room
    // for more, the pool must not queue both on that one thread. The race
    // does not show every time, so the scenario is repeated.
    const ROUNDS: usize = 20;
    const GIVE_UP: Duration = Duration::from_secs(2);
    fn meet(arrived: Arc<AtomicUsize>) -> impl FnOnce() -> bool + Send + 'static {
        move || {
            arrived.fetch_add(1, Ordering::SeqCst);
            let mut waited = Duration::ZERO;
            while arrived.load(Ordering::SeqCst) < 2 && waited < GIVE_UP {
                thread::sleep(Duration::from_millis(1));
                waited += Duration::from_millis(1);
            }
            arrived.load(Ordering::SeqCst) == 2
        }
    }
    with_deadline(Duration::from_secs(60), || {
        for round in 0..ROUNDS {
            let rt = Builder::new().max_blocking_threads(2).build().unwrap();
            rt.block_on(async {
                // Leave exactly one pool thread alive, and let it go idle.
                spawn_blocking(|| ()).await.unwrap();
                thread::sleep(Duration::from_millis(5));
                let arrived = Arc::new(AtomicUsize::new(0));
                let first = spawn_blocking(meet(Arc::clone(&arrived)));
                let second = spawn_blocking(meet(Arc::clone(&arrived)));
                let met = first.await.unwrap() && second.await.unwrap();
                assert!(
                    met,
                    "round {round}: the two jobs never ran at the same time"
                );
            });
        }
    });
}

#[test]
fn a_queued_job_whose_captures_panic_when_dropped_after_abort_does_not_lose_a_pool_thread() {
    struct PanicsOnDrop;
    impl Drop for PanicsOnDrop {
        fn drop(&mut self) {
            panic!("this capture panics when dropped");
        }
    }
    with_deadline(Duration::from_secs(60), || {
        let rt = Builder::new().max_blocking_threads(1).build().unwrap();
        rt.block_on(async {
            // The only thread is busy until released...
            let (release, released) = std::sync::mpsc::channel::<()>();
            let first = spawn_blocking(move || released.recv().is_ok());
            // ...so this one waits in the queue, and is aborted there.
            let capture = PanicsOnDrop;
            let second = spawn_blocking(move || drop(capture));
            second.abort();
            assert!(second.await.unwrap_err().is_cancelled());
            release.send(()).unwrap();
            assert!(first.await.unwrap());
            // The worker dropped the aborted job (and its panicking capture)
            // and must still be there, counted, for the next job.
            let third = spawn_blocking(|| 7);
            assert_eq!(third.await.unwrap(), 7);
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
struct PanicsOnDropWithAPanickingPayload;

impl Drop for PanicsOnDropWithAPanickingPayload {
    fn drop(&mut self) {
        if !thread::panicking() {
            std::panic::panic_any(PayloadThatPanicsOnDrop);
        }
    }
}

#[test]
fn aborting_a_queued_job_whose_capture_panics_with_a_panicking_payload_returns() {
    with_deadline(LIMIT, || {
        let rt = Builder::new().max_blocking_threads(1).build().unwrap();
        rt.block_on(async {
            let (release, released) = mpsc::channel::<()>();
            let busy = spawn_blocking(move || released.recv().is_ok());
            let capture = PanicsOnDropWithAPanickingPayload;
            let queued = spawn_blocking(move || drop(capture));
            // The capture's panic is caught; before eddy-registration's
            // `drop_quietly` its payload was dropped outside the catch, and
            // that payload's own panic came out of `abort`.
            queued.abort();
            assert!(queued.await.unwrap_err().is_cancelled());
            release.send(()).unwrap();
            assert!(busy.await.unwrap());
        });
    });
}

/// A foreign waker that panics when woken, with a payload that panics
/// again when dropped.
struct WakerThatPanicsWithAPanickingPayload;

impl std::task::Wake for WakerThatPanicsWithAPanickingPayload {
    fn wake(self: Arc<Self>) {
        std::panic::panic_any(PayloadThatPanicsOnDrop);
    }
}

#[test]
fn a_handle_waker_panicking_with_a_panicking_payload_does_not_lose_a_pool_thread() {
    with_deadline(LIMIT, || {
        let rt = Builder::new().max_blocking_threads(1).build().unwrap();
        rt.block_on(async {
            let (release, released) = mpsc::channel::<()>();
            let mut job = spawn_blocking(move || released.recv().is_ok());
            // The handle waits with a waker that panics when the pool
            // thread wakes it at the job's end.
            let waker = std::task::Waker::from(Arc::new(WakerThatPanicsWithAPanickingPayload));
            let polled =
                std::pin::Pin::new(&mut job).poll(&mut std::task::Context::from_waker(&waker));
            assert!(polled.is_pending());
            release.send(()).unwrap();
            while !job.is_finished() {
                yield_now().await;
            }
            assert!(job.await.unwrap());
            // The worker caught the waker's panic. Before `catch_quietly`
            // the payload's own panic then ended the thread without
            // counting it out, and with the one thread the pool may have
            // "alive", this job waited for it forever.
            assert_eq!(spawn_blocking(|| 7).await.unwrap(), 7);
        });
    });
}

#[test]
fn aborting_a_queued_job_drops_its_captures_at_once() {
    with_deadline(Duration::from_secs(60), || {
        let rt = Builder::new().max_blocking_threads(1).build().unwrap();
        rt.block_on(async {
            let (release, released) = mpsc::channel::<()>();
            let busy = spawn_blocking(move || released.recv().is_ok());
            // Queued behind `busy`; its capture is what we watch.
            let capture = Arc::new(());
            let held = Arc::clone(&capture);
            let queued = spawn_blocking(move || drop(held));
            assert_eq!(Arc::strong_count(&capture), 2);
            queued.abort();
            assert!(queued.await.unwrap_err().is_cancelled());
            // The pool's only thread is still busy, yet the capture is gone.
            assert_eq!(Arc::strong_count(&capture), 1);
            release.send(()).unwrap();
            assert!(busy.await.unwrap());
        });
    });
}

// Linux only: macOS does not enforce `RLIMIT_AS`, and the mapped size
// comes from `/proc/self/statm`.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
#[cfg_attr(miri, ignore = "Miri: cannot start a child process")]
fn spawn_blocking_when_no_thread_can_start_cancels_the_job_and_later_jobs_run() {
    use eddy_tests::child_process::{child_role, run_child};
    if child_role().as_deref() == Some("no_thread") {
        return spawn_blocking_with_no_room_for_a_thread();
    }
    // In a child: the address-space limit that makes the thread start fail
    // would fail the other tests' threads too.
    let output = run_child("no_thread");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("child: cancelled, then 2"),
        "child failed ({}):\nstdout:\n{stdout}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The child's side: the first job's thread cannot start (the address
/// space is capped just above what is mapped, below a thread's 2 MiB
/// stack), so its handle must resolve rather than wait for a thread that
/// will never exist; once the cap is lifted, the pool starts threads again.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn spawn_blocking_with_no_room_for_a_thread() {
    let outcome = with_deadline(LIMIT, || {
        let rt = Runtime::new().expect("runtime");
        rt.block_on(async {
            let previous = address_space_limit();
            set_address_space_limit(libc::rlimit {
                rlim_cur: mapped_bytes() + (1 << 20),
                ..previous
            });
            let job = spawn_blocking(|| 1);
            set_address_space_limit(previous);
            let first = job.await.map_err(|error| error.is_cancelled());
            let second = spawn_blocking(|| 2)
                .await
                .map_err(|error| error.to_string());
            (first, second)
        })
    });
    assert_eq!(outcome, (Err(true), Ok(2)), "(first job, second job)");
    println!("child: cancelled, then 2");
}

/// Bytes of address space the process has mapped now (`/proc/self/statm`),
/// in the type of an rlimit (32 bits on 32-bit Linux).
#[cfg(any(target_os = "linux", target_os = "android"))]
fn mapped_bytes() -> libc::rlim_t {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("statm");
    let pages: libc::rlim_t = statm
        .split_whitespace()
        .next()
        .and_then(|pages| pages.parse().ok())
        .expect("statm starts with the mapped size in pages");
    // SAFETY: sysconf reads a system constant; it has no preconditions.
    let page_size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * libc::rlim_t::try_from(page_size).expect("a positive page size")
}

/// The process's `RLIMIT_AS`.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn address_space_limit() -> libc::rlimit {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one `rlimit` through a valid pointer.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut limit) };
    assert_eq!(rc, 0, "getrlimit: {}", std::io::Error::last_os_error());
    limit
}

/// Sets the process's `RLIMIT_AS`.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn set_address_space_limit(limit: libc::rlimit) {
    // SAFETY: setrlimit reads one `rlimit` through a valid pointer.
    let rc = unsafe { libc::setrlimit(libc::RLIMIT_AS, &limit) };
    assert_eq!(rc, 0, "setrlimit: {}", std::io::Error::last_os_error());
}

#[test]
fn surplus_blocking_threads_retire_while_a_steady_trickle_of_jobs_keeps_coming() {
    // A burst needs 16 threads; then one job at a time keeps coming, for
    // ever in a server. One or two threads are enough for that trickle, and
    // the others are idle: they must retire after the keep-alive, not be
    // handed the jobs in turn (each of them then idle a few milliseconds
    // at a time, never the whole keep-alive) and stay for good. That is
    // how a soak's pool climbed to its limit of 64 threads under 5 jobs at
    // a time. The pause between two jobs lets the thread that ran one go
    // idle before the next comes, and half the burst is the bound, so that
    // a loaded machine preempting a few threads between their job and
    // their going idle (the next job then takes another) cannot fail it.
    const BURST: usize = 16;
    with_deadline(Duration::from_secs(60), || {
        let rt = Builder::new()
            .max_blocking_threads(BURST)
            .thread_keep_alive(Duration::from_secs(1))
            .build()
            .unwrap();
        let handle = rt.handle();
        rt.block_on(async {
            let meet = Arc::new(Barrier::new(BURST));
            let burst: Vec<_> = (0..BURST)
                .map(|_| {
                    let meet = Arc::clone(&meet);
                    spawn_blocking(move || {
                        meet.wait();
                    })
                })
                .collect();
            for job in burst {
                job.await.unwrap();
            }
            assert_eq!(handle.metrics().blocking_threads, BURST);
            // The trickle, for up to 20 keep-alives (a bound against a
            // hang, not a timing assertion: one keep-alive is enough).
            let give_up = std::time::Instant::now() + Duration::from_secs(20);
            let mut jobs = 0u64;
            while handle.metrics().blocking_threads > BURST / 2
                && std::time::Instant::now() < give_up
            {
                jobs += 1;
                assert_eq!(spawn_blocking(move || jobs).await.unwrap(), jobs);
                eddy::time::sleep(Duration::from_millis(1)).await;
            }
            let threads = handle.metrics().blocking_threads;
            assert!(
                threads <= BURST / 2,
                "{threads} blocking threads still alive after {jobs} jobs one at a time"
            );
        });
    });
}

#[test]
fn a_zero_keep_alive_still_runs_every_job_and_leaves_no_thread() {
    // Each worker gives up the moment it finds the queue empty; jobs that
    // come one after another, or several at once, must still all run.
    with_deadline(LIMIT, || {
        let rt = Builder::new()
            .max_blocking_threads(3)
            .thread_keep_alive(Duration::ZERO)
            .build()
            .unwrap();
        let handle = rt.handle();
        rt.block_on(async {
            for round in 0..200u64 {
                assert_eq!(spawn_blocking(move || round).await.unwrap(), round);
                let jobs: Vec<_> = (0..5u64)
                    .map(|i| spawn_blocking(move || round + i))
                    .collect();
                for (i, job) in (0..5u64).zip(jobs) {
                    assert_eq!(job.await.unwrap(), round + i);
                }
            }
        });
        assert_idle_blocking_threads_leave(&handle);
    });
}

#[test]
fn a_keep_alive_of_duration_max_keeps_idle_threads_until_the_runtime_drops() {
    with_deadline(LIMIT, || {
        let rt = Builder::new()
            .thread_keep_alive(Duration::MAX)
            .build()
            .unwrap();
        let handle = rt.handle();
        rt.block_on(async {
            let meet = Arc::new(Barrier::new(3));
            let jobs: Vec<_> = (0..3)
                .map(|_| {
                    let meet = Arc::clone(&meet);
                    spawn_blocking(move || meet.wait().is_leader())
                })
                .collect();
            let mut leaders = 0;
            for job in jobs {
                leaders += usize::from(job.await.unwrap());
            }
            assert_eq!(leaders, 1);
            // Idle now, with a keep-alive that never runs out: a job still
            // finds one of them.
            eddy::time::sleep(Duration::from_millis(5)).await;
            assert_eq!(spawn_blocking(|| 9).await.unwrap(), 9);
            assert!(
                handle.metrics().blocking_threads >= 3,
                "an idle thread left"
            );
        });
        // The shutdown wakes the idle threads, which leave.
        drop(rt);
        assert_idle_blocking_threads_leave(&handle);
    });
}

// `Handle::spawn_blocking`: the same pool, reached from any thread.

#[test]
fn a_job_a_foreign_thread_starts_through_a_handle_is_awaited_by_a_task() {
    with_deadline(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let handle = rt.handle();
        let runtime_thread = thread::current().id();
        let (send_job, job) = mpsc::channel();
        let foreign = thread::spawn(move || {
            let foreign_thread = thread::current().id();
            let job = handle.spawn_blocking(move || {
                let me = thread::current();
                (me.name().map(str::to_owned), me.id() != foreign_thread)
            });
            send_job.send(job).unwrap();
            foreign_thread
        });
        let foreign_thread = foreign.join().unwrap();
        assert_ne!(foreign_thread, runtime_thread);
        let job = job.recv().unwrap();
        // A task of the runtime awaits it (not `block_on`'s own future).
        let task = rt.spawn(async move { job.await.unwrap() });
        let (name, elsewhere) = rt.block_on(task).unwrap();
        assert_eq!(name.as_deref(), Some("eddy-blocking"));
        assert!(elsewhere, "the job ran on the thread that spawned it");
        assert_eq!(thread::current().id(), runtime_thread);
    });
}

#[test]
fn a_job_started_through_a_handle_runs_while_its_runtime_is_outside_block_on() {
    with_deadline(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let handle = rt.handle();
        // Nobody is in `block_on`: the job still runs, and it can only
        // finish by meeting this thread.
        let (ran, wait_ran) = mpsc::channel();
        let job = handle.spawn_blocking(move || {
            ran.send(()).unwrap();
            8
        });
        wait_ran
            .recv_timeout(RENDEZVOUS)
            .expect("the job never ran");
        assert_eq!(rt.block_on(job).unwrap(), 8);
    });
}

#[test]
fn a_panicking_job_started_through_a_handle_is_reported_to_a_foreign_waiter() {
    with_deadline(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let handle = rt.handle();
        let waiter = thread::spawn(move || {
            let job = handle.spawn_blocking(|| -> u8 { panic!("handle job {} failed", 4) });
            // A plain thread waits with an executor of its own.
            Runtime::new().unwrap().block_on(job)
        });
        let error = waiter.join().unwrap().unwrap_err();
        assert!(error.is_panic());
        assert_eq!(panic_message(&*error.into_panic()), "handle job 4 failed");
        // The pool and the runtime are unharmed.
        let handle = rt.handle();
        assert_eq!(rt.block_on(handle.spawn_blocking(|| 3)).unwrap(), 3);
    });
}

#[test]
fn a_job_started_through_a_handle_after_the_runtime_is_gone_is_cancelled_unrun() {
    with_deadline(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let handle = rt.handle();
        drop(rt);
        let capture = Arc::new(());
        let ran = Arc::new(AtomicBool::new(false));
        let from_thread = {
            let handle = handle.clone();
            let held = Arc::clone(&capture);
            let ran = Arc::clone(&ran);
            thread::spawn(move || {
                let job = handle.spawn_blocking(move || {
                    ran.store(true, Ordering::SeqCst);
                    drop(held);
                });
                // Refused at once: the closure's captures are already gone.
                let finished = job.is_finished();
                (finished, Runtime::new().unwrap().block_on(job))
            })
            .join()
            .unwrap()
        };
        assert!(from_thread.0, "the handle did not resolve at once");
        assert!(from_thread.1.unwrap_err().is_cancelled());
        assert_eq!(Arc::strong_count(&capture), 1);
        // And on the thread that owned the runtime.
        let held = Arc::clone(&capture);
        let job = handle.spawn_blocking(move || drop(held));
        assert_eq!(Arc::strong_count(&capture), 1);
        let error = Runtime::new().unwrap().block_on(job).unwrap_err();
        assert!(error.is_cancelled());
        assert!(!ran.load(Ordering::SeqCst), "a refused job ran");
        assert_eq!(handle.metrics().blocking_threads, 0);
    });
}

/// A task's future that never completes and runs `on_drop` when it is
/// dropped (by the runtime's shutdown, in these tests).
fn pending_until_dropped(
    on_drop: impl FnOnce() + Send + 'static,
) -> impl Future<Output = ()> + Send {
    struct OnDrop<F: FnOnce()>(Option<F>);
    impl<F: FnOnce()> Drop for OnDrop<F> {
        fn drop(&mut self) {
            if let Some(on_drop) = self.0.take() {
                on_drop();
            }
        }
    }
    let on_drop = OnDrop(Some(on_drop));
    async move {
        let _on_drop = on_drop;
        pending::<()>().await
    }
}

#[test]
fn a_job_started_through_a_handle_during_the_shutdown_still_runs() {
    // A task's future, dropped by the runtime's shutdown, holds the drop
    // until a foreign thread has started a job: the pool is not closed
    // yet, so the job is taken and runs, and its handle has the value.
    with_deadline(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let handle = rt.handle();
        let (dropping, wait_dropping) = mpsc::channel();
        let (spawned, wait_spawned) = mpsc::channel::<()>();
        rt.spawn(pending_until_dropped(move || {
            dropping.send(()).unwrap();
            wait_spawned.recv_timeout(RENDEZVOUS).unwrap();
        }));
        rt.block_on(yield_now());
        let foreign = thread::spawn(move || {
            wait_dropping.recv_timeout(RENDEZVOUS).unwrap();
            let job = handle.spawn_blocking(|| 11);
            spawned.send(()).unwrap();
            Runtime::new().unwrap().block_on(job)
        });
        drop(rt);
        assert_eq!(foreign.join().unwrap().unwrap(), 11);
    });
}

#[test]
fn a_task_spawned_through_a_handle_and_never_run_can_start_a_job_from_its_drop_at_shutdown() {
    // Like every task's future, one that other threads spawned and the
    // runtime never adopted is dropped by the shutdown before the pool
    // closes: a job its `Drop` starts is taken and runs.
    with_deadline(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let handle = rt.handle();
        let (jobs, spawned_jobs) = mpsc::channel();
        let task = thread::spawn(move || {
            let spawning = handle.clone();
            handle.spawn(pending_until_dropped(move || {
                jobs.send(spawning.spawn_blocking(|| 12u32)).unwrap();
            }))
        })
        .join()
        .unwrap();
        drop(rt);
        let job = spawned_jobs.recv_timeout(RENDEZVOUS).unwrap();
        let waiter = Runtime::new().unwrap();
        assert!(waiter.block_on(task).unwrap_err().is_cancelled());
        assert_eq!(waiter.block_on(job).expect("the job was refused"), 12);
    });
}

#[test]
fn a_job_started_through_a_handle_once_is_shutdown_reads_true_is_cancelled_unrun() {
    // A timer waker whose drop holds the runtime's drop at the moment the
    // shutdown drops the timers' wakers, after `is_shutdown` reads true,
    // until a foreign thread that saw it true has started a job.
    struct HoldsShutdown {
        dropping: mpsc::Sender<()>,
        spawned: Mutex<mpsc::Receiver<()>>,
    }
    impl std::task::Wake for HoldsShutdown {
        fn wake(self: Arc<Self>) {}
    }
    impl Drop for HoldsShutdown {
        fn drop(&mut self) {
            self.dropping.send(()).unwrap();
            let spawned = self.spawned.lock().unwrap();
            spawned.recv_timeout(RENDEZVOUS).unwrap();
        }
    }
    with_deadline(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let handle = rt.handle();
        let (dropping, wait_dropping) = mpsc::channel();
        let (spawned, wait_spawned) = mpsc::channel();
        // A sleep polled with the foreign waker and kept past the runtime:
        // its entry, holding the waker's last clone, is still in the
        // runtime's timers when the shutdown drops them.
        let mut kept = eddy::time::sleep(Duration::from_secs(3600));
        rt.block_on(async {
            let waker = std::task::Waker::from(Arc::new(HoldsShutdown {
                dropping,
                spawned: Mutex::new(wait_spawned),
            }));
            let mut cx = std::task::Context::from_waker(&waker);
            assert!(std::pin::Pin::new(&mut kept).poll(&mut cx).is_pending());
        });
        let ran = Arc::new(AtomicBool::new(false));
        let foreign = {
            let ran = Arc::clone(&ran);
            thread::spawn(move || {
                wait_dropping.recv_timeout(RENDEZVOUS).unwrap();
                let shut_down = handle.is_shutdown();
                let job = handle.spawn_blocking(move || ran.store(true, Ordering::SeqCst));
                let refused_at_once = job.is_finished();
                spawned.send(()).unwrap();
                (
                    shut_down,
                    refused_at_once,
                    Runtime::new().unwrap().block_on(job),
                )
            })
        };
        drop(rt);
        let (shut_down, refused_at_once, outcome) = foreign.join().unwrap();
        assert!(
            shut_down,
            "the drop was held before `is_shutdown` read true"
        );
        assert!(
            refused_at_once,
            "a job started once `is_shutdown` read true was taken by the pool"
        );
        assert!(outcome.unwrap_err().is_cancelled());
        assert!(!ran.load(Ordering::SeqCst), "a refused job ran");
        drop(kept);
    });
}

#[test]
fn jobs_started_through_handles_from_many_threads_as_the_runtime_drops_all_resolve() {
    // Each handle resolves: to its value if the pool took the job before
    // it closed, cancelled after; never a hang, never a lost job.
    const THREADS: usize = 4;
    const JOBS: usize = 200;
    with_deadline(Duration::from_secs(60), || {
        for round in 0..20 {
            let rt = Builder::new().max_blocking_threads(2).build().unwrap();
            let start = Arc::new(Barrier::new(THREADS + 1));
            let spawners: Vec<_> = (0..THREADS)
                .map(|t| {
                    let handle = rt.handle();
                    let start = Arc::clone(&start);
                    thread::spawn(move || {
                        start.wait();
                        (0..JOBS)
                            .map(|i| handle.spawn_blocking(move || t * JOBS + i))
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            start.wait();
            drop(rt);
            let waiter = Runtime::new().unwrap();
            let (mut done, mut cancelled) = (0, 0);
            for (t, spawner) in spawners.into_iter().enumerate() {
                for (i, job) in spawner.join().unwrap().into_iter().enumerate() {
                    match waiter.block_on(job) {
                        Ok(value) => {
                            assert_eq!(value, t * JOBS + i);
                            done += 1;
                        }
                        Err(error) => {
                            assert!(error.is_cancelled(), "round {round}: {error}");
                            cancelled += 1;
                        }
                    }
                }
            }
            assert_eq!(done + cancelled, THREADS * JOBS);
        }
    });
}

#[test]
fn jobs_started_through_handles_from_many_threads_stay_within_the_thread_limit() {
    const LIMIT_THREADS: usize = 3;
    const THREADS: usize = 6;
    with_deadline(LIMIT, || {
        let rt = Builder::new()
            .max_blocking_threads(LIMIT_THREADS)
            .build()
            .unwrap();
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        // The first LIMIT_THREADS jobs can only finish together: the
        // limit is reached. Every job counts how many run at once.
        let meet = Arc::new(Barrier::new(LIMIT_THREADS));
        let spawners: Vec<_> = (0..THREADS)
            .map(|t| {
                let handle = rt.handle();
                let (running, most, meet) = (running.clone(), most.clone(), meet.clone());
                thread::spawn(move || {
                    (0..20)
                        .map(|i| {
                            let (running, most, meet) =
                                (running.clone(), most.clone(), meet.clone());
                            handle.spawn_blocking(move || {
                                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                                most.fetch_max(now, Ordering::SeqCst);
                                if i == 0 && t < LIMIT_THREADS {
                                    meet.wait();
                                }
                                running.fetch_sub(1, Ordering::SeqCst);
                            })
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let handle = rt.handle();
        for spawner in spawners {
            for job in spawner.join().unwrap() {
                rt.block_on(job).unwrap();
            }
            assert!(handle.metrics().blocking_threads <= LIMIT_THREADS);
        }
        assert_eq!(most.load(Ordering::SeqCst), LIMIT_THREADS);
    });
}

// Linux only, as above.
#[cfg(any(target_os = "linux", target_os = "android"))]
#[test]
#[cfg_attr(miri, ignore = "Miri: cannot start a child process")]
#[cfg_attr(
    eddy_sanitize = "thread",
    ignore = "ThreadSanitizer's own allocator runs out under the address-space cap"
)]
fn jobs_from_many_threads_when_no_thread_can_start_all_resolve() {
    use eddy_tests::child_process::{child_role, run_child};
    if child_role().as_deref() == Some("no_thread_many") {
        return many_spawners_with_no_room_for_a_thread();
    }
    let output = run_child("no_thread_many");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("child: every job resolved"),
        "child failed ({}):\nstdout:\n{stdout}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The child's side: threads started before the address space is capped
/// spawn jobs through handles while no pool thread can start. A spawn
/// whose thread fails to start with none alive must cancel the jobs it
/// cannot leave queued, its own and any another thread queued meanwhile,
/// and no other: every handle resolves, without a later spawn to start a
/// thread for what was left behind.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn many_spawners_with_no_room_for_a_thread() {
    const THREADS: usize = 4;
    const JOBS: usize = 300;
    let outcome = with_deadline(LIMIT, || {
        let rt = Builder::new().max_blocking_threads(1).build().unwrap();
        let capped = Arc::new(Barrier::new(THREADS + 1));
        let spawned = Arc::new(Barrier::new(THREADS + 1));
        let spawners: Vec<_> = (0..THREADS)
            .map(|_| {
                let handle = rt.handle();
                let (capped, spawned) = (Arc::clone(&capped), Arc::clone(&spawned));
                let mut jobs = Vec::with_capacity(JOBS);
                thread::spawn(move || {
                    // This thread's allocator arena, made and grown now:
                    // under the cap it could not map one.
                    drop(
                        (0..4 * JOBS)
                            .map(|_| Box::new([0u64; 16]))
                            .collect::<Vec<_>>(),
                    );
                    capped.wait(); // warmed up
                    capped.wait(); // capped
                    for i in 0..JOBS {
                        jobs.push(handle.spawn_blocking(move || i));
                    }
                    spawned.wait();
                    jobs
                })
            })
            .collect();
        capped.wait();
        let previous = address_space_limit();
        set_address_space_limit(libc::rlimit {
            rlim_cur: mapped_bytes() + (7 << 18),
            ..previous
        });
        capped.wait();
        spawned.wait();
        set_address_space_limit(previous);
        let (mut done, mut cancelled) = (0, 0);
        for spawner in spawners {
            for (i, job) in spawner.join().unwrap().into_iter().enumerate() {
                match rt.block_on(job) {
                    Ok(value) => {
                        assert_eq!(value, i);
                        done += 1;
                    }
                    Err(error) => {
                        assert!(error.is_cancelled(), "{error}");
                        cancelled += 1;
                    }
                }
            }
        }
        (done, cancelled)
    });
    assert_eq!(outcome.0 + outcome.1, THREADS * 300);
    println!(
        "child: every job resolved ({} ran, {} cancelled)",
        outcome.0, outcome.1
    );
}
