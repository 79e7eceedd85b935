//! `ScheduledIo`: the tick rule, `poll_readiness`, `wake`, `shutdown`.

use std::sync::Arc;
use std::task::{Context, Poll};

use super::counting_waker::CountingWaker;
use crate::scheduled_io::TICK_MAX;
use crate::{Direction, Interest, Ready, ScheduledIo, Tick};

/// Polls `io` in `direction` with `waker`.
fn poll(
    io: &ScheduledIo,
    direction: Direction,
    waker: &std::task::Waker,
) -> Poll<crate::ReadyEvent> {
    io.poll_readiness(&mut Context::from_waker(waker), direction)
}

/// One driver event adding `ready`.
fn event(io: &ScheduledIo, ready: Ready) {
    assert!(io.set_readiness(Tick::Set, |r| r | ready));
}

#[test]
fn a_driver_event_sets_bits_and_bumps_the_tick() {
    let io = ScheduledIo::new();
    let before = io.ready_now(Interest::READABLE);
    assert!(before.ready.is_empty() && !before.is_shutdown);
    event(&io, Ready::READABLE);
    let after = io.ready_now(Interest::READABLE);
    assert_eq!(after.ready, Ready::READABLE);
    assert_eq!(after.tick, before.tick.wrapping_add(1));
}

#[test]
fn clear_with_the_current_tick_clears() {
    let io = ScheduledIo::new();
    event(&io, Ready::READABLE | Ready::WRITABLE);
    let seen = io.ready_now(Interest::READABLE);
    io.clear_readiness(seen);
    let now = io.ready_now(Interest::READABLE | Interest::WRITABLE);
    assert_eq!(
        now.ready,
        Ready::WRITABLE,
        "only the observed bits are cleared"
    );
    assert_eq!(now.tick, seen.tick, "a clear does not bump the tick");
}

#[test]
fn clear_after_a_newer_event_is_refused() {
    let io = ScheduledIo::new();
    event(&io, Ready::READABLE);
    let stale = io.ready_now(Interest::READABLE);
    event(&io, Ready::READABLE);
    assert!(!io.set_readiness(Tick::Clear(stale.tick), |r| r - Ready::READABLE));
    io.clear_readiness(stale);
    assert!(io.ready_now(Interest::READABLE).ready.is_readable());
}

#[test]
fn a_stale_clear_is_refused_even_after_hundreds_of_events() {
    // 256 events bring an 8-bit tick back to the same value: the tokio bug.
    // 300 goes past it. Both must refuse the stale clear, and so must every
    // gap up to the widest the tick can tell apart: `TICK_MAX` events on a
    // 32-bit target (32,767: its readiness word has room for 15 tick bits),
    // capped at 65,536 on 64-bit ones, where the tick has 32. (65,536
    // events on a 32-bit target are two whole laps of its tick, which
    // bring it back to where it was.)
    for events in [256, 300, 512, TICK_MAX.min(65_536)] {
        let io = ScheduledIo::new();
        event(&io, Ready::READABLE);
        let stale = io.ready_now(Interest::READABLE);
        for _ in 0..events {
            event(&io, Ready::READABLE);
        }
        let now = io.ready_now(Interest::READABLE);
        assert_ne!(now.tick, stale.tick, "after {events} events");
        assert_eq!(
            now.tick as usize,
            (stale.tick as usize + events) & TICK_MAX,
            "the full tick is reported"
        );
        io.clear_readiness(stale);
        assert!(
            io.ready_now(Interest::READABLE).ready.is_readable(),
            "a clear {events} events stale erased newer readiness"
        );
    }
}

#[test]
fn clear_never_clears_closed_bits() {
    let io = ScheduledIo::new();
    event(&io, Ready::ALL);
    let seen = io.ready_now(Interest::READABLE | Interest::WRITABLE | Interest::PRIORITY);
    assert!(seen.ready.is_read_closed() && seen.ready.is_write_closed());
    io.clear_readiness(seen);
    let left = io.ready_now(Interest::READABLE | Interest::WRITABLE).ready;
    assert_eq!(left, Ready::READ_CLOSED | Ready::WRITE_CLOSED);
    // Still "ready" for reading, so a reader sees EOF instead of sleeping.
    assert!(poll(&io, Direction::Read, std::task::Waker::noop()).is_ready());
}

