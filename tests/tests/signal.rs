//! Signals end to end: the test process sends itself real signals with
//! `raise` and listens with `eddy::signal`.
//!
//! Tests in this binary run in parallel threads, and a signal is
//! process-wide, so each test uses its own signal number: a test counting
//! deliveries never sees another test's. A test raises a signal only after
//! its listener exists: the listener installs eddy's handler, which
//! replaces the default action (for SIGINT and SIGHUP: killing the test
//! binary). Every wait is bounded by `woken_within`, so a lost delivery
//! fails the test instead of hanging it; its deadline wins every tie, so a
//! listener that nothing woke cannot pass by being polled at the deadline.

#![cfg(unix)]

use std::future::{Future, poll_fn};
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use eddy::signal::unix::{Signal, SignalKind, signal};
use eddy_tests::child_process::{child_role, run_alone, run_child};
use eddy_tests::{fill_descriptor_table, open_descriptors, poll_once, woken_within};

/// Long enough for any noisy machine; only reached when a delivery is lost.
const LIMIT: Duration = Duration::from_secs(20);

/// The signal number of the test that passes `slot` (0 to 4): no other
/// test in this binary raises it or listens for it. Linux lends `SIGPWR`
/// and its real-time signals; macOS and FreeBSD, whose `libc` has neither,
/// lend two signals Linux lacks (`SIGINFO`, `SIGEMT`) and three that no
/// other test here raises (each test listens before it raises, so
/// `SIGTSTP` stops nothing).
fn own_signal(slot: usize) -> i32 {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let own = [
        libc::SIGPWR,
        libc::SIGRTMIN() + 1,
        libc::SIGRTMIN() + 2,
        libc::SIGRTMIN() + 3,
        libc::SIGRTMIN() + 4,
    ];
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let own = [
        libc::SIGINFO,
        libc::SIGEMT,
        libc::SIGCONT,
        libc::SIGTRAP,
        libc::SIGTSTP,
    ];
    own[slot]
}

/// Sends `signum` to this thread. The handler has run when this returns.
fn raise(signum: i32) {
    // SAFETY: raise(3) only sends a signal; every caller has a listener
    // (and so eddy's handler) installed for `signum` first.
    let rc = unsafe { libc::raise(signum) };
    assert_eq!(
        rc,
        0,
        "raise({signum}) failed: {}",
        io::Error::last_os_error()
    );
}

/// Waits for the next delivery on `listener`, failing the test after
/// [`LIMIT`].
async fn recv_within_limit(listener: &mut Signal) {
    let received = woken_within(LIMIT, listener.recv()).await;
    assert_eq!(
        received,
        Some(Some(())),
        "no delivery woke it within {LIMIT:?}"
    );
}

#[test]
fn ctrl_c_completes_when_the_process_receives_sigint() {
    eddy::run(async {
        let mut ctrl_c = pin!(eddy::signal::ctrl_c());
        // The first poll installs the handler and starts listening; only
        // then is raising SIGINT safe (and guaranteed to be seen).
        assert!(
            poll_once(ctrl_c.as_mut()).await.is_pending(),
            "ctrl_c finished before any SIGINT"
        );
        raise(libc::SIGINT);
        let result = woken_within(LIMIT, ctrl_c)
            .await
            .expect("no SIGINT woke it within the limit");
        result.expect("ctrl_c failed");
    });
}

#[test]
fn a_signal_stream_receives_each_of_two_deliveries() {
    eddy::run(async {
        let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
        // Raised before anyone polls: kept for the listener all the same.
        raise(libc::SIGUSR1);
        recv_within_limit(&mut usr1).await;
        raise(libc::SIGUSR1);
        recv_within_limit(&mut usr1).await;
        // Both deliveries were consumed: nothing is left to receive.
        assert!(poll_once(pin!(usr1.recv())).await.is_pending());
    });
}

#[test]
fn two_listeners_on_one_signal_both_see_a_delivery() {
    eddy::run(async {
        let mut first = signal(SignalKind::hangup()).unwrap();
        let mut second = signal(SignalKind::hangup()).unwrap();
        raise(libc::SIGHUP);
        recv_within_limit(&mut first).await;
        recv_within_limit(&mut second).await;
    });
}

