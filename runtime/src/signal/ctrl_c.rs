//! [`ctrl_c`]: the one-line way to wait for Ctrl-C.

use std::io;

use super::unix::{SignalKind, signal};

/// Completes on the next SIGINT (Ctrl-C in a terminal) that arrives after
/// this future is first polled.
///
/// The first poll installs eddy's SIGINT handler for the rest of the
/// process's life: from then on Ctrl-C no longer kills the process by
/// default, and the program decides what it means. Each call listens on its
/// own, so several tasks can each wait for the same Ctrl-C.
///
/// Nothing is installed before that first poll, so a SIGINT that arrives
/// earlier still kills the process. A server that announces itself (prints
/// its address, writes a pid file) and must survive a SIGINT sent right
/// after should create the listener first, with
/// [`signal`](fn@super::unix::signal)`(`[`SignalKind::interrupt`]`())`, and
/// await its `recv` later; `examples/echo/echo.rs` does that.
///
/// Not cancel safe: dropped (the losing side of a race), it takes along a
/// SIGINT that arrived since its last poll, and the next `ctrl_c()` waits
/// for another. To race Ctrl-C in a loop, make the listener once, as
/// above, and race its `recv`, which is cancel safe.
///
/// Fails when polled outside an eddy runtime or, for a runtime's first
/// listener, when out of file descriptors; a listener costs none after
/// that, so a server may wait for Ctrl-C in every connection's task. Fails
/// with the shutdown error (see [`crate::is_shutdown_error`]) if the
/// runtime shuts down while it waits.
///
/// ```no_run
/// # eddy::run(async {
/// eddy::signal::ctrl_c().await.expect("could not listen for Ctrl-C");
/// println!("bye");
/// # });
/// ```
pub async fn ctrl_c() -> io::Result<()> {
    let mut interrupts = signal(SignalKind::interrupt())?;
    match interrupts.recv().await {
        Some(()) => Ok(()),
        None => Err(eddy_registration::shutdown_error()),
    }
}
