//! Foreign code that eddy runs while it holds one of its own locks.
//!
//! A waker is the caller's code: cloning or dropping it may block, or call
//! back into the runtime. eddy must never run it with a lock held that the
//! runtime thread needs to make progress, or a waker that waits for the
//! runtime deadlocks both. Each test sets up such a waker and proves the
//! runtime still finishes; `with_deadline` turns a deadlock into a failure.
//! The same goes for a `RefCell` the runtime has borrowed: a waker that
//! calls back into the runtime then panics with "already borrowed".

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::{Pin, pin};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::task::{Context, RawWaker, RawWakerVTable, Wake, Waker};
use std::thread;
use std::time::Duration;

use eddy::Runtime;
use eddy_tests::{Signal, block_on_parked, panic_message, with_deadline};

const LIMIT: Duration = Duration::from_secs(30);

/// A waker that does nothing when woken, but whose last drop lets the task
/// finish (`go`) and then waits until the runtime has run the task spawned
/// after it (`progressed`): it blocks on the runtime's progress.
struct WaitsForTheRuntimeOnDrop {
    /// Set on drop: the task the handle joins may now return.
    go: Signal,
    /// Receives once the runtime has got past completing that task.
    progressed: Mutex<mpsc::Receiver<()>>,
}

impl Wake for WaitsForTheRuntimeOnDrop {
    fn wake(self: Arc<Self>) {}
}

impl Drop for WaitsForTheRuntimeOnDrop {
    fn drop(&mut self) {
        self.go.set();
        let progressed = self.progressed.lock().unwrap_or_else(|e| e.into_inner());
        progressed
            .recv()
            .expect("the runtime ran the task spawned after the joined one");
    }
}

/// A waker that does nothing: the second waker the handle is polled with.
struct Inert;

impl Wake for Inert {
    fn wake(self: Arc<Self>) {}
}

#[test]
fn a_join_handle_waker_whose_drop_waits_for_the_runtime_does_not_deadlock_it() {
    with_deadline(LIMIT, || {
        let rt = Runtime::new().unwrap();
        let go = Signal::new();
        let done = Signal::new();
        let (progress, progressed) = mpsc::channel();
        let task = {
            let go = go.clone();
            rt.spawn(async move {
                go.wait().await;
                // Runs only once this task's completion is behind the
                // runtime: the proof the waker's drop waits for.
                eddy::spawn(async move { progress.send(()).unwrap() });
            })
        };
        let poller = {
            let done = done.clone();
            thread::spawn(move || {
                let mut task = task;
                let first = Waker::from(Arc::new(WaitsForTheRuntimeOnDrop {
                    go,
                    progressed: Mutex::new(progressed),
                }));
                let polled = Pin::new(&mut task).poll(&mut Context::from_waker(&first));
                assert!(polled.is_pending(), "the task waits for `go`");
                // The handle now holds the only clone of `first`; polling
                // with another waker replaces it, and its drop runs here.
                drop(first);
                let second = Waker::from(Arc::new(Inert));
                let _ = Pin::new(&mut task).poll(&mut Context::from_waker(&second));
                let outcome = block_on_parked(task);
                done.set();
                outcome
            })
        };
        rt.block_on(done.wait());
        poller.join().unwrap().expect("the task finished");
    });
}

/// A waker whose drop calls back into the runtime: it yields once (polls
/// `yield_now` with a waker of its own), which defers that waker.
struct YieldsOnDrop;

impl Wake for YieldsOnDrop {
    fn wake(self: Arc<Self>) {}
}

impl Drop for YieldsOnDrop {
    fn drop(&mut self) {
        let mut yielding = pin!(eddy::task::yield_now());
        let polled = yielding
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()));
        assert!(polled.is_pending(), "a first poll of yield_now yields");
    }
}

#[test]
fn a_deferred_waker_whose_drop_yields_does_not_make_dropping_the_runtime_panic() {
    with_deadline(LIMIT, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let waker = Waker::from(Arc::new(YieldsOnDrop));
            let mut yielding = pin!(eddy::task::yield_now());
            let polled = yielding.as_mut().poll(&mut Context::from_waker(&waker));
            assert!(polled.is_pending());
            // Returning in this same poll leaves the deferred waker, now
            // its only copy, waiting for a driver turn that never comes:
            // the runtime's shutdown drops it.
        });
        let dropped = catch_unwind(AssertUnwindSafe(|| drop(rt)));
        if let Err(payload) = dropped {
            panic!(
                "dropping the runtime panicked: {}",
                panic_message(&*payload)
            );
        }
    });
}

