//! A waker that panics (foreign code: another executor's, a test's) costs
//! nobody else their wake-up, in a turn or in shutdown.
// These need a real OS poller; loom builds (`--cfg loom`) only run the lib's loom models.
#![cfg(not(loom))]

mod support;

use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use eddy_io_driver::{Driver, Registration};
use eddy_registration::{Interest, NOTIFY_AFTER, is_shutdown_error};
use support::child::{assert_child_passed, is_child, run_in_child};
use support::drive::SAFETY_NET;
use support::flag_waker::FlagWaker;
use support::net::{quiet_listener, tcp_pair};
use support::register::register;

/// Panics when woken, with a payload the tests recognise.
struct PanickingWaker;

impl Wake for PanickingWaker {
    fn wake(self: Arc<Self>) {
        std::panic::panic_any("panicking waker");
    }
}

fn panicking_waker() -> Waker {
    Waker::from(Arc::new(PanickingWaker))
}

fn payload_text(payload: &(dyn std::any::Any + Send)) -> &str {
    payload.downcast_ref::<&str>().copied().unwrap_or("?")
}

#[test]
fn a_panicking_waker_does_not_cost_the_other_events_of_its_turn_their_wake_up() {
    let mut driver = Driver::new(Driver::DEFAULT_EVENTS_CAPACITY).expect("driver");
    let (mut client_a, mut server_a) = tcp_pair();
    let (mut client_b, mut server_b) = tcp_pair();
    let reg_a = register(&mut server_a, Interest::READABLE, driver.handle()).unwrap();
    let reg_b = register(&mut server_b, Interest::READABLE, driver.handle()).unwrap();

    let doomed = panicking_waker();
    assert!(
        reg_a
            .poll_read_ready(&mut Context::from_waker(&doomed))
            .is_pending()
    );
    let (flag_b, waker_b) = FlagWaker::new();
    assert!(
        reg_b
            .poll_read_ready(&mut Context::from_waker(&waker_b))
            .is_pending()
    );

    // Both sockets are readable before the turn, so one `epoll_wait`
    // returns both events, A's first (epoll reports in readiness order).
    client_a.write_all(b"a").unwrap();
    client_b.write_all(b"b").unwrap();
    let turned = catch_unwind(AssertUnwindSafe(|| driver.turn(Some(SAFETY_NET))));
    let payload = turned.expect_err("A's waker panicked, and the turn says so");
    assert_eq!(payload_text(&*payload), "panicking waker");

    // Before the fix the panic unwound out of the turn before B's event was
    // dispatched, and edge-triggered epoll never reported it again.
    assert!(flag_b.take_woken(), "B's waker was not woken by the turn");
    let mut cx = Context::from_waker(&waker_b);
    assert!(
        reg_b.poll_read_ready(&mut cx).is_ready(),
        "B is not readable"
    );
    drop((client_a, client_b));
}

#[test]
fn shutdown_wakes_every_waiter_even_when_one_waker_panics() {
    let mut driver = Driver::new(Driver::DEFAULT_EVENTS_CAPACITY).expect("driver");
    let (_clients, mut servers): (Vec<_>, Vec<_>) = (0..3).map(|_| tcp_pair()).unzip();
    let regs: Vec<Registration> = servers
        .iter_mut()
        .map(|server| register(server, Interest::READABLE, driver.handle()).unwrap())
        .collect();
    let doomed = panicking_waker();
    let mut flags = Vec::new();
    for (i, reg) in regs.iter().enumerate() {
        let waker = if i == 1 {
            doomed.clone()
        } else {
            let (flag, waker) = FlagWaker::new();
            flags.push(flag);
            waker
        };
        assert!(
            reg.poll_read_ready(&mut Context::from_waker(&waker))
                .is_pending()
        );
    }

    let shut = catch_unwind(AssertUnwindSafe(|| driver.shutdown()));
    let payload = shut.expect_err("the panicking waker's panic comes out of shutdown");
    assert_eq!(payload_text(&*payload), "panicking waker");
    for flag in &flags {
        assert!(flag.take_woken(), "a waiter was left asleep by shutdown");
    }
    let (_flag, waker) = FlagWaker::new();
    for reg in &regs {
        match reg.poll_read_ready(&mut Context::from_waker(&waker)) {
            std::task::Poll::Ready(Err(error)) => assert!(is_shutdown_error(&error), "{error}"),
            other => panic!("expected the shutdown error, got {other:?}"),
        }
    }
}