#[test]
fn deliveries_while_nobody_polls_coalesce_into_one() {
    eddy::run(async {
        let mut winch = signal(SignalKind::window_change()).unwrap();
        raise(libc::SIGWINCH);
        raise(libc::SIGWINCH);
        recv_within_limit(&mut winch).await;
        assert!(
            poll_once(pin!(winch.recv())).await.is_pending(),
            "the second delivery was reported separately"
        );
    });
}

#[test]
fn hundreds_of_tasks_waiting_on_one_signal_are_all_woken_by_one_delivery() {
    eddy::run(async {
        let tasks: Vec<_> = (0..300)
            .map(|_| {
                let mut listener = signal(SignalKind::user_defined2()).unwrap();
                eddy::spawn(async move { woken_within(LIMIT, listener.recv()).await })
            })
            .collect();
        // Let the tasks park in `recv` (those still queued when the signal
        // comes see it on their first poll: they listened before it).
        eddy::task::yield_now().await;
        raise(libc::SIGUSR2);
        for (i, task) in tasks.into_iter().enumerate() {
            assert_eq!(task.await.unwrap(), Some(Some(())), "task {i}");
        }
    });
}

#[test]
fn a_delivery_wakes_no_listener_of_another_signal() {
    eddy::run(async {
        let mut cpu = signal(SignalKind::from_raw(libc::SIGXCPU)).unwrap();
        let mut size = signal(SignalKind::from_raw(libc::SIGXFSZ)).unwrap();
        let mut size_recv = pin!(size.recv());
        assert!(
            poll_once(size_recv.as_mut()).await.is_pending(),
            "SIGXFSZ before any"
        );
        raise(libc::SIGXCPU);
        recv_within_limit(&mut cpu).await;
        // Both listeners were woken by the runtime's one pipe; the SIGXFSZ
        // one must have looked at its own counter and gone back to waiting.
        assert!(
            poll_once(size_recv.as_mut()).await.is_pending(),
            "a SIGXCPU was reported to a SIGXFSZ listener"
        );
    });
}

#[test]
fn listeners_on_two_runtimes_both_see_one_delivery() {
    use std::sync::{Arc, Barrier};
    // Both runtimes have registered their own copy of the signal pipe; the
    // one byte the handler writes wakes both, whichever drains it.
    let listening = Arc::new(Barrier::new(3));
    let runtimes: Vec<_> = (0..2)
        .map(|_| {
            let listening = listening.clone();
            std::thread::spawn(move || {
                eddy::run(async move {
                    let mut listener = signal(SignalKind::from_raw(libc::SIGVTALRM)).unwrap();
                    listening.wait();
                    woken_within(LIMIT, listener.recv()).await
                })
            })
        })
        .collect();
    listening.wait();
    raise(libc::SIGVTALRM);
    for runtime in runtimes {
        assert_eq!(runtime.join().unwrap(), Some(Some(())));
    }
}

#[test]
fn listeners_after_a_runtimes_first_take_no_descriptor() {
    run_alone(listen_a_thousand_times_with_no_descriptor_left);
}

/// The child's side: once the runtime has its copy of the signal pipe,
/// a thousand more listeners need no descriptor (there are none left), and
/// every one of them sees the delivery.
fn listen_a_thousand_times_with_no_descriptor_left() {
    eddy::run(async {
        let mut first = signal(SignalKind::from_raw(libc::SIGPROF)).unwrap();
        let _full = fill_descriptor_table(32);
        let mut more: Vec<Signal> = (0..1000)
            .map(|i| {
                signal(SignalKind::from_raw(libc::SIGPROF))
                    .unwrap_or_else(|err| panic!("listener {i} failed: {err}"))
            })
            .collect();
        raise(libc::SIGPROF);
        recv_within_limit(&mut first).await;
        for listener in &mut more {
            recv_within_limit(listener).await;
        }
    });
}

#[test]
fn signal_outside_a_runtime_is_an_error() {
    let err = signal(SignalKind::user_defined1()).expect_err("no runtime, yet a listener");
    assert!(
        err.to_string().contains("runtime"),
        "unhelpful error: {err}"
    );
}

#[test]
fn signals_that_cannot_be_handled_are_refused() {
    eddy::run(async {
        for signum in [
            libc::SIGKILL,
            libc::SIGSTOP,
            libc::SIGSEGV,
            libc::SIGBUS,
            libc::SIGILL,
            libc::SIGFPE,
            0,
            -1,
            129,
            i32::MAX,
            // Above Linux's and macOS's signals; FreeBSD's first real-time one.
            #[cfg(not(any(target_os = "freebsd", target_os = "dragonfly")))]
            65,
        ] {
            let err = signal(SignalKind::from_raw(signum)).expect_err("accepted");
            assert_eq!(
                err.kind(),
                io::ErrorKind::InvalidInput,
                "signal {signum}: {err}"
            );
        }
    });
}

