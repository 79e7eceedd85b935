//! Reading a stream to its end while its reads are cancelled at random, fed
//! by a peer that writes at an uneven pace.

use std::io;

use crate::{XorShift, cancel_at_random};

/// Spawns a task that writes `bytes` through `write` (a stream's
/// `write_all`, on a stream the closure owns) in chunks of random size
/// drawn from `seed`, yielding at random between them, so the reader at
/// the other end finds its stream now empty, now full. The task then drops
/// `write` and its stream: the reader sees end-of-stream after the last
/// byte.
///
/// # Panics
///
/// The task panics if a write fails.
pub fn spawn_trickle<W>(bytes: Vec<u8>, seed: u64, mut write: W)
where
    W: AsyncFnMut(&[u8]) -> io::Result<()> + 'static,
{
    eddy::spawn(async move {
        let mut rng = XorShift(seed ^ 0xA5A5);
        let mut sent = 0;
        while sent < bytes.len() {
            let chunk = (1 + rng.index(8192)).min(bytes.len() - sent);
            write(&bytes[sent..sent + chunk])
                .await
                .expect("write to the reader under test");
            sent += chunk;
            for _ in 0..rng.below(3) {
                eddy::task::yield_now().await;
            }
        }
    });
}

/// Reads to end-of-stream through `read` (a stream's or a half's `read`),
/// each read into a buffer of random length and raced against a random
/// cancellation ([`cancel_at_random`]). Returns the bytes the completed
/// reads returned, and how many reads were dropped unfinished (a test
/// asserts some were: proof it cancelled reads that were waiting).
///
/// # Panics
///
/// Panics, naming `who`, if a read fails.
pub async fn read_to_end_cancelling<R>(
    rng: &mut XorShift,
    who: &str,
    mut read: R,
) -> (Vec<u8>, usize)
where
    R: AsyncFnMut(&mut [u8]) -> io::Result<usize>,
{
    let mut got = Vec::new();
    let mut buf = vec![0u8; 16 << 10];
    let mut dropped = 0;
    loop {
        let len = 1 + rng.index(buf.len());
        match cancel_at_random(rng, read(&mut buf[..len])).await {
            Some(Ok(0)) => return (got, dropped),
            Some(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Some(Err(error)) => panic!("{who}: read failed: {error}"),
            None => dropped += 1,
        }
    }
}