#[test]
fn clear_would_block_clears_closed_bits_too() {
    let io = ScheduledIo::new();
    event(&io, Ready::READABLE | Ready::READ_CLOSED | Ready::WRITABLE);
    let seen = io.ready_now(Interest::READABLE);
    io.clear_would_block(seen);
    let left = io.ready_now(Interest::READABLE | Interest::WRITABLE).ready;
    // The read direction is empty, so a reader waits for the next event;
    // the other direction is untouched.
    assert_eq!(left, Ready::WRITABLE);
    assert!(poll(&io, Direction::Read, std::task::Waker::noop()).is_pending());
}

#[test]
fn clear_would_block_after_a_newer_event_clears_nothing() {
    let io = ScheduledIo::new();
    event(&io, Ready::READ_CLOSED);
    let stale = io.ready_now(Interest::READABLE);
    event(&io, Ready::READABLE);
    io.clear_would_block(stale);
    let left = io.ready_now(Interest::READABLE).ready;
    assert_eq!(left, Ready::READABLE | Ready::READ_CLOSED);
}

#[test]
fn poll_completes_at_once_when_the_direction_is_ready() {
    let io = ScheduledIo::new();
    event(&io, Ready::WRITABLE);
    let (counter, waker) = CountingWaker::new();
    match poll(&io, Direction::Write, &waker) {
        Poll::Ready(ev) => assert_eq!(ev.ready, Ready::WRITABLE),
        Poll::Pending => panic!("writable resource reported pending"),
    }
    assert!(poll(&io, Direction::Read, &waker).is_pending());
    assert_eq!(counter.wakes(), 0);
}

#[test]
fn wake_reaches_the_reader_or_writer_whose_direction_matches() {
    let io = ScheduledIo::new();
    let (reader, reader_waker) = CountingWaker::new();
    let (writer, writer_waker) = CountingWaker::new();
    assert!(poll(&io, Direction::Read, &reader_waker).is_pending());
    assert!(poll(&io, Direction::Write, &writer_waker).is_pending());

    event(&io, Ready::READABLE);
    io.wake(Ready::READABLE);
    assert_eq!((reader.wakes(), writer.wakes()), (1, 0));
    assert!(poll(&io, Direction::Read, &reader_waker).is_ready());

    event(&io, Ready::WRITABLE);
    io.wake(Ready::WRITABLE);
    assert_eq!((reader.wakes(), writer.wakes()), (1, 1));

    // A waker is taken when woken: a second wake reaches nobody.
    io.wake(Ready::ALL);
    assert_eq!((reader.wakes(), writer.wakes()), (1, 1));
}

#[test]
fn an_error_wakes_both_the_reader_and_the_writer() {
    let io = ScheduledIo::new();
    let (reader, reader_waker) = CountingWaker::new();
    let (writer, writer_waker) = CountingWaker::new();
    assert!(poll(&io, Direction::Read, &reader_waker).is_pending());
    assert!(poll(&io, Direction::Write, &writer_waker).is_pending());
    event(&io, Ready::ERROR);
    io.wake(Ready::ERROR);
    assert_eq!((reader.wakes(), writer.wakes()), (1, 1));
    assert!(poll(&io, Direction::Read, &reader_waker).is_ready());
    assert!(poll(&io, Direction::Write, &writer_waker).is_ready());
}

#[test]
fn a_later_poll_from_another_task_replaces_the_stored_waker() {
    let io = ScheduledIo::new();
    let (first, first_waker) = CountingWaker::new();
    let (second, second_waker) = CountingWaker::new();
    assert!(poll(&io, Direction::Read, &first_waker).is_pending());
    assert!(poll(&io, Direction::Read, &second_waker).is_pending());
    assert_eq!(
        Arc::strong_count(&first),
        2,
        "the replaced waker was dropped"
    );
    io.wake(Ready::READABLE);
    assert_eq!((first.wakes(), second.wakes()), (0, 1));
}