#[test]
fn recv_returns_none_for_good_after_its_runtime_shut_down() {
    let runtime = eddy::Runtime::new().unwrap();
    let mut term = runtime.block_on(async { signal(SignalKind::terminate()).unwrap() });
    drop(runtime);
    let received = eddy::run(async { woken_within(LIMIT, term.recv()).await });
    assert_eq!(received, Some(None));
    // The listener installed eddy's handler, so this SIGTERM only counts.
    // The stream has ended: a delivery after that must not revive it.
    raise(libc::SIGTERM);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    assert_eq!(term.poll_recv(&mut cx), Poll::Ready(None));
}

#[test]
fn listeners_come_and_go_while_another_thread_sends_signals() {
    // SIGCHLD's default action is to do nothing, so the sender may start
    // before any listener exists. `kill` lets the kernel pick the thread
    // that runs the handler, so handlers run concurrently with the
    // listeners below, each of which makes and drops the runtime's copy of
    // the signal pipe: a handler must never write into a closed (and
    // perhaps reused) descriptor, and no delivery may be lost.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sender = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                // SAFETY: kill(2) on our own pid with SIGCHLD, whose
                // default action is to ignore it.
                unsafe { libc::kill(libc::getpid(), libc::SIGCHLD) };
                std::thread::yield_now();
            }
        })
    };
    eddy::run(async {
        for _ in 0..500 {
            let mut child = signal(SignalKind::child()).unwrap();
            // Sometimes a delivery is waiting, sometimes not: either way
            // one poll must neither hang nor fail.
            let _ = poll_once(pin!(child.recv())).await;
        }
        let mut child = signal(SignalKind::child()).unwrap();
        raise(libc::SIGCHLD);
        recv_within_limit(&mut child).await;
    });
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    sender.join().unwrap();
}

