//! [`ReaderGate`]: how `slots::release` waits out the signal handlers that
//! may still hold a slot's old fd, and only those.
//!
//! ```text
//!  generation: AtomicUsize    0 or 1: the counter a reader joins now
//!  inside[0]:  AtomicUsize    readers inside that joined generation 0
//!  inside[1]:  AtomicUsize    readers inside that joined generation 1
//! ```
//!
//! A reader (the signal handler) `enter`s before it reads any slot and
//! `exit`s after its last write. A waiter (`release`, after emptying a
//! slot) flips `generation` and waits for the counter of the old one to
//! drain. Readers that enter after the flip join the other counter, so a
//! steady stream of deliveries cannot hold a waiter up: with one counter
//! for everyone, four threads sending SIGUSR1 in a loop kept it above zero
//! and made single drops of a `Signal` block for up to a second. This is
//! the two-generation scheme of userspace RCU and of signal-hook-registry's
//! `HalfLock`.
//!
//! # Why it is safe (every atomic access is SeqCst)
//!
//! SeqCst puts every access below in one total order `S` that agrees with
//! each thread's program order. Take a reader that loads a slot (`L`) and
//! sees the fd a waiter is about to make unreachable by storing EMPTY
//! (`E`): `L` did not see `E`, so `L < E`. The reader's `enter` incremented
//! `inside[g]` (`I`) and then re-read `generation` (`C`), found `g`, and
//! only then loaded the slot: `I < C < L < E`. The waiter flips (`F`,
//! after `E`) and returns after a load of its old counter read zero (`Z`).
//!
//! * If no flip lies between `C` and `F` in `S`, the waiter's old
//!   generation is `g`. `I < Z`, so `Z` reads zero only once the reader's
//!   `exit` has come before it: the reader is done with the fd.
//! * If a flip from `g` lies between them, it was an earlier waiter's (the
//!   mutex orders flips), and that waiter did not let go of the mutex
//!   before reading `inside[g]` as zero after `I`: the reader was done
//!   before our waiter could even flip.
//!
//! A reader that read the old generation before the flip but increments
//! only after the waiter's `Z` is harmless either way: its slot load comes
//! after its increment, which is after `E`, so it sees EMPTY (or a newer
//! listener's live fd). The re-read `C` is what the second case needs: a
//! reader that loaded generation 0, stalled while one waiter flipped to 1
//! and returned, and then joined counter 0 could read the next waiter's
//! slot while that waiter (flipping 1 to 0) waits only for counter 1. With
//! the re-read it sees the flip, leaves counter 0 and joins counter 1.
//!
//! # Why it is live
//!
//! After the flip, only two kinds of reader touch the old counter: those
//! whose `C` came before the flip (inside already; each leaves after one
//! pass over 64 slots, since its writes never block) and those that loaded
//! the old generation before the flip but increment after it (their `C`
//! sees the new generation, so they decrement again at once). Readers that
//! load the generation after the flip never touch the old counter. The
//! mutex makes waiters take turns: two waiters flipping at once would each
//! wait for the other's new readers.

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Mutex, PoisonError};

/// Counts readers per generation so a waiter waits only for those that
/// entered before it started waiting. See the module documentation.
#[derive(Debug)]
pub(super) struct ReaderGate {
    /// 0 or 1: which counter of `inside` an entering reader joins. Written
    /// only by `wait_out_readers`, under `flipping`.
    generation: AtomicUsize,
    /// Readers inside, by the generation they joined: a waiter waits for
    /// one of the two to drain while new readers fill the other.
    inside: [AtomicUsize; 2],
    /// Makes waiters take turns: two overlapping flips would leave each
    /// waiting on the readers that joined after the other's flip, and the
    /// safety argument's second case needs flips in mutex order.
    flipping: Mutex<()>,
}

impl ReaderGate {
    /// A gate with no reader inside, usable in a `static`.
    pub(super) const fn new() -> ReaderGate {
        ReaderGate {
            generation: AtomicUsize::new(0),
            inside: [AtomicUsize::new(0), AtomicUsize::new(0)],
            flipping: Mutex::new(()),
        }
    }

    /// Counts the caller as a reader until [`exit`](Self::exit) with the
    /// returned generation. Call before the first load of shared state.
    ///
    /// Async-signal-safe: atomics only, no lock or allocation. It loops
    /// only while waiters flip the generation between its two loads, and
    /// each flip means a waiter finished waiting.
    #[must_use = "pass the generation to `exit`, or waiters wait forever"]
    pub(super) fn enter(&self) -> usize {
        loop {
            if let Some(generation) = self.try_enter(self.generation.load(SeqCst)) {
                return generation;
            }
        }
    }

    /// Joins the counter of `generation` if it is still the current
    /// generation once joined; otherwise leaves it again and returns
    /// `None`. Split from `enter` so a test can play a reader whose load of
    /// the generation went stale.
    fn try_enter(&self, generation: usize) -> Option<usize> {
        // `& 1` keeps the index in range without a bounds-check panic,
        // which a signal handler must not risk.
        let generation = generation & 1;
        self.inside[generation].fetch_add(1, SeqCst);
        // The re-read that keeps a stale reader out of a counter no waiter
        // will look at (see the module documentation).
        if self.generation.load(SeqCst) == generation {
            return Some(generation);
        }
        self.inside[generation].fetch_sub(1, SeqCst);
        None
    }

