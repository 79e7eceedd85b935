//! Waiting inside a runtime for a condition that other tasks make true.

use std::time::Duration;

/// Sleeps a millisecond at a time until `done()` holds.
///
/// It has no bound of its own: the deadline around the test is the bound
/// (wrap it in `eddy::time::timeout` for a clearer failure). Each sleep is
/// also a driver turn, which runs the tasks that make `done()` true and
/// releases deregistered sockets.
pub async fn wait_until(mut done: impl FnMut() -> bool) {
    while !done() {
        eddy::time::sleep(Duration::from_millis(1)).await;
    }
}
