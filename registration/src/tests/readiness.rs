//! `Readiness` futures: many waiters per resource, unlinking on drop.

use std::future::Future;
use std::pin::{Pin, pin};
use std::task::{Context, Poll, Waker};

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
