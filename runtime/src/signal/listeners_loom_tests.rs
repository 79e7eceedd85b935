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