    /// Ends what [`enter`](Self::enter) began. Async-signal-safe.
    pub(super) fn exit(&self, generation: usize) {
        self.inside[generation & 1].fetch_sub(1, SeqCst);
    }

    /// Returns once every reader that was inside when this was called, or
    /// that entered before its flip, has exited; readers that enter after
    /// the flip do not hold it up. Call after making the shared state
    /// unreachable; then no reader can still use what it pointed to.
    ///
    /// Never call from a signal handler: it locks and waits for readers.
    pub(super) fn wait_out_readers(&self) {
        // A reader never blocks, so this waits for at most one pass of
        // each reader inside. If a handler interrupted this very thread,
        // it finished before we got here.
        self.wait_out_readers_with(std::thread::yield_now);
    }

    /// [`wait_out_readers`](Self::wait_out_readers), calling `spin` each
    /// time it finds the old counter above zero; tests use it to learn that
    /// the flip has happened and the wait is blocked.
    fn wait_out_readers_with(&self, mut spin: impl FnMut()) {
        // The mutex guards no data, so a panic under it leaves nothing
        // inconsistent: a poisoned lock is still good.
        let _turn = self.flipping.lock().unwrap_or_else(PoisonError::into_inner);
        let old = self.generation.load(SeqCst);
        self.generation.store(old ^ 1, SeqCst);
        while self.inside[old].load(SeqCst) != 0 {
            spin();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::Ordering::SeqCst;
    use std::sync::mpsc::{self, Receiver};
    use std::thread::{self, JoinHandle};
    use std::time::Duration;

    use super::ReaderGate;

    /// Only reached when a wait hangs; no test relies on how fast
    /// anything is.
    const HANG: Duration = Duration::from_secs(20);

    /// What the waiting thread reports, in order.
    #[derive(Debug, PartialEq)]
    enum Report {
        /// It flipped and found the old counter above zero.
        Blocked,
        /// `wait_out_readers` returned.
        Done,
    }

    /// Starts `wait_out_readers` on another thread, which reports
    /// `Blocked` the first time it finds a reader in its way and `Done`
    /// when it returns.
    fn start_waiter(gate: &Arc<ReaderGate>) -> (Receiver<Report>, JoinHandle<()>) {
        let (tx, rx) = mpsc::channel();
        let gate = gate.clone();
        let waiter = thread::spawn(move || {
            let mut reported = false;
            gate.wait_out_readers_with(|| {
                if !reported {
                    reported = true;
                    tx.send(Report::Blocked).unwrap();
                }
                thread::yield_now();
            });
            tx.send(Report::Done).unwrap();
        });
        (rx, waiter)
    }

    /// The waiter's next report, failing the test if it hangs.
    fn next_report(rx: &Receiver<Report>) -> Report {
        rx.recv_timeout(HANG)
            .expect("the waiter hung: a reader held it up")
    }

    #[test]
    fn a_reader_inside_before_the_flip_delays_the_wait_until_it_exits() {
        let gate = Arc::new(ReaderGate::new());
        let reader = gate.enter();
        let (rx, waiter) = start_waiter(&gate);
        // The reader stays inside until the waiter reports: if it reports
        // `Done` first, it returned with a reader still inside.
        assert_eq!(next_report(&rx), Report::Blocked);
        gate.exit(reader);
        assert_eq!(next_report(&rx), Report::Done);
        waiter.join().unwrap();
    }

    #[test]
    fn a_reader_that_enters_after_the_flip_does_not_delay_the_wait() {
        let gate = Arc::new(ReaderGate::new());
        let early = gate.enter();
        let (rx, waiter) = start_waiter(&gate);
        // `Blocked` comes after the flip, so `late` enters after it.
        assert_eq!(next_report(&rx), Report::Blocked);
        let late = gate.enter();
        gate.exit(early);
        // `late` is still inside: the wait must end without it, or steady
        // signal traffic could hold a drop up for ever.
        assert_eq!(next_report(&rx), Report::Done);
        gate.exit(late);
        waiter.join().unwrap();
    }

    #[test]
    fn a_reader_that_read_the_generation_before_a_flip_still_delays_the_next_wait() {
        let gate = Arc::new(ReaderGate::new());
        // A reader loads the generation, then stalls while a whole wait
        // (with nobody inside) flips it and returns.
        let stale = gate.generation.load(SeqCst);
        gate.wait_out_readers();
        // Its increment lands in the counter of the stale generation, which
        // the next waiter (flipping back) does not watch: it must notice
        // and join the current generation instead.
        let reader = gate.try_enter(stale).unwrap_or_else(|| gate.enter());
        let (rx, waiter) = start_waiter(&gate);
        assert_eq!(
            next_report(&rx),
            Report::Blocked,
            "the wait ended with a reader inside that may hold an old fd"
        );
        gate.exit(reader);
        assert_eq!(next_report(&rx), Report::Done);
        waiter.join().unwrap();
    }

    #[test]
    fn waits_back_to_back_with_no_reader_return_at_once() {
        let gate = ReaderGate::new();
        for _ in 0..3 {
            gate.wait_out_readers_with(|| panic!("waited with nobody inside"));
        }
        let reader = gate.enter();
        gate.exit(reader);
        gate.wait_out_readers_with(|| panic!("waited after the reader exited"));
    }
}
