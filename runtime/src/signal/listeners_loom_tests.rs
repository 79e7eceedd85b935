//! loom models of the listeners (a child module, for its private items).

use eddy_registration::loom_model::model;
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use loom::thread;

use super::*;

/// A listener task's waker: raises a loom flag.
struct FlagWaker(AtomicBool);

impl ArcWake for FlagWaker {
    fn wake_by_ref(arc_self: &Arc<Self>) {
        arc_self.0.store(true, SeqCst);
    }
}

#[test]
fn loom_a_drain_on_another_thread_never_leaves_a_listener_asleep_on_its_signal() {
    let orders = ["the delivery was seen at once", "the listener was woken"];
    model(&orders, |explored| {
        let listeners = Arc::new(Listeners::new());
        let deliveries = loom::sync::Arc::new(AtomicUsize::new(0));
        let key = listeners.join();

        // The listener, on its runtime's thread: `poll_recv` until its
        // counter moves, parked between polls as a task is.
        let listener = {
            let (listeners, deliveries) = (listeners.clone(), deliveries.clone());
            thread::spawn(move || {
                let flag = Arc::new(FlagWaker(AtomicBool::new(false)));
                let waker = futures_task::waker(flag.clone());
                let mut polls = 0;
                loop {
                    polls += 1;
                    listeners.park(key, &waker);
                    if deliveries.load(SeqCst) != 0 {
                        return polls == 1;
                    }
                    // Pending: sleep until woken (a lost wake spins
                    // here for ever, which loom reports).
                    while !flag.0.load(SeqCst) {
                        thread::yield_now();
                    }
                    flag.0.store(false, SeqCst);
                }
            })
        };

        // The signal handler's count, then another runtime's drain of
        // the byte it wrote, which wakes every listener of every hub.
        deliveries.fetch_add(1, SeqCst);
        ArcWake::wake_by_ref(&listeners);

        let at_once = listener.join().unwrap();
        explored.saw(if at_once {
            "the delivery was seen at once"
        } else {
            "the listener was woken"
        });
        listeners.leave(key);
    });
}

/// The same hand-off with the kernel in it, as `eddy_io_driver::loom_kernel`
/// has it for the driver's unpark (RELIABILITY finding 81): the pipe is a
/// `Relaxed` counter, which hands the byte over and orders nothing, for the
/// `write(2)` of the handler and the `read(2)` of `Hub::poll_drain` are
/// not synchronisation in Rust's memory model. The listener drains the
/// byte itself (its runtime's driver reported it), then reads its counter
/// again; a stale count there returns `Pending` with the pipe empty, and
/// nothing wakes it. The steps replay `pipe::deliver` and
/// `Signal::poll_recv` + `Hub::poll_drain`, fences included.
///
/// The counter has `pipe.rs`'s `SeqCst`, which does not help: nothing
/// orders the listener's load after the handler's `fetch_add`, so the single
/// order of `SeqCst` operations may put the load first. Without the two
/// fences this model spins for ever.
#[test]
fn loom_a_listener_that_drained_its_deliverys_byte_reads_the_raised_count() {
    use loom::sync::atomic::{
        Ordering::{Acquire, Relaxed, Release},
        fence,
    };

    let orders = [
        "the count was seen before any drain",
        "the count was seen after the drain",
    ];
    model(&orders, |explored| {
        let deliveries = loom::sync::Arc::new(AtomicUsize::new(0));
        let pipe = loom::sync::Arc::new(AtomicUsize::new(0));

        // The signal handler, on any thread: count, fence, write the byte.
        let handler = {
            let (deliveries, pipe) = (deliveries.clone(), pipe.clone());
            thread::spawn(move || {
                deliveries.fetch_add(1, SeqCst);
                fence(Release);
                pipe.fetch_add(1, Relaxed);
            })
        };

        // The listener on its runtime's thread: read the counter; if it has
        // not moved, drain the pipe, and after a drain that took bytes,
        // fence and read the counter again; with nothing drained, wait for
        // the driver to report a byte.
        let mut drained = false;
        loop {
            if deliveries.load(SeqCst) != 0 {
                break;
            }
            if pipe.swap(0, Relaxed) != 0 {
                fence(Acquire);
                drained = true;
                continue;
            }
            // Pending until the pipe turns readable (a byte taken with
            // the count unseen spins here for ever, which loom reports).
            while pipe.load(Relaxed) == 0 {
                thread::yield_now();
            }
        }
        handler.join().unwrap();
        explored.saw(if drained {
            "the count was seen after the drain"
        } else {
            "the count was seen before any drain"
        });
    });
}