#[test]
fn a_signal_call_that_fails_for_want_of_a_descriptor_leaves_sigterm_deadly() {
    if child_role().as_deref() == Some("full_table") {
        return fail_to_listen_then_raise_sigterm();
    }
    let output = run_child("full_table");
    assert_eq!(
        output.status.signal(),
        Some(libc::SIGTERM),
        "the child outlived SIGTERM after a failed signal(): the failed call left \
         eddy's handler installed ({})\nstdout:\n{}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
}

/// The child's side: with every descriptor taken, `signal` fails; SIGTERM
/// must then still take its default action and end this process.
fn fail_to_listen_then_raise_sigterm() {
    eddy::run(async {
        let _full = fill_descriptor_table(32);
        let err = signal(SignalKind::terminate()).expect_err("a listener without a descriptor");
        assert_eq!(err.raw_os_error(), Some(libc::EMFILE), "{err}");
    });
    raise(libc::SIGTERM);
    println!("survived SIGTERM");
}

#[test]
fn a_busy_runtimes_listener_is_woken_after_another_runtime_drained_the_pipe() {
    // Its own process: any other test's signal would wake the busy
    // runtime's listener anyway and hide a lost wake-up.
    run_alone(drain_the_pipe_while_another_runtime_is_busy);
}

/// The child's side. Every runtime's copy of the read end is its own epoll
/// registration of one and the same pipe, and epoll reports an edge only if
/// the pipe is still readable when `epoll_wait` collects it. So when the
/// signal arrives while one runtime is busy (its thread not in
/// `epoll_wait`) and another runtime drains the pipe first, the busy one
/// never hears of the byte: its listener must be woken some other way.
fn drain_the_pipe_while_another_runtime_is_busy() {
    use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
    use std::sync::{Arc, mpsc};
    let (parked_tx, parked_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let busy = std::thread::spawn(move || {
        eddy::run(async move {
            let mut listener = signal(SignalKind::from_raw(libc::SIGURG)).unwrap();
            let polled = Arc::new(AtomicBool::new(false));
            let waiter = eddy::spawn({
                let polled = polled.clone();
                async move {
                    let mut recv = pin!(listener.recv());
                    // Parked, with the runtime's copy registered: from here
                    // on only a wake polls this task again.
                    assert!(
                        poll_once(recv.as_mut()).await.is_pending(),
                        "SIGURG before any"
                    );
                    polled.store(true, SeqCst);
                    woken_within(LIMIT, recv).await
                }
            });
            while !polled.load(SeqCst) {
                eddy::task::yield_now().await;
            }
            parked_tx.send(()).unwrap();
            // Busy: this thread turns no driver until it is told to, after
            // the signal came and the other runtime drained the pipe.
            go_rx.recv().unwrap();
            waiter.await.unwrap()
        })
    });
    parked_rx.recv().unwrap();
    raise(libc::SIGURG);
    drain_the_pipe_from_a_new_runtime(libc::SIGTTIN);
    go_tx.send(()).unwrap();
    assert_eq!(
        busy.join().unwrap(),
        Some(Some(())),
        "the busy runtime's listener missed the SIGURG that another runtime drained"
    );
}

/// Drains the signal pipe from a runtime of its own, through a listener
/// for `signum` (which must not arrive). The listener is made after the
/// byte, so the runtime's copy of the pipe is readable from its first
/// turn: the first poll parks, only the driver reporting the pipe readable
/// wakes the future, and the second poll drains the pipe.
fn drain_the_pipe_from_a_new_runtime(signum: i32) {
    eddy::run(async {
        let mut drainer = signal(SignalKind::from_raw(signum)).unwrap();
        let mut recv = pin!(drainer.recv());
        let mut polls = 0;
        let drained = woken_within(
            LIMIT,
            poll_fn(|cx| {
                polls += 1;
                assert!(
                    recv.as_mut().poll(cx).is_pending(),
                    "signal {signum} before any"
                );
                if polls == 2 {
                    Poll::Ready(())
                } else {
                    Poll::Pending
                }
            }),
        )
        .await;
        assert_eq!(drained, Some(()), "the pipe never turned readable");
    });
}

#[test]
fn a_listener_whose_waker_panics_costs_neither_the_other_listeners_nor_the_drainer() {
    // Its own process: the drain must be this test's, not another test's.
    run_alone(drain_past_a_panicking_waker);
}

/// The child's side: two listeners of an idle runtime wait, the first with
/// a waker that panics; another runtime drains the pipe and so wakes them.
/// The second must still be woken, and the panic (foreign code of another
/// runtime's listener) must not fail the task that happened to drain.
fn drain_past_a_panicking_waker() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
    use std::task::{Context, Wake, Waker};

    /// Sets its flag when woken.
    struct Flag(
        /// Whether the waker was woken: what the test asserts on.
        AtomicBool,
    );
    impl Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.store(true, SeqCst);
        }
    }

    let idle = eddy::Runtime::new().unwrap();
    let kind = SignalKind::from_raw(own_signal(0));
    let (mut doomed, mut other) =
        idle.block_on(async { (signal(kind).unwrap(), signal(kind).unwrap()) });
    // Parked in the idle runtime's hub, the doomed one first.
    let panicking = eddy_tests::panicking_waker("a signal listener's waker panics");
    let mut cx = Context::from_waker(&panicking);
    assert!(
        doomed.poll_recv(&mut cx).is_pending(),
        "a delivery before any"
    );
    let flag = Arc::new(Flag(AtomicBool::new(false)));
    let waker = Waker::from(flag.clone());
    let mut cx = Context::from_waker(&waker);
    assert!(
        other.poll_recv(&mut cx).is_pending(),
        "a delivery before any"
    );

    raise(own_signal(0));
    drain_the_pipe_from_a_new_runtime(libc::SIGSYS);
    assert!(
        flag.0.load(SeqCst),
        "the listener behind a panicking waker was never woken"
    );
    let mut cx = Context::from_waker(Waker::noop());
    assert_eq!(other.poll_recv(&mut cx), Poll::Ready(Some(())));
}

#[test]
fn listeners_and_runtimes_that_come_and_go_leave_no_descriptor_behind() {
    // Its own process: other tests open and close descriptors meanwhile.
    run_alone(count_descriptors_around_listeners_that_come_and_go);
}

