//! Registration bookkeeping: nothing leaks, and deregistrations wake the driver.
// These need a real OS poller; loom builds (`--cfg loom`) only run the lib's loom models.
#![cfg(not(loom))]

mod support;

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::task::Context;
use std::thread;

use eddy_io_driver::{Driver, Handle, Registration};
use eddy_registration::{Direction, Interest, NOTIFY_AFTER, is_shutdown_error};
use support::drive::{SAFETY_NET, turn_until_event};
use support::flag_waker::FlagWaker;
use support::net::quiet_listener;
use support::register::{add_source, register};

fn driver() -> Driver {
    Driver::new(Driver::DEFAULT_EVENTS_CAPACITY).expect("driver")
}

#[test]
fn handle_is_send_sync_clone_and_driver_is_send() {
    fn assert_send_sync_clone<T: Send + Sync + Clone>() {}
    fn assert_send<T: Send>() {}
    assert_send_sync_clone::<Handle>();
    assert_send::<Driver>();
    assert_send::<Registration>();
}

#[test]
fn zero_events_capacity_is_refused_with_invalid_input() {
    let err = Driver::new(0).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
}

/// A capacity no poll can use: above what one `epoll_wait` accepts
/// (`INT_MAX` bytes of events) the driver was made, and every turn failed
/// with `EINVAL`; at `usize::MAX` the events buffer panicked ("capacity
/// overflow"); in between (`1 << 32`, say) its allocation failed and
/// aborted the process, so that one is not tried here.
#[test]
fn an_events_capacity_beyond_what_one_poll_can_return_is_refused_with_invalid_input() {
    let too_big = i32::MAX as usize / std::mem::size_of::<mio::event::Event>() + 1;
    for capacity in [usize::MAX, too_big] {
        let made = std::panic::catch_unwind(|| Driver::new(capacity).map(drop));
        let made = made.unwrap_or_else(|_| panic!("Driver::new({capacity}) panicked"));
        let err = made.expect_err("a capacity no poll can use was accepted");
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{capacity}: {err}");
    }
}

#[test]
fn a_thousand_deregistered_sources_are_released_by_one_turn() {
    let mut driver = driver();
    let handle = driver.handle().clone();
    let mut ios = Vec::new();
    for _ in 0..1000 {
        let mut socket = quiet_listener();
        let io = add_source(&handle, &mut socket, Interest::READABLE).unwrap();
        // One reference here, one in the set.
        assert_eq!(Arc::strong_count(&io), 2);
        // SAFETY: `socket` is the source registered under `io`.
        unsafe { handle.deregister_source(&io, &mut socket) }.unwrap();
        ios.push(io);
    }
    assert_eq!(handle.num_registered(), 1000);
    assert_eq!(handle.num_pending_release(), 1000);

    let stats = driver.turn(Some(std::time::Duration::ZERO)).unwrap();
    assert_eq!(stats.released, 1000);
    assert_eq!(handle.num_registered(), 0);
    assert_eq!(handle.num_pending_release(), 0);
    assert!(
        ios.iter().all(|io| Arc::strong_count(io) == 1),
        "the set kept a reference"
    );
}

#[test]
fn a_thousand_deregistered_registrations_are_released_by_one_turn() {
    let mut driver = driver();
    for _ in 0..1000 {
        let mut socket = quiet_listener();
        let mut reg = register(&mut socket, Interest::READABLE, driver.handle()).unwrap();
        // SAFETY: `socket` is the source `reg` was created with.
        unsafe { reg.deregister(&mut socket) }.unwrap();
        drop(reg);
        drop(socket);
    }
    assert_eq!(driver.handle().num_registered(), 1000);
    let stats = driver.turn(Some(std::time::Duration::ZERO)).unwrap();
    assert_eq!(stats.released, 1000);
    assert_eq!(driver.handle().num_registered(), 0);
}

#[test]
fn a_registration_dropped_without_deregister_stays_registered_until_shutdown() {
    let mut driver = driver();
    let mut socket = quiet_listener();
    let reg = register(&mut socket, Interest::READABLE, driver.handle()).unwrap();
    drop(reg);
    // The source is still open and still in epoll: its events must keep
    // landing in a live ScheduledIo, so nothing may have been released.
    let addr = socket.local_addr().unwrap();
    let _client = std::net::TcpStream::connect(addr).unwrap();
    let mut events = 0;
    for _ in 0..100 {
        let stats = driver
            .turn(Some(std::time::Duration::from_millis(10)))
            .unwrap();
        assert_eq!(stats.released, 0);
        events += stats.events;
        if events > 0 {
            break;
        }
    }
    assert_eq!(events, 1, "the open source's event was not delivered");
    assert_eq!(driver.handle().num_registered(), 1);
    driver.shutdown();
    assert_eq!(driver.handle().num_registered(), 0);
}

