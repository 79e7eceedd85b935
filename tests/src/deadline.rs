//! Bounding a test in time.

use std::sync::mpsc;
use std::time::Duration;

/// Runs `body` on a fresh thread and returns its result, failing the test
/// with a clear message if it has not finished after `limit`.
///
/// A panic inside `body` is resumed on the caller's thread with its original
/// payload, so `#[should_panic(expected = "...")]` keeps working. The limit
/// is a hang detector, not a performance assertion: pick it generously.
///
/// # Panics
///
/// Panics if `body` panics (re-raising its payload) or runs past `limit`.
pub fn with_deadline<T, F>(limit: Duration, body: F) -> T
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    // Under Miri, which interprets every instruction, a test runs a hundred
    // or more times slower; the limit only catches hangs, so it stretches.
    let limit = if cfg!(miri) { limit * 20 } else { limit };
    let (done, result) = mpsc::channel();
    let worker = std::thread::Builder::new()
        .name("test-body".into())
        .spawn(move || {
            // The receiver may be gone if the deadline passed; nothing to do.
            let _ = done.send(body());
        })
        .expect("could not start the test body's thread");
    match result.recv_timeout(limit) {
        Ok(value) => {
            // The body returned; the thread is about to exit.
            let _ = worker.join();
            value
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Err(payload) => std::panic::resume_unwind(payload),
            Ok(()) => unreachable!("the body's thread ended without sending its result"),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("the test did not finish within {limit:?}: it probably hangs")
        }
    }
}