#[test]
fn shutdown_wakes_everyone_and_polls_report_it() {
    let io = ScheduledIo::new();
    let (reader, reader_waker) = CountingWaker::new();
    let (writer, writer_waker) = CountingWaker::new();
    assert!(poll(&io, Direction::Read, &reader_waker).is_pending());
    assert!(poll(&io, Direction::Write, &writer_waker).is_pending());

    io.shutdown();
    assert!(io.is_shutdown());
    assert_eq!((reader.wakes(), writer.wakes()), (1, 1));
    match poll(&io, Direction::Read, &reader_waker) {
        Poll::Ready(ev) => assert!(ev.is_shutdown && ev.ready.is_empty()),
        Poll::Pending => panic!("shut-down resource reported pending"),
    }

    io.shutdown();
    assert!(io.is_shutdown(), "shutdown is idempotent");
    // Events after shutdown keep the bit.
    event(&io, Ready::READABLE);
    assert!(io.is_shutdown());
}

#[test]
fn clear_wakers_drops_the_stored_wakers() {
    let io = ScheduledIo::new();
    let (reader, reader_waker) = CountingWaker::new();
    assert!(poll(&io, Direction::Read, &reader_waker).is_pending());
    drop(reader_waker);
    assert_eq!(Arc::strong_count(&reader), 2);
    io.clear_wakers();
    assert_eq!(Arc::strong_count(&reader), 1);
    io.wake(Ready::ALL);
    assert_eq!(reader.wakes(), 0);
}

#[test]
fn wakers_run_after_the_waiters_lock_is_released() {
    /// On wake, polls the resource again: that takes the waiters lock, which
    /// would deadlock (or, with `try_lock`, fail) if `wake` still held it.
    struct Repoll {
        /// The resource whose lock the wake checks.
        io: Arc<ScheduledIo>,
        /// What the check found.
        lock_was_free: std::sync::atomic::AtomicBool,
    }
    impl std::task::Wake for Repoll {
        fn wake(self: Arc<Self>) {
            let free = self.io.waiters_lock_is_free();
            self.lock_was_free
                .store(free, std::sync::atomic::Ordering::SeqCst);
        }
    }

    let io = Arc::new(ScheduledIo::new());
    let repoll = Arc::new(Repoll {
        io: io.clone(),
        lock_was_free: false.into(),
    });
    let waker = std::task::Waker::from(repoll.clone());
    assert!(poll(&io, Direction::Read, &waker).is_pending());
    io.wake(Ready::READABLE);
    assert!(
        repoll
            .lock_was_free
            .load(std::sync::atomic::Ordering::SeqCst)
    );
}

/// Panics when woken.
struct PanickingWaker;

impl std::task::Wake for PanickingWaker {
    fn wake(self: Arc<Self>) {
        std::panic::panic_any("panicking waker");
    }
}

#[test]
fn a_panicking_reader_waker_still_lets_the_writer_and_the_linked_waiters_wake() {
    use std::future::Future;
    use std::panic::{AssertUnwindSafe, catch_unwind};

    let io = ScheduledIo::new();
    let doomed = std::task::Waker::from(Arc::new(PanickingWaker));
    assert!(poll(&io, Direction::Read, &doomed).is_pending());
    let (writer, writer_waker) = CountingWaker::new();
    assert!(poll(&io, Direction::Write, &writer_waker).is_pending());
    let (linked, linked_waker) = CountingWaker::new();
    let mut readiness = std::pin::pin!(io.readiness(Interest::READABLE));
    let mut cx = Context::from_waker(&linked_waker);
    assert!(readiness.as_mut().poll(&mut cx).is_pending());

    let woke = catch_unwind(AssertUnwindSafe(|| io.wake(Ready::ERROR)));
    assert!(woke.is_err(), "the reader's panic comes out of wake");
    assert_eq!(writer.wakes(), 1, "the writer lost its wake-up");
    assert_eq!(linked.wakes(), 1, "the linked waiter lost its wake-up");
}

#[test]
fn a_panicking_reader_waker_still_lets_the_writer_wake_when_nothing_is_linked() {
    use std::panic::{AssertUnwindSafe, catch_unwind};

    let io = ScheduledIo::new();
    let doomed = std::task::Waker::from(Arc::new(PanickingWaker));
    assert!(poll(&io, Direction::Read, &doomed).is_pending());
    let (writer, writer_waker) = CountingWaker::new();
    assert!(poll(&io, Direction::Write, &writer_waker).is_pending());

    // The common path: no `readiness` future linked, reader and writer
    // woken directly.
    let woke = catch_unwind(AssertUnwindSafe(|| io.wake(Ready::ERROR)));
    assert!(woke.is_err(), "the reader's panic comes out of wake");
    assert_eq!(writer.wakes(), 1, "the writer lost its wake-up");
}