/// The raw vtable of a waker whose clone calls back into the runtime: it
/// yields once, as [`YieldsOnDrop`] does on drop. It has no data.
static YIELDS_ON_CLONE: RawWakerVTable =
    RawWakerVTable::new(clone_yielding, |_| {}, |_| {}, |_| {});

/// A waker that yields when cloned, as a `RawWaker`.
fn yields_on_clone() -> RawWaker {
    RawWaker::new(std::ptr::null(), &YIELDS_ON_CLONE)
}

/// `YIELDS_ON_CLONE`'s clone.
fn clone_yielding(_: *const ()) -> RawWaker {
    let mut yielding = pin!(eddy::task::yield_now());
    let polled = yielding
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()));
    assert!(polled.is_pending(), "a first poll of yield_now yields");
    yields_on_clone()
}

/// Inside a runtime, polls the future `make` builds once with the waker
/// `raw` builds, and asserts that it is pending: a panic out of the poll
/// fails the test with the panic's message.
fn polls_pending_with<F: Future + 'static>(raw: fn() -> RawWaker, make: fn() -> F) {
    with_deadline(LIMIT, move || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            // SAFETY: the vtables `raw` uses ignore the data pointer, which
            // is null, and do nothing unsound.
            let waker = unsafe { Waker::from_raw(raw()) };
            let mut future = pin!(make());
            let polled = catch_unwind(AssertUnwindSafe(|| {
                future.as_mut().poll(&mut Context::from_waker(&waker))
            }));
            match polled {
                Ok(polled) => assert!(polled.is_pending()),
                Err(payload) => panic!("the poll panicked: {}", panic_message(&*payload)),
            }
        });
    });
}

#[test]
fn yielding_with_a_waker_whose_clone_yields_does_not_panic() {
    polls_pending_with(yields_on_clone, eddy::task::yield_now);
}

/// Polls a fresh hour-long sleep once, with a waker that does nothing: a
/// waker's clone or drop that calls back into the runtime's timers.
fn poll_a_sleep() {
    let mut sleeping = pin!(eddy::time::sleep(Duration::from_secs(3600)));
    let polled = sleeping
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()));
    assert!(polled.is_pending(), "an hour has not passed");
}

/// The raw vtable of a waker whose clone polls a sleep. It has no data.
static SLEEPS_ON_CLONE: RawWakerVTable =
    RawWakerVTable::new(clone_sleeping, |_| {}, |_| {}, |_| {});

/// A waker that polls a sleep when cloned, as a `RawWaker`.
fn sleeps_on_clone() -> RawWaker {
    RawWaker::new(std::ptr::null(), &SLEEPS_ON_CLONE)
}

/// `SLEEPS_ON_CLONE`'s clone.
fn clone_sleeping(_: *const ()) -> RawWaker {
    poll_a_sleep();
    sleeps_on_clone()
}

/// A waker whose drop polls a sleep.
struct SleepsOnDrop;

impl Wake for SleepsOnDrop {
    fn wake(self: Arc<Self>) {}
}

impl Drop for SleepsOnDrop {
    fn drop(&mut self) {
        poll_a_sleep();
    }
}

#[test]
fn sleeping_with_a_waker_whose_clone_sleeps_does_not_panic() {
    polls_pending_with(sleeps_on_clone, || {
        eddy::time::sleep(Duration::from_secs(3600))
    });
}

#[test]
fn dropping_a_sleep_whose_waker_sleeps_on_drop_does_not_panic() {
    with_deadline(LIMIT, || {
        let rt = Runtime::new().unwrap();
        rt.block_on(async {
            let mut sleeping = Box::pin(eddy::time::sleep(Duration::from_secs(3600)));
            let waker = Waker::from(Arc::new(SleepsOnDrop));
            let polled = sleeping.as_mut().poll(&mut Context::from_waker(&waker));
            assert!(polled.is_pending());
            // The timer now holds the waker's only copy; cancelling the
            // timer drops it.
            drop(waker);
            if let Err(payload) = catch_unwind(AssertUnwindSafe(|| drop(sleeping))) {
                panic!("dropping the sleep panicked: {}", panic_message(&*payload));
            }
        });
    });
}
