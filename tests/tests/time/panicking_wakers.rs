//! Wakers that panic, when woken or when dropped, cost no other timer its
//! wake or its cancel.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use eddy::time::sleep;
use eddy_tests::{poll_once, with_deadline};

use crate::{ms, timers_live_after_a_turn};

/// A waker whose last drop panics (foreign code).
struct PanicsWhenDropped;

impl std::task::Wake for PanicsWhenDropped {
    fn wake(self: std::sync::Arc<Self>) {}
}

impl Drop for PanicsWhenDropped {
    fn drop(&mut self) {
        panic!("a waker's drop panicked");
    }
}

#[test]
fn a_waker_drop_that_panics_in_a_remote_cancel_loses_no_other_cancel() {
    let runtime = eddy::Runtime::new().unwrap();
    let mut bad = sleep(Duration::from_secs(3600));
    let mut good = sleep(Duration::from_secs(3600));
    runtime.block_on(async {
        let waker = Waker::from(std::sync::Arc::new(PanicsWhenDropped));
        assert!(
            Pin::new(&mut bad)
                .poll(&mut Context::from_waker(&waker))
                .is_pending()
        );
        drop(waker); // the timer entry holds the last clone
        assert!(poll_once(Pin::new(&mut good)).await.is_pending());
    });
    std::thread::spawn(move || {
        drop(bad);
        drop(good);
    })
    .join()
    .unwrap();
    let turned = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        timers_live_after_a_turn(&runtime)
    }));
    assert!(turned.is_err(), "the waker's panic goes on to block_on");
    assert_eq!(timers_live_after_a_turn(&runtime), 0);
}

#[test]
fn a_waker_that_panics_does_not_keep_other_due_timers_from_firing() {
    // Bounded: if this thread were ever slower than the 20 ms margin below
    // (Miri is), both deadlines would pass before the sleeps register, and
    // the last `block_on` would wait forever on a future nothing wakes.
    with_deadline(Duration::from_secs(30), || {
        use std::panic::{AssertUnwindSafe, catch_unwind};
        use std::sync::Arc;
        use std::task::Wake;

        struct PanicsOnWake;
        impl Wake for PanicsOnWake {
            fn wake(self: Arc<Self>) {
                panic!("this waker panics");
            }
        }

        let runtime = eddy::Runtime::new().unwrap();
        let start = eddy::time::Instant::now();
        let fired = std::rc::Rc::new(std::cell::Cell::new(false));
        let task_fired = fired.clone();
        runtime.spawn(async move {
            eddy::time::sleep_until(start + ms(40)).await;
            task_fired.set(true);
        });
        // Let the task register its timer.
        runtime.block_on(eddy::task::yield_now());
        // Kept alive past the panic, so that its drop cannot cancel it first
        // (forgetting it instead leaked its pointer to the runtime).
        let kept = RefCell::new(Vec::new());
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            runtime.block_on(std::future::poll_fn(|_| {
                // An earlier timer whose waker panics, registered by hand...
                let waker = Waker::from(Arc::new(PanicsOnWake));
                let mut early = eddy::time::sleep_until(start + ms(20));
                let _ = std::pin::Pin::new(&mut early).poll(&mut Context::from_waker(&waker));
                kept.borrow_mut().push(early);
                // ...and both deadlines pass before the runtime looks again.
                std::thread::sleep(ms(60));
                Poll::<()>::Pending
            }))
        }));
        assert!(
            outcome.is_err(),
            "the panicking waker's panic reaches block_on"
        );
        // The task's timer was due in the same batch: it must have been woken.
        runtime.block_on(async {
            for _ in 0..100 {
                if fired.get() {
                    break;
                }
                eddy::task::yield_now().await;
            }
        });
        assert!(fired.get(), "a due timer was lost to another waker's panic");
    });
}
