//! Streams, timers and tasks under seeded random interleavings, cancellation
//! included: futures polled once or a few times and then dropped, wrapped in
//! zero or tiny timeouts, aborted from outside, from inside, or after they
//! finished.
//!
//! What is proved here, one test each, every one over a fixed list of seeds:
//!
//! * a reader that mixes awaited `read`s, `read`s polled one to three
//!   times and dropped while pending, `peek`s (awaited, or polled once and
//!   dropped; TCP only), `readable` + `try_read`, `read`s under a `timeout`
//!   of 0 to 1 ms, `read_exact` and `futures-io` reads, in random buffer
//!   sizes, receives exactly the bytes the writer sent, in order, then end
//!   of stream: a cancelled read consumed nothing and no readiness was
//!   lost;
//! * the same on owned halves (`into_split`), both directions at once, with
//!   the reads *and* the writes cancelled at random, and each half moving
//!   to a new task every 10 to 109 steps (so an operation that waited, and
//!   was dropped, with one task's waker is next polled by another task);
//! * a `write` (not `write_all`) dropped while pending wrote nothing, and
//!   the bytes every completed `write`, timed-out `write` or `try_write`
//!   reported arrive exactly once: the reader gets precisely the payload,
//!   each write resuming where the previous ones reported they stopped
//!   (half the seeds move the stream between tasks likewise);
//! * sleeps reset at random (to earlier, later, past and hour-long
//!   deadlines, while their task waits), dropped while registered, polled
//!   and dropped, wrapped in timeouts, or reset after they completed, never
//!   complete before their last deadline; every sleep not dropped
//!   completes without a lost wake-up; the live-timer gauge never exceeds
//!   the sleeps alive and ends at 0;
//! * random spawn trees, whose tasks and main future abort each other
//!   (pending or finished), abort themselves (then suspend, or return in the
//!   same poll), join, detach, or poll a handle once and drop it, and whose
//!   futures, as the runtime drops them (finished or aborted, polled or
//!   not), abort, spawn or detach in turn: every
//!   outcome seen is exactly one of `Ok(its own value)` or a cancelled
//!   `JoinError`, and which one follows from what happened; code after a
//!   task's own abort and suspension never runs; each future and each
//!   output is dropped exactly once (outputs: once if produced, else
//!   never); the live-task gauge ends at 0.
//!
//! The three stream properties run every seed over TCP (127.0.0.1) and
//! over Unix-domain stream sockets, which eddy reads on a path of their own
//! (see `streams.rs`); a failure names the transport.
//!
//! Each seed also picks the runtime's `budget` (1 to 128, so an operation
//! may also be refused by the budget and dropped) and `event_interval`.
//! Every test also checks, summed over its seeds (and for the stream tests
//! over each transport apart), that the paths it claims to exercise ran
//! (pending reads and writes that were dropped, timeouts that elapsed,
//! self-aborts...), so none passes vacuously.
//!
//! One module per subject (`streams.rs`, `timers.rs`, `tasks.rs`); this
//! file holds what they share: the seeds, the runtime each seed runs on,
//! and polling a future by hand a few times before dropping it.
//!
//! # Replaying a seed
//!
//! A failure names its seed (and its transport). To run one seed alone
//! (over both transports, for a stream test):
//!
//! ```text
//! RANDOM_SCHEDULES_SEED=0x1234abcd cargo test -p eddy-tests --test random_schedules NAME
//! ```
//!
//! A seed fixes every random choice (payloads, chunk sizes, which operation
//! comes next, the runtime's settings, each task's script). The task test
//! uses neither sockets nor timers, so its schedule replays exactly. Where
//! the kernel or the clock decides when something becomes ready (sockets,
//! timers), a seed replays the same plan, not necessarily the same
//! interleaving; run the replay a few times. A replay skips the checks
//! that the paths ran: one seed need not take them all.
//!
//! Every seed runs on its own runtime under `with_deadline`, so a hang fails
//! with its seed instead of stalling CI. No test asserts how long anything
//! took.

use std::future::{Future, poll_fn};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use eddy::Builder;
use eddy::task::yield_now;
use eddy_tests::{XorShift, panic_message, with_deadline};

/// Hang detector for one seed, not a performance bound: the machine is
/// shared, and a seed takes milliseconds.
const PER_SEED_LIMIT: Duration = Duration::from_secs(60);

/// The environment variable that replaces a test's seed list with one seed.
const SEED_VARIABLE: &str = "RANDOM_SCHEDULES_SEED";

/// How many of a test's seeds run under Miri (`scripts/miri` runs the task
/// test there, for the executor's unsafe code): one seed takes about a
/// minute interpreted. Natively every seed runs.
const MIRI_SEEDS: u64 = 4;

mod streams;
mod tasks;
mod timers;

// ---------------------------------------------------------------------------
// Seeds and the runtime each seed runs on
// ---------------------------------------------------------------------------

