//! `timers_live` in `Handle::metrics`: exact after `block_on` returns, and
//! caught up while the runtime parks.

use std::pin::Pin;
use std::time::{Duration, Instant};

use eddy::time::sleep;
use eddy_tests::poll_once;

/// `Handle::metrics` read once `block_on` has returned (on the runtime's
/// thread, but outside it) counts the timers as they are, not as they were
/// at the last driver turn: a sleep that registered, lived through a turn
/// and was dropped is not reported pending any more.
#[test]
fn timers_live_is_exact_after_block_on_returns() {
    let rt = eddy::Runtime::new().unwrap();
    rt.block_on(async {
        let mut long = sleep(Duration::from_secs(3600));
        assert!(poll_once(Pin::new(&mut long)).await.is_pending());
        // `yield_now` defers the main future, so the driver turns (and
        // publishes one live timer) before it runs again.
        eddy::task::yield_now().await;
        drop(long);
    });
    assert_eq!(rt.handle().metrics().timers_live, 0);
}

/// Read from another thread while the runtime is parked with nothing to
/// do, `timers_live` shows the timers that are pending now. It showed the
/// count from before the last task ran, forever: a connection that dropped
/// its timeout stayed "live" in every snapshot until something else woke
/// the runtime.
#[test]
fn timers_live_read_from_another_thread_catches_up_when_the_runtime_parks() {
    let (handle_tx, handle_rx) = std::sync::mpsc::channel();
    let runtime_thread = std::thread::spawn(move || {
        let rt = eddy::Runtime::new().unwrap();
        rt.block_on(async {
            let stop = eddy::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            handle_tx
                .send((eddy::Handle::current(), stop.local_addr().unwrap()))
                .unwrap();
            let mut long = sleep(Duration::from_secs(3600));
            assert!(poll_once(Pin::new(&mut long)).await.is_pending());
            eddy::task::yield_now().await;
            drop(long);
            // Parks: no task, no timer, nothing to wake it until the test
            // connects to `stop`.
            stop.accept().await.unwrap();
        });
    });
    let (handle, stop) = handle_rx.recv().unwrap();
    // The hang guard turns "never catches up" into a failure; it is not a
    // bound on how fast it does.
    let started = Instant::now();
    while handle.metrics().timers_live != 0 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "a parked runtime with no timers still reports {:?}",
            handle.metrics()
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    drop(std::net::TcpStream::connect(stop).unwrap());
    runtime_thread.join().unwrap();
}

/// A sleep dropped on another thread while its runtime parks, with that
/// sleep's hour-long entry its only timer, leaves the count (and the
/// entry, and the waker in it) at once, not when the runtime next wakes
/// for something else: the queued cancel unparks it (RELIABILITY 70).
#[test]
fn a_sleep_dropped_on_another_thread_while_its_runtime_parks_leaves_the_count_at_once() {
    let (sent_tx, sent_rx) = std::sync::mpsc::channel();
    let runtime_thread = std::thread::spawn(move || {
        let rt = eddy::Runtime::new().unwrap();
        rt.block_on(async {
            let stop = eddy::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let mut long = sleep(Duration::from_secs(3600));
            assert!(poll_once(Pin::new(&mut long)).await.is_pending());
            let handle = eddy::Handle::current();
            sent_tx
                .send((handle, long, stop.local_addr().unwrap()))
                .unwrap();
            // Parks until the hour is up: its only timer is `long`'s, and
            // nothing else wakes it until the test connects to `stop`.
            stop.accept().await.unwrap();
        });
    });
    let (handle, long, stop) = sent_rx.recv().unwrap();
    drop(long);
    // The hang guard turns "stays counted until the old deadline" into a
    // failure; it is not a bound on how fast the count catches up.
    let started = Instant::now();
    while handle.metrics().timers_live != 0 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "a sleep dropped on another thread is still counted while its runtime parks: {:?}",
            handle.metrics()
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    drop(std::net::TcpStream::connect(stop).unwrap());
    runtime_thread.join().unwrap();
}