/// The child's side: after the first listener made the process's pipe
/// (two descriptors for good), runtimes whose listeners receive, drop,
/// and outlive them give every descriptor back.
fn count_descriptors_around_listeners_that_come_and_go() {
    let kind = SignalKind::from_raw(libc::SIGTTOU);
    eddy::run(async { drop(signal(kind).unwrap()) });
    let before = open_descriptors();
    for _ in 0..50 {
        let runtime = eddy::Runtime::new().unwrap();
        let mut escaped = runtime.block_on(async {
            let mut first = signal(kind).unwrap();
            let mut second = signal(kind).unwrap();
            raise(libc::SIGTTOU);
            recv_within_limit(&mut first).await;
            recv_within_limit(&mut second).await;
            drop((first, second));
            // The hub is made again for this one, and outlives the runtime.
            signal(kind).unwrap()
        });
        drop(runtime);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        assert_eq!(escaped.poll_recv(&mut cx), Poll::Ready(None));
        drop(escaped);
    }
    assert_eq!(open_descriptors(), before, "descriptors leaked");
}

#[test]
fn a_listener_waiting_on_another_thread_gets_none_when_its_runtime_is_dropped() {
    use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
    use std::sync::{Arc, mpsc};
    let runtime = eddy::Runtime::new().unwrap();
    let kind = SignalKind::from_raw(own_signal(1));
    let mut listener = runtime.block_on(async { signal(kind).unwrap() });
    let parked = Arc::new(AtomicBool::new(false));
    let (done_tx, done_rx) = mpsc::channel();
    let waiter = {
        let parked = parked.clone();
        std::thread::spawn(move || {
            let mut first = true;
            let received = eddy_tests::block_on_parked(poll_fn(|cx| {
                let poll = listener.poll_recv(cx);
                if std::mem::take(&mut first) {
                    assert!(poll.is_pending(), "a delivery before any");
                    parked.store(true, SeqCst);
                }
                poll
            }));
            done_tx.send(received).unwrap();
        })
    };
    while !parked.load(SeqCst) {
        std::thread::yield_now();
    }
    // The listener waits on another thread; its runtime goes away.
    drop(runtime);
    let received = done_rx
        .recv_timeout(LIMIT)
        .expect("the waiting listener was not woken by its runtime's shutdown");
    assert_eq!(received, None);
    waiter.join().unwrap();
}

#[test]
fn a_delivery_that_finds_the_pipe_full_leaves_the_interrupted_threads_errno_alone() {
    // Its own process: it fills the process's signal pipe, which would
    // starve every other test's listeners of their wake-up byte.
    run_alone(raise_between_a_failed_call_and_its_errno);
}

/// The child's side. A signal may land between a failed call and the read
/// of its `errno`; the handler must leave `errno` as it found it. Its
/// write to the pipe fails (`EAGAIN`) once the pipe is full, as it is when
/// no runtime has drained it for 64 KiB of deliveries: here the runtime
/// that made the pipe is gone, so nothing drains it.
fn raise_between_a_failed_call_and_its_errno() {
    let kind = SignalKind::from_raw(libc::SIGUSR2);
    eddy::run(async { drop(signal(kind).unwrap()) });
    // More deliveries than any pipe of the default size holds.
    for _ in 0..(1 << 17) {
        raise(libc::SIGUSR2);
    }
    // SAFETY: closing -1 closes nothing; it only fails with `EBADF`.
    let rc = unsafe { libc::close(-1) };
    assert_eq!(rc, -1);
    raise(libc::SIGUSR2);
    assert_eq!(
        io::Error::last_os_error().raw_os_error(),
        Some(libc::EBADF),
        "the signal handler overwrote the errno of the call it interrupted"
    );
}

#[test]
fn ctrl_c_fails_with_the_shutdown_error_once_its_runtime_shut_down() {
    // Its own process: `ctrl_c_completes_when_the_process_receives_sigint`
    // raises SIGINT here, which would complete this `ctrl_c` with `Ok`.
    run_alone(wait_for_ctrl_c_past_its_runtime);
}

/// The child's side: a `ctrl_c` that started listening on a runtime, then
/// polled again once that runtime is gone, reports the shutdown instead of
/// a Ctrl-C nobody pressed.
fn wait_for_ctrl_c_past_its_runtime() {
    let runtime = eddy::Runtime::new().unwrap();
    let mut waiting = Box::pin(eddy::signal::ctrl_c());
    runtime.block_on(async {
        assert!(
            poll_once(waiting.as_mut()).await.is_pending(),
            "ctrl_c finished before any SIGINT"
        );
    });
    drop(runtime);
    let result = eddy::run(async { woken_within(LIMIT, waiting).await })
        .expect("the ctrl_c of a runtime that shut down was never woken");
    let err = result.expect_err("ctrl_c reported a Ctrl-C that never came");
    assert!(
        eddy::is_shutdown_error(&err),
        "not the shutdown error: {err}"
    );
}

