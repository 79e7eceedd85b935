//! Whether the next `readable()` wait is woken by a byte that arrives,
//! after waits dropped before it.

use std::future::Future;
use std::io;
use std::time::Duration;

use crate::{XorShift, woken_within};

/// Sends `byte` through `send` (the peer's `write_all`, on a stream the
/// closure owns) now or, drawn from `rng`, from a task one yield later, and
/// asserts that `readable` (the reader's `readable()`, first polled once
/// the byte is sent or its sender spawned) is woken by it within `limit`:
/// a wait dropped before must not have taken the wake with it. Returns
/// `send`, which the task owned, for the next round.
///
/// # Panics
///
/// Panics, naming `who`, if the wait was not woken; panics if the send or
/// its task fails.
pub async fn assert_readable_woken_by<S>(
    rng: &mut XorShift,
    mut send: S,
    byte: u8,
    readable: impl Future<Output = io::Result<()>>,
    limit: Duration,
    who: &str,
) -> S
where
    S: AsyncFnMut(&[u8]) -> io::Result<()> + 'static,
{
    let send_later = rng.below(2) == 0;
    if !send_later {
        send(&[byte]).await.unwrap();
    }
    let sender = eddy::spawn(async move {
        if send_later {
            eddy::task::yield_now().await;
            send(&[byte]).await.unwrap();
        }
        send
    });
    let woken = woken_within(limit, readable).await;
    assert!(
        matches!(woken, Some(Ok(()))),
        "{who}: the next readable was not woken: {woken:?}"
    );
    sender.await.unwrap()
}
