//! What a listener does with an `accept` error, shared by TCP and Unix
//! listeners.

use std::io;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

/// How long `accept` pauses after the process ran out of descriptors or
/// memory. Long enough not to spin a core on a listener that stays readable
/// while the table is full, short enough to resume promptly once
/// descriptors free up.
const RESOURCE_BACKOFF: Duration = Duration::from_millis(50);

/// A listener's accept error policy: skip errors about one connection,
/// return resource exhaustion and pause the next `accept` a moment.
#[derive(Debug, Default)]
pub(crate) struct AcceptBackoff {
    /// Whether `until` holds a deadline: a load on every accept, the mutex
    /// only on the rare error path.
    backing_off: AtomicBool,
    /// When `accept` may try again after running out of resources.
    until: Mutex<Option<Instant>>,
}

impl AcceptBackoff {
    /// Sleeps out a pause started by an earlier exhaustion error, if any.
    pub(crate) async fn wait_out(&self) {
        if !self.backing_off.load(Ordering::Acquire) {
            return;
        }
        let until = self.until.lock().unwrap_or_else(|e| e.into_inner()).take();
        self.backing_off.store(false, Ordering::Release);
        if let Some(until) = until {
            crate::time::sleep_until(until).await;
        }
    }

    /// Polls `poll_raw_accept` (one `accept(2)` behind readiness) until it
    /// yields a connection or an error worth returning: errors about one
    /// connection are skipped, running out of resources starts a pause.
    pub(crate) fn poll_accept<T>(
        &self,
        cx: &mut Context<'_>,
        mut poll_raw_accept: impl FnMut(&mut Context<'_>) -> Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        loop {
            match ready!(poll_raw_accept(cx)) {
                Err(error) if is_connection_error(&error) => continue,
                Err(error) => {
                    if is_resource_exhaustion(&error) {
                        self.start();
                    }
                    return Poll::Ready(Err(error));
                }
                accepted => return Poll::Ready(accepted),
            }
        }
    }

    /// [`poll_accept`](AcceptBackoff::poll_accept) for `async` callers:
    /// `raw_accept` is one `accept(2)` behind readiness, as a future.
    pub(crate) async fn accept<T, F>(&self, mut raw_accept: impl FnMut() -> F) -> io::Result<T>
    where
        F: std::future::Future<Output = io::Result<T>>,
    {
        loop {
            match raw_accept().await {
                Err(error) if is_connection_error(&error) => continue,
                Err(error) => {
                    if is_resource_exhaustion(&error) {
                        self.start();
                    }
                    return Err(error);
                }
                accepted => return accepted,
            }
        }
    }

    fn start(&self) {
        *self.until.lock().unwrap_or_else(|e| e.into_inner()) =
            Some(Instant::now() + RESOURCE_BACKOFF);
        self.backing_off.store(true, Ordering::Release);
    }
}

/// Errors that concern only the connection being accepted: the next one
/// may be fine, so `accept` moves on. Linux reports pending network errors
/// of the new socket through `accept` itself.
fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    ) || matches!(
        error.raw_os_error(),
        Some(
            libc::EPROTO
                | libc::ENETDOWN
                | libc::ENOPROTOOPT
                | libc::EHOSTDOWN
                | libc::EHOSTUNREACH
                | libc::ENETUNREACH
                | libc::EOPNOTSUPP
        )
    )
}

/// The process or system ran out of something accepting needs.
fn is_resource_exhaustion(error: &io::Error) -> bool {
    matches!(
        error.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}
