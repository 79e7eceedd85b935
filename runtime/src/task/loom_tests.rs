//! loom models of the `JoinHandle` state machine: the task's state word
//! ([`State`]) and the slot its outcome travels through ([`JoinSlot`]).
//!
//! Each model replays, step for step, what `TaskCell` and `JoinHandle` do
//! on each side of a race, with the real `State` and `JoinSlot` compiled
//! against loom's atomics and mutex (see `crate::loom`):
//!
//! * completion (`transition_to_complete` + `JoinSlot::complete`) racing the
//!   handle being dropped: the output is dropped exactly once, whichever
//!   side gets there first;
//! * completion racing the handle being polled: a `Pending` poll is always
//!   followed by a wake (no lost wake-up), and the output reaches the handle
//!   exactly once, also when the handle moved to a new task in between;
//! * `abort` (`request_cancel` + the wake it triggers) racing the runtime
//!   running the task: exactly one outcome is recorded, and an abort that
//!   lands while the task is pending is never lost.
//!
//! Each model also names the orders it is about (which side got there
//! first) and fails if no run of loom took one of them: loom 0.7 can leave
//! orders unexplored (tokio-rs/loom#392, see `eddy-registration`'s loom
//! tests), and a model that never reaches its race proves nothing. Today
//! every order is reached without help.
//!
//! Run with
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 cargo test --release -p eddy --lib -- loom`.

use std::sync::Arc as StdArc;
use std::sync::Mutex as StdMutex;
use std::task::{Context, Poll, Waker};

use eddy_registration::loom_model::model;
use futures_task::ArcWake;
use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use loom::thread::ThreadId;

use super::{JoinError, JoinSlot, State};

/// A task output that counts its drops, so a model can prove the output
/// was dropped exactly once (never leaked, never dropped twice).
struct Counted {
    /// Shared with the model, bumped in `Drop`.
    drops: Arc<AtomicUsize>,
    /// The loom thread that dropped it, so a model can tell which side of
    /// the race came second (`thread::current` is no scheduling point).
    dropped_on: StdArc<StdMutex<Option<ThreadId>>>,
}

impl Counted {
    /// An output counting into `drops`, and where its dropping thread will
    /// be recorded.
    fn new(drops: Arc<AtomicUsize>) -> (Counted, StdArc<StdMutex<Option<ThreadId>>>) {
        let dropped_on = StdArc::new(StdMutex::new(None));
        let counted = Counted {
            drops,
            dropped_on: dropped_on.clone(),
        };
        (counted, dropped_on)
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        *self.dropped_on.lock().unwrap() = Some(loom::thread::current().id());
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

/// A waker that only records that it was woken. The flag is a loom atomic
/// so the model sees the wake as a synchronising event; the `Arc` around it
/// is std's, because `Waker` is built from a std `Arc`.
struct FlagWaker {
    /// Set by every wake.
    woken: AtomicBool,
}

impl ArcWake for FlagWaker {
    fn wake_by_ref(arc_self: &StdArc<Self>) {
        arc_self.woken.store(true, Ordering::SeqCst);
    }
}

fn flag_waker() -> (StdArc<FlagWaker>, Waker) {
    let flag = StdArc::new(FlagWaker {
        woken: AtomicBool::new(false),
    });
    let waker = futures_task::waker(flag.clone());
    (flag, waker)
}

/// Waits for `flag`'s wake the way a parked runtime would, spinning with
/// loom yields (had the wake been lost, the loop would never end and loom
/// would report it), then polls `slot` again: a wake promises the outcome
/// is there.
fn poll_after_wake<T>(
    slot: &JoinSlot<T>,
    cx: &mut Context<'_>,
    flag: &FlagWaker,
) -> Result<T, JoinError> {
    while !flag.woken.load(Ordering::SeqCst) {
        loom::thread::yield_now();
    }
    match slot.poll(cx) {
        Poll::Ready(outcome) => outcome,
        Poll::Pending => panic!("woken, but the outcome is not in the slot"),
    }
}

/// The task side of completion, as `TaskCell::finish` does it: only the
/// first caller past `transition_to_complete` hands over an outcome.
/// Returns whether this call was that one.
fn finish<T>(state: &State, slot: &JoinSlot<T>, outcome: Result<T, JoinError>) -> bool {
    if state.transition_to_complete() {
        slot.complete(outcome);
        true
    } else {
        false
    }
}

#[test]
fn loom_completion_racing_handle_drop_drops_the_output_exactly_once() {
    let orders = ["the handle went first", "the task completed first"];
    model(&orders, |explored| {
        let drops = Arc::new(AtomicUsize::new(0));
        let state = Arc::new(State::new_notified());
        let slot = Arc::new(JoinSlot::<Counted>::new());
        let (output, dropped_on) = Counted::new(drops.clone());

        let task = {
            let (state, slot) = (state.clone(), slot.clone());
            loom::thread::spawn(move || {
                state.transition_to_running();
                assert!(finish(&state, &slot, Ok(output)));
            })
        };
        // The JoinHandle's Drop, on this thread.
        slot.drop_handle();
        task.join().unwrap();
        explored.saw(
            if *dropped_on.lock().unwrap() == Some(loom::thread::current().id()) {
                "the task completed first"
            } else {
                "the handle went first"
            },
        );

        // Whoever came second dropped the output: it is not left behind in
        // the slot (where a `!Send` output could later be dropped by the
        // wrong thread), and it was not dropped twice.
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        assert!(state.is_complete());
    });
}

#[test]
fn loom_completion_racing_handle_poll_never_loses_the_wake_and_delivers_once() {
    model(&["ready at the poll", "woken"], |explored| {
        let drops = Arc::new(AtomicUsize::new(0));
        let state = Arc::new(State::new_notified());
        let slot = Arc::new(JoinSlot::<Counted>::new());
        let (output, _) = Counted::new(drops.clone());

        let task = {
            let (state, slot) = (state.clone(), slot.clone());
            loom::thread::spawn(move || {
                state.transition_to_running();
                assert!(finish(&state, &slot, Ok(output)));
            })
        };

        // The task awaiting the JoinHandle, on this thread.
        let (flag, waker) = flag_waker();
        let mut cx = Context::from_waker(&waker);
        let outcome = match slot.poll(&mut cx) {
            Poll::Ready(outcome) => {
                explored.saw("ready at the poll");
                outcome
            }
            Poll::Pending => {
                explored.saw("woken");
                poll_after_wake(&slot, &mut cx, &flag)
            }
        };
        task.join().unwrap();
        assert!(outcome.is_ok());
        assert_eq!(drops.load(Ordering::SeqCst), 0, "not dropped while held");
        drop(outcome);
        // The handle's Drop finds nothing left to drop a second time.
        slot.drop_handle();
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    });
}

#[test]
fn loom_a_handle_moved_to_a_new_task_wakes_the_new_one() {
    // The handle is polled by one task, then moved to another and polled
    // there (a new waker) while the task completes: the wake must reach the
    // waker of the latest poll, or the new owner would wait forever.
    let orders = [
        "ready at the first poll",
        "ready at the second poll",
        "woken",
    ];
    model(&orders, |explored| {
        let state = Arc::new(State::new_notified());
        let slot = Arc::new(JoinSlot::<u32>::new());
        let task = {
            let (state, slot) = (state.clone(), slot.clone());
            loom::thread::spawn(move || {
                state.transition_to_running();
                assert!(finish(&state, &slot, Ok(5)));
            })
        };
        let (_first, first_waker) = flag_waker();
        let (second, second_waker) = flag_waker();
        let outcome = match slot.poll(&mut Context::from_waker(&first_waker)) {
            Poll::Ready(outcome) => {
                explored.saw("ready at the first poll");
                outcome
            }
            Poll::Pending => {
                let mut cx = Context::from_waker(&second_waker);
                match slot.poll(&mut cx) {
                    Poll::Ready(outcome) => {
                        explored.saw("ready at the second poll");
                        outcome
                    }
                    Poll::Pending => {
                        explored.saw("woken");
                        poll_after_wake(&slot, &mut cx, &second)
                    }
                }
            }
        };
        task.join().unwrap();
        assert_eq!(outcome.unwrap(), 5);
        slot.drop_handle();
    });
}

#[test]
fn loom_handle_polled_and_dropped_on_another_thread_while_the_task_completes() {
    // The handle lives on a second thread (a `Send` output awaited
    // elsewhere): it polls once, then is dropped. Completion lands before,
    // between or after those two steps; in every case the output is dropped
    // exactly once, and only after both sides are done.
    let orders = [
        "completed before the poll",
        "completed between the poll and the drop",
        "completed after the drop",
    ];
    model(&orders, |explored| {
        let drops = Arc::new(AtomicUsize::new(0));
        let state = Arc::new(State::new_notified());
        let slot = Arc::new(JoinSlot::<Counted>::new());
        let (output, dropped_on) = Counted::new(drops.clone());

        let handle = {
            let slot = slot.clone();
            loom::thread::spawn(move || {
                let (_flag, waker) = flag_waker();
                let mut cx = Context::from_waker(&waker);
                let got = match slot.poll(&mut cx) {
                    Poll::Ready(outcome) => Some(outcome),
                    Poll::Pending => None,
                };
                slot.drop_handle();
                got.is_some()
            })
        };
        state.transition_to_running();
        assert!(finish(&state, &slot, Ok(output)));
        let took_it = handle.join().unwrap();
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        explored.saw(if took_it {
            "completed before the poll"
        } else if *dropped_on.lock().unwrap() == Some(loom::thread::current().id()) {
            "completed after the drop"
        } else {
            "completed between the poll and the drop"
        });
    });
}

/// The handle's side once the task is complete: the outcome is there on
/// the first poll; then the handle is dropped.
fn take_outcome(slot: &JoinSlot<u32>) -> Result<u32, JoinError> {
    let (_flag, waker) = flag_waker();
    let outcome = match slot.poll(&mut Context::from_waker(&waker)) {
        Poll::Ready(outcome) => outcome,
        Poll::Pending => panic!("the handle of a complete task is pending"),
    };
    slot.drop_handle();
    outcome
}

/// The runtime's side of one run of a task whose future finishes on the
/// first poll, as `TaskCell::run` does it. Returns whether it recorded an
/// outcome.
fn run_ready_task(state: &State, slot: &JoinSlot<u32>) -> bool {
    let snapshot = state.transition_to_running();
    if snapshot.is_complete() {
        return false;
    }
    if snapshot.is_cancelled() {
        return cancel(state, slot);
    }
    finish(state, slot, Ok(7))
}

/// `TaskCell::cancel`: drop the future and record "cancelled", unless the
/// task already completed.
fn cancel(state: &State, slot: &JoinSlot<u32>) -> bool {
    if state.is_complete() {
        return false;
    }
    finish(state, slot, Err(JoinError::cancelled()))
}

/// `JoinHandle::abort` from another thread: request the cancel and, when
/// told to, wake the task, which queues it when it is not queued already.
/// Returns whether the wake queued the task (the runtime must run it).
fn abort(state: &State) -> bool {
    state.request_cancel() && state.transition_to_notified()
}

#[test]
fn loom_abort_racing_completion_records_exactly_one_outcome() {
    let orders = [
        "abort before the run",
        "abort during the run",
        "abort after completion",
    ];
    model(&orders, |explored| {
        let state = Arc::new(State::new_notified());
        let slot = Arc::new(JoinSlot::<u32>::new());

        let aborter = {
            let state = state.clone();
            loom::thread::spawn(move || abort(&state))
        };
        // The runtime: the task was queued at spawn, so it runs once.
        let mut outcomes = usize::from(run_ready_task(&state, &slot));
        let requeued = aborter.join().unwrap();
        if requeued {
            // The abort's wake queued the task again: a stale entry for a
            // task that already finished must record nothing more.
            outcomes += usize::from(run_ready_task(&state, &slot));
        }
        assert_eq!(outcomes, 1, "exactly one outcome");
        assert!(state.is_complete());

        match take_outcome(&slot) {
            Ok(7) if requeued => explored.saw("abort during the run"),
            Ok(7) => explored.saw("abort after completion"),
            Err(error) => {
                assert!(error.is_cancelled());
                explored.saw("abort before the run");
            }
            other => panic!("unexpected join result {other:?}"),
        }
    });
}

#[test]
fn loom_abort_of_a_pending_task_is_never_lost() {
    // The future stays pending forever, so only the abort can end the task.
    // The abort races the runtime's poll (which clears NOTIFIED first): if
    // the abort's wake were swallowed, the task would never run again and
    // its handle would wait forever.
    let orders = ["abort before the snapshot", "abort after the snapshot"];
    model(&orders, |explored| {
        let state = Arc::new(State::new_notified());
        let slot = Arc::new(JoinSlot::<u32>::new());

        let aborter = {
            let state = state.clone();
            loom::thread::spawn(move || abort(&state))
        };
        // First run: unless the abort is already visible, the future is
        // polled and returns Pending.
        let snapshot = state.transition_to_running();
        assert!(!snapshot.is_complete());
        let finished_now = snapshot.is_cancelled() && cancel(&state, &slot);
        let requeued = aborter.join().unwrap();
        explored.saw(if finished_now {
            "abort before the snapshot"
        } else {
            "abort after the snapshot"
        });
        if !finished_now {
            // The task is pending and the abort came after the snapshot: its
            // wake must have queued the task, and the next run cancels it.
            assert!(requeued, "the abort's wake-up was lost");
            let snapshot = state.transition_to_running();
            assert!(snapshot.is_cancelled());
            assert!(cancel(&state, &slot));
        }
        assert!(state.is_complete());

        match take_outcome(&slot) {
            Err(error) => assert!(error.is_cancelled()),
            other => panic!("expected a cancelled JoinError, got {other:?}"),
        }
    });
}

#[test]
fn loom_two_aborts_and_a_completion_still_give_one_outcome() {
    // Abort from two threads at once while the runtime completes the task:
    // at most one abort wins the wake, and the slot still gets one outcome.
    let orders = [
        "aborts before the run",
        "an abort during the run",
        "aborts after completion",
    ];
    model(&orders, |explored| {
        let state = Arc::new(State::new_notified());
        let slot = Arc::new(JoinSlot::<u32>::new());
        let aborters: Vec<_> = (0..2)
            .map(|_| {
                let state = state.clone();
                loom::thread::spawn(move || abort(&state))
            })
            .collect();
        let mut outcomes = usize::from(run_ready_task(&state, &slot));
        let mut requeues = 0;
        for aborter in aborters {
            requeues += usize::from(aborter.join().unwrap());
        }
        assert!(requeues <= 1, "a task is queued at most once per run");
        if requeues == 1 {
            outcomes += usize::from(run_ready_task(&state, &slot));
        }
        assert_eq!(outcomes, 1);
        explored.saw(match (take_outcome(&slot), requeues) {
            (Err(_), _) => "aborts before the run",
            (Ok(_), 1) => "an abort during the run",
            (Ok(_), _) => "aborts after completion",
        });
    });
}

#[test]
fn loom_a_wake_that_finds_the_task_queued_is_seen_by_the_poll_it_joins() {
    // A waker's owner publishes something (here a flag, stored with
    // `Release` as a hand-rolled notifier does) and then wakes the task,
    // while the runtime takes the queued task and polls it. A wake that
    // finds the task already queued queues nothing, which is only right if
    // the poll that run makes sees what the waker published; otherwise the
    // task returns `Pending` and nothing will ever poll it again.
    let orders = [
        "the wake joined the queued run",
        "the wake queued the task again",
    ];
    model(&orders, |explored| {
        let state = Arc::new(State::new_notified());
        let published = Arc::new(AtomicBool::new(false));
        let waker = {
            let (state, published) = (state.clone(), published.clone());
            loom::thread::spawn(move || {
                published.store(true, Ordering::Release);
                state.transition_to_notified()
            })
        };
        // The runtime runs the task it had queued: the poll looks at what
        // the waker's owner publishes.
        let snapshot = state.transition_to_running();
        assert!(!snapshot.is_complete());
        let seen = published.load(Ordering::Acquire);
        let requeued = waker.join().unwrap();
        assert!(
            seen || requeued,
            "the wake queued nothing, and the poll did not see what it woke for"
        );
        explored.saw(if requeued {
            "the wake queued the task again"
        } else {
            "the wake joined the queued run"
        });
    });
}
