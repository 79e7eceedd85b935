//! Accepting a known number of numbered clients while the accepts are
//! cancelled at random.

use std::io;
use std::time::Duration;

use crate::{XorShift, cancel_at_random};

/// Accepts `connections` clients, each of which has sent its number (0 to
/// `connections - 1`), racing each `accept` against a random cancellation
/// ([`cancel_at_random`]). `number_of` reads an accepted stream's number
/// and drops the stream, which closes it. Returns how many accepts were
/// dropped unfinished (a test asserts some were: proof it cancelled
/// accepts that were waiting).
///
/// # Panics
///
/// Panics, naming `seed`, if an accept fails, a number comes twice, or no
/// connection comes for `limit`: a connection lost with a dropped accept
/// never comes.
pub async fn accept_all_cancelling<S>(
    rng: &mut XorShift,
    seed: u64,
    connections: u32,
    limit: Duration,
    mut accept: impl AsyncFnMut() -> io::Result<S>,
    mut number_of: impl AsyncFnMut(S) -> u32,
) -> usize {
    let mut seen = vec![false; connections as usize];
    let mut accepted = 0;
    let mut dropped = 0;
    let accept_all = async {
        while accepted < connections {
            let Some(result) = cancel_at_random(rng, accept()).await else {
                dropped += 1;
                continue;
            };
            let i = number_of(result.expect("accept")).await as usize;
            assert!(!seen[i], "seed {seed:#x}: connection {i} accepted twice");
            seen[i] = true;
            accepted += 1;
        }
    };
    let finished = eddy::time::timeout(limit, accept_all).await.is_ok();
    assert!(
        finished,
        "seed {seed:#x}: {accepted} of {connections} connections accepted, then none"
    );
    dropped
}
