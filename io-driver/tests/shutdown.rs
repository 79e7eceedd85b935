//! Shutdown wakes every waiter with a recognisable error and is idempotent.
// These need a real OS poller; loom builds (`--cfg loom`) only run the lib's loom models.
#![cfg(not(loom))]

mod support;

use std::sync::Arc;
use std::task::{Context, Poll};
use std::thread;
use std::time::Duration;

use eddy_io_driver::Driver;
use eddy_registration::{Interest, is_shutdown_error};
use support::drive::poll_once;
use support::flag_waker::FlagWaker;
use support::net::{quiet_listener, tcp_pair};
use support::register::{add_source, register};

/// Upper bound on one-second parks of the cross-thread waiter (never reached
/// when shutdown wakes it).
const MAX_PARKS: usize = 10;

fn driver() -> Driver {
    Driver::new(Driver::DEFAULT_EVENTS_CAPACITY).expect("driver")
}

#[test]
fn shutdown_wakes_a_parked_poll_read_ready_with_the_shutdown_error() {
    let mut driver = driver();
    let (_client, mut server) = tcp_pair();
    let reg = register(&mut server, Interest::READABLE, driver.handle()).unwrap();
    let (flag, waker) = FlagWaker::new();
    let mut cx = Context::from_waker(&waker);
    assert!(reg.poll_read_ready(&mut cx).is_pending());

    driver.shutdown();
    assert!(flag.take_woken(), "shutdown left the waiter parked");
    match reg.poll_read_ready(&mut cx) {
        Poll::Ready(Err(err)) => assert!(is_shutdown_error(&err), "{err}"),
        other => panic!("expected the shutdown error, got {other:?}"),
    }
    assert!(matches!(
        poll_once(|cx| reg.poll_write_ready(cx)),
        Poll::Ready(Err(_))
    ));
    let err = reg.try_io(Interest::READABLE, || Ok(())).unwrap_err();
    assert!(is_shutdown_error(&err));
}

#[test]
fn shutdown_wakes_a_waiter_blocked_on_another_thread() {
    let mut driver = driver();
    let (_client, mut server) = tcp_pair();
    let reg = register(&mut server, Interest::READABLE, driver.handle()).unwrap();
    let waiter = thread::spawn(move || {
        let (flag, waker) = FlagWaker::new();
        let mut cx = Context::from_waker(&waker);
        // Poll, then park until woken; re-poll only after a wake, as an
        // executor would, so a missing wake cannot be hidden by a re-poll.
        // The park count only bounds a broken build.
        if let Poll::Ready(result) = reg.poll_read_ready(&mut cx) {
            return Some(result);
        }
        for _ in 0..MAX_PARKS {
            thread::park_timeout(Duration::from_secs(1));
            if flag.take_woken() {
                if let Poll::Ready(result) = reg.poll_read_ready(&mut cx) {
                    return Some(result);
                }
            }
        }
        None
    });
    driver.shutdown();
    let result = waiter.join().unwrap().expect("the waiter was never woken");
    let err = result.expect_err("woken, but not with an error");
    assert!(is_shutdown_error(&err), "{err}");
}

#[test]
fn add_source_after_shutdown_fails_with_the_shutdown_error() {
    let mut driver = driver();
    driver.shutdown();
    let mut socket = quiet_listener();
    let err = add_source(driver.handle(), &mut socket, Interest::READABLE)
        .expect_err("add_source succeeded");
    assert!(is_shutdown_error(&err), "{err}");
    let err = register(&mut socket, Interest::READABLE, driver.handle()).unwrap_err();
    assert!(is_shutdown_error(&err), "{err}");
    assert_eq!(driver.handle().num_registered(), 0);
}

#[test]
fn shutting_down_twice_and_then_dropping_is_harmless() {
    let mut driver = driver();
    let handle = driver.handle().clone();
    let mut socket = quiet_listener();
    let mut reg = register(&mut socket, Interest::READABLE, &handle).unwrap();
    driver.shutdown();
    driver.shutdown();
    assert!(handle.is_shutdown());
    drop(driver);
    // The handle outlives the driver: deregistration still works, does not
    // touch the (already emptied) set, and unpark is a no-op.
    // SAFETY: `socket` is the source `reg` was created with.
    unsafe { reg.deregister(&mut socket) }.unwrap();
    handle.unpark();
    assert_eq!(handle.num_pending_release(), 0);
}

#[test]
fn turn_after_shutdown_returns_the_shutdown_error_without_polling() {
    let mut driver = driver();
    driver.shutdown();
    let err = driver.turn(None).unwrap_err();
    assert!(is_shutdown_error(&err), "{err}");
}

#[test]
fn dropping_the_driver_shuts_it_down_and_wakes_waiters() {
    let driver = driver();
    let handle = driver.handle().clone();
    let mut socket = quiet_listener();
    let reg = register(&mut socket, Interest::READABLE, &handle).unwrap();
    let (flag, waker) = FlagWaker::new();
    assert!(
        reg.poll_read_ready(&mut Context::from_waker(&waker))
            .is_pending()
    );

    drop(driver);
    assert!(handle.is_shutdown());
    assert!(flag.take_woken());
    let err = poll_once(|cx| reg.poll_read_ready(cx));
    assert!(matches!(err, Poll::Ready(Err(e)) if is_shutdown_error(&e)));
}

#[test]
fn shutdown_releases_pending_deregistrations() {
    let mut driver = driver();
    let handle = driver.handle().clone();
    let mut socket = quiet_listener();
    let io = add_source(&handle, &mut socket, Interest::READABLE).unwrap();
    // SAFETY: `socket` is the source registered under `io`.
    unsafe { handle.deregister_source(&io, &mut socket) }.unwrap();
    assert_eq!(handle.num_pending_release(), 1);
    driver.shutdown();
    assert_eq!(handle.num_pending_release(), 0);
    assert_eq!(
        Arc::strong_count(&io),
        1,
        "shutdown kept a pending entry alive"
    );
}
