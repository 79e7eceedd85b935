//! `Readiness` futures: many waiters per resource, unlinking on drop.

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use super::counting_waker::CountingWaker;
use crate::{Interest, Ready, ReadyEvent, ScheduledIo, Tick};

/// Polls `fut` once with `waker`.
fn poll_once<F: Future>(fut: Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(waker))
}

/// One driver event adding `ready`, then the wake-up.
fn event_and_wake(io: &ScheduledIo, ready: Ready) {
    assert!(io.set_readiness(Tick::Set, |r| r | ready));
    io.wake(ready);
}

#[test]
fn readiness_completes_at_once_when_ready() {
    let io = ScheduledIo::new();
    event_and_wake(&io, Ready::READABLE);
    let fut = pin!(io.readiness(Interest::READABLE));
    match poll_once(fut, Waker::noop()) {
        Poll::Ready(ev) => assert_eq!(ev.ready, Ready::READABLE),
        Poll::Pending => panic!("pending on a readable resource"),
    }
    assert!(io.has_no_linked_waiters());
}

#[test]
fn every_readiness_waiter_with_a_matching_interest_is_woken() {
    let io = ScheduledIo::new();
    let (r1, w1) = CountingWaker::new();
    let (r2, w2) = CountingWaker::new();
    let (wr, ww) = CountingWaker::new();
    let mut read1 = pin!(io.readiness(Interest::READABLE));
    let mut read2 = pin!(io.readiness(Interest::READABLE));
    let mut write = pin!(io.readiness(Interest::WRITABLE));
    assert!(poll_once(read1.as_mut(), &w1).is_pending());
    assert!(poll_once(read2.as_mut(), &w2).is_pending());
    assert!(poll_once(write.as_mut(), &ww).is_pending());

    event_and_wake(&io, Ready::READABLE);
    assert_eq!((r1.wakes(), r2.wakes(), wr.wakes()), (1, 1, 0));
    for fut in [read1.as_mut(), read2.as_mut()] {
        match poll_once(fut, Waker::noop()) {
            Poll::Ready(ev) => assert!(ev.ready.is_readable()),
            Poll::Pending => panic!("woken reader still pending"),
        }
    }
    assert!(poll_once(write.as_mut(), &ww).is_pending());

    event_and_wake(&io, Ready::WRITABLE);
    assert_eq!(wr.wakes(), 1);
    assert!(poll_once(write.as_mut(), &ww).is_ready());
    assert!(io.has_no_linked_waiters());
}

#[test]
fn more_waiters_than_one_batch_are_all_woken() {
    let io = ScheduledIo::new();
    let (counter, waker) = CountingWaker::new();
    let mut futs: Vec<Pin<Box<crate::Readiness<'_>>>> = (0..100)
        .map(|_| Box::pin(io.readiness(Interest::READABLE)))
        .collect();
    for fut in &mut futs {
        assert!(poll_once(fut.as_mut(), &waker).is_pending());
    }
    event_and_wake(&io, Ready::READABLE);
    assert_eq!(counter.wakes(), 100);
    assert!(io.has_no_linked_waiters());
    for fut in &mut futs {
        assert!(poll_once(fut.as_mut(), &waker).is_ready());
    }
}

#[test]
fn a_dropped_readiness_future_unlinks_itself() {
    let io = ScheduledIo::new();
    let (dropped, dropped_waker) = CountingWaker::new();
    let (kept, kept_waker) = CountingWaker::new();
    let mut first = Box::pin(io.readiness(Interest::READABLE));
    let mut second = Box::pin(io.readiness(Interest::READABLE));
    assert!(poll_once(first.as_mut(), &dropped_waker).is_pending());
    assert!(poll_once(second.as_mut(), &kept_waker).is_pending());

    drop(first);
    assert_eq!(
        std::sync::Arc::strong_count(&dropped),
        2,
        "its waker went with it"
    );
    event_and_wake(&io, Ready::READABLE);
    assert_eq!((dropped.wakes(), kept.wakes()), (0, 1));
    assert!(io.has_no_linked_waiters());

    drop(second);
    assert!(io.has_no_linked_waiters());
}

#[test]
fn a_woken_future_dropped_before_its_next_poll_is_fine() {
    let io = ScheduledIo::new();
    let (counter, waker) = CountingWaker::new();
    let mut fut = Box::pin(io.readiness(Interest::WRITABLE));
    assert!(poll_once(fut.as_mut(), &waker).is_pending());
    event_and_wake(&io, Ready::WRITABLE);
    assert_eq!(counter.wakes(), 1);
    drop(fut);
    assert!(io.has_no_linked_waiters());
}