/// Not on macOS, whose highest signal is one another test raises
/// (`SIGUSR2`).
#[cfg(any(
    target_os = "linux",
    target_os = "android",
    target_os = "freebsd",
    target_os = "dragonfly"
))]
#[test]
fn the_highest_signal_number_can_be_listened_for() {
    // 64 on Linux, in the last slot of the delivery counters; 126 on
    // FreeBSD and DragonFly, whose `libc` crate has no `SIGRTMAX`.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let signum = libc::SIGRTMAX();
    #[cfg(any(target_os = "freebsd", target_os = "dragonfly"))]
    let signum = 126;
    eddy::run(async move {
        let mut listener =
            signal(SignalKind::from_raw(signum)).expect("the highest signal number is refused");
        raise(signum);
        recv_within_limit(&mut listener).await;
    });
}

#[test]
fn a_listener_first_polled_with_another_waker_wakes_the_task_that_waits_on_it() {
    let signum = own_signal(2);
    eddy::run(async move {
        let mut listener = signal(SignalKind::from_raw(signum)).unwrap();
        // Polled once with a waker that wakes nobody (as a `select!` arm or
        // a timeout that gave up on it would leave it)...
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        assert!(
            listener.poll_recv(&mut cx).is_pending(),
            "a delivery before any"
        );
        // ...then awaited by this task: its waker must take the old one's
        // place, or the delivery wakes nobody. Raised by another task, so
        // only once this one waits.
        eddy::spawn(async move { raise(signum) });
        recv_within_limit(&mut listener).await;
    });
}

#[test]
fn a_dropped_listener_lets_go_of_the_waker_it_waited_with() {
    // Its own process: another test's drain wakes (and so lets go of) every
    // waiting listener's waker, which would hide one kept by mistake.
    run_alone(drop_a_waiting_listener);
}

/// The child's side: a listener parks a counted waker, and dropping the
/// listener must drop that waker while its runtime's other listener keeps
/// the hub (and its list of wakers) alive.
fn drop_a_waiting_listener() {
    use std::sync::Arc;
    use std::task::{Context, Wake, Waker};
    struct Nobody;
    impl Wake for Nobody {
        fn wake(self: Arc<Self>) {}
    }
    eddy::run(async {
        let kind = SignalKind::from_raw(own_signal(3));
        let _keeps_the_hub = signal(kind).unwrap();
        let mut listener = signal(kind).unwrap();
        let nobody = Arc::new(Nobody);
        let waker = Waker::from(Arc::clone(&nobody));
        let pending = listener.poll_recv(&mut Context::from_waker(&waker));
        assert!(pending.is_pending(), "a delivery before any");
        drop(waker);
        assert_eq!(
            Arc::strong_count(&nobody),
            2,
            "the waiting listener holds no clone of its waker"
        );
        drop(listener);
        assert_eq!(
            Arc::strong_count(&nobody),
            1,
            "the dropped listener's waker is still held by its runtime"
        );
    });
}

#[test]
fn each_named_signal_kind_is_its_signals_number() {
    let named = [
        (SignalKind::alarm(), libc::SIGALRM),
        (SignalKind::child(), libc::SIGCHLD),
        (SignalKind::hangup(), libc::SIGHUP),
        (SignalKind::interrupt(), libc::SIGINT),
        (SignalKind::io(), libc::SIGIO),
        (SignalKind::pipe(), libc::SIGPIPE),
        (SignalKind::quit(), libc::SIGQUIT),
        (SignalKind::terminate(), libc::SIGTERM),
        (SignalKind::user_defined1(), libc::SIGUSR1),
        (SignalKind::user_defined2(), libc::SIGUSR2),
        (SignalKind::window_change(), libc::SIGWINCH),
    ];
    for (kind, signum) in named {
        assert_eq!(kind.as_raw_value(), signum, "{kind:?}");
        assert_eq!(SignalKind::from_raw(signum), kind);
    }
}

