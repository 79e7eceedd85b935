//! Cancelling a future at a chosen point: the losing side of a race.

use std::future::Future;
use std::pin::pin;
use std::task::Poll;

use crate::poll_once;

/// Polls `future` at most `polls` times, yielding to the runtime between
/// two polls (so it can take in socket events and fire timers), and drops
/// it unfinished if it has not completed by then: how a `select` or an
/// `or` that another branch won, or a timeout, cancels it. `Some(output)`
/// if it completed, `None` if it was dropped.
///
/// With `polls` drawn from a seeded [`XorShift`](crate::XorShift), a test
/// cancels an operation at many different points of its life, and replays
/// them from the seed.
pub async fn poll_at_most<F: Future>(polls: u64, future: F) -> Option<F::Output> {
    let mut future = pin!(future);
    for poll in 0..polls {
        if poll > 0 {
            eddy::task::yield_now().await;
        }
        if let Poll::Ready(output) = poll_once(future.as_mut()).await {
            return Some(output);
        }
    }
    None
}

/// Runs `future` to its end, or cancels it at a point drawn from `rng`:
/// after one to four polls ([`poll_at_most`]), or when a timer of up to
/// 2 ms fires first (`eddy::time::timeout`, the race a user writes most).
/// One call in four runs it to completion, so a test that loops over
/// these always makes progress. `Some(output)` if it completed.
pub async fn cancel_at_random<F: Future>(
    rng: &mut crate::XorShift,
    future: F,
) -> Option<F::Output> {
    match rng.below(4) {
        0 => {
            let limit = std::time::Duration::from_micros(rng.below(2_000));
            eddy::time::timeout(limit, future).await.ok()
        }
        1 | 2 => poll_at_most(1 + rng.below(4), future).await,
        _ => Some(future.await),
    }
}