#[test]
fn deregister_source_cleans_up_even_when_the_os_call_fails() {
    let mut driver = driver();
    let handle = driver.handle().clone();
    let mut socket = quiet_listener();
    let io = add_source(&handle, &mut socket, Interest::READABLE).unwrap();
    // Closing the fd already removed it from the poller; the OS has nothing
    // left to deregister. A never-registered socket stands in for it.
    drop(socket);
    let mut stand_in = quiet_listener();
    // SAFETY: the registered source's fd is closed (and was never
    // duplicated), which the contract allows in place of the source itself.
    assert!(unsafe { handle.deregister_source(&io, &mut stand_in) }.is_err());

    assert_eq!(handle.num_pending_release(), 1);
    assert_eq!(
        driver
            .turn(Some(std::time::Duration::ZERO))
            .unwrap()
            .released,
        1
    );
    assert_eq!(Arc::strong_count(&io), 1);
    assert_eq!(handle.num_registered(), 0);
}

// epoll refuses a second registration of the same fd (EEXIST); kqueue
// would accept it as an update, so this is a Linux-only way to make mio fail.
#[cfg(target_os = "linux")]
#[test]
fn add_source_refused_by_the_os_returns_its_error_and_leaks_nothing() {
    let driver = driver();
    let handle = driver.handle();
    let mut socket = quiet_listener();
    let _first = add_source(handle, &mut socket, Interest::READABLE).unwrap();
    let err =
        add_source(handle, &mut socket, Interest::READABLE).expect_err("add_source succeeded");
    assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
    assert_eq!(
        handle.num_registered(),
        1,
        "the refused allocation stayed in the set"
    );
}

#[test]
fn deregistering_a_registration_twice_is_a_not_found_error() {
    let driver = driver();
    let mut socket = quiet_listener();
    let mut reg = register(&mut socket, Interest::READABLE, driver.handle()).unwrap();
    // SAFETY: `socket` is the source `reg` was created with.
    unsafe { reg.deregister(&mut socket) }.unwrap();
    // SAFETY: as above.
    let err = unsafe { reg.deregister(&mut socket) }.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotFound);
    drop(reg);
    assert_eq!(
        driver.handle().num_pending_release(),
        1,
        "deregistered twice"
    );
}

#[test]
fn waiting_on_a_registration_after_its_deregister_fails_at_once_instead_of_hanging() {
    let mut driver = driver();
    let mut socket = quiet_listener();
    let mut reg = register(&mut socket, Interest::READABLE, driver.handle()).unwrap();
    // SAFETY: `socket` is the source `reg` was created with.
    unsafe { reg.deregister(&mut socket) }.unwrap();
    // The release turn: from here no event can reach `reg` again, so a wait
    // that returned `Pending` would be a wait forever.
    driver.turn(Some(std::time::Duration::ZERO)).unwrap();
    let (flag, waker) = FlagWaker::new();
    let mut cx = Context::from_waker(&waker);

    for direction in [Direction::Read, Direction::Write] {
        let polled = match direction {
            Direction::Read => reg.poll_read_ready(&mut cx),
            Direction::Write => reg.poll_write_ready(&mut cx),
        };
        match polled {
            std::task::Poll::Ready(Err(err)) => {
                assert!(is_shutdown_error(&err), "{direction:?}: {err}");
            }
            other => panic!("{direction:?} after deregister: {other:?}"),
        }
    }
    let readiness = std::pin::pin!(reg.readiness(Interest::READABLE));
    match readiness.poll(&mut cx) {
        std::task::Poll::Ready(Err(err)) => assert!(is_shutdown_error(&err), "{err}"),
        other => panic!("readiness after deregister: {other:?}"),
    }
    let tried = reg.try_io(Interest::READABLE, || -> io::Result<()> {
        panic!("try_io ran its operation on a deregistered registration")
    });
    assert!(is_shutdown_error(&tried.unwrap_err()));
    assert!(!flag.take_woken(), "an error needs no wake");
}

#[test]
fn a_future_waiting_on_a_resource_is_woken_by_its_deregistration_and_fails() {
    let driver = driver();
    let handle = driver.handle();
    let mut socket = quiet_listener();
    let io = add_source(handle, &mut socket, Interest::READABLE).unwrap();
    let (flag, waker) = FlagWaker::new();
    let mut cx = Context::from_waker(&waker);
    let mut waiting = std::pin::pin!(io.readiness(Interest::READABLE));
    assert!(waiting.as_mut().poll(&mut cx).is_pending(), "no client yet");

    // SAFETY: `socket` is the source `io` was registered with.
    unsafe { handle.deregister_source(&io, &mut socket) }.unwrap();
    assert!(flag.take_woken(), "the waiting future was left asleep");
    match waiting.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(event) => assert!(event.is_shutdown),
        std::task::Poll::Pending => panic!("still waiting after its deregistration"),
    }
}