#[test]
fn a_waiter_woken_for_readiness_that_was_cleared_again_keeps_waiting() {
    let io = ScheduledIo::new();
    let (counter, waker) = CountingWaker::new();
    let mut fut = pin!(io.readiness(Interest::READABLE));
    assert!(poll_once(fut.as_mut(), &waker).is_pending());
    event_and_wake(&io, Ready::READABLE);
    // Another task consumes the readiness before this one runs.
    io.clear_readiness(io.ready_now(Interest::READABLE));
    assert!(
        poll_once(fut.as_mut(), &waker).is_pending(),
        "no empty event is reported"
    );
    event_and_wake(&io, Ready::READABLE);
    assert_eq!(counter.wakes(), 2);
    assert!(poll_once(fut.as_mut(), &waker).is_ready());
}

#[test]
fn shutdown_completes_every_readiness_waiter() {
    let io = ScheduledIo::new();
    let (counter, waker) = CountingWaker::new();
    let mut a = pin!(io.readiness(Interest::READABLE));
    let mut b = pin!(io.readiness(Interest::PRIORITY));
    assert!(poll_once(a.as_mut(), &waker).is_pending());
    assert!(poll_once(b.as_mut(), &waker).is_pending());
    io.shutdown();
    assert_eq!(counter.wakes(), 2);
    for fut in [a.as_mut(), b.as_mut()] {
        match poll_once(fut, &waker) {
            Poll::Ready(ReadyEvent { is_shutdown, .. }) => assert!(is_shutdown),
            Poll::Pending => panic!("pending after shutdown"),
        }
    }
}

#[test]
fn repolling_with_a_new_waker_wakes_the_new_one() {
    let io = ScheduledIo::new();
    let (old, old_waker) = CountingWaker::new();
    let (new, new_waker) = CountingWaker::new();
    let mut fut = pin!(io.readiness(Interest::READABLE));
    assert!(poll_once(fut.as_mut(), &old_waker).is_pending());
    assert!(poll_once(fut.as_mut(), &new_waker).is_pending());
    event_and_wake(&io, Ready::READABLE);
    assert_eq!((old.wakes(), new.wakes()), (0, 1));
}

#[test]
fn readiness_futures_and_scheduled_io_can_cross_threads() {
    fn assert_send<T: Send>() {}
    fn assert_sync<T: Sync>() {}
    assert_send::<crate::Readiness<'static>>();
    assert_send::<ScheduledIo>();
    assert_sync::<ScheduledIo>();
    assert_send::<crate::Synced>();
    assert_sync::<crate::RegistrationSet>();
}

#[test]
fn each_waiter_is_woken_only_by_readiness_in_its_interest_mask() {
    let io = ScheduledIo::new();
    let (prio, prio_waker) = CountingWaker::new();
    let (err, err_waker) = CountingWaker::new();
    let mut priority = pin!(io.readiness(Interest::PRIORITY));
    let mut error = pin!(io.readiness(Interest::ERROR));
    assert!(poll_once(priority.as_mut(), &prio_waker).is_pending());
    assert!(poll_once(error.as_mut(), &err_waker).is_pending());

    event_and_wake(&io, Ready::READABLE | Ready::WRITABLE);
    assert_eq!((prio.wakes(), err.wakes()), (0, 0));

    // A closed read half matters to a priority waiter (it must see EOF).
    event_and_wake(&io, Ready::READ_CLOSED);
    assert_eq!((prio.wakes(), err.wakes()), (1, 0));

    event_and_wake(&io, Ready::ERROR);
    assert_eq!((prio.wakes(), err.wakes()), (1, 1));
    match poll_once(error.as_mut(), &err_waker) {
        Poll::Ready(ev) => assert_eq!(ev.ready, Ready::ERROR),
        Poll::Pending => panic!("error waiter pending after an error"),
    }
}

/// Drops the `Readiness` futures it holds the first time it is woken: a
/// task that, woken, drops other waiters of the same resource.
#[derive(Default)]
struct DropsFuturesWhenWoken {
    /// The futures to drop, taken out (and dropped unlocked) by the wake.
    futures: Mutex<Vec<Pin<Box<crate::Readiness<'static>>>>>,
    /// How many times it was woken.
    wakes: AtomicUsize,
}

impl Wake for DropsFuturesWhenWoken {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, Ordering::SeqCst);
        let futures = std::mem::take(&mut *self.futures.lock().unwrap());
        drop(futures);
    }
}

