//! `WakeList`: every waker it takes is woken or dropped exactly once.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::task::{Wake, Waker};

use super::counting_waker::CountingWaker;
use crate::FirstPanic;
use crate::wake_list::{BATCH, WakeList};

#[test]
fn a_full_batch_wakes_each_waker_once_and_keeps_none() {
    let (counter, waker) = CountingWaker::new();
    let mut batch = WakeList::new();
    while batch.can_push() {
        batch.push(waker.clone());
    }
    let mut panics = FirstPanic::new();
    batch.wake_all(&mut panics);
    panics.resume();
    assert_eq!(counter.wakes(), BATCH);
    // Emptied: the batch takes wakers again, and dropping it wakes nobody
    // and holds no clone (only `waker` itself is left).
    assert!(batch.can_push());
    drop(batch);
    assert_eq!(counter.wakes(), BATCH);
    assert_eq!(Arc::strong_count(&counter), 2);
}

#[test]
fn a_batch_dropped_before_wake_all_drops_its_wakers_without_waking_them() {
    let (counter, waker) = CountingWaker::new();
    let mut batch = WakeList::new();
    for _ in 0..3 {
        batch.push(waker.clone());
    }
    batch.extend(None);
    batch.extend(Some(waker.clone()));
    assert_eq!(Arc::strong_count(&counter), 6);
    drop(batch);
    assert_eq!(counter.wakes(), 0);
    assert_eq!(Arc::strong_count(&counter), 2);
}

/// Panics when woken.
struct PanicsOnWake;

impl Wake for PanicsOnWake {
    fn wake(self: Arc<Self>) {
        panic!("a foreign waker panicked");
    }
}

#[test]
fn a_panicking_waker_in_the_batch_costs_the_others_nothing() {
    let (counter, waker) = CountingWaker::new();
    let mut batch = WakeList::new();
    batch.push(waker.clone());
    batch.push(Waker::from(Arc::new(PanicsOnWake)));
    batch.push(waker.clone());
    let mut panics = FirstPanic::new();
    batch.wake_all(&mut panics);
    assert_eq!(counter.wakes(), 2);
    assert!(batch.can_push());
    drop(batch);
    assert_eq!(Arc::strong_count(&counter), 2);
    let resumed = catch_unwind(AssertUnwindSafe(|| panics.resume())).expect_err("resumes");
    assert_eq!(
        resumed.downcast_ref::<&str>(),
        Some(&"a foreign waker panicked")
    );
}