#[test]
fn a_delivery_while_recv_was_dropped_is_seen_by_the_next_recv() {
    let signum = own_signal(4);
    for seed in [0x9E37_79B9_u64, 0xC0FF_EE11, 0x5EED_0003] {
        eddy::run(async move {
            let mut rng = eddy_tests::XorShift(seed);
            let mut listener = signal(SignalKind::from_raw(signum)).unwrap();
            for round in 0..100 {
                // A `recv` polled once to a few times, the signal raised
                // while it waits or just after it was dropped, and the
                // drop: the losing side of a `select`.
                let raise_while_waiting = rng.below(2) == 0;
                {
                    let mut recv = pin!(listener.recv());
                    for _ in 0..1 + rng.below(3) {
                        assert!(
                            poll_once(recv.as_mut()).await.is_pending(),
                            "seed {seed:#x}, round {round}: a delivery before any"
                        );
                        eddy::task::yield_now().await;
                    }
                    if raise_while_waiting {
                        raise(signum);
                    }
                }
                if !raise_while_waiting {
                    raise(signum);
                }
                let received = woken_within(LIMIT, listener.recv()).await;
                assert_eq!(
                    received,
                    Some(Some(())),
                    "seed {seed:#x}, round {round}: the delivery was lost with the dropped recv"
                );
                // Seen once: the next recv waits for the next delivery.
                assert!(
                    poll_once(pin!(listener.recv())).await.is_pending(),
                    "seed {seed:#x}, round {round}: one delivery seen twice"
                );
            }
        });
    }
}

#[test]
fn a_sigint_that_a_dropped_ctrl_c_had_not_reported_is_lost() {
    // Its own process: SIGINT is also another test's signal, and its
    // delivery would reach this one's listeners.
    run_alone(drop_a_ctrl_c_with_its_delivery);
}

/// The child's side: what `ctrl_c`'s "not cancel safe" means. A delivery
/// that arrives while one `ctrl_c()` waits, then that future is dropped
/// (the losing side of a race), is not seen by the next `ctrl_c()`; a
/// listener made once with `signal` keeps it for its next `recv`.
fn drop_a_ctrl_c_with_its_delivery() {
    eddy::run(async {
        {
            let mut ctrl_c = pin!(eddy::signal::ctrl_c());
            assert!(
                poll_once(ctrl_c.as_mut()).await.is_pending(),
                "ctrl_c finished before any SIGINT"
            );
            raise(libc::SIGINT);
        }
        let mut next = pin!(eddy::signal::ctrl_c());
        assert!(
            poll_once(next.as_mut()).await.is_pending(),
            "the next ctrl_c saw a SIGINT raised before it listened"
        );

        // The way to race Ctrl-C without losing one: a listener made once.
        let mut interrupts = signal(SignalKind::interrupt()).unwrap();
        {
            let mut recv = pin!(interrupts.recv());
            assert!(poll_once(recv.as_mut()).await.is_pending());
            raise(libc::SIGINT);
        }
        recv_within_limit(&mut interrupts).await;
    });
}

#[test]
fn a_loop_whose_every_recv_finds_a_delivery_yields_to_other_tasks() {
    // Its own process: the loop leaves thousands of bytes in the pipe.
    run_alone(receive_in_a_loop_that_never_waits);
}

/// The child's side: a task that raises its signal before each `recv`
/// always finds a delivery, as a listener does under a flood (SIGCHLD
/// from many children exiting). Like a read loop on an always-ready
/// socket, it must still yield once its cooperative budget is spent, or
/// every other task, timer and socket of its runtime starves.
fn receive_in_a_loop_that_never_waits() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
    const ROUNDS: u32 = 10_000;
    eddy::run(async {
        let other_ran = Arc::new(AtomicBool::new(false));
        let mut listener = signal(SignalKind::user_defined1()).unwrap();
        let looping = eddy::spawn({
            let other_ran = other_ran.clone();
            async move {
                let mut rounds = 0;
                while !other_ran.load(SeqCst) && rounds < ROUNDS {
                    raise(libc::SIGUSR1);
                    assert_eq!(listener.recv().await, Some(()));
                    rounds += 1;
                }
                rounds
            }
        });
        let other = eddy::spawn({
            let other_ran = other_ran.clone();
            async move { other_ran.store(true, SeqCst) }
        });
        let rounds = looping.await.unwrap();
        other.await.unwrap();
        assert!(
            rounds < ROUNDS,
            "{ROUNDS} recvs that each found a delivery never yielded to the other task"
        );
    });
}