#[test]
fn a_waker_that_panics_as_its_socket_is_deregistered_skips_none_of_the_bookkeeping() {
    let mut driver = Driver::new(Driver::DEFAULT_EVENTS_CAPACITY).expect("driver");
    let handle = driver.handle().clone();
    // NOTIFY_AFTER - 1 deregistrations queued: the next one must unpark.
    let mut quiet: Vec<_> = (1..NOTIFY_AFTER).map(|_| quiet_listener()).collect();
    for socket in &mut quiet {
        let mut reg = register(socket, Interest::READABLE, &handle).unwrap();
        // SAFETY: `socket` is the source `reg` was created with.
        unsafe { reg.deregister(socket) }.unwrap();
    }
    let (_client, mut server) = tcp_pair();
    let mut reg = register(&mut server, Interest::READABLE, &handle).unwrap();
    let doomed = panicking_waker();
    assert!(
        reg.poll_read_ready(&mut Context::from_waker(&doomed))
            .is_pending()
    );

    // SAFETY: `server` is the source `reg` was created with.
    let deregistered = catch_unwind(AssertUnwindSafe(|| unsafe { reg.deregister(&mut server) }));
    let payload = deregistered.expect_err("the waker's panic reaches the caller");
    assert_eq!(payload_text(&*payload), "panicking waker");

    // Queued, and the driver unparked for the batch, before the wake.
    let stats = driver.turn(Some(SAFETY_NET)).expect("turn");
    assert!(stats.unparked, "the panic skipped the unpark");
    assert_eq!(stats.released, NOTIFY_AFTER);
    // And shut down: a wait on it is an error, not a wait forever.
    let (_flag, waker) = FlagWaker::new();
    match reg.poll_read_ready(&mut Context::from_waker(&waker)) {
        Poll::Ready(Err(err)) => assert!(is_shutdown_error(&err), "{err}"),
        other => panic!("a wait after the deregistration: {other:?}"),
    }
}

/// Drops `value` as a panic of the caller's own unwinds past it, and checks
/// that this panic, and no other, came out: a second panic leaving a
/// `Drop` during unwinding would abort the process instead.
fn drop_while_a_panic_unwinds<T>(value: T) {
    let unwound = catch_unwind(AssertUnwindSafe(move || {
        let _dropped_by_the_unwinding = value;
        std::panic::panic_any("the caller's own panic");
    }));
    let payload = unwound.expect_err("the caller's panic unwinds");
    assert_eq!(payload_text(&*payload), "the caller's own panic");
}

/// A driver dropped while a panic unwinds (the runtime thread's own panic,
/// say, with the driver on its stack) shuts down in its `Drop`, which wakes
/// every waiter. A waker that panicked there had its panic resumed out of
/// that `Drop`: a second panic during unwinding, which aborts the process.
#[test]
#[cfg_attr(miri, ignore = "Miri: cannot start a child process")]
fn a_driver_dropped_while_a_panic_unwinds_wakes_everyone_without_aborting() {
    if !is_child() {
        let output = run_in_child();
        assert_child_passed(&output);
        return;
    }
    let driver = Driver::new(Driver::DEFAULT_EVENTS_CAPACITY).expect("driver");
    let (_clients, mut servers): (Vec<_>, Vec<_>) = (0..2).map(|_| tcp_pair()).unzip();
    let regs: Vec<Registration> = servers
        .iter_mut()
        .map(|server| register(server, Interest::READABLE, driver.handle()).unwrap())
        .collect();
    let doomed = panicking_waker();
    let (flag, waker) = FlagWaker::new();
    for (reg, waker) in regs.iter().zip([&doomed, &waker]) {
        assert!(
            reg.poll_read_ready(&mut Context::from_waker(waker))
                .is_pending()
        );
    }

    drop_while_a_panic_unwinds(driver);
    assert!(flag.take_woken(), "a waiter was left asleep by the drop");
    let (_flag, waker) = FlagWaker::new();
    for reg in &regs {
        match reg.poll_read_ready(&mut Context::from_waker(&waker)) {
            Poll::Ready(Err(error)) => assert!(is_shutdown_error(&error), "{error}"),
            other => panic!("expected the shutdown error, got {other:?}"),
        }
    }

    // The same through an explicit `shutdown` in the `Drop` of whatever
    // owns the driver.
    struct Owner(Driver);
    impl Drop for Owner {
        fn drop(&mut self) {
            self.0.shutdown();
        }
    }
    let owner = Owner(Driver::new(Driver::DEFAULT_EVENTS_CAPACITY).expect("driver"));
    let (_client, mut server) = tcp_pair();
    let reg = register(&mut server, Interest::READABLE, owner.0.handle()).unwrap();
    assert!(
        reg.poll_read_ready(&mut Context::from_waker(&doomed))
            .is_pending()
    );
    drop_while_a_panic_unwinds(owner);
    assert!(reg.handle().is_shutdown());
}

/// A socket type deregisters in its `Drop`, and may be dropped while a
/// panic unwinds. Deregistering shuts the resource down, which wakes its
/// waiters; a waker's panic going on from there was a second panic during
/// unwinding, and the process aborted.
#[test]
#[cfg_attr(miri, ignore = "Miri: cannot start a child process")]
fn a_deregistration_while_a_panic_unwinds_survives_a_panicking_waker() {
    if !is_child() {
        let output = run_in_child();
        assert_child_passed(&output);
        return;
    }

    /// What a socket type looks like: its source and its registration,
    /// deregistered when it is dropped.
    struct Socket {
        source: mio::net::TcpStream,
        reg: Registration,
    }
    impl Drop for Socket {
        fn drop(&mut self) {
            // SAFETY: `source` is the source `reg` was created with.
            let _ignored = unsafe { self.reg.deregister(&mut self.source) };
        }
    }

    let driver = Driver::new(Driver::DEFAULT_EVENTS_CAPACITY).expect("driver");
    let (_client, mut source) = tcp_pair();
    let reg = register(&mut source, Interest::READABLE, driver.handle()).unwrap();
    assert!(
        reg.poll_read_ready(&mut Context::from_waker(&panicking_waker()))
            .is_pending()
    );
    let socket = Socket { source, reg };

    drop_while_a_panic_unwinds(socket);
    assert_eq!(driver.handle().num_pending_release(), 1);
}
