//! Foreign code that runs while the runtime holds its timer store.
//!
//! eddy runs no waker, `Drop` or other callback of the caller's inside its
//! borrow of the timers: wakers are cloned before it and dropped or woken
//! after it (`reentrancy.rs` proves that). What still runs inside it is the
//! global allocator, whenever the store grows, and a panic hook, for a panic
//! in there. Either may reach a `Sleep` of the same runtime. This binary
//! installs an allocator that does, which is why it is a test binary of its
//! own: a `#[global_allocator]` serves every test in its binary.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::{Cell, RefCell};
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::Poll;
use std::time::{Duration, Instant};

use eddy::time::{Sleep, sleep};
use eddy_tests::poll_once;

/// The system allocator, which first resets [`PARKED`] once when armed
/// (see [`reset_parked_if_armed`]).
struct ResetsOnAllocation;

#[global_allocator]
static ALLOCATOR: ResetsOnAllocation = ResetsOnAllocation;

thread_local! {
    /// The deadline the next allocation on this thread resets [`PARKED`]
    /// to; taken by that allocation, so it resets once and the reset's own
    /// allocations do not recurse into it.
    static RESET_TO: Cell<Option<Instant>> = const { Cell::new(None) };
    /// The sleep the allocator resets; the test polls it from here too.
    static PARKED: RefCell<Option<Sleep>> = const { RefCell::new(None) };
}

/// Resets [`PARKED`] to the armed deadline, if one is armed. Never panics:
/// unwinding out of an allocator is undefined behaviour.
fn reset_parked_if_armed() {
    let Ok(Some(deadline)) = RESET_TO.try_with(Cell::take) else {
        return;
    };
    // `try_with`, `try_borrow_mut`: a thread-local being destroyed or a
    // borrow held by the test is a skipped reset, not a panic.
    let _ = PARKED.try_with(|parked| {
        if let Ok(mut parked) = parked.try_borrow_mut() {
            if let Some(parked) = parked.as_mut() {
                Pin::new(parked).reset(deadline);
            }
        }
    });
}

// SAFETY: every method forwards its arguments unchanged to `System`, which
// upholds `GlobalAlloc`'s contract; the reset before it neither unwinds nor
// touches the memory being allocated or freed.
unsafe impl GlobalAlloc for ResetsOnAllocation {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        reset_parked_if_armed();
        // SAFETY: the caller upholds `alloc`'s contract for `layout`.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` (every allocation here does) with
        // `layout`, as the caller guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        reset_parked_if_armed();
        // SAFETY: `ptr` came from `System` with `layout`, and the caller
        // upholds `realloc`'s contract for `new_size`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Polls [`PARKED`] once and reports whether it was still pending.
async fn poll_parked_once() -> bool {
    poll_fn(|cx| {
        PARKED.with(|parked| {
            let mut parked = parked.borrow_mut();
            let parked = parked.as_mut().expect("the test parked a sleep");
            Poll::Ready(Pin::new(parked).poll(cx).is_pending())
        })
    })
    .await
}

fn timers_live() -> usize {
    eddy::Handle::current().metrics().timers_live
}

#[test]
fn a_sleep_reset_while_the_timers_are_borrowed_leaves_no_stale_entry() {
    const HOUR: Duration = Duration::from_secs(3600);
    eddy::run(async {
        PARKED.with(|parked| *parked.borrow_mut() = Some(sleep(HOUR)));
        assert!(poll_parked_once().await);
        // Sleeps registered one at a time, the allocator armed during each
        // registration, until one of them grows the timer store: that
        // allocation happens inside the store's borrow, and resets the
        // parked sleep from there. Room for them is made first, so pushing
        // one allocates nothing while armed.
        let mut others: Vec<Sleep> = Vec::with_capacity(4096);
        while others.len() < others.capacity() {
            let mut other = sleep(HOUR);
            let new_deadline = Instant::now() + 2 * HOUR;
            RESET_TO.with(|reset_to| reset_to.set(Some(new_deadline)));
            assert!(poll_once(Pin::new(&mut other)).await.is_pending());
            others.push(other);
            if RESET_TO.with(Cell::take).is_none() {
                break;
            }
        }
        assert!(
            others.len() < others.capacity(),
            "no registration grew the timer store"
        );
        // The reset above could not reach the store; its old entry must not
        // stay there until the old deadline. A turn of the runtime, then the
        // sleep's next poll registers its new deadline.
        eddy::task::yield_now().await;
        assert!(poll_parked_once().await);
        assert_eq!(
            timers_live(),
            others.len() + 1,
            "one entry per sleep: the reset one's old entry is gone"
        );
        PARKED.with(|parked| parked.borrow_mut().take());
        drop(others);
        assert_eq!(timers_live(), 0);
    });
}