/// SplitMix64's finaliser over `seed` and `stream`: independent, never-zero
/// `XorShift` seeds for the separate actors of one test seed (writer,
/// reader, runtime settings, each task), so that one actor's choices do not
/// depend on how its draws interleave with another's.
fn mix(seed: u64, stream: u64) -> u64 {
    let mut z = seed ^ stream.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)).max(1)
}

/// The seeds a test runs: `count` fixed ones, or only the one named by
/// `RANDOM_SCHEDULES_SEED` (hex with `0x`, or decimal) to replay a failure;
/// under Miri only the first [`MIRI_SEEDS`].
fn seeds(count: u64) -> Vec<u64> {
    match std::env::var(SEED_VARIABLE) {
        Ok(text) => {
            let text = text.trim();
            let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
                Some(hex) => u64::from_str_radix(&hex.replace('_', ""), 16),
                None => text.replace('_', "").parse(),
            };
            vec![parsed.unwrap_or_else(|e| panic!("{SEED_VARIABLE}={text:?}: {e}"))]
        }
        Err(_) => {
            let count = if cfg!(miri) {
                count.min(MIRI_SEEDS)
            } else {
                count
            };
            (0..count).map(|i| mix(i, 0x5EED)).collect()
        }
    }
}

/// Runs `body(seed)` on a fresh runtime whose budget and event interval the
/// seed picks, on its own thread under [`with_deadline`]. A panic or a hang
/// is re-raised naming the seed, the settings and how to replay it.
fn run_seed<F, Fut>(seed: u64, body: F) -> Fut::Output
where
    F: FnOnce(u64) -> Fut + Send + 'static,
    Fut: Future,
    Fut::Output: Send + 'static,
{
    run_seed_labelled(seed, "", body)
}

/// [`run_seed`], with `label` right after the seed in a failure's message:
/// what else the run depended on (` over Unix`, for the stream tests, which
/// run every seed over each transport).
fn run_seed_labelled<F, Fut>(seed: u64, label: &str, body: F) -> Fut::Output
where
    F: FnOnce(u64) -> Fut + Send + 'static,
    Fut: Future,
    Fut::Output: Send + 'static,
{
    let mut rng = XorShift(mix(seed, 0xC0F1));
    // Budgets of 1 and 2 make operations return `Pending` for the budget
    // alone, on sockets that are ready: another way to be cancelled.
    let budget = [1, 2, 3, 8, 32, 128][rng.index(6)];
    let event_interval = [1, 2, 7, 61][rng.index(4)];
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        with_deadline(PER_SEED_LIMIT, move || {
            let runtime = Builder::new()
                .budget(budget)
                .event_interval(event_interval)
                .build()
                .expect("could not build the runtime");
            runtime.block_on(body(seed))
        })
    }));
    outcome.unwrap_or_else(|payload| {
        panic!(
            "seed {seed:#x}{label} (budget {budget}, event_interval {event_interval}) \
             failed: {}\n\
             replay it alone with {SEED_VARIABLE}={seed:#x}",
            panic_message(&*payload)
        )
    })
}

// ---------------------------------------------------------------------------
// Polling by hand
// ---------------------------------------------------------------------------

/// Polls `future` up to `polls` times from the calling task, with a
/// `yield_now` (and so a driver turn, and other tasks' turns) between two
/// polls; returns its output if one poll was ready, `None` if it was still
/// pending after the last. The caller then drops it: a cancellation at a
/// random point of its life.
async fn poll_up_to<F: Future>(mut future: Pin<&mut F>, polls: u64) -> Option<F::Output> {
    for poll in 0..polls {
        if poll > 0 {
            yield_now().await;
        }
        if let Poll::Ready(output) = poll_fn(|cx| Poll::Ready(future.as_mut().poll(cx))).await {
            return Some(output);
        }
    }
    None
}

/// 0, 0.5 or 1 ms: a timeout that often elapses while its operation waits
/// (the timer wheel has 1 ms ticks), and with 0, one that elapses at once
/// unless the operation is ready on its first poll.
fn tiny_timeout(rng: &mut XorShift) -> Duration {
    Duration::from_micros(rng.below(3) * 500)
}

/// Asserts `count`, a tally's field (`streams::StreamTally`,
/// `timers::TimerTally`, `tasks::TaskTally`) summed over
/// every seed of a test, is not zero: the path it counts ran at least
/// once, so the test proved something about it. Skipped while
/// `RANDOM_SCHEDULES_SEED` replays one seed: one seed need not take every
/// path, and the check must not stop a replay before it reaches the
/// failure it replays (the stream tests run a seed over TCP, checking it,
/// before they run it over Unix). Skipped under Miri too, whose handful of
/// seeds need not take every path either: the native runs check them.
fn assert_exercised(count: u64, what: &str) {
    if std::env::var_os(SEED_VARIABLE).is_some() || cfg!(miri) {
        return;
    }
    assert!(
        count > 0,
        "no seed exercised {what}: the test proves nothing about it"
    );
}