#[test]
fn unpark_from_another_thread_wakes_a_blocked_turn() {
    let mut driver = driver();
    let handle = driver.handle().clone();
    let unparker = thread::spawn(move || handle.unpark());
    // SAFETY_NET only bounds a broken build; the unpark ends the turn.
    let stats = driver.turn(Some(SAFETY_NET)).unwrap();
    unparker.join().unwrap();
    assert!(stats.unparked);
    assert_eq!(stats.events, 0, "the waker's event counted as I/O");
}

#[test]
fn the_sixteenth_pending_deregistration_unparks_the_driver_and_the_fifteenth_does_not() {
    let mut driver = driver();
    let handle = driver.handle().clone();
    let mut sockets: Vec<_> = (0..2 * NOTIFY_AFTER).map(|_| quiet_listener()).collect();
    let ios: Vec<_> = sockets
        .iter_mut()
        .map(|s| add_source(&handle, s, Interest::READABLE).unwrap())
        .collect();

    for (io, s) in ios.iter().zip(&mut sockets).take(NOTIFY_AFTER - 1) {
        // SAFETY: `s` is the source registered under `io`.
        unsafe { handle.deregister_source(io, s) }.unwrap();
    }
    let stats = driver.turn(Some(std::time::Duration::ZERO)).unwrap();
    assert!(
        !stats.unparked,
        "unparked before {NOTIFY_AFTER} were pending"
    );
    assert_eq!(stats.released, NOTIFY_AFTER - 1);

    for (io, s) in ios
        .iter()
        .zip(&mut sockets)
        .skip(NOTIFY_AFTER - 1)
        .take(NOTIFY_AFTER)
    {
        // SAFETY: `s` is the source registered under `io`.
        unsafe { handle.deregister_source(io, s) }.unwrap();
    }
    let stats = driver.turn(Some(std::time::Duration::ZERO)).unwrap();
    assert!(
        stats.unparked,
        "the {NOTIFY_AFTER}th pending deregistration did not unpark"
    );
    assert_eq!(stats.released, NOTIFY_AFTER);
}

#[test]
fn deregistrations_on_another_thread_wake_a_blocked_turn_which_then_releases_them() {
    // 2 * NOTIFY_AFTER - 1 deregistrations: however many of them land before
    // the turn's own release, either those already reached NOTIFY_AFTER (and
    // unparked) or the rest still will, so the turn below always wakes.
    let count = 2 * NOTIFY_AFTER - 1;
    let mut driver = driver();
    let handle = driver.handle().clone();
    let mut sockets: Vec<_> = (0..count).map(|_| quiet_listener()).collect();
    let ios: Vec<_> = sockets
        .iter_mut()
        .map(|s| add_source(&handle, s, Interest::READABLE).unwrap())
        .collect();

    let deregisterer = {
        let ios = ios.clone();
        thread::spawn(move || {
            for (io, s) in ios.iter().zip(&mut sockets) {
                // SAFETY: `s` is the source registered under `io`.
                unsafe { handle.deregister_source(io, s) }.unwrap();
            }
        })
    };
    let woken = driver.turn(Some(SAFETY_NET)).unwrap();
    deregisterer.join().unwrap();
    assert!(
        woken.unparked,
        "the blocked turn was not woken by the deregistrations"
    );

    let rest = driver.turn(Some(std::time::Duration::ZERO)).unwrap();
    assert_eq!(woken.released + rest.released, count);
    assert_eq!(driver.handle().num_registered(), 0);
    assert!(
        ios.iter().all(|io| Arc::strong_count(io) == 1),
        "the set kept a reference"
    );
}

#[test]
fn deregistering_through_another_driver_leaves_the_io_and_its_waiter_alone() {
    let mut own = driver();
    let other = driver();
    let mut listener = quiet_listener();
    let io = add_source(own.handle(), &mut listener, Interest::READABLE).unwrap();
    let (flag, waker) = FlagWaker::new();
    let mut cx = Context::from_waker(&waker);
    assert!(io.poll_readiness(&mut cx, Direction::Read).is_pending());

    // SAFETY: `listener` is the source `add_source` registered under `io`
    // (with `own`; `other`'s poller never had it).
    let refused = unsafe { other.handle().deregister_source(&io, &mut listener) };
    assert_eq!(refused.unwrap_err().kind(), io::ErrorKind::NotFound);
    assert_eq!(other.handle().num_pending_release(), 0);
    assert_eq!(own.handle().num_registered(), 1);

    let _client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    turn_until_event(&mut own);
    assert!(
        flag.take_woken(),
        "the waiter parked through its own driver is still woken"
    );

    // And its own driver still deregisters it from the OS poller: the fd
    // can be registered afresh (`AlreadyExists` if it were still in epoll).
    // SAFETY: as above.
    unsafe { own.handle().deregister_source(&io, &mut listener) }.unwrap();
    own.turn(Some(std::time::Duration::ZERO)).unwrap();
    assert_eq!(own.handle().num_registered(), 0);
    let again = add_source(own.handle(), &mut listener, Interest::READABLE).unwrap();
    // SAFETY: `listener` is the source just registered under `again`.
    unsafe { own.handle().deregister_source(&again, &mut listener) }.unwrap();
}