#[test]
fn waiters_dropped_by_a_waker_between_two_wake_batches_are_unlinked_and_never_woken() {
    let batch = crate::wake_list::BATCH;
    let raw = Box::into_raw(Box::new(ScheduledIo::new()));
    // SAFETY: `raw` stays allocated until the end of the test, where every
    // future borrowing it has been dropped.
    let io: &'static ScheduledIo = unsafe { &*raw };
    let (counter, waker) = CountingWaker::new();
    let pending = |waker: &Waker| {
        let mut fut = Box::pin(io.readiness(Interest::READABLE));
        assert!(poll_once(fut.as_mut(), waker).is_pending());
        fut
    };
    // The list is woken from the newest waiter to the oldest: the oldest
    // eight are still linked when the first batch is woken, unlocked.
    let oldest: Vec<_> = (0..8).map(|_| pending(&waker)).collect();
    let mut woken: Vec<_> = (0..batch + 8).map(|_| pending(&waker)).collect();
    // In the first batch with the trigger: unlinked and its waker taken,
    // not woken yet when the trigger drops it.
    let taken = woken.pop().expect("more than one batch of waiters");
    let dropper = Arc::new(DropsFuturesWhenWoken::default());
    let trigger = pending(&Waker::from(dropper.clone()));
    {
        let mut futures = dropper.futures.lock().unwrap();
        futures.extend(oldest);
        futures.push(taken);
    }

    event_and_wake(io, Ready::READABLE);
    assert_eq!(dropper.wakes.load(Ordering::SeqCst), 1);
    // Every waiter still alive was woken, plus `taken`, whose waker was in
    // the batch; none of the eight dropped while linked was.
    assert_eq!(counter.wakes(), woken.len() + 1);
    assert!(io.has_no_linked_waiters());
    for fut in &mut woken {
        assert!(poll_once(fut.as_mut(), Waker::noop()).is_ready());
    }
    drop((woken, trigger));
    // SAFETY: every `Readiness` borrowing `io` is gone (the dropper's were
    // dropped by its wake), and `io` is not used after this.
    drop(unsafe { Box::from_raw(raw) });
}

/// A task whose executor polls it inside `wake` (some do): woken, it polls
/// its `Readiness` future at once; given readiness, it "reads until
/// `WouldBlock`" (clears it) and waits again with a new future.
struct PolledOnWake {
    /// The resource all the tasks share.
    io: &'static ScheduledIo,
    /// The task's future, taken out at the end of the test.
    fut: Mutex<Option<Pin<Box<crate::Readiness<'static>>>>>,
    /// How many times it was woken.
    wakes: AtomicUsize,
}

/// Past this many wake-ups a [`PolledOnWake`] stops polling, so that a
/// wake that never ends still lets the test fail instead of hang.
const WAKES_BEFORE_GIVING_UP: usize = 1_000;

impl PolledOnWake {
    fn poll(self: &Arc<Self>) {
        let waker = Waker::from(self.clone());
        let mut slot = self.fut.lock().unwrap();
        let fut = slot.as_mut().expect("the task has a future");
        if let Poll::Ready(event) = poll_once(fut.as_mut(), &waker) {
            self.io.clear_would_block(event);
            let mut again = Box::pin(self.io.readiness(Interest::READABLE));
            assert!(poll_once(again.as_mut(), &waker).is_pending());
            *slot = Some(again);
        }
    }
}

impl Wake for PolledOnWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.wakes.fetch_add(1, Ordering::SeqCst) < WAKES_BEFORE_GIVING_UP {
            self.poll();
        }
    }
}

#[test]
fn an_event_wakes_each_earlier_waiter_once_even_when_woken_tasks_wait_again_at_once() {
    let raw = Box::into_raw(Box::new(ScheduledIo::new()));
    // SAFETY: `raw` stays allocated until the end of the test, where every
    // future borrowing it has been dropped.
    let io: &'static ScheduledIo = unsafe { &*raw };
    // More tasks than one wake batch, so `wake` goes back to the list.
    let tasks: Vec<Arc<PolledOnWake>> = (0..crate::wake_list::BATCH + 1)
        .map(|_| {
            let task = Arc::new(PolledOnWake {
                io,
                fut: Mutex::new(Some(Box::pin(io.readiness(Interest::READABLE)))),
                wakes: AtomicUsize::new(0),
            });
            task.poll();
            task
        })
        .collect();
    assert!(io.ready_now(Interest::READABLE).ready.is_empty());

    let wakes = || -> Vec<usize> {
        tasks
            .iter()
            .map(|t| t.wakes.load(Ordering::SeqCst))
            .collect()
    };
    // One event: one task takes it, the others find it gone and wait
    // again. Their new waits are for a later event; this one wakes each
    // task once, not again (before the fix it did, for as long as they
    // kept waiting again, which was forever).
    event_and_wake(io, Ready::READABLE);
    assert_eq!(wakes(), vec![1; tasks.len()]);
    // And the later event finds every one of them waiting.
    event_and_wake(io, Ready::READABLE);
    assert_eq!(wakes(), vec![2; tasks.len()]);

    for task in &tasks {
        drop(task.fut.lock().unwrap().take());
    }
    assert!(io.has_no_linked_waiters());
    drop(tasks);
    // SAFETY: every `Readiness` borrowing `io` is gone, and `io` is not
    // used after this.
    drop(unsafe { Box::from_raw(raw) });
}
