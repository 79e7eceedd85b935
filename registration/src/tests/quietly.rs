//! `catch_quietly`, `drop_quietly` and `FirstPanic` with payloads whose own
//! `Drop` panics (`panic_any` takes any type).

use std::panic::{AssertUnwindSafe, catch_unwind, panic_any};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::{FirstPanic, catch_quietly, drop_quietly};

/// Panics when dropped, `panics_left` times in a chain: the drop panics
/// with another `PanicsOnDrop` carrying one fewer, until none is left.
struct PanicsOnDrop {
    /// How many more drops in the chain panic.
    panics_left: usize,
    /// Counts every drop, so a test can see the chain ran.
    drops: &'static AtomicUsize,
}

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
        if self.panics_left > 0 {
            panic_any(PanicsOnDrop {
                panics_left: self.panics_left - 1,
                drops: self.drops,
            });
        }
    }
}

#[test]
fn catch_quietly_swallows_a_panic_whose_payload_panics_when_dropped() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    let escaped = catch_unwind(AssertUnwindSafe(|| {
        catch_quietly(|| {
            panic_any(PanicsOnDrop {
                panics_left: 1,
                drops: &DROPS,
            })
        })
    }));
    assert!(escaped.is_ok(), "a payload's panic got out");
    // The payload's drop panicked with a second payload, which was dropped.
    assert_eq!(DROPS.load(Ordering::SeqCst), 2);
}

#[test]
fn drop_quietly_drops_a_chain_of_panicking_payloads_to_its_end() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    let escaped = catch_unwind(AssertUnwindSafe(|| {
        drop_quietly(PanicsOnDrop {
            panics_left: 3,
            drops: &DROPS,
        })
    }));
    assert!(escaped.is_ok(), "a panic in the chain got out");
    // The value and the three payloads its drop chain panicked with: all
    // dropped, none leaked (AddressSanitizer's leak check sees to that).
    assert_eq!(DROPS.load(Ordering::SeqCst), 4);
}

#[test]
fn first_panic_keeps_the_first_payload_and_drops_a_later_panicking_one_quietly() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    let mut panics = FirstPanic::new();
    panics.run(|| panic_any("first"));
    let later = catch_unwind(AssertUnwindSafe(|| {
        panics.run(|| {
            panic_any(PanicsOnDrop {
                panics_left: 1,
                drops: &DROPS,
            })
        })
    }));
    assert!(later.is_ok(), "a later payload's panic got out of run");
    assert_eq!(DROPS.load(Ordering::SeqCst), 2);
    let resumed = catch_unwind(AssertUnwindSafe(|| panics.resume())).expect_err("resumes");
    assert_eq!(resumed.downcast_ref::<&str>(), Some(&"first"));
}
